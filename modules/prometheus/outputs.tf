output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the prometheus role needs (secrets excluded: they are given at run time)."
  value = {
    prometheus_version          = var.prometheus_version
    prometheus_listen_port      = var.prometheus_listen_port
    prometheus_retention        = var.prometheus_retention
    prometheus_scrape_targets   = var.prometheus_scrape_targets
    prometheus_federate_targets = var.prometheus_federate_targets
    prometheus_alertmanagers    = var.prometheus_alertmanagers
    prometheus_data_path        = "/var/lib/prometheus"
  }
}
