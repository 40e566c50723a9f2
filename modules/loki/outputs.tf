output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the loki role needs (secrets excluded: they are given at run time)."
  value = {
    loki_version          = var.loki_version
    loki_http_port        = var.loki_http_port
    loki_retention_period = var.loki_retention_period
    loki_data_path        = "/var/lib/loki"
  }
}
