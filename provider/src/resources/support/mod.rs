//! Helpers shared by the storage, network and project resources (and their data sources):
//! - [`config_map`]: Incus `config` maps in Terraform state (computed keys stripped on read,
//!   merged back on update, `null` kept, `""` = unset) — the core of "no perpetual diff";
//! - [`import_id`]: the Go provider's import ID grammar `[remote:][project/]f1[/f2][,k=v]`;
//! - [`cluster`]: member-specific keys and the pending-per-member-then-global creation;
//! - [`snapshots`]: plan-time checks of `snapshots.schedule` / `snapshots.expiry`;
//! - [`attrs`]: small accessors for the attributes every resource has (`remote`, `project`).

pub mod attrs;
pub mod cluster;
pub mod config_map;
pub mod import_id;
pub mod snapshots;
