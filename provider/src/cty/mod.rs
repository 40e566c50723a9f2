//! The cty value model Terraform speaks: types, values (with null and unknown), the msgpack
//! codec used by `DynamicValue`, the JSON codec used by stored state, and attribute paths.
//!
//! Values are untyped trees; a [`Type`] is supplied to encode/decode (as cty does), except
//! under the `dynamic` pseudo-type, where the value carries its own type ([`Value::Typed`]).

pub mod json;
pub mod msgpack;
pub mod path;
pub mod types;
pub mod value;

pub use path::{AttrPath, Step};
pub use types::Type;
pub use value::{Number, Value};

/// Errors decoding or encoding a value against a type. They indicate a protocol bug
/// (Terraform sent something that does not match our schema), never a user error.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("at {path}: expected {expected}, found {found}")]
    Mismatch {
        path: String,
        expected: String,
        found: String,
    },
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("invalid cty type JSON: {0}")]
    TypeJson(String),
}
