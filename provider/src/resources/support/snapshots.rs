//! Plan-time checks of the snapshot keys shared by instances, profiles and custom volumes
//! (`snapshots.schedule`, `snapshots.expiry`), so a typo fails at `terraform plan` with the
//! key highlighted, before anything is created. The daemon stays the final judge: these
//! checks accept everything Incus accepts (cron with names, steps, ranges, lists of
//! schedules, `@` aliases) and only reject what it would reject too.

use crate::cty::{AttrPath, Value};
use crate::framework::Diagnostics;

const ALIASES: &[&str] = &[
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@annually",
    "@yearly",
    "@startup",
    "@never",
];

/// Why `s` is not a valid `snapshots.schedule`, if it is not. Empty means unset.
pub fn schedule_problem(s: &str) -> Option<String> {
    if s.trim().is_empty() {
        return None;
    }
    for sched in s.split(',').map(str::trim) {
        if sched.starts_with('@') {
            if !ALIASES.contains(&sched) {
                return Some(format!(
                    "{sched:?} is not a known alias ({})",
                    ALIASES.join(", ")
                ));
            }
            continue;
        }
        let fields: Vec<&str> = sched.split_whitespace().collect();
        if fields.len() != 5 {
            return Some(format!(
                "{sched:?} has {} field(s); a schedule is <minute> <hour> <day-of-month> <month> <day-of-week> (e.g. \"0 6 * * *\") or an alias such as @daily",
                fields.len()
            ));
        }
        if let Some(f) = fields.iter().find(|f| {
            !f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "*,/-?".contains(c))
        }) {
            return Some(format!("field {f:?} of {sched:?} is not a cron field"));
        }
    }
    None
}

/// Why `s` is not a valid `snapshots.expiry` (`1M 2H 3d 4w 5m 6y`), if it is not.
pub fn expiry_problem(s: &str) -> Option<String> {
    for part in s.split_whitespace() {
        let (num, unit) = part.split_at(part.len() - part.chars().last().map_or(0, char::len_utf8));
        let unit_ok = matches!(unit, "M" | "H" | "d" | "w" | "m" | "y");
        if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) || !unit_ok {
            return Some(format!(
                "{part:?} is not <number><unit> with unit M (minutes), H (hours), d, w, m (months) or y; e.g. \"2w\" or \"1d 12H\""
            ));
        }
    }
    None
}

/// Check the snapshot keys of a `config` map value, reporting at `config["key"]`.
pub fn validate_config(config: &Value, diags: &mut Diagnostics) {
    let Some(m) = config.entries() else { return };
    let path = |k: &str| AttrPath::attr("config").then_key(k);
    if let Some(s) = m.get("snapshots.schedule").and_then(Value::as_str)
        && let Some(why) = schedule_problem(s)
    {
        diags.error_at(path("snapshots.schedule"), "Invalid snapshot schedule", why);
    }
    if let Some(s) = m.get("snapshots.expiry").and_then(Value::as_str)
        && let Some(why) = expiry_problem(s)
    {
        diags.error_at(path("snapshots.expiry"), "Invalid snapshot expiry", why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_incus_accepts() {
        for ok in [
            "@daily",
            "0 6 * * *",
            "*/15 * * * 1-5",
            "0 0 1 JAN *",
            "@hourly, 30 2 * * SUN",
            "",
        ] {
            assert_eq!(schedule_problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn schedules_incus_rejects() {
        for bad in [
            "every day",
            "@sometimes",
            "0 6 * *",
            "0 6 * * * *",
            "0 6 * * $",
        ] {
            assert!(schedule_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn expiry_expressions() {
        for ok in ["2w", "1d 12H", "30M", ""] {
            assert_eq!(expiry_problem(ok), None, "{ok}");
        }
        for bad in ["3 weeks", "w", "2x", "1.5d"] {
            assert!(expiry_problem(bad).is_some(), "{bad}");
        }
    }
}
