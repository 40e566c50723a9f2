# Cloudflared-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "cloudflared_version" {
  description = "cloudflared release installed by the role."
  type        = string
  default     = "2024.11.0"
}

variable "cloudflared_tunnel_name" {
  description = "Tunnel name."
  type        = string
  default     = "iapetus"
}

variable "cloudflared_ingress" {
  description = "Hostname -> internal service URL (e.g. grafana.example.com = http://grafana:3000). The tunnel token is given to the role at run time, never to Terraform."
  type        = map(string)
  default     = {}
}
