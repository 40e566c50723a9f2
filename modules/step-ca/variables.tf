# step-ca-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "step_ca_version" {
  description = "step-ca release installed by the role."
  type        = string
  default     = "0.27.5"
}

variable "step_ca_port" {
  description = "HTTPS port of the CA."
  type        = number
  default     = 9000
}

variable "step_ca_name" {
  description = "Name of the CA."
  type        = string
  default     = "Floe Internal CA"
}

variable "step_ca_dns_names" {
  description = "DNS names in the CA's certificate."
  type        = list(string)
  default     = ["step-ca"]
}

variable "step_ca_enable_acme" {
  description = "Add an ACME provisioner."
  type        = bool
  default     = true
}
