variable "incus_remote" {
  description = "Provider remote of the cluster (a remote in the incus CLI config). Null = the default remote."
  type        = string
  default     = null
}

variable "project" {
  description = "Incus project the instances and profiles go to. Null = the remote's default project."
  type        = string
  default     = null
}

variable "cluster_members" {
  description = "Cluster members to spread the instances over (round robin per service, via `target`). Empty = standalone server or let Incus schedule."
  type        = list(string)
  default     = []
}

variable "image" {
  description = "Image of every system container. Tests override it with local/debian12."
  type        = string
  default     = "images:debian/trixie/cloud"
}

variable "storage_pool" {
  description = "Storage pool (the cluster's distributed pool)."
  type        = string
  default     = "default"
}

variable "network_mode" {
  description = "bridge, physical or ovn (see modules/base-infrastructure)."
  type        = string
  default     = "bridge"
}

variable "networks" {
  description = "Networks, name -> CIDR."
  type        = map(string)
  default = {
    production = "10.10.0.0/24"
    management = "10.20.0.0/24"
    gitops     = "10.30.0.0/24"
  }
}

variable "name_prefix" {
  description = "Prefix of network and profile names (keep prefix + network name within 15 characters)."
  type        = string
  default     = ""
}

variable "physical_parents" {
  description = "physical mode: network name -> host interface."
  type        = map(string)
  default     = {}
}

variable "ovn_uplink_network" {
  description = "ovn mode: the uplink network."
  type        = string
  default     = "UPLINK"
}

variable "instance_counts" {
  description = "How many instances of each service (0 disables a service). Keys: prometheus, alloy, mosquitto, coredns, alertmanager, forgejo_runner."
  type        = map(number)
  default = {
    prometheus     = 1
    alloy          = 1
    mosquitto      = 1
    coredns        = 1
    alertmanager   = 1
    forgejo_runner = 1
  }
}

variable "enable_data_persistence" {
  description = "Data volumes for the services that keep state (Prometheus, Alertmanager, Mosquitto)."
  type        = bool
  default     = true
}

variable "enable_snapshots" {
  description = "Scheduled Incus snapshots of the stateful services."
  type        = bool
  default     = true
}

variable "snapshot_schedule" {
  description = "Cron schedule of the snapshots."
  type        = string
  default     = "0 2 * * *"
}

variable "snapshots_expiry" {
  description = "Retention of the scheduled snapshots."
  type        = string
  default     = "7d"
}

variable "loki_url" {
  description = "Loki push URL on iapetus that Alloy ships logs to."
  type        = string
  default     = "http://loki.iapetus.internal:3100/loki/api/v1/push"
}

variable "alert_webhook_url" {
  description = "Where Alertmanager sends notifications (empty = UI only)."
  type        = string
  default     = ""
}

variable "forgejo_url" {
  description = "Forgejo instance the runners register with."
  type        = string
  default     = "https://forgejo.example.net"
}

variable "forgejo_runner_labels" {
  description = "Labels of the runners."
  type        = list(string)
  default     = ["debian:host"]
}

variable "forgejo_runner_version" {
  description = "forgejo-runner version installed by the role."
  type        = string
  default     = "6.3.1"
}
