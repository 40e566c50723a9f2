# Prometheus Alertmanager: alert routing and notification.
# A thin wrapper: modules/service-instance does the work, this module sets the
# service's defaults and publishes its Ansible variables.

terraform {
  required_providers {
    incus = {
      source = "lxc/incus"
    }
  }
}

module "instance" {
  source = "../service-instance"

  default_name         = "alertmanager"
  default_cpu_limit    = "1"
  default_memory_limit = "256MiB"
  data_path            = "/var/lib/alertmanager"

  name                    = var.name
  image                   = var.image
  profiles                = var.profiles
  project                 = var.project
  remote                  = var.remote
  target                  = var.target
  storage_pool            = var.storage_pool
  root_disk_size          = var.root_disk_size
  cpu_limit               = var.cpu_limit
  memory_limit            = var.memory_limit
  enable_data_persistence = var.enable_data_persistence
  data_volume_size        = var.data_volume_size
  enable_snapshots        = var.enable_snapshots
  snapshot_schedule       = var.snapshot_schedule
  snapshots_expiry        = var.snapshots_expiry
  snapshot_name_pattern   = var.snapshot_name_pattern
  extra_config            = var.extra_config
  extra_devices           = var.extra_devices
}
