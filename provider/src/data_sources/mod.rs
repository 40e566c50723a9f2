//! Data sources: one file per data source, registered here with one line each.

use crate::framework::DataSource;

/// Every data source the provider serves, keyed by `DataSource::type_name()`.
pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![]
}

/// The example shown in the generated docs of a data source.
pub fn example(_type_name: &str) -> &'static str {
    ""
}
