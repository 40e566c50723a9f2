# Grafana-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "grafana_version" {
  description = "Grafana release installed by the role."
  type        = string
  default     = "11.3.0"
}

variable "grafana_http_port" {
  description = "Port Grafana listens on."
  type        = number
  default     = 3000
}

variable "grafana_prometheus_urls" {
  description = "Prometheus data sources (URLs)."
  type        = list(string)
  default     = []
}

variable "grafana_loki_url" {
  description = "Loki data source URL (empty = none)."
  type        = string
  default     = ""
}
