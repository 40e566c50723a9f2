output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the cloudflared role needs (secrets excluded: they are given at run time)."
  value = {
    cloudflared_version     = var.cloudflared_version
    cloudflared_tunnel_name = var.cloudflared_tunnel_name
    cloudflared_ingress     = var.cloudflared_ingress
    cloudflared_data_path   = "/etc/cloudflared"
  }
}
