# Alloy-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "alloy_version" {
  description = "Alloy release installed by the role."
  type        = string
  default     = "1.4.3"
}

variable "alloy_http_port" {
  description = "Port of Alloy's HTTP server."
  type        = number
  default     = 12345
}

variable "alloy_loki_url" {
  description = "Loki push URL logs are shipped to."
  type        = string
  default     = ""
}
