//! Managed resources: one file per resource, registered here with one line each.

use crate::framework::Resource;

/// Every resource the provider serves, keyed by `Resource::type_name()` (`incus_<name>`).
pub fn all() -> Vec<Box<dyn Resource>> {
    vec![]
}

/// The example shown in the generated docs of a resource.
pub fn example(_type_name: &str) -> &'static str {
    ""
}
