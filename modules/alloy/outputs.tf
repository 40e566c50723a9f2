output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the alloy role needs (secrets excluded: they are given at run time)."
  value = {
    alloy_version   = var.alloy_version
    alloy_http_port = var.alloy_http_port
    alloy_loki_url  = var.alloy_loki_url
    alloy_data_path = "/var/lib/alloy"
  }
}
