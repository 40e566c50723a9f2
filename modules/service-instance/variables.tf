# Variables a service module sets for its service (the user-facing ones are in
# common_variables.tf).

variable "default_name" {
  description = "Name used when var.name is null."
  type        = string
}

variable "default_image" {
  description = "Image used when var.image is null."
  type        = string
  default     = "images:debian/trixie/cloud"
}

variable "default_cpu_limit" {
  description = "limits.cpu when var.cpu_limit is null."
  type        = string
  default     = "1"
}

variable "default_memory_limit" {
  description = "limits.memory when var.memory_limit is null."
  type        = string
  default     = "512MiB"
}

variable "data_path" {
  description = "Where the data volume is mounted in the instance."
  type        = string
}

variable "cloud_init" {
  description = "Pass the minimal cloud-init bootstrap (python3 for Ansible). False for OCI images."
  type        = bool
  default     = true
}

variable "environment" {
  description = "environment.* keys (OCI containers are configured this way)."
  type        = map(string)
  default     = {}
}
