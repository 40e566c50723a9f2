output "instance_name" {
  description = "Name of the instance (the Ansible host)."
  value       = module.instance.instance_name
}

output "ipv4_address" {
  description = "IPv4 address of the instance (empty until it has one)."
  value       = module.instance.ipv4_address
}

output "ansible_vars" {
  description = "Variables the mosquitto role needs (secrets excluded: they are given at run time)."
  value = {
    mosquitto_port            = var.mosquitto_port
    mosquitto_allow_anonymous = var.mosquitto_allow_anonymous
    mosquitto_data_path       = "/var/lib/mosquitto"
  }
}
