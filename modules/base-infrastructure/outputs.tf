# Outputs are whole resources so callers write module.base.container_base_profile.name
# as in the design.

output "container_base_profile" {
  description = "The base profile (boot.autostart, security, limits)."
  value       = incus_profile.container_base
}

output "production_network_profile" {
  description = "Profile attaching a container to the production network."
  value       = lookup(incus_profile.network, "production", null)
}

output "management_network_profile" {
  description = "Profile attaching a container to the management network."
  value       = lookup(incus_profile.network, "management", null)
}

output "gitops_network_profile" {
  description = "Profile attaching a container to the gitops network."
  value       = lookup(incus_profile.network, "gitops", null)
}

output "network_profiles" {
  description = "Every network profile, by network name."
  value       = incus_profile.network
}

output "networks" {
  description = "Managed networks by name (empty in physical mode)."
  value       = { for name, n in incus_network.this : name => n.name }
}
