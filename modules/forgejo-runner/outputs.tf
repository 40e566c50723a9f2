output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the forgejo-runner role needs (secrets excluded: they are given at run time)."
  value = {
    forgejo_url              = var.forgejo_url
    runner_labels            = var.forgejo_runner_labels
    runner_version           = var.forgejo_runner_version
    forgejo_runner_data_path = "/var/lib/forgejo-runner"
  }
}
