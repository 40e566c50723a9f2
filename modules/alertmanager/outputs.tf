output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the alertmanager role needs (secrets excluded: they are given at run time)."
  value = {
    alertmanager_version     = var.alertmanager_version
    alertmanager_listen_port = var.alertmanager_listen_port
    alertmanager_webhook_url = var.alertmanager_webhook_url
    alertmanager_data_path   = "/var/lib/alertmanager"
  }
}
