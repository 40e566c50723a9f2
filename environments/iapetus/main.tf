# iapetus: the control plane (one standalone host). GitOps (Atlantis), central
# dashboards (Grafana), federated metrics (Prometheus), aggregated logs (Loki),
# external access (Cloudflared) and the internal ACME CA (step-ca).

module "base" {
  source = "../../modules/base-infrastructure"

  network_mode       = var.network_mode
  networks           = var.networks
  name_prefix        = var.name_prefix
  project            = var.project
  remote             = var.incus_remote
  physical_parents   = var.physical_parents
  ovn_uplink_network = var.ovn_uplink_network
}

locals {
  management_profiles = [
    module.base.container_base_profile.name,
    module.base.management_network_profile.name,
  ]
  production_profiles = [
    module.base.container_base_profile.name,
    module.base.production_network_profile.name,
  ]
  gitops_profiles = [
    module.base.container_base_profile.name,
    module.base.gitops_network_profile.name,
  ]
}

module "atlantis" {
  source = "../../modules/atlantis"
  count  = lookup(var.instance_counts, "atlantis", 0)

  name     = count.index == 0 ? "atlantis" : "atlantis-${count.index + 1}"
  image    = var.atlantis_image
  profiles = local.gitops_profiles
  project  = var.project
  remote   = var.incus_remote

  storage_pool               = var.storage_pool
  enable_data_persistence    = var.enable_data_persistence
  data_volume_size           = "10GiB"
  atlantis_url               = var.atlantis_url
  atlantis_repo_allowlist    = var.atlantis_repo_allowlist
  atlantis_gh_user           = var.atlantis_gh_user
  atlantis_gh_token          = var.atlantis_gh_token
  atlantis_gh_webhook_secret = var.atlantis_gh_webhook_secret
}

module "prometheus" {
  source = "../../modules/prometheus"
  count  = lookup(var.instance_counts, "prometheus", 0)

  name     = count.index == 0 ? "prometheus" : "prometheus-${count.index + 1}"
  image    = var.image
  profiles = local.management_profiles
  project  = var.project
  remote   = var.incus_remote

  storage_pool                = var.storage_pool
  enable_data_persistence     = var.enable_data_persistence
  data_volume_size            = "50GiB"
  enable_snapshots            = var.enable_snapshots
  snapshot_schedule           = var.snapshot_schedule
  snapshots_expiry            = var.snapshots_expiry
  prometheus_retention        = "90d"
  prometheus_federate_targets = [var.cluster01_prometheus]
}

module "loki" {
  source = "../../modules/loki"
  count  = lookup(var.instance_counts, "loki", 0)

  name     = count.index == 0 ? "loki" : "loki-${count.index + 1}"
  image    = var.image
  profiles = local.management_profiles
  project  = var.project
  remote   = var.incus_remote

  storage_pool            = var.storage_pool
  enable_data_persistence = var.enable_data_persistence
  data_volume_size        = "50GiB"
  enable_snapshots        = var.enable_snapshots
  snapshot_schedule       = var.snapshot_schedule
  snapshots_expiry        = var.snapshots_expiry
}

module "grafana" {
  source = "../../modules/grafana"
  count  = lookup(var.instance_counts, "grafana", 0)

  name     = count.index == 0 ? "grafana" : "grafana-${count.index + 1}"
  image    = var.image
  profiles = local.management_profiles
  project  = var.project
  remote   = var.incus_remote

  storage_pool            = var.storage_pool
  enable_data_persistence = var.enable_data_persistence
  data_volume_size        = "5GiB"
  enable_snapshots        = var.enable_snapshots
  snapshot_schedule       = var.snapshot_schedule
  snapshots_expiry        = var.snapshots_expiry
  grafana_prometheus_urls = concat(
    [for m in module.prometheus : "http://${m.instance_name}:9090"],
    ["http://${var.cluster01_prometheus}"],
  )
  grafana_loki_url = length(module.loki) > 0 ? "http://${module.loki[0].instance_name}:3100" : ""
}

module "cloudflared" {
  source = "../../modules/cloudflared"
  count  = lookup(var.instance_counts, "cloudflared", 0)

  name     = count.index == 0 ? "cloudflared" : "cloudflared-${count.index + 1}"
  image    = var.image
  profiles = local.production_profiles
  project  = var.project
  remote   = var.incus_remote

  storage_pool        = var.storage_pool
  cloudflared_ingress = var.cloudflared_ingress
}

module "step_ca" {
  source = "../../modules/step-ca"
  count  = lookup(var.instance_counts, "step_ca", 0)

  name     = count.index == 0 ? "step-ca" : "step-ca-${count.index + 1}"
  image    = var.image
  profiles = local.management_profiles
  project  = var.project
  remote   = var.incus_remote

  storage_pool            = var.storage_pool
  enable_data_persistence = var.enable_data_persistence
  data_volume_size        = "1GiB"
  enable_snapshots        = var.enable_snapshots
  snapshot_schedule       = var.snapshot_schedule
  snapshots_expiry        = var.snapshots_expiry
  step_ca_dns_names       = ["step-ca", "ca.iapetus.internal"]
}
