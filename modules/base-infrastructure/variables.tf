variable "network_mode" {
  description = "How containers reach their network: bridge (Incus-managed NAT bridges), physical (macvlan/bridged on a host interface, LAN DHCP) or ovn (OVN overlay networks on an uplink)."
  type        = string
  default     = "bridge"

  validation {
    condition     = contains(["bridge", "physical", "ovn"], var.network_mode)
    error_message = "The network_mode must be one of bridge, physical, ovn."
  }
}

variable "networks" {
  description = "Networks to create, name -> IPv4 CIDR. The gateway is the first host address."
  type        = map(string)
  default = {
    production = "10.10.0.0/24"
    management = "10.20.0.0/24"
    gitops     = "10.30.0.0/24"
  }
}

variable "name_prefix" {
  description = "Prefix of every network and profile name (lets several environments share one Incus). Bridge names are Linux interface names: prefix + network name must stay within 15 characters."
  type        = string
  default     = ""
}

variable "project" {
  description = "Project of the profiles (networks stay in the project that owns networks, normally default, unless the project has features.networks)."
  type        = string
  default     = null
}

variable "network_project" {
  description = "Project of the networks. Null = the remote's default project."
  type        = string
  default     = null
}

variable "remote" {
  description = "Provider remote. Null = the provider's default remote."
  type        = string
  default     = null
}

variable "physical_parents" {
  description = "physical mode: network name -> host interface the NICs attach to (e.g. a VLAN interface or a host bridge)."
  type        = map(string)
  default     = {}
}

variable "physical_nictype" {
  description = "physical mode: macvlan (direct on an interface) or bridged (on an existing host bridge)."
  type        = string
  default     = "macvlan"

  validation {
    condition     = contains(["macvlan", "bridged"], var.physical_nictype)
    error_message = "The physical_nictype must be macvlan or bridged."
  }
}

variable "ovn_uplink_network" {
  description = "ovn mode: the uplink network (type physical, or a bridge with ovn.* ranges) the OVN networks route through."
  type        = string
  default     = "UPLINK"
}

variable "base_cpu_limit" {
  description = "limits.cpu of the base profile (each service sets its own on the instance)."
  type        = string
  default     = "1"
}

variable "base_memory_limit" {
  description = "limits.memory of the base profile."
  type        = string
  default     = "512MiB"
}

variable "base_processes_limit" {
  description = "limits.processes of the base profile (fork-bomb guard)."
  type        = string
  default     = "2000"
}

variable "security_nesting" {
  description = "security.nesting on every container (needed only by containers that run containers, e.g. a runner using Docker)."
  type        = bool
  default     = false
}
