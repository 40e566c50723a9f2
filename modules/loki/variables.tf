# Loki-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "loki_version" {
  description = "Loki release installed by the role."
  type        = string
  default     = "3.2.1"
}

variable "loki_http_port" {
  description = "Port Loki listens on."
  type        = number
  default     = 3100
}

variable "loki_retention_period" {
  description = "How long logs are kept."
  type        = string
  default     = "744h"
}
