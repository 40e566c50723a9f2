variable "network" {
  description = "The OVN network the load balancer lives on."
  type        = string
}

variable "vip" {
  description = "Listen address and port, \"address:port\" (e.g. 10.10.0.100:1883). The address must come from the uplink's ipv4.ovn.ranges / routes."
  type        = string

  validation {
    condition     = can(regex("^[0-9.]+:[0-9]+$", var.vip))
    error_message = "The vip must look like 10.10.0.100:1883."
  }
}

variable "backends" {
  description = "Backend addresses (instance IPs); each gets a backend named backend-<index>."
  type        = list(string)
}

variable "target_port" {
  description = "Port on the backends. Null = the VIP's port."
  type        = number
  default     = null
}

variable "protocol" {
  description = "tcp or udp."
  type        = string
  default     = "tcp"

  validation {
    condition     = contains(["tcp", "udp"], var.protocol)
    error_message = "The protocol must be tcp or udp."
  }
}

variable "description" {
  description = "Description of the load balancer."
  type        = string
  default     = ""
}

variable "project" {
  description = "Project of the OVN network. Null = the remote's default project."
  type        = string
  default     = null
}

variable "remote" {
  description = "Provider remote. Null = the provider's default remote."
  type        = string
  default     = null
}
