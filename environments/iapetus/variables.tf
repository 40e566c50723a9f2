variable "incus_remote" {
  description = "Provider remote of the iapetus host. Null = the default remote (iapetus manages itself locally)."
  type        = string
  default     = null
}

variable "project" {
  description = "Incus project the instances and profiles go to. Null = the remote's default project."
  type        = string
  default     = null
}

variable "image" {
  description = "Image of every system container. Tests override it with local/debian12."
  type        = string
  default     = "images:debian/trixie/cloud"
}

variable "atlantis_image" {
  description = "OCI image of Atlantis (needs an Incus with OCI support, 6.3 or later)."
  type        = string
  default     = "ghcr:accuser/atlas/atlantis:latest"
}

variable "storage_pool" {
  description = "Storage pool."
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
  description = "How many instances of each service (0 disables it). Keys: atlantis, grafana, prometheus, loki, cloudflared, step_ca."
  type        = map(number)
  default = {
    atlantis    = 1
    grafana     = 1
    prometheus  = 1
    loki        = 1
    cloudflared = 1
    step_ca     = 1
  }
}

variable "enable_data_persistence" {
  description = "Data volumes for the stateful services."
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

variable "cluster01_prometheus" {
  description = "cluster01's Prometheus (host:port), federated by the iapetus one."
  type        = string
  default     = "prometheus.cluster01.internal:9090"
}

variable "atlantis_url" {
  description = "External URL of Atlantis."
  type        = string
  default     = ""
}

variable "atlantis_repo_allowlist" {
  description = "Repositories Atlantis accepts webhooks for."
  type        = string
  default     = "github.com/example/*"
}

variable "atlantis_gh_user" {
  description = "GitHub user of Atlantis."
  type        = string
  default     = ""
}

variable "atlantis_gh_token" {
  description = "GitHub token of Atlantis (set TF_VAR_atlantis_gh_token; never commit it)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "atlantis_gh_webhook_secret" {
  description = "Webhook secret of Atlantis (set TF_VAR_atlantis_gh_webhook_secret)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "cloudflared_ingress" {
  description = "Public hostname -> internal URL published through the tunnel."
  type        = map(string)
  default     = {}
}
