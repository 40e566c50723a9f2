//! Shared helpers for the end-to-end tests.
//!
//! - [`terraform`]: run the real Terraform (`$TERRAFORM`, v1.0.3 on the testbed) against the
//!   provider built from this workspace, through a CLI config with `dev_overrides` (or a
//!   local filesystem mirror when a test needs `terraform init`), one temp dir per test.
//! - [`incus`]: a throw-away Incus project per test (removed with everything in it on
//!   drop, also when the test fails), and the `incus` CLI for out-of-band changes.
//!
//! ```no_run
//! use floe_e2e::terraform::Workspace;
//! let ws = Workspace::new("demo");                // temp dir + CLI config + project
//! ws.write_main(&format!(r#"
//! resource "incus_instance" "c" {{
//!   name    = "c1"
//!   project = "{}"
//!   image   = "{}"
//! }}"#, ws.project(), floe_e2e::image()));
//! ws.apply().assert_success();
//! assert_eq!(ws.plan_exitcode().code, 0);          // no diff after apply
//! ```
//!
//! Prerequisites are found through the testbed's environment (`scripts/env.sh`); a missing
//! one fails the test loudly, never skips it.

pub mod incus;
pub mod stale;
pub mod terraform;

/// The image the testbed provides (`$FLOE_IMAGE`, default `local/debian12`).
pub fn image() -> String {
    std::env::var("FLOE_IMAGE").unwrap_or_else(|_| "local/debian12".into())
}

/// A short random suffix for unique names on the shared daemon.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..8])
}
