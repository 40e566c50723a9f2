# Atlantis GitOps controller, run as an OCI application container (needs Incus >= 6.3 and an OCI remote).
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

  default_name         = "atlantis"
  default_cpu_limit    = "2"
  default_memory_limit = "2GiB"
  data_path            = "/atlantis"
  default_image        = "ghcr:accuser/atlas/atlantis:latest"
  # OCI application container: configured through environment.*, no cloud-init.
  cloud_init = false
  environment = merge(
    {
      ATLANTIS_PORT           = tostring(var.atlantis_port)
      ATLANTIS_REPO_ALLOWLIST = var.atlantis_repo_allowlist
      ATLANTIS_DATA_DIR       = "/atlantis"
    },
    var.atlantis_url == "" ? {} : { ATLANTIS_ATLANTIS_URL = var.atlantis_url },
    var.atlantis_gh_user == "" ? {} : { ATLANTIS_GH_USER = var.atlantis_gh_user },
    var.atlantis_gh_token == "" ? {} : { ATLANTIS_GH_TOKEN = var.atlantis_gh_token },
    var.atlantis_gh_webhook_secret == "" ? {} : { ATLANTIS_GH_WEBHOOK_SECRET = var.atlantis_gh_webhook_secret },
  )

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
