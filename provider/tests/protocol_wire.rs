//! Requests as newer Terraform puts them on the wire decode with our tfplugin6 definitions.
//!
//! The bytes are built here by hand from the documented field numbers (not with our own
//! generated encoder, which would agree with our decoder whatever the numbers are), so a
//! field declared with the wrong number or type fails these tests. Terraform 1.11 sends
//! client capabilities (write-only attributes allowed) on every validate/plan/read; from
//! Terraform 1.12 (protocol 6.9) requests carry resource identity data. A mistyped field
//! makes prost reject the whole request and Terraform report a gRPC error.

use floe_provider::proto::tfplugin6 as pb;
use prost::Message;

/// One protobuf varint.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field (wire type 2): strings, bytes, embedded messages.
fn field_bytes(num: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(num << 3 | 2, &mut out);
    varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}

/// A varint field (wire type 0): bools, ints, enums.
fn field_varint(num: u64, v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint(num << 3, &mut out);
    varint(v, &mut out);
    out
}

fn message(fields: &[Vec<u8>]) -> Vec<u8> {
    fields.concat()
}

/// `DynamicValue{msgpack}`.
fn dynamic(msgpack: &[u8]) -> Vec<u8> {
    field_bytes(1, msgpack)
}

/// `ResourceIdentityData{identity_data: DynamicValue}` holding the msgpack object `{"name": "c1"}`.
fn identity() -> Vec<u8> {
    field_bytes(1, &dynamic(IDENTITY_MSGPACK))
}
const IDENTITY_MSGPACK: &[u8] = b"\x81\xa4name\xa2c1";

/// `ClientCapabilities{deferral_allowed, write_only_attributes_allowed}`.
fn capabilities(deferral: bool, write_only: bool) -> Vec<u8> {
    message(&[
        field_varint(1, u64::from(deferral)),
        field_varint(2, u64::from(write_only)),
    ])
}

fn identity_msgpack(d: &Option<pb::ResourceIdentityData>) -> Vec<u8> {
    d.as_ref()
        .and_then(|i| i.identity_data.as_ref())
        .map(|v| v.msgpack.clone())
        .expect("identity data decoded")
}

#[test]
fn validate_resource_config_with_client_capabilities() {
    let bytes = message(&[
        field_bytes(1, b"incus_instance"),
        field_bytes(2, &dynamic(b"\xc0")),
        field_bytes(3, &capabilities(false, true)),
    ]);
    let r = pb::validate_resource_config::Request::decode(bytes.as_slice()).expect("decode");
    assert_eq!(r.type_name, "incus_instance");
    let caps = r.client_capabilities.expect("capabilities");
    assert!(caps.write_only_attributes_allowed && !caps.deferral_allowed);
}

#[test]
fn plan_resource_change_with_capabilities_and_prior_identity() {
    let bytes = message(&[
        field_bytes(1, b"incus_instance"),
        field_bytes(3, &dynamic(b"\xc0")),
        field_bytes(5, b"private"),
        field_bytes(7, &capabilities(true, true)),
        field_bytes(8, &identity()),
    ]);
    let r = pb::plan_resource_change::Request::decode(bytes.as_slice()).expect("decode");
    assert_eq!(r.prior_private, b"private");
    assert!(r.client_capabilities.expect("caps").deferral_allowed);
    assert_eq!(identity_msgpack(&r.prior_identity), IDENTITY_MSGPACK);
}

/// Field 7 of ApplyResourceChange.Request is identity data; a ClientCapabilities there
/// (an early draft of the protocol) cannot decode it.
#[test]
fn apply_resource_change_with_planned_identity() {
    let bytes = message(&[
        field_bytes(1, b"incus_instance"),
        field_bytes(3, &dynamic(b"\xc0")),
        field_bytes(5, b"planned-private"),
        field_bytes(7, &identity()),
    ]);
    let r = pb::apply_resource_change::Request::decode(bytes.as_slice()).expect("decode");
    assert_eq!(r.planned_private, b"planned-private");
    assert_eq!(identity_msgpack(&r.planned_identity), IDENTITY_MSGPACK);
}

#[test]
fn read_resource_with_capabilities_and_current_identity() {
    let bytes = message(&[
        field_bytes(1, b"incus_profile"),
        field_bytes(2, &dynamic(b"\xc0")),
        field_bytes(3, b"p"),
        field_bytes(5, &capabilities(false, true)),
        field_bytes(6, &identity()),
    ]);
    let r = pb::read_resource::Request::decode(bytes.as_slice()).expect("decode");
    assert_eq!(r.private, b"p");
    assert_eq!(identity_msgpack(&r.current_identity), IDENTITY_MSGPACK);
}

#[test]
fn import_resource_state_by_identity() {
    let bytes = message(&[
        field_bytes(1, b"incus_instance"),
        field_bytes(3, &capabilities(false, true)),
        field_bytes(4, &identity()),
    ]);
    let r = pb::import_resource_state::Request::decode(bytes.as_slice()).expect("decode");
    assert_eq!(r.id, "");
    assert_eq!(identity_msgpack(&r.identity), IDENTITY_MSGPACK);
}

#[test]
fn move_resource_state_with_source_identity() {
    let raw = field_bytes(1, br#"{"name":"c1"}"#);
    let bytes = message(&[
        field_bytes(1, b"registry.terraform.io/lxc/incus"),
        field_bytes(2, b"incus_instance"),
        field_varint(3, 1),
        field_bytes(4, &raw),
        field_bytes(5, b"incus_instance"),
        field_bytes(7, &raw),
        field_varint(8, 2),
    ]);
    let r = pb::move_resource_state::Request::decode(bytes.as_slice()).expect("decode");
    assert_eq!(r.source_schema_version, 1);
    assert_eq!(r.source_identity_schema_version, 2);
    assert_eq!(
        r.source_identity.expect("identity").json,
        br#"{"name":"c1"}"#
    );
}

/// The released ephemeral-resource messages (6.7): private state is field 2 of Renew and
/// Close requests, the opened value is `result` = 3.
#[test]
fn ephemeral_resource_messages_match_the_released_layout() {
    let renew = message(&[field_bytes(1, b"incus_x"), field_bytes(2, b"secret")]);
    let r = pb::renew_ephemeral_resource::Request::decode(renew.as_slice()).expect("decode");
    assert_eq!(r.private.as_deref(), Some(&b"secret"[..]));
    let close = pb::close_ephemeral_resource::Request::decode(renew.as_slice()).expect("decode");
    assert_eq!(close.private.as_deref(), Some(&b"secret"[..]));

    let open = pb::open_ephemeral_resource::Response {
        result: Some(pb::DynamicValue {
            msgpack: b"\xc0".to_vec(),
            json: vec![],
        }),
        ..Default::default()
    };
    assert_eq!(open.encode_to_vec(), field_bytes(3, &dynamic(b"\xc0")));
}

/// Responses we send: identity fields stay unset (we declare no identity schemas), so
/// Terraform 1.0.3 sees exactly the bytes it always did.
#[test]
fn responses_carry_no_identity() {
    let resp = pb::apply_resource_change::Response {
        new_state: Some(pb::DynamicValue {
            msgpack: b"\xc0".to_vec(),
            json: vec![],
        }),
        ..Default::default()
    };
    assert_eq!(resp.encode_to_vec(), field_bytes(1, &dynamic(b"\xc0")));
}
