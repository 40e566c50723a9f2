# CoreDNS-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "coredns_version" {
  description = "CoreDNS release installed by the role."
  type        = string
  default     = "1.11.3"
}

variable "coredns_port" {
  description = "DNS port."
  type        = number
  default     = 53
}

variable "coredns_zone" {
  description = "Internal zone served from a zone file."
  type        = string
  default     = "home.arpa"
}

variable "coredns_forwarders" {
  description = "Upstream resolvers for everything else."
  type        = list(string)
  default     = ["9.9.9.9", "1.1.1.1"]
}
