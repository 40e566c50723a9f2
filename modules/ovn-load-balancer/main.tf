# An OVN network load balancer: one VIP:port spread over backend addresses
# (OVN mode's replacement for proxy devices).

terraform {
  required_providers {
    incus = {
      source = "lxc/incus"
    }
  }
}

locals {
  listen_address = split(":", var.vip)[0]
  listen_port    = split(":", var.vip)[1]
  target_port    = var.target_port == null ? local.listen_port : tostring(var.target_port)
  backend_names  = [for i, _ in var.backends : "backend-${i}"]
}

resource "incus_network_lb" "this" {
  network        = var.network
  listen_address = local.listen_address
  description    = var.description
  project        = var.project
  remote         = var.remote

  dynamic "backend" {
    for_each = var.backends
    content {
      name           = local.backend_names[backend.key]
      target_address = backend.value
      target_port    = local.target_port
    }
  }

  port {
    protocol       = var.protocol
    listen_port    = local.listen_port
    target_backend = local.backend_names
  }
}
