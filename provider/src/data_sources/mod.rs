//! Data sources: one file per data source, registered below with one line each.

pub mod instance;
pub mod network;
pub mod network_acl;
pub mod profile;
pub mod project;
pub mod storage_pool;
pub mod storage_volume;

use crate::framework::DataSource;

/// Every data source the provider serves, keyed by `DataSource::type_name()`.
pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![
        // Keep one line per data source, sorted by name.
        Box::new(instance::InstanceData),
        Box::new(network::NetworkData),
        Box::new(network_acl::NetworkAclData),
        Box::new(profile::ProfileData),
        Box::new(project::ProjectData),
        Box::new(storage_pool::StoragePoolData),
        Box::new(storage_volume::StorageVolumeData),
    ]
}

/// The example shown in the generated docs of a data source.
pub fn example(type_name: &str) -> &'static str {
    match type_name {
        "incus_instance" => "data \"incus_instance\" \"web\" {\n  name = \"web1\"\n}\n",
        "incus_profile" => "data \"incus_profile\" \"default\" {\n  name = \"default\"\n}\n",
        "incus_network" => network::EXAMPLE,
        "incus_network_acl" => network_acl::EXAMPLE,
        "incus_project" => project::EXAMPLE,
        "incus_storage_pool" => storage_pool::EXAMPLE,
        "incus_storage_volume" => storage_volume::EXAMPLE,
        _ => "",
    }
}
