# The inventory convention: `<group>_instances` and `<group>_ansible_vars`
# (see environments/cluster01/outputs.tf).

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

# Atlantis is an OCI container without Python: listed for visibility, not configured by Ansible.
output "atlantis_instances" {
  value = [for m in module.atlantis : m.instance_name]
}

output "grafana_instances" {
  value = [for m in module.grafana : m.instance_name]
}

output "grafana_ansible_vars" {
  value = merge(local.connection_vars, try(module.grafana[0].ansible_vars, {}))
}

output "prometheus_instances" {
  value = [for m in module.prometheus : m.instance_name]
}

output "prometheus_ansible_vars" {
  value = merge(local.connection_vars, try(module.prometheus[0].ansible_vars, {}))
}

output "loki_instances" {
  value = [for m in module.loki : m.instance_name]
}

output "loki_ansible_vars" {
  value = merge(local.connection_vars, try(module.loki[0].ansible_vars, {}))
}

output "cloudflared_instances" {
  value = [for m in module.cloudflared : m.instance_name]
}

output "cloudflared_ansible_vars" {
  value = merge(local.connection_vars, try(module.cloudflared[0].ansible_vars, {}))
}

output "step_ca_instances" {
  value = [for m in module.step_ca : m.instance_name]
}

output "step_ca_ansible_vars" {
  value = merge(local.connection_vars, try(module.step_ca[0].ansible_vars, {}))
}
