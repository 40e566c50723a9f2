# One service instance: a system (or OCI) container with a root disk, limits,
# an optional data volume and optional scheduled snapshots. Every service
# module wraps this module so the pattern lives in one place.

terraform {
  required_providers {
    incus = {
      source = "lxc/incus"
    }
  }
}

locals {
  name = coalesce(var.name, var.default_name)

  # Scheduled snapshots use Incus' own scheduler (no external tool).
  snapshot_config = var.enable_snapshots ? {
    "snapshots.schedule" = var.snapshot_schedule
    "snapshots.expiry"   = var.snapshots_expiry
    "snapshots.pattern"  = var.snapshot_name_pattern
  } : {}

  cloud_init_config = var.cloud_init ? {
    "cloud-init.user-data" = templatefile("${path.module}/cloud-init.yaml", { packages = ["python3", "python3-apt"] })
  } : {}

  environment_config = { for k, v in var.environment : "environment.${k}" => v }

  instance_config = merge(
    {
      "limits.cpu"    = coalesce(var.cpu_limit, var.default_cpu_limit)
      "limits.memory" = coalesce(var.memory_limit, var.default_memory_limit)
    },
    local.snapshot_config,
    local.cloud_init_config,
    local.environment_config,
    var.extra_config,
  )

  root_disk = merge(
    { path = "/", pool = var.storage_pool },
    var.root_disk_size == null ? {} : { size = var.root_disk_size },
  )
}

resource "incus_storage_volume" "data" {
  count = var.enable_data_persistence ? 1 : 0

  name    = "${local.name}-data"
  pool    = var.storage_pool
  project = var.project
  remote  = var.remote
  # On a cluster with local pools the volume must live where the instance runs.
  target = var.target
  config = merge({ size = var.data_volume_size }, local.snapshot_config)
}

resource "incus_instance" "this" {
  name     = local.name
  image    = coalesce(var.image, var.default_image)
  project  = var.project
  remote   = var.remote
  target   = var.target
  profiles = var.profiles
  config   = local.instance_config

  device {
    name       = "root"
    type       = "disk"
    properties = local.root_disk
  }

  dynamic "device" {
    for_each = incus_storage_volume.data
    content {
      name = "data"
      type = "disk"
      properties = {
        pool   = var.storage_pool
        source = device.value.name
        path   = var.data_path
      }
    }
  }

  dynamic "device" {
    for_each = var.extra_devices
    content {
      name       = device.value.name
      type       = device.value.type
      properties = device.value.properties
    }
  }
}
