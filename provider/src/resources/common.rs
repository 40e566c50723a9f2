//! Helpers shared by resources: Incus config maps with server-computed keys, device
//! blocks, import IDs and name validation.

use std::collections::BTreeMap;

use incus_client::{Config, Devices};

use crate::cty::{AttrPath, Type, Value};
use crate::framework::diag::Diagnostics;
use crate::framework::schema::{Attribute, Block, NestedBlock, Nesting};

/// Device types Incus knows (the Go provider's list).
pub const DEVICE_TYPES: &[&str] = &[
    "none",
    "disk",
    "nic",
    "unix-char",
    "unix-block",
    "usb",
    "gpu",
    "infiniband",
    "proxy",
    "unix-hotplug",
    "tpm",
    "pci",
];

/// The `device` block of instances and profiles: a set of {name, type, properties}.
pub fn device_block() -> NestedBlock {
    NestedBlock::new(
        "device",
        Nesting::Set,
        Block::new(vec![
            Attribute::required("name", Type::String)
                .desc("Device name, unique within the instance or profile."),
            Attribute::required("type", Type::String)
                .desc("Device type: `disk`, `nic`, `proxy`, `unix-char`, ...")
                .validate(crate::one_of!(DEVICE_TYPES)),
            Attribute::required("properties", Type::map(Type::String))
                .desc("Device options, e.g. `path`, `source`, `pool`, `listen`, `connect`."),
        ]),
    )
    .desc("A device attached directly to the object (profile devices are not listed).")
}

/// Device blocks (a set value) to the Incus `devices` map. Null properties are skipped,
/// `""` values are not sent (empty means unset in Incus).
pub fn devices_from_value(v: &Value) -> Devices {
    let mut out = Devices::new();
    for d in v.elements() {
        let Some(name) = d.attr("name").as_str() else {
            continue;
        };
        let mut props: Config = d
            .attr("properties")
            .string_map()
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if let Some(t) = d.attr("type").as_str() {
            props.insert("type".into(), t.to_string());
        }
        out.insert(name.to_string(), props);
    }
    out
}

/// The Incus `devices` map to device blocks.
pub fn devices_to_value(devices: &Devices) -> Value {
    Value::Set(
        devices
            .iter()
            .map(|(name, props)| {
                let mut props = props.clone();
                let ty = props.remove("type").unwrap_or_default();
                Value::Object(BTreeMap::from([
                    ("name".to_string(), Value::string(name)),
                    ("type".to_string(), Value::string(ty)),
                    ("properties".to_string(), Value::from_string_map(props)),
                ]))
            })
            .collect(),
    )
}

/// Duplicate device names are an error Terraform cannot catch (sets dedupe whole objects).
pub fn validate_device_names(config: &Value, diags: &mut Diagnostics) {
    let mut seen = std::collections::BTreeSet::new();
    for d in config.attr("device").elements() {
        if let Some(n) = d.attr("name").as_str()
            && !seen.insert(n.to_string())
        {
            diags.error_at(
                AttrPath::attr("device"),
                format!("Duplicate device name {n:?}"),
                "Each device block needs a unique name.",
            );
        }
    }
}

/// Whether a server config key is server-managed: it is kept out of state unless the user
/// set it, and preserved on update.
pub fn is_computed_key(key: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| key.starts_with(p))
}

/// The state view of a server config map: user keys as the server has them (drift shows),
/// computed keys only if the user manages them. `user` is the prior/planned config.
pub fn config_to_state(server: &Config, user: &Value, computed_prefixes: &[&str]) -> Value {
    let user_keys = user.string_map();
    let mut out: BTreeMap<String, Value> = server
        .iter()
        .filter(|(k, _)| !is_computed_key(k, computed_prefixes) || user_keys.contains_key(*k))
        .map(|(k, v)| (k.clone(), Value::string(v)))
        .collect();
    // Keys the user set to null or "" stay as written (Incus does not store empty values).
    if let Some(m) = user.entries() {
        for (k, v) in m {
            let empty = v.is_null() || v.as_str() == Some("");
            if empty && !server.contains_key(k) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Map(out)
}

/// The config to send: the user's keys (no null/"") plus the server's computed keys the
/// user does not manage (so a PUT does not drop `volatile.*`).
pub fn config_for_put(planned: &Value, server: &Config, computed_prefixes: &[&str]) -> Config {
    let mut out: Config = planned
        .string_map()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    for (k, v) in server {
        let user_set = planned.entries().is_some_and(|m| m.contains_key(k));
        if is_computed_key(k, computed_prefixes) && !user_set {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// The `remote` to record for an imported object: None when the ID names the default
/// remote, so configurations that omit `remote` import without a diff.
pub fn import_remote(ctx: &crate::config::ProviderData, remote: &Option<String>) -> Option<String> {
    remote.clone().filter(|r| *r != ctx.default_remote)
}

/// Incus object names (instances): 1-63 chars of letters, digits and `-`, starting with a
/// letter, not ending with `-`.
pub fn validate_instance_name(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    let Some(s) = v.as_str() else { return };
    let problem = if s.is_empty() || s.len() > 63 {
        Some("must be 1 to 63 characters long")
    } else if !s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        Some("must start with a letter")
    } else if s.ends_with('-') {
        Some("must not end with a hyphen")
    } else if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Some("may only contain letters, digits and hyphens")
    } else {
        None
    };
    if let Some(p) = problem {
        diags.error_at(
            path.clone(),
            format!("Invalid name {s:?}"),
            format!("An instance name {p} (valid: letters, digits and hyphens, starting with a letter, at most 63 characters, e.g. \"web-1\")."),
        );
    }
}

/// Names of other objects (profiles, ...): no `/`, not empty, not `.` or `..`.
pub fn validate_object_name(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    let Some(s) = v.as_str() else { return };
    if s.is_empty()
        || s.contains('/')
        || s == "."
        || s == ".."
        || s.chars().any(char::is_whitespace)
    {
        diags.error_at(
            path.clone(),
            format!("Invalid name {s:?}"),
            "A name must be non-empty and contain no '/' or whitespace.",
        );
    }
}

/// Optional attribute read as `Option<&str>` (null and "" are None).
pub fn opt_str<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.attr(name).as_str().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let mut d = Diagnostics::new();
        for ok in ["a", "web-1", "A9"] {
            validate_instance_name(&Value::string(ok), &AttrPath::attr("name"), &mut d);
        }
        assert!(d.is_empty());
        for bad in ["", "1a", "a_b", "a-", "a b", "a.b"] {
            let mut d = Diagnostics::new();
            validate_instance_name(&Value::string(bad), &AttrPath::attr("name"), &mut d);
            assert_eq!(d.0.len(), 1, "{bad}");
            assert_eq!(d.0[0].path, Some(AttrPath::attr("name")));
        }
    }

    #[test]
    fn config_stripping_and_merging() {
        let server: Config = [
            ("volatile.x", "1"),
            ("image.os", "debian"),
            ("user.a", "b"),
            ("limits.cpu", "2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let user = Value::from_string_map([("user.a".to_string(), "b".to_string())]);
        let state = config_to_state(&server, &user, &["volatile.", "image."]);
        // limits.cpu was added out of band: it shows (drift); volatile/image do not.
        assert_eq!(
            state.string_map().keys().cloned().collect::<Vec<_>>(),
            vec!["limits.cpu", "user.a"]
        );
        let put = config_for_put(&user, &server, &["volatile.", "image."]);
        assert_eq!(
            put.keys().cloned().collect::<Vec<_>>(),
            vec!["image.os", "user.a", "volatile.x"]
        );
    }

    #[test]
    fn devices_round_trip() {
        let mut devs = Devices::new();
        devs.insert(
            "root".into(),
            [("type", "disk"), ("path", "/"), ("pool", "default")]
                .into_iter()
                .map(|(a, b)| (a.into(), b.into()))
                .collect(),
        );
        let v = devices_to_value(&devs);
        assert_eq!(devices_from_value(&v), devs);
    }
}
