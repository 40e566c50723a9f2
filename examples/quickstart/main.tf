# Quickstart: everything on one local Incus, in its own project so that
# `terraform destroy` leaves the server as it found it.
#   a bridge network, a profile, a data volume with scheduled snapshots,
#   two containers; outputs in the inventory convention for floe-inventory.

terraform {
  required_version = ">= 1.0.0"
  required_providers {
    incus = {
      source = "lxc/incus"
    }
  }
}

provider "incus" {}

variable "name_prefix" {
  description = "Prefix of the project and the network (keep it short: the bridge name is prefix + \"br0\", 15 characters at most)."
  type        = string
  default     = "qs"
}

variable "image" {
  description = "Image of the containers (any Debian-like image with python3)."
  type        = string
  default     = "images:debian/12"
}

variable "bridge_address" {
  description = "Gateway address and prefix of the quickstart bridge (pick a subnet nothing else routes)."
  type        = string
  default     = "10.99.10.1/24"
}

variable "storage_pool" {
  description = "Storage pool of the root disks and the data volume."
  type        = string
  default     = "default"
}

variable "web_port" {
  description = "Port the tiny web service listens on inside each container."
  type        = number
  default     = 8080
}

resource "incus_project" "quickstart" {
  name        = "${var.name_prefix}-quickstart"
  description = "Floe quickstart (safe to delete)"
  config = {
    # Use the images of the default project (no image copies per project),
    # keep profiles and volumes inside this project.
    "features.images"          = "false"
    "features.profiles"        = "true"
    "features.storage.volumes" = "true"
  }
}

# Networks live in the default project (the project has no features.networks).
resource "incus_network" "web" {
  name        = "${var.name_prefix}br0"
  type        = "bridge"
  description = "Floe quickstart bridge"
  config = {
    "ipv4.address" = var.bridge_address
    "ipv4.nat"     = "true"
    "ipv6.address" = "none"
  }
}

resource "incus_profile" "web" {
  name        = "web"
  project     = incus_project.quickstart.name
  description = "Quickstart web containers"
  config = {
    "boot.autostart" = "true"
    "limits.cpu"     = "1"
    "limits.memory"  = "256MiB"
  }

  device {
    name = "root"
    type = "disk"
    properties = {
      path = "/"
      pool = var.storage_pool
    }
  }

  device {
    name = "eth0"
    type = "nic"
    properties = {
      network = incus_network.web.name
      name    = "eth0"
    }
  }
}

# Scheduled snapshots are Incus' own: no cron job anywhere.
resource "incus_storage_volume" "content" {
  name    = "web-content"
  pool    = var.storage_pool
  project = incus_project.quickstart.name
  config = {
    "snapshots.schedule" = "0 3 * * *"
    "snapshots.expiry"   = "7d"
    "snapshots.pattern"  = "daily-%d"
  }
}

resource "incus_instance" "web" {
  count = 2

  name     = "web-${count.index + 1}"
  image    = var.image
  project  = incus_project.quickstart.name
  profiles = [incus_profile.web.name]

  dynamic "device" {
    # The data volume is mounted on the first container only.
    for_each = count.index == 0 ? [incus_storage_volume.content.name] : []
    content {
      name = "content"
      type = "disk"
      properties = {
        pool   = var.storage_pool
        source = device.value
        path   = "/srv/content"
      }
    }
  }
}

output "web_instances" {
  description = "Hosts of the Ansible group `web`."
  value       = incus_instance.web[*].name
}

output "web_ansible_vars" {
  description = "Variables of the group `web`."
  value = {
    ansible_connection         = "community.general.incus"
    ansible_incus_project      = incus_project.quickstart.name
    ansible_python_interpreter = "/usr/bin/python3"
    web_port                   = var.web_port
  }
}

output "project" {
  description = "The quickstart's Incus project."
  value       = incus_project.quickstart.name
}
