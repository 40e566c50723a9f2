//! Logs go to stderr as hclog JSON lines (`@level`, `@message`, `@module`, `@timestamp`),
//! which Terraform re-logs at the right level under `provider.terraform-provider-incus`
//! (visible with `TF_LOG=DEBUG`). Plain lines would all be treated as DEBUG.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Install the hclog layer. `FLOE_PROVIDER_LOG` (trace|debug|info|warn|error) sets the level.
pub fn init() {
    let level = match std::env::var("FLOE_PROVIDER_LOG")
        .unwrap_or_default()
        .to_lowercase()
        .as_str()
    {
        "trace" => Level::TRACE,
        "info" => Level::INFO,
        "warn" => Level::WARN,
        "error" => Level::ERROR,
        _ => Level::DEBUG,
    };
    let _ = tracing_subscriber::registry()
        .with(HclogLayer { max: level })
        .try_init();
}

struct HclogLayer {
    max: Level,
}

#[derive(Default)]
struct Fields {
    message: String,
    extra: serde_json::Map<String, serde_json::Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.extra.insert(field.name().to_string(), value.into());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.extra
                .insert(field.name().to_string(), format!("{value:?}").into());
        }
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        // Our own events at the chosen level; dependencies (h2, rustls, ...) only when loud.
        let ours = metadata.target().starts_with("floe_provider")
            || metadata.target().starts_with("terraform_provider_incus");
        *metadata.level() <= if ours { self.max } else { Level::WARN }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = match *event.metadata().level() {
            Level::TRACE => "trace",
            Level::DEBUG => "debug",
            Level::INFO => "info",
            Level::WARN => "warn",
            Level::ERROR => "error",
        };
        let mut obj = fields.extra;
        obj.insert("@level".into(), level.into());
        obj.insert("@message".into(), fields.message.into());
        obj.insert("@module".into(), "incus".into());
        obj.insert(
            "@timestamp".into(),
            hclog_timestamp(SystemTime::now()).into(),
        );
        let line = serde_json::Value::Object(obj).to_string();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

/// `2006-01-02T15:04:05.000000Z07:00`, the layout go-plugin parses.
pub fn hclog_timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamp_layout() {
        let t = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(hclog_timestamp(t), "2023-11-14T22:13:20.123456Z");
        assert_eq!(hclog_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
    }
}
