//! `incus_instance_snapshot`: one snapshot of an instance, HCL-compatible with the Go
//! provider (every argument forces a new snapshot; update is a no-op).
//!
//! Scheduled snapshots are not resources: they are the instance's (or profile's) config keys
//! `snapshots.schedule`, `snapshots.expiry` and `snapshots.pattern`. `description` from the
//! Go provider's issue list does not exist here because Incus 6.0 has no snapshot
//! description (`InstanceSnapshotPut` only carries `expires_at`).
//! Import (not in the Go provider): `[remote:][project]/instance/snapshot`.

use async_trait::async_trait;
use incus_client::InstanceSnapshotsPost;

use crate::config::ProviderData;
use crate::cty::{Type, Value};
use crate::framework::diag::Diagnostics;
use crate::framework::{Attribute, Block, Resource, Schema};

use super::support::attrs::{self, req_str};
use super::support::import_id::ImportSpec;

pub struct InstanceSnapshot;

const IMPORT: ImportSpec = ImportSpec {
    resource: "incus_instance_snapshot",
    fields: &["instance", "name"],
    project: true,
    options: &[],
};

/// Incus sometimes fails a snapshot of a busy container ("file has vanished" from rsync,
/// CRIU dump hiccups); the Go provider retries these, so do we.
fn is_transient(e: &incus_client::Error) -> bool {
    e.daemon_message().is_some_and(|m| {
        m.contains("file has vanished") || m.contains("dump") || m.contains("rsync")
    })
}

/// RFC 3339 creation time to unix seconds (what the Go provider stores).
fn unix_seconds(rfc3339: &str) -> Option<i64> {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    let b = rfc3339.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| rfc3339.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let tail = rfc3339[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match tail {
        "" | "Z" | "z" => 0,
        t if t.len() == 6 => {
            let sign = if t.starts_with('-') { -1 } else { 1 };
            sign * (t.get(1..3)?.parse::<i64>().ok()? * 3600
                + t.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    // Days from civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + h * 3600 + mi * 60 + s - offset)
}

fn to_state(base: &Value, snap: &incus_client::InstanceSnapshot) -> Value {
    let mut st = base.clone();
    // The API names snapshots "instance/snap" in some places; keep the short name.
    let short = snap.name.rsplit('/').next().unwrap_or(&snap.name);
    st.set_attr("name", Value::string(short));
    st.set_attr("stateful", Value::Bool(snap.stateful));
    st.set_attr(
        "created_at",
        unix_seconds(&snap.created_at)
            .map(Value::int)
            .unwrap_or(Value::Null),
    );
    st
}

#[async_trait]
impl Resource for InstanceSnapshot {
    fn type_name(&self) -> &'static str {
        "incus_instance_snapshot"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).replace().desc("Name of the snapshot."),
                Attribute::required("instance", Type::String).replace().desc("Name of the instance to snapshot."),
                Attribute::optional_computed("stateful", Type::Bool)
                    .replace()
                    .default(Value::Bool(false))
                    .desc("Also save the running state (needs CRIU)."),
                attrs::project_attr(),
                attrs::remote_attr(),
                Attribute::computed("created_at", Type::Number).desc("Creation time, in seconds since the Unix epoch."),
            ])
            .desc("Manages a snapshot of an Incus instance. For scheduled snapshots set `snapshots.schedule`, `snapshots.expiry` and `snapshots.pattern` in the instance's `config`."),
        )
    }

    async fn create(&self, ctx: &ProviderData, planned: &Value) -> Result<Value, Diagnostics> {
        let c = attrs::client(ctx, planned)?;
        let (inst, name) = (req_str(planned, "instance"), req_str(planned, "name"));
        let req = InstanceSnapshotsPost {
            name: name.to_string(),
            stateful: planned.attr("stateful").as_bool() == Some(true),
            expires_at: None,
        };
        let mut attempt = 0;
        loop {
            match c.create_instance_snapshot(inst, &req).await {
                Ok(()) => break,
                Err(e) if attempt < 4 && is_transient(&e) => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                Err(e) => {
                    return Err(attrs::api_err(
                        ctx,
                        planned,
                        &format!("create snapshot {name:?} of instance {inst:?}"),
                        &e,
                    ));
                }
            }
        }
        let snap = c.get_instance_snapshot(inst, name).await.map_err(|e| {
            attrs::api_err(
                ctx,
                planned,
                &format!("read snapshot {name:?} after creating it"),
                &e,
            )
        })?;
        Ok(to_state(planned, &snap))
    }

    async fn read(&self, ctx: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = attrs::client(ctx, state)?;
        let (inst, name) = (req_str(state, "instance"), req_str(state, "name"));
        let what = format!("read snapshot {name:?} of instance {inst:?}");
        let found =
            attrs::found_or_gone(ctx, state, &what, c.get_instance_snapshot(inst, name).await)?;
        Ok(found.map(|s| to_state(state, &s)))
    }

    async fn update(
        &self,
        _ctx: &ProviderData,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        // Every argument forces replacement; only remote/project-free changes land here.
        Ok(planned.clone())
    }

    async fn delete(&self, ctx: &ProviderData, prior: &Value) -> Result<(), Diagnostics> {
        let c = attrs::client(ctx, prior)?;
        let (inst, name) = (req_str(prior, "instance"), req_str(prior, "name"));
        attrs::deleted_or_gone(
            ctx,
            prior,
            &format!("delete snapshot {name:?} of instance {inst:?}"),
            c.delete_instance_snapshot(inst, name).await,
        )
    }

    async fn import(&self, _ctx: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let id = IMPORT.parse(id)?;
        Ok(IMPORT.state(&id, &self.schema().ty()))
    }
}

pub const EXAMPLE: &str = r#"
resource "incus_instance" "db" {
  name  = "db1"
  image = "local/debian12"
  config = {
    # Scheduled snapshots: plain config keys, no drift.
    "snapshots.schedule" = "@daily"
    "snapshots.expiry"   = "2w"
    "snapshots.pattern"  = "daily-%d"
  }
}

resource "incus_instance_snapshot" "before_upgrade" {
  instance = incus_instance.db.name
  name     = "before-upgrade"
}
"#;

#[cfg(test)]
mod tests {
    use super::unix_seconds;

    #[test]
    fn rfc3339_to_unix() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            unix_seconds("2026-11-23T01:30:09.508817444Z"),
            Some(1_795_397_409)
        );
        assert_eq!(
            unix_seconds("2026-11-23T02:30:09+01:00"),
            Some(1_795_397_409)
        );
        assert_eq!(unix_seconds("garbage"), None);
    }
}
