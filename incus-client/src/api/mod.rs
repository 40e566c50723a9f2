//! Typed models (serde) and CRUD helpers, one file per resource.
//!
//! Read models use `#[serde(default)]` so missing fields never fail decoding, and keep fields
//! they do not model in `extra` so nothing the daemon sent is lost. `*Put` structs are the
//! writable part (what `PUT` replaces); `*Post` structs are creation bodies.

pub mod image;
pub mod instance;
pub mod load_balancer;
pub mod network;
pub mod network_acl;
pub mod operation;
pub mod profile;
pub mod project;
pub mod server;
pub mod storage;

use std::collections::BTreeMap;

/// `config` maps: string keys to string values.
pub type Config = BTreeMap<String, String>;
/// `devices` maps: device name to its config.
pub type Devices = BTreeMap<String, Config>;

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}
