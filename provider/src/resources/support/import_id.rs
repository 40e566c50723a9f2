//! Import IDs, with the Go provider's grammar so `terraform import` commands carry over:
//!
//! `[remote:][project/]f1[/f2…][,option=value…]`
//!
//! - The remote is what precedes the first `:`, unless that prefix contains `/` (so an IPv6
//!   listen address such as `/net/fd42::1` is not taken for a remote).
//! - One field: `[project/]name`. Several fields: the project part is mandatory but may be
//!   empty (`[project]/pool/name`, e.g. `/pool1/vol1`).
//! - Options must be `key=value` from the resource's allow list.

use std::collections::BTreeMap;

use crate::cty::{Type, Value};
use crate::framework::Diagnostics;
use crate::framework::diag;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportId {
    pub remote: Option<String>,
    pub project: Option<String>,
    /// The fields, in the order of the spec.
    pub fields: Vec<String>,
    pub options: BTreeMap<String, String>,
}

/// How a resource's import ID is shaped.
pub struct ImportSpec {
    /// Resource type, for messages (`incus_storage_volume`).
    pub resource: &'static str,
    /// Names of the fields, for messages (`["pool", "name"]`).
    pub fields: &'static [&'static str],
    /// False for global objects (projects): a project part is an error.
    pub project: bool,
    pub options: &'static [&'static str],
}

impl ImportSpec {
    /// The valid format, shown in every error.
    pub fn format(&self) -> String {
        let fields = self.fields.join("/");
        let project = match (self.project, self.fields.len()) {
            (false, _) => String::new(),
            (true, 1) => "[project/]".into(),
            (true, _) => "[project]/".into(),
        };
        let opts: String = self
            .options
            .iter()
            .map(|o| format!("[,{o}=<value>]"))
            .collect();
        format!("[remote:]{project}{fields}{opts}")
    }

    /// The state an import starts from: a null object of the resource's type `ty` with the
    /// ID's fields under their attribute names (the spec's field names), `project` (for
    /// resources that live in one) and `remote`.
    pub fn state(&self, id: &ImportId, ty: &Type) -> Value {
        let mut st = Value::null_object(ty);
        for (name, v) in self.fields.iter().zip(&id.fields) {
            st.set_attr(name, Value::string(v));
        }
        let or_null = |v: &Option<String>| v.as_deref().map(Value::string).unwrap_or(Value::Null);
        if self.project {
            st.set_attr("project", or_null(&id.project));
        }
        st.set_attr("remote", or_null(&id.remote));
        st
    }

    pub fn parse(&self, id: &str) -> Result<ImportId, Diagnostics> {
        let bad = |why: &str| {
            diag::error(
                format!("Invalid import ID {id:?}"),
                format!("{why}. Expected {} for {}.", self.format(), self.resource),
            )
        };
        let mut parts = id.split(',');
        let main = parts.next().unwrap_or_default();
        let mut options = BTreeMap::new();
        for opt in parts {
            let Some((k, v)) = opt.split_once('=') else {
                return Err(bad(&format!("option {opt:?} is not key=value")));
            };
            if !self.options.contains(&k) {
                return Err(bad(&format!("unknown option {k:?}")));
            }
            if v.is_empty() {
                return Err(bad(&format!("option {k:?} has an empty value")));
            }
            options.insert(k.to_string(), v.to_string());
        }
        let (remote, rest) = match main.split_once(':') {
            Some((r, rest)) if !r.contains('/') => {
                if r.is_empty() {
                    return Err(bad("the remote before ':' is empty"));
                }
                (Some(r.to_string()), rest)
            }
            _ => (None, main),
        };
        let n = self.fields.len();
        // Incus names never contain '/', so every '/' separates parts.
        let segs: Vec<&str> = rest.split('/').collect();
        let (project, fields): (Option<&str>, &[&str]) = match (self.project, n, segs.len()) {
            (false, _, l) if l == n => (None, &segs[..]),
            (false, _, _) => {
                return Err(bad(
                    "this resource is not in a project; remove the project part",
                ));
            }
            (true, 1, 1) => (None, &segs[..]),
            (true, _, l) if l == n + 1 => (Some(segs[0]), &segs[1..]),
            (true, _, _) => {
                return Err(bad(&format!(
                    "expected {n} field(s) after the project part"
                )));
            }
        };
        for (name, v) in self.fields.iter().zip(fields) {
            if v.is_empty() {
                return Err(bad(&format!("{name} is empty")));
            }
        }
        Ok(ImportId {
            remote,
            project: project.filter(|p| !p.is_empty()).map(str::to_string),
            fields: fields.iter().map(|s| s.to_string()).collect(),
            options,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: ImportSpec = ImportSpec {
        resource: "incus_storage_pool",
        fields: &["name"],
        project: true,
        options: &[],
    };
    const VOL: ImportSpec = ImportSpec {
        resource: "incus_storage_volume",
        fields: &["pool", "name"],
        project: true,
        options: &[],
    };
    const NET: ImportSpec = ImportSpec {
        resource: "incus_network",
        fields: &["name"],
        project: true,
        options: &["target"],
    };
    const PROJECT: ImportSpec = ImportSpec {
        resource: "incus_project",
        fields: &["name"],
        project: false,
        options: &[],
    };
    const LB: ImportSpec = ImportSpec {
        resource: "incus_network_lb",
        fields: &["network", "listen_address"],
        project: true,
        options: &[],
    };

    const INSTANCE: ImportSpec = ImportSpec {
        resource: "incus_instance",
        fields: &["name"],
        project: true,
        options: &["image"],
    };

    #[test]
    fn instance_ids_with_an_image_option() {
        let id = INSTANCE
            .parse("local:proj/web1,image=local/debian12")
            .unwrap();
        assert_eq!(id.remote.as_deref(), Some("local"));
        assert_eq!(id.project.as_deref(), Some("proj"));
        assert_eq!(id.fields, vec!["web1".to_string()]);
        assert_eq!(id.options["image"], "local/debian12");
        assert!(INSTANCE.parse("web1,foo=1").is_err());
        assert!(INSTANCE.parse("p/").is_err());
        assert_eq!(INSTANCE.parse("/web1").unwrap().project, None);
    }

    fn ok(spec: &ImportSpec, id: &str) -> (Option<String>, Option<String>, Vec<String>) {
        let r = spec.parse(id).unwrap();
        (r.remote, r.project, r.fields)
    }

    #[test]
    fn single_field_with_optional_project_and_remote() {
        assert_eq!(ok(&POOL, "p1"), (None, None, vec!["p1".into()]));
        assert_eq!(
            ok(&POOL, "proj/p1"),
            (None, Some("proj".into()), vec!["p1".into()])
        );
        assert_eq!(
            ok(&POOL, "r:proj/p1"),
            (Some("r".into()), Some("proj".into()), vec!["p1".into()])
        );
        assert!(POOL.parse("a/b/c").is_err());
    }

    #[test]
    fn several_fields_need_the_project_part_which_may_be_empty() {
        assert_eq!(
            ok(&VOL, "/pool1/vol1"),
            (None, None, vec!["pool1".into(), "vol1".into()])
        );
        assert_eq!(
            ok(&VOL, "r:p/pool1/vol1"),
            (
                Some("r".into()),
                Some("p".into()),
                vec!["pool1".into(), "vol1".into()]
            )
        );
        let e = VOL.parse("pool1/vol1").unwrap_err();
        assert!(
            e.0[0].detail.contains("[remote:][project]/pool/name"),
            "{e}"
        );
    }

    #[test]
    fn options_are_checked() {
        let r = NET.parse("n1,target=node2").unwrap();
        assert_eq!(r.options.get("target").map(String::as_str), Some("node2"));
        assert!(NET.parse("n1,image=x").is_err());
        assert!(NET.parse("n1,target").is_err());
    }

    #[test]
    fn global_objects_reject_a_project() {
        assert_eq!(
            ok(&PROJECT, "r:p1"),
            (Some("r".into()), None, vec!["p1".into()])
        );
        assert!(PROJECT.parse("x/p1").is_err());
    }

    #[test]
    fn ipv6_listen_address_is_not_a_remote() {
        assert_eq!(
            ok(&LB, "/net1/fd42::10"),
            (None, None, vec!["net1".into(), "fd42::10".into()])
        );
        assert_eq!(
            ok(&LB, "r:p/net1/10.0.0.1"),
            (
                Some("r".into()),
                Some("p".into()),
                vec!["net1".into(), "10.0.0.1".into()]
            )
        );
    }
}
