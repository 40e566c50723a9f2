//! Managed resources: one file per resource, registered below with one line each.
//! See [`crate::framework`] for the `Resource` trait and how to add one.

pub mod common;
pub mod instance;
pub mod instance_snapshot;
pub mod network;
pub mod network_acl;
pub mod network_lb;
pub mod profile;
pub mod project;
pub mod storage_pool;
pub mod storage_volume;
pub mod support;

use crate::framework::Resource;

/// Every resource the provider serves, keyed by `Resource::type_name()` (`incus_<name>`).
pub fn all() -> Vec<Box<dyn Resource>> {
    vec![
        // Keep one line per resource, sorted by name.
        Box::new(instance::Instance),
        Box::new(instance_snapshot::InstanceSnapshot),
        Box::new(network::Network),
        Box::new(network_acl::NetworkAcl),
        Box::new(network_lb::NetworkLb),
        Box::new(profile::Profile),
        Box::new(project::Project),
        Box::new(storage_pool::StoragePool),
        Box::new(storage_volume::StorageVolume),
    ]
}

/// The example shown in the generated docs of a resource.
pub fn example(type_name: &str) -> &'static str {
    match type_name {
        "incus_instance" => INSTANCE_EXAMPLE,
        "incus_instance_snapshot" => instance_snapshot::EXAMPLE,
        "incus_network" => network::EXAMPLE,
        "incus_network_acl" => network_acl::EXAMPLE,
        "incus_network_lb" => network_lb::EXAMPLE,
        "incus_profile" => PROFILE_EXAMPLE,
        "incus_project" => project::EXAMPLE,
        "incus_storage_pool" => storage_pool::EXAMPLE,
        "incus_storage_volume" => storage_volume::EXAMPLE,
        _ => "",
    }
}

const INSTANCE_EXAMPLE: &str = r#"
resource "incus_instance" "web" {
  name     = "web1"
  image    = "local/debian12"
  profiles = ["default", incus_profile.small.name]
  config = {
    "limits.cpu"  = 1
    "user.role"   = "web"
  }
  device {
    name       = "http"
    type       = "proxy"
    properties = { listen = "tcp:127.0.0.1:8080", connect = "tcp:127.0.0.1:80" }
  }
  file {
    target_path = "/etc/motd"
    content     = "managed by terraform\n"
    mode        = "0644"
  }
}
"#;

const PROFILE_EXAMPLE: &str = r#"
resource "incus_profile" "small" {
  name   = "small"
  config = { "limits.memory" = "512MiB" }
  device {
    name       = "data"
    type       = "disk"
    properties = { source = "/srv/data", path = "/data" }
  }
}
"#;
