output "instance_name" {
  description = "Name of the instance (the Ansible host name)."
  value       = incus_instance.this.name
}

output "ipv4_address" {
  description = "IPv4 address Incus reports for the instance (empty until it has one)."
  value       = incus_instance.this.ipv4_address
}

output "data_volume_name" {
  description = "Name of the data volume, null without persistence."
  value       = var.enable_data_persistence ? incus_storage_volume.data[0].name : null
}
