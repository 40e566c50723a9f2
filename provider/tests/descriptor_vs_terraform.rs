//! Our tfplugin6 definitions against the ones compiled into real Terraform binaries.
//!
//! A Go program embeds each `.proto` it was built with as a serialized
//! `google.protobuf.FileDescriptorProto`. This test finds the `tfplugin6.proto` one inside
//! the Terraform binaries and checks, for every field Terraform knows, that our message has
//! the same name at the same number with the same type and label, and that every RPC of
//! Terraform's `Provider` service exists in ours with the same request and response. A
//! field under the wrong number or type makes prost reject the whole request (or Terraform
//! our answer) the day a client sends it; this catches it without that client.
//!
//! Binaries: `$TERRAFORM` (the testbed's 1.0.3; required like in the e2e tests) and the
//! newer one of `tests/tests/provider_newer_terraform.rs`: `$FLOE_TERRAFORM_NEW` (must
//! exist when set), else `/usr/local/bin/terraform` when present, else reported as not
//! checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use floe_provider::proto::DESCRIPTOR_SET;
use prost::Message;
use prost_types::{DescriptorProto, FileDescriptorProto, FileDescriptorSet};

/// `(number, type, label, type_name)` of one field.
type FieldSig = (i32, i32, i32, String);

/// Every field of every message, keyed by `Message.Nested` path and field name.
fn fields(file: &FileDescriptorProto) -> BTreeMap<(String, String), FieldSig> {
    fn walk(prefix: &str, m: &DescriptorProto, out: &mut BTreeMap<(String, String), FieldSig>) {
        let path = format!("{prefix}{}", m.name());
        // Map entries are synthesized per field and compared through the map field itself.
        if m.options.as_ref().is_some_and(|o| o.map_entry()) {
            return;
        }
        for f in &m.field {
            out.insert(
                (path.clone(), f.name().to_string()),
                (
                    f.number(),
                    f.r#type() as i32,
                    f.label() as i32,
                    f.type_name().to_string(),
                ),
            );
        }
        for n in &m.nested_type {
            walk(&format!("{path}."), n, out);
        }
    }
    let mut out = BTreeMap::new();
    for m in &file.message_type {
        walk("", m, &mut out);
    }
    out
}

/// `method -> (input, output)` of the `Provider` service.
fn methods(file: &FileDescriptorProto) -> BTreeMap<String, (String, String)> {
    file.service
        .iter()
        .filter(|s| s.name() == "Provider")
        .flat_map(|s| &s.method)
        .map(|m| {
            (
                m.name().to_string(),
                (m.input_type().to_string(), m.output_type().to_string()),
            )
        })
        .collect()
}

fn ours() -> FileDescriptorProto {
    FileDescriptorSet::decode(DESCRIPTOR_SET)
        .expect("our descriptor set")
        .file
        .into_iter()
        .find(|f| f.name() == "tfplugin6.proto")
        .expect("tfplugin6.proto in our descriptor set")
}

/// Length of the protobuf message starting at `bytes[0]`, for a message whose field
/// numbers are all in `valid`: fields are read until one is not (the next datum in the
/// binary). Go stores the descriptor without a length prefix.
fn message_len(bytes: &[u8], valid: std::ops::RangeInclusive<u64>) -> usize {
    fn varint(b: &[u8], pos: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*pos)?;
            *pos += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    let mut pos = 0;
    loop {
        let start = pos;
        let Some(key) = varint(bytes, &mut pos) else {
            return start;
        };
        let (num, wire) = (key >> 3, key & 7);
        if !valid.contains(&num) {
            return start;
        }
        let ok = match wire {
            0 => varint(bytes, &mut pos).is_some(),
            2 => match varint(bytes, &mut pos) {
                Some(len) if pos + len as usize <= bytes.len() => {
                    pos += len as usize;
                    true
                }
                _ => false,
            },
            _ => false,
        };
        if !ok {
            return start;
        }
    }
}

/// The `tfplugin6.proto` descriptor compiled into the Go binary at `bin`.
fn terraforms(bin: &Path) -> FileDescriptorProto {
    let data = std::fs::read(bin).unwrap_or_else(|e| panic!("read {}: {e}", bin.display()));
    // Field 1 (name), length 15, "tfplugin6.proto": how every such descriptor starts.
    let needle = b"\x0a\x0ftfplugin6.proto";
    data.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .find_map(|(at, _)| {
            let rest = &data[at..];
            // FileDescriptorProto field numbers: 1..=14.
            let len = message_len(rest, 1..=14);
            FileDescriptorProto::decode(&rest[..len])
                .ok()
                .filter(|f| f.package() == "tfplugin6" && !f.message_type.is_empty())
        })
        .unwrap_or_else(|| {
            panic!(
                "no tfplugin6.proto descriptor found in {}: not a Terraform >= 1.0 binary?",
                bin.display()
            )
        })
}

/// Every difference between Terraform's and our definitions, as readable lines.
fn differences(theirs: &FileDescriptorProto, ours: &FileDescriptorProto) -> Vec<String> {
    let (tf, us) = (fields(theirs), fields(ours));
    let mut diffs = Vec::new();
    let ours_by_number: BTreeMap<(&String, i32), &String> = us
        .iter()
        .map(|((msg, name), sig)| ((msg, sig.0), name))
        .collect();
    for ((msg, name), sig) in &tf {
        match us.get(&(msg.clone(), name.clone())) {
            None => diffs.push(format!("{msg}.{name} (= {}) missing in ours", sig.0)),
            Some(o) if o != sig => diffs.push(format!(
                "{msg}.{name}: Terraform (number, type, label, type_name) = {sig:?}, ours {o:?}"
            )),
            Some(_) => {}
        }
        if let Some(other) = ours_by_number.get(&(msg, sig.0))
            && *other != name
        {
            diffs.push(format!(
                "{msg}: number {} is {name} in Terraform, {other} in ours",
                sig.0
            ));
        }
    }
    let our_methods = methods(ours);
    for (m, io) in methods(theirs) {
        match our_methods.get(&m) {
            None => diffs.push(format!("rpc {m} missing in ours")),
            Some(o) if *o != io => diffs.push(format!("rpc {m}: Terraform {io:?}, ours {o:?}")),
            Some(_) => {}
        }
    }
    diffs
}

#[track_caller]
fn assert_matches(bin: &Path) {
    let theirs = terraforms(bin);
    let n = fields(&theirs).len();
    let diffs = differences(&theirs, &ours());
    assert!(
        diffs.is_empty(),
        "our tfplugin6.proto disagrees with {} ({n} fields compared):\n{}",
        bin.display(),
        diffs.join("\n")
    );
    eprintln!(
        "{}: {n} fields and {} RPCs agree",
        bin.display(),
        methods(&theirs).len()
    );
}

#[test]
fn agrees_with_terraform_1_0() {
    let bin = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/floe/terraform-1.0.3/terraform"));
    assert!(
        bin.is_file(),
        "Terraform not found at {} (set TERRAFORM or run `make testbed`)",
        bin.display()
    );
    assert_matches(&bin);
}

#[test]
fn agrees_with_the_newer_terraform() {
    const ENV: &str = "FLOE_TERRAFORM_NEW";
    const DEFAULT: &str = "/usr/local/bin/terraform";
    let bin = match std::env::var_os(ENV) {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(p.is_file(), "{ENV}={} does not exist", p.display());
            p
        }
        None if Path::new(DEFAULT).is_file() => PathBuf::from(DEFAULT),
        None => {
            let msg = format!(
                "NOT RUN: no newer Terraform at {DEFAULT} and {ENV} unset; our tfplugin6 was \
                 compared with Terraform 1.0 only"
            );
            eprintln!("{msg}");
            println!("{msg}");
            return;
        }
    };
    assert_matches(&bin);
}

/// The checker itself finds what it should: a wrong number, a wrong type and a clash.
#[test]
fn differences_are_found() {
    let ours = ours();
    let mut changed = ours.clone();
    let plan = changed
        .message_type
        .iter_mut()
        .find(|m| m.name() == "PlanResourceChange")
        .expect("PlanResourceChange");
    let req = plan
        .nested_type
        .iter_mut()
        .find(|m| m.name() == "Request")
        .expect("Request");
    for f in &mut req.field {
        match f.name() {
            "prior_private" => f.number = Some(9),
            "config" => f.r#type = Some(prost_types::field_descriptor_proto::Type::Bytes as i32),
            _ => {}
        }
    }
    let diffs = differences(&changed, &ours);
    assert_eq!(diffs.len(), 2, "{diffs:#?}");
    assert!(diffs.iter().any(|d| d.contains("prior_private")));
    assert!(
        diffs
            .iter()
            .any(|d| d.contains("PlanResourceChange.Request.config"))
    );
    assert!(differences(&ours, &ours).is_empty());
}
