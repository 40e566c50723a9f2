//! Schemas, declared once per resource and used for GetProviderSchema, validation, planning
//! (defaults, computed values, requires-replace) and the generated docs.

use std::collections::BTreeMap;

use crate::cty::{AttrPath, Type, Value};
use crate::proto::tfplugin6 as pb;

use super::diag::Diagnostics;

/// A check run on a known, non-null attribute value at validation time.
pub type Validator = fn(value: &Value, path: &AttrPath, diags: &mut Diagnostics);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
    Computed,
    OptionalComputed,
}

/// What a computed attribute that the user did not set looks like in a plan for an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenChanged {
    /// Keep the prior value (it cannot change by itself, e.g. `location`).
    KeepPrior,
    /// Unknown ("known after apply") when anything else changes, e.g. `status`, IPs.
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
    pub presence: Presence,
    pub sensitive: bool,
    /// Changing it destroys and re-creates the object.
    pub requires_replace: bool,
    /// Planned when the config leaves an optional+computed attribute null.
    pub default: Option<Value>,
    pub when_changed: WhenChanged,
    pub validator: Option<Validator>,
    /// A protocol-6 nested attribute (`name = { key = { ... } }` for maps, `name = [{ ... }]`
    /// for sets and lists): how elements nest and the attributes of each element.
    pub nested: Option<NestedAttributes>,
}

/// How a protocol-6 nested attribute holds its objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestedNesting {
    Map,
    Set,
    List,
}

#[derive(Debug, Clone)]
pub struct NestedAttributes {
    pub nesting: NestedNesting,
    pub attributes: Vec<Attribute>,
}

impl Attribute {
    fn new(name: &'static str, ty: Type, presence: Presence) -> Self {
        Attribute {
            name,
            ty,
            description: "",
            presence,
            sensitive: false,
            requires_replace: false,
            default: None,
            when_changed: WhenChanged::KeepPrior,
            validator: None,
            nested: None,
        }
    }
    fn nested_attr(name: &'static str, nesting: NestedNesting, attributes: Vec<Attribute>) -> Self {
        let obj = Type::Object(
            attributes
                .iter()
                .map(|a| (a.name.to_string(), a.ty.clone()))
                .collect(),
        );
        let ty = match nesting {
            NestedNesting::Map => Type::map(obj),
            NestedNesting::Set => Type::set(obj),
            NestedNesting::List => Type::list(obj),
        };
        let mut a = Self::new(name, ty, Presence::Optional);
        a.nested = Some(NestedAttributes {
            nesting,
            attributes,
        });
        a
    }
    /// An optional map of objects declared as a nested attribute (MAP nesting), so that
    /// inner attributes can be optional (a plain `map(object)` type cannot express that
    /// in Terraform 1.0).
    pub fn nested_map(name: &'static str, attributes: Vec<Attribute>) -> Self {
        Self::nested_attr(name, NestedNesting::Map, attributes)
    }
    /// An optional set of objects declared as a nested attribute (SET nesting):
    /// `name = [{ a = 1 }, { a = 2 }]`, order-insensitive, inner attributes may be optional
    /// or optional+computed with a `.default(..)` (filled in by the planner per element).
    ///
    /// Terraform 1.0.3 crashes rendering a plan where such a set goes from or to null
    /// (create, destroy: `HasElement on a nil value`, fixed in later Terraform): prefer
    /// [`Attribute::nested_list`] while 1.0 must be supported.
    pub fn nested_set(name: &'static str, attributes: Vec<Attribute>) -> Self {
        Self::nested_attr(name, NestedNesting::Set, attributes)
    }
    /// Like [`Attribute::nested_set`], ordered (LIST nesting).
    pub fn nested_list(name: &'static str, attributes: Vec<Attribute>) -> Self {
        Self::nested_attr(name, NestedNesting::List, attributes)
    }
    /// Make an optional attribute optional+computed (e.g. a nested set with a default).
    pub fn also_computed(mut self) -> Self {
        self.presence = Presence::OptionalComputed;
        self
    }
    pub fn required(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Presence::Required)
    }
    pub fn optional(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Presence::Optional)
    }
    pub fn computed(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Presence::Computed)
    }
    pub fn optional_computed(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Presence::OptionalComputed)
    }
    pub fn desc(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }
    pub fn replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    pub fn default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }
    pub fn unknown_when_changed(mut self) -> Self {
        self.when_changed = WhenChanged::Unknown;
        self
    }
    pub fn validate(mut self, f: Validator) -> Self {
        self.validator = Some(f);
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn is_computed(&self) -> bool {
        matches!(
            self.presence,
            Presence::Computed | Presence::OptionalComputed
        )
    }
    /// Settable in configuration.
    pub fn is_configurable(&self) -> bool {
        !matches!(self.presence, Presence::Computed)
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let nested_type = self.nested.as_ref().map(|n| pb::schema::Object {
            attributes: n.attributes.iter().map(Attribute::to_proto).collect(),
            nesting: match n.nesting {
                NestedNesting::Map => pb::schema::object::NestingMode::Map,
                NestedNesting::Set => pb::schema::object::NestingMode::Set,
                NestedNesting::List => pb::schema::object::NestingMode::List,
            } as i32,
            ..Default::default()
        });
        pb::schema::Attribute {
            name: self.name.to_string(),
            // A nested attribute has no `type`: Terraform derives it from `nested_type`.
            r#type: if nested_type.is_some() {
                Vec::new()
            } else {
                self.ty.to_json_bytes()
            },
            nested_type,
            description: self.description.to_string(),
            required: self.presence == Presence::Required,
            optional: matches!(
                self.presence,
                Presence::Optional | Presence::OptionalComputed
            ),
            computed: self.is_computed(),
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
}

#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub type_name: &'static str,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
    pub description: &'static str,
}

impl NestedBlock {
    pub fn new(type_name: &'static str, nesting: Nesting, block: Block) -> Self {
        NestedBlock {
            type_name,
            nesting,
            block,
            min_items: 0,
            max_items: 0,
            description: "",
        }
    }
    pub fn desc(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }
    pub fn ty(&self) -> Type {
        let obj = self.block.ty();
        match self.nesting {
            Nesting::Single => obj,
            Nesting::List => Type::list(obj),
            Nesting::Set => Type::set(obj),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub description: &'static str,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    pub fn new(attributes: Vec<Attribute>) -> Self {
        Block {
            description: "",
            attributes,
            blocks: Vec::new(),
        }
    }
    pub fn with_blocks(mut self, blocks: Vec<NestedBlock>) -> Self {
        self.blocks = blocks;
        self
    }
    pub fn desc(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }
    /// The object type of values of this block (attributes and nested blocks).
    pub fn ty(&self) -> Type {
        let mut m = BTreeMap::new();
        for a in &self.attributes {
            m.insert(a.name.to_string(), a.ty.clone());
        }
        for b in &self.blocks {
            m.insert(b.type_name.to_string(), b.ty());
        }
        Type::Object(m)
    }
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    fn to_proto(&self, version: i64) -> pb::schema::Block {
        pb::schema::Block {
            version,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self
                .blocks
                .iter()
                .map(|b| pb::schema::NestedBlock {
                    type_name: b.type_name.to_string(),
                    block: Some(b.block.clone().desc(b.description).to_proto(0)),
                    nesting: match b.nesting {
                        Nesting::Single => pb::schema::nested_block::NestingMode::Single,
                        Nesting::List => pb::schema::nested_block::NestingMode::List,
                        Nesting::Set => pb::schema::nested_block::NestingMode::Set,
                    } as i32,
                    min_items: b.min_items,
                    max_items: b.max_items,
                })
                .collect(),
            description: self.description.to_string(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(block: Block) -> Self {
        Schema { version: 0, block }
    }
    pub fn ty(&self) -> Type {
        self.block.ty()
    }
    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto(self.version)),
        }
    }
}
