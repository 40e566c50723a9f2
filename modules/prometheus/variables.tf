# Prometheus-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "prometheus_version" {
  description = "Prometheus release installed by the role."
  type        = string
  default     = "2.42.0"
}

variable "prometheus_listen_port" {
  description = "Port Prometheus listens on."
  type        = number
  default     = 9090
}

variable "prometheus_retention" {
  description = "TSDB retention time."
  type        = string
  default     = "15d"
}

variable "prometheus_scrape_targets" {
  description = "Extra host:port targets scraped by the `services` job."
  type        = list(string)
  default     = []
}

variable "prometheus_federate_targets" {
  description = "Prometheus servers federated from (host:port), e.g. cluster01's on iapetus."
  type        = list(string)
  default     = []
}

variable "prometheus_alertmanagers" {
  description = "Alertmanagers (host:port) alerts are sent to."
  type        = list(string)
  default     = []
}
