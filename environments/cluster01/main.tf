# cluster01: the production cluster (3 IncusOS members). Local metrics
# (Prometheus, federated by iapetus), log shipping (Alloy -> Loki on iapetus),
# MQTT, split-horizon DNS, alert routing, and the CI runners.

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
  count_of = { for svc in keys(var.instance_counts) : svc => var.instance_counts[svc] }

  management_profiles = [
    module.base.container_base_profile.name,
    module.base.management_network_profile.name,
  ]
  production_profiles = [
    module.base.container_base_profile.name,
    module.base.production_network_profile.name,
  ]

  # Round robin over the members: instance i of a service goes to member i mod n.
  # Null (no target) when cluster_members is empty.
  members = var.cluster_members
}

module "prometheus" {
  source = "../../modules/prometheus"
  count  = lookup(local.count_of, "prometheus", 0)

  name     = count.index == 0 ? "prometheus" : "prometheus-${count.index + 1}"
  image    = var.image
  profiles = local.management_profiles
  project  = var.project
  remote   = var.incus_remote
  target   = length(local.members) > 0 ? local.members[count.index % length(local.members)] : null

  storage_pool            = var.storage_pool
  enable_data_persistence = var.enable_data_persistence
  data_volume_size        = "20GiB"
  enable_snapshots        = var.enable_snapshots
  snapshot_schedule       = var.snapshot_schedule
  snapshots_expiry        = var.snapshots_expiry

  prometheus_alertmanagers = [for i in range(lookup(local.count_of, "alertmanager", 0)) : "${i == 0 ? "alertmanager" : "alertmanager-${i + 1}"}:9093"]
}

module "alloy" {
  source = "../../modules/alloy"
  count  = lookup(local.count_of, "alloy", 0)

  name     = count.index == 0 ? "alloy" : "alloy-${count.index + 1}"
  image    = var.image
  profiles = local.management_profiles
  project  = var.project
  remote   = var.incus_remote
  target   = length(local.members) > 0 ? local.members[(count.index + 1) % length(local.members)] : null

  storage_pool   = var.storage_pool
  alloy_loki_url = var.loki_url
}

module "mosquitto" {
  source = "../../modules/mosquitto"
  count  = lookup(local.count_of, "mosquitto", 0)

  name     = count.index == 0 ? "mosquitto" : "mosquitto-${count.index + 1}"
  image    = var.image
  profiles = local.production_profiles
  project  = var.project
  remote   = var.incus_remote
  target   = length(local.members) > 0 ? local.members[(count.index + 2) % length(local.members)] : null

  storage_pool            = var.storage_pool
  enable_data_persistence = var.enable_data_persistence
  data_volume_size        = "2GiB"
  enable_snapshots        = var.enable_snapshots
  snapshot_schedule       = var.snapshot_schedule
  snapshots_expiry        = var.snapshots_expiry
}

module "coredns" {
  source = "../../modules/coredns"
  count  = lookup(local.count_of, "coredns", 0)

  name     = count.index == 0 ? "coredns" : "coredns-${count.index + 1}"
  image    = var.image
  profiles = local.production_profiles
  project  = var.project
  remote   = var.incus_remote
  target   = length(local.members) > 0 ? local.members[count.index % length(local.members)] : null

  storage_pool = var.storage_pool
}

module "alertmanager" {
  source = "../../modules/alertmanager"
  count  = lookup(local.count_of, "alertmanager", 0)

  name     = count.index == 0 ? "alertmanager" : "alertmanager-${count.index + 1}"
  image    = var.image
  profiles = local.management_profiles
  project  = var.project
  remote   = var.incus_remote
  target   = length(local.members) > 0 ? local.members[(count.index + 1) % length(local.members)] : null

  storage_pool             = var.storage_pool
  enable_data_persistence  = var.enable_data_persistence
  data_volume_size         = "1GiB"
  enable_snapshots         = var.enable_snapshots
  snapshot_schedule        = var.snapshot_schedule
  snapshots_expiry         = var.snapshots_expiry
  alertmanager_webhook_url = var.alert_webhook_url
}

module "forgejo_runner" {
  source = "../../modules/forgejo-runner"
  count  = lookup(local.count_of, "forgejo_runner", 0)

  name     = "forgejo-runner-${count.index + 1}"
  image    = var.image
  profiles = local.management_profiles
  project  = var.project
  remote   = var.incus_remote
  target   = length(local.members) > 0 ? local.members[(count.index + 2) % length(local.members)] : null

  storage_pool           = var.storage_pool
  forgejo_url            = var.forgejo_url
  forgejo_runner_labels  = var.forgejo_runner_labels
  forgejo_runner_version = var.forgejo_runner_version
}
