//! Data sources: one file per data source, registered below with one line each.

pub mod instance;
pub mod profile;

use crate::framework::DataSource;

/// Every data source the provider serves, keyed by `DataSource::type_name()`.
pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![
        // Keep one line per data source, sorted by name.
        Box::new(instance::InstanceData),
        Box::new(profile::ProfileData),
    ]
}

/// The example shown in the generated docs of a data source.
pub fn example(type_name: &str) -> &'static str {
    match type_name {
        "incus_instance" => "data \"incus_instance\" \"web\" {\n  name = \"web1\"\n}\n",
        "incus_profile" => "data \"incus_profile\" \"default\" {\n  name = \"default\"\n}\n",
        _ => "",
    }
}
