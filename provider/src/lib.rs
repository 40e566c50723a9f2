#![cfg_attr(test, allow(clippy::unwrap_used))]
//! Floe's Terraform/OpenTofu provider for Incus: plugin protocol 6 (`plugin`), the cty
//! value model (`cty`), the resource framework (`framework`), the provider block (`config`),
//! and the resources and data sources themselves.

pub mod config;
pub mod cty;
pub mod data_sources;
pub mod docs;
pub mod framework;
pub mod plugin;
pub mod proto;
pub mod remote_trust;
pub mod resources;

/// The registry address Terraform uses by default for our provider in debug mode.
pub const DEFAULT_PROVIDER_ADDRESS: &str = "registry.terraform.io/floe/incus";
