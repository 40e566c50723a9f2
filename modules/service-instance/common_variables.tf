# Variables every service module exposes. This file is shared: each service
# module links to it (modules/<service>/common_variables.tf -> this file), so a
# new knob is added once and reaches all eleven services.
# Service-specific defaults (CPU, memory, data path) live in each service module.

variable "name" {
  description = "Instance name. Null = the service's default name."
  type        = string
  default     = null
}

variable "image" {
  description = "Image (an alias on the remote, or `remote:alias`). Null = the service's default image (images:debian/trixie/cloud; Atlantis: its OCI image)."
  type        = string
  default     = null
}

variable "profiles" {
  description = "Profiles in order, normally the base profile and one network profile (never `default`)."
  type        = list(string)
}

variable "project" {
  description = "Incus project. Null = the remote's default project."
  type        = string
  default     = null
}

variable "remote" {
  description = "Provider remote to create the instance on. Null = the provider's default remote."
  type        = string
  default     = null
}

variable "target" {
  description = "Cluster member (or `@group`) to place the instance and its volume on. Null = let Incus schedule."
  type        = string
  default     = null
}

variable "storage_pool" {
  description = "Storage pool for the root disk and the data volume."
  type        = string
  default     = "default"
}

variable "root_disk_size" {
  description = "Size of the root disk (e.g. \"8GiB\"). Null = no quota."
  type        = string
  default     = null
}

variable "cpu_limit" {
  description = "limits.cpu. Null = the service's default."
  type        = string
  default     = null
}

variable "memory_limit" {
  description = "limits.memory. Null = the service's default."
  type        = string
  default     = null
}

variable "enable_data_persistence" {
  description = "Create a custom storage volume for the service's data and mount it at the data path."
  type        = bool
  default     = false
}

variable "data_volume_size" {
  description = "Size of the data volume."
  type        = string
  default     = "10GiB"
}

variable "enable_snapshots" {
  description = "Let Incus take scheduled snapshots of the instance (and of the data volume when there is one)."
  type        = bool
  default     = false
}

variable "snapshot_schedule" {
  description = "Cron expression of the snapshot schedule."
  type        = string
  default     = "0 2 * * *"
}

variable "snapshots_expiry" {
  description = "How long a scheduled snapshot is kept (Incus expiry syntax, e.g. 7d)."
  type        = string
  default     = "7d"
}

variable "snapshot_name_pattern" {
  description = "Name pattern of scheduled snapshots (Incus pattern syntax)."
  type        = string
  default     = "snap%d"
}

variable "extra_devices" {
  description = "More devices (proxy devices, extra disks...) added to the instance."
  type = list(object({
    name       = string
    type       = string
    properties = map(string)
  }))
  default = []
}

variable "extra_config" {
  description = "More instance config keys; they win over the module's own keys."
  type        = map(string)
  default     = {}
}
