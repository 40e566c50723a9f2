//! Marking test projects so a later run can sweep what a killed run left behind.
//!
//! A test killed by a timeout (or a CI machine reused between runs) leaves its project and
//! instances on the daemon; `scripts/sweep-test-leftovers.sh` (run by `make test` first)
//! deletes projects whose description carries this marker and is older than an hour.

use std::time::{SystemTime, UNIX_EPOCH};

/// The description every throw-away test project gets: `floe-test created=<unix seconds>`.
pub fn marker() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("floe-test created={now}")
}
