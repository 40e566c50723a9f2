# Atlantis-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "atlantis_port" {
  description = "Port Atlantis listens on."
  type        = number
  default     = 4141
}

variable "atlantis_url" {
  description = "External URL of Atlantis (ATLANTIS_ATLANTIS_URL)."
  type        = string
  default     = ""
}

variable "atlantis_repo_allowlist" {
  description = "ATLANTIS_REPO_ALLOWLIST."
  type        = string
  default     = "github.com/example/*"
}

variable "atlantis_gh_user" {
  description = "GitHub user Atlantis comments as."
  type        = string
  default     = ""
}

variable "atlantis_gh_token" {
  description = "GitHub token (sensitive; prefer TF_VAR_atlantis_gh_token)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "atlantis_gh_webhook_secret" {
  description = "Webhook secret (sensitive; prefer TF_VAR_atlantis_gh_webhook_secret)."
  type        = string
  default     = ""
  sensitive   = true
}
