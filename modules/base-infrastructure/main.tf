# The profiles every container is built from (containers never use the
# `default` profile): one base profile with the common settings, and one
# network profile per network. The networks themselves are created here in
# bridge and ovn modes; in physical mode the NICs attach to host interfaces.

terraform {
  required_providers {
    incus = {
      source = "lxc/incus"
    }
  }
}

locals {
  # cidrhost(cidr, 1)/prefix, e.g. 10.10.0.0/24 -> 10.10.0.1/24
  gateways = { for name, cidr in var.networks : name => "${cidrhost(cidr, 1)}/${split("/", cidr)[1]}" }

  managed_network = var.network_mode == "bridge" || var.network_mode == "ovn"

  # Both branches are maps of strings; empty values are never sent (Incus
  # treats "" as unset and the provider rejects empty device properties).
  nic_properties = {
    for name, cidr in var.networks : name => (
      local.managed_network ? tomap({
        # try(): HCL evaluates both branches, and in physical mode there is no network.
        network = try(incus_network.this[name].name, null)
        name    = "eth0"
        }) : merge(
        { nictype = var.physical_nictype, name = "eth0" },
        contains(keys(var.physical_parents), name) ? { parent = var.physical_parents[name] } : {},
      )
    )
  }
}

resource "incus_profile" "container_base" {
  name        = "${var.name_prefix}container-base"
  description = "Base settings of every Floe container (autostart, security, limits)"
  project     = var.project
  remote      = var.remote

  config = {
    "boot.autostart"                      = "true"
    "boot.autostart.delay"                = "2"
    "security.privileged"                 = "false"
    "security.nesting"                    = tostring(var.security_nesting)
    "security.protection.delete"          = "false"
    "security.syscalls.intercept.sysinfo" = "true"
    "limits.cpu"                          = var.base_cpu_limit
    "limits.memory"                       = var.base_memory_limit
    "limits.memory.enforce"               = "hard"
    "limits.processes"                    = var.base_processes_limit
  }
}

resource "incus_network" "this" {
  for_each = local.managed_network ? var.networks : {}

  name        = "${var.name_prefix}${each.key}"
  type        = var.network_mode
  description = "Floe ${each.key} network"
  project     = var.network_project
  remote      = var.remote

  config = merge(
    {
      "ipv4.address" = local.gateways[each.key]
      "ipv4.nat"     = "true"
      "ipv6.address" = "none"
    },
    var.network_mode == "ovn" ? { network = var.ovn_uplink_network } : {},
  )
}

resource "incus_profile" "network" {
  for_each = var.networks

  name        = "${var.name_prefix}${each.key}-network"
  description = "Attach to the ${each.key} network (${each.value}, ${var.network_mode} mode)"
  project     = var.project
  remote      = var.remote

  device {
    name       = "eth0"
    type       = "nic"
    properties = local.nic_properties[each.key]
  }
}
