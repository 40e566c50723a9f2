output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the coredns role needs (secrets excluded: they are given at run time)."
  value = {
    coredns_version    = var.coredns_version
    coredns_port       = var.coredns_port
    coredns_zone       = var.coredns_zone
    coredns_forwarders = var.coredns_forwarders
    coredns_data_path  = "/etc/coredns"
  }
}
