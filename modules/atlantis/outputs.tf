output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the atlantis role needs (secrets excluded: they are given at run time)."
  value = {
    atlantis_port      = var.atlantis_port
    atlantis_url       = var.atlantis_url
    atlantis_data_path = "/atlantis"
  }
}
