//! Incus `config` maps as Terraform state, following the Go provider's rules so the same HCL
//! plans the same way:
//!
//! - **Computed keys** (per resource: `volatile.*`, a pool's `source`, a network's generated
//!   `ipv6.address`…) are values the daemon fills in. Unless the user set such a key, it is
//!   left out of state (no perpetual diff), and merged back into every `PUT` (so an update
//!   does not unset it).
//! - Every other key the daemon reports is kept in state, so an out-of-band change shows up
//!   as drift and the next apply reverts it.
//! - A `null` value in the user's map stays `null` in state and is never sent; `""` means
//!   unset in Incus and is never sent either.
//!
//! A key is computed when it equals an entry, or starts with an entry that ends in `.`
//! (`"volatile."` covers `volatile.uuid`, but `"volatile"` does not).

use std::collections::BTreeMap;

use incus_client::Config;

use crate::cty::Value;

/// The computed-key list of one object (owned, because some depend on the driver/type).
#[derive(Debug, Clone, Default)]
pub struct ComputedKeys {
    keys: Vec<String>,
    /// Keys that are computed only while they hold the value the daemon sets by itself
    /// (a project's `features.images = "true"`): any other value was chosen by someone and
    /// is tracked, so an imported object plans clean and an out-of-band change shows.
    defaults: Vec<(String, String)>,
}

impl ComputedKeys {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(keys: I) -> Self {
        ComputedKeys {
            keys: keys.into_iter().map(Into::into).collect(),
            defaults: Vec::new(),
        }
    }
    pub fn with<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.keys.extend(keys.into_iter().map(Into::into));
        self
    }
    /// `key` is computed while its value is `value`.
    pub fn with_default(mut self, key: &str, value: &str) -> Self {
        self.defaults.push((key.to_string(), value.to_string()));
        self
    }
    fn by_name(&self, key: &str) -> bool {
        self.keys
            .iter()
            .any(|ck| key == ck || (ck.ends_with('.') && key.starts_with(ck.as_str())))
    }
    /// Whether `key` (whatever its value) is computed.
    pub fn contains(&self, key: &str) -> bool {
        self.by_name(key) || self.defaults.iter().any(|(k, _)| k == key)
    }
    /// Whether `key` holding `value` on the server is computed (left out of state).
    pub fn strips(&self, key: &str, value: &str) -> bool {
        self.by_name(key) || self.defaults.iter().any(|(k, v)| k == key && v == value)
    }
}

/// The user's map as `(key, Some(value) | None for null)`; `None` when the map itself is
/// null or unknown (nothing configured).
fn user_entries(user: &Value) -> Option<BTreeMap<String, Option<String>>> {
    let m = user.entries()?;
    Some(
        m.iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string)))
            .collect(),
    )
}

/// The map to send on create: configured, non-null, non-empty values.
pub fn user_config(user: &Value) -> Config {
    user.string_map()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// The state value of `config` after reading `server`, given what the user configured
/// (`user`: the planned/prior `config`, possibly null or unknown).
///
/// `keep_user` lets a resource keep the user's spelling when the daemon only normalised it
/// (e.g. a network's `ipv4.address = "auto"` that the daemon replaced by the generated
/// address): called with (key, user value, server value).
pub fn to_state(
    server: &Config,
    user: &Value,
    computed: &ComputedKeys,
    keep_user: &dyn Fn(&str, &str, &str) -> bool,
) -> Value {
    let user = user_entries(user).unwrap_or_default();
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    // User nulls stay, so they do not "disappear" from state.
    for (k, v) in &user {
        if v.is_none() {
            out.insert(k.clone(), Value::Null);
        }
    }
    for (k, v) in server {
        if v.is_empty() {
            continue;
        }
        match user.get(k) {
            Some(None) if computed.contains(k) => {
                out.insert(k.clone(), Value::Null);
            }
            Some(Some(u)) if u != v && keep_user(k, u, v) => {
                out.insert(k.clone(), Value::string(u.clone()));
            }
            Some(_) => {
                out.insert(k.clone(), Value::string(v.clone()));
            }
            None if !computed.strips(k, v) => {
                out.insert(k.clone(), Value::string(v.clone()));
            }
            None => {}
        }
    }
    Value::Map(out)
}

/// The config for a `PUT`: the user's values, plus the server's values of computed keys the
/// user did not set (so Incus keeps them). `keep_user`-normalised keys keep the server's
/// value when the user's is the un-normalised spelling (sending `auto` again would
/// regenerate an address).
pub fn merge_for_put(
    server: &Config,
    user: &Value,
    computed: &ComputedKeys,
    keep_user: &dyn Fn(&str, &str, &str) -> bool,
) -> Config {
    let user_map = user_entries(user).unwrap_or_default();
    let mut out = Config::new();
    for (k, v) in &user_map {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            match server.get(k) {
                Some(s) if s != v && keep_user(k, v, s) => out.insert(k.clone(), s.clone()),
                _ => out.insert(k.clone(), v.clone()),
            };
        }
    }
    for (k, v) in server {
        if !user_map.contains_key(k) && !v.is_empty() && computed.contains(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// No normalisation: the server's value is always the truth.
pub fn exact(_key: &str, _user: &str, _server: &str) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Config {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
    fn user(pairs: &[(&str, Option<&str>)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(Value::string).unwrap_or(Value::Null)))
                .collect(),
        )
    }

    #[test]
    fn computed_prefix_needs_trailing_dot() {
        let ck = ComputedKeys::new(["volatile.", "source"]);
        assert!(ck.contains("volatile.uuid"));
        assert!(ck.contains("source"));
        assert!(!ck.contains("sourcex"));
        assert!(!ComputedKeys::new(["volatile"]).contains("volatile.uuid"));
    }

    #[test]
    fn state_strips_computed_keeps_user_and_drift() {
        let ck = ComputedKeys::new(["volatile.", "source"]);
        let server = cfg(&[
            ("source", "/x"),
            ("volatile.a", "1"),
            ("user.k", "v"),
            ("rsync.bwlimit", "5"),
        ]);
        let st = to_state(&server, &user(&[("user.k", Some("v"))]), &ck, &exact);
        // rsync.bwlimit was added out of band: it is drift and must show up.
        assert_eq!(
            st,
            user(&[("user.k", Some("v")), ("rsync.bwlimit", Some("5"))])
        );
        // A computed key the user set is tracked.
        let st = to_state(&server, &user(&[("source", Some("/x"))]), &ck, &exact);
        assert_eq!(
            st.entries().unwrap().get("source"),
            Some(&Value::string("/x"))
        );
    }

    #[test]
    fn value_dependent_computed_keys() {
        let ck = ComputedKeys::new(["volatile."])
            .with_default("features.images", "true")
            .with_default("features.profiles", "true");
        let server = cfg(&[("features.images", "true"), ("features.profiles", "false")]);
        // The default value is stripped, a chosen one is tracked (import plans clean).
        assert_eq!(
            to_state(&server, &Value::Null, &ck, &exact),
            user(&[("features.profiles", Some("false"))])
        );
        // A PUT keeps the default-valued key the user does not manage.
        let put = merge_for_put(
            &server,
            &user(&[("features.profiles", Some("false"))]),
            &ck,
            &exact,
        );
        assert_eq!(put, server);
    }

    #[test]
    fn nulls_stay_null_and_empty_values_are_unset() {
        let ck = ComputedKeys::new(["volatile."]);
        let server = cfg(&[("a", ""), ("volatile.x", "1")]);
        let st = to_state(
            &server,
            &user(&[("b", None), ("volatile.x", None)]),
            &ck,
            &exact,
        );
        assert_eq!(st, user(&[("b", None), ("volatile.x", None)]));
        assert!(
            user_config(&user(&[("a", Some("")), ("b", None), ("c", Some("1"))]))
                == cfg(&[("c", "1")])
        );
    }

    #[test]
    fn put_merges_back_computed_keys_only() {
        let ck = ComputedKeys::new(["volatile.", "source"]);
        let server = cfg(&[
            ("source", "/x"),
            ("volatile.a", "1"),
            ("rsync.bwlimit", "5"),
        ]);
        let put = merge_for_put(&server, &user(&[("user.k", Some("v"))]), &ck, &exact);
        // rsync.bwlimit is not computed: dropping it from HCL removes it from the server.
        assert_eq!(
            put,
            cfg(&[("source", "/x"), ("volatile.a", "1"), ("user.k", "v")])
        );
    }

    #[test]
    fn normalised_user_value_is_kept() {
        let auto = |k: &str, u: &str, _s: &str| k == "ipv4.address" && u == "auto";
        let server = cfg(&[("ipv4.address", "10.1.2.1/24")]);
        let u = user(&[("ipv4.address", Some("auto"))]);
        let st = to_state(&server, &u, &ComputedKeys::default(), &auto);
        assert_eq!(st, u);
        // ...and the PUT keeps the generated address instead of regenerating it.
        let put = merge_for_put(&server, &u, &ComputedKeys::default(), &auto);
        assert_eq!(put, server);
    }
}
