output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the grafana role needs (secrets excluded: they are given at run time)."
  value = {
    grafana_version         = var.grafana_version
    grafana_http_port       = var.grafana_http_port
    grafana_prometheus_urls = var.grafana_prometheus_urls
    grafana_loki_url        = var.grafana_loki_url
    grafana_data_path       = "/var/lib/grafana"
  }
}
