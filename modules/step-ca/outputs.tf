output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the step-ca role needs (secrets excluded: they are given at run time)."
  value = {
    step_ca_version     = var.step_ca_version
    step_ca_port        = var.step_ca_port
    step_ca_name        = var.step_ca_name
    step_ca_dns_names   = var.step_ca_dns_names
    step_ca_enable_acme = var.step_ca_enable_acme
    step_ca_data_path   = "/etc/step-ca"
  }
}
