# Forgejo runner-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "forgejo_url" {
  description = "URL of the Forgejo instance the runner registers with."
  type        = string
}

variable "forgejo_runner_labels" {
  description = "Runner labels."
  type        = list(string)
  default     = ["debian:host"]
}

variable "forgejo_runner_version" {
  description = "forgejo-runner release installed by the role."
  type        = string
  default     = "6.3.1"
}
