# The inventory convention: `<group>_instances` (host names) and
# `<group>_ansible_vars` (that group's variables). floe-inventory turns them
# into Ansible groups; the connection variables ride along so the inventory
# needs no flags.

locals {
  connection_vars = merge(
    {
      ansible_connection         = "community.general.incus"
      ansible_python_interpreter = "/usr/bin/python3"
    },
    var.incus_remote == null ? {} : { ansible_incus_remote = var.incus_remote },
    var.project == null ? {} : { ansible_incus_project = var.project },
  )
}

output "prometheus_instances" {
  value = [for m in module.prometheus : m.instance_name]
}

output "prometheus_ansible_vars" {
  value = merge(local.connection_vars, try(module.prometheus[0].ansible_vars, {}))
}

output "alloy_instances" {
  value = [for m in module.alloy : m.instance_name]
}

output "alloy_ansible_vars" {
  value = merge(local.connection_vars, try(module.alloy[0].ansible_vars, {}))
}

output "mosquitto_instances" {
  value = [for m in module.mosquitto : m.instance_name]
}

output "mosquitto_ansible_vars" {
  value = merge(local.connection_vars, try(module.mosquitto[0].ansible_vars, {}))
}

output "coredns_instances" {
  value = [for m in module.coredns : m.instance_name]
}

output "coredns_ansible_vars" {
  value = merge(local.connection_vars, try(module.coredns[0].ansible_vars, {}))
}

output "alertmanager_instances" {
  value = [for m in module.alertmanager : m.instance_name]
}

output "alertmanager_ansible_vars" {
  value = merge(local.connection_vars, try(module.alertmanager[0].ansible_vars, {}))
}

output "forgejo_runner_instances" {
  value = [for m in module.forgejo_runner : m.instance_name]
}

output "forgejo_runner_ansible_vars" {
  value = merge(local.connection_vars, try(module.forgejo_runner[0].ansible_vars, {}))
}
