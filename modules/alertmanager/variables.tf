# Alertmanager-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "alertmanager_version" {
  description = "Alertmanager release installed by the role."
  type        = string
  default     = "0.25.0"
}

variable "alertmanager_listen_port" {
  description = "Port Alertmanager listens on."
  type        = number
  default     = 9093
}

variable "alertmanager_webhook_url" {
  description = "Webhook receiver URL (empty = alerts are only shown in the UI)."
  type        = string
  default     = ""
}
