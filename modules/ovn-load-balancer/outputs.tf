output "listen_address" {
  description = "The VIP address."
  value       = incus_network_lb.this.listen_address
}

output "vip" {
  description = "The VIP as address:port."
  value       = var.vip
}
