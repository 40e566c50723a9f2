//! The framework every resource and data source plugs into.
//!
//! # Adding a resource
//! 1. Create `src/resources/<name>.rs` with a unit struct implementing [`Resource`]:
//!    - `type_name()` returns `"incus_<name>"`;
//!    - `schema()` declares every attribute once: presence (required / optional / computed /
//!      optional+computed), `.default(..)` for optional+computed attributes with a fixed
//!      default, `.replace()` when a change needs destroy+create, `.unknown_when_changed()`
//!      for computed values that may change on any update (status, addresses), and
//!      `.validate(fn)` for per-value checks;
//!    - `create` / `read` / `update` / `delete` / `import` talk to Incus through
//!      [`crate::config::ProviderData`] (`ctx.client(remote, project)`);
//!    - shared helpers live in [`crate::resources::common`]: the `device` block, config maps
//!      with server-computed keys (`config_to_state` / `config_for_put`), `import_remote`
//!      (import IDs are parsed by `resources::support::import_id::ImportSpec`),
//!      name validators, and [`crate::one_of!`] for
//!      enum validators; `Attribute::nested_map` / `nested_list` / `nested_set` declare
//!      protocol-6 nested attributes (`x = { k = {..} }`, `x = [{..}]`; see `nested_set` for a
//!      Terraform 1.0.3 limitation of sets; example: `resources/network_acl.rs`);
//!    - errors from Incus go through [`crate::config::api_error`] (names the remote and the
//!      fix); user errors use `diag::error_at(path, summary, detail)`.
//! 2. Add one line to the list in `src/resources/mod.rs` (data sources: `src/data_sources/mod.rs`).
//! 3. Docs: `cargo test -p terraform-provider-incus --test docs` fails until
//!    `docs/resources/<name>.md` matches the schema; regenerate with
//!    `terraform-provider-incus --print-docs <dir>`.
//!
//! The generic planner ([`plan::plan`]) handles defaults, unknowns, kept prior values and
//! requires-replace from the schema; `modify_plan` is only for resource-specific rules.
//! Rules every implementation must keep (checked by the server and by tests):
//! - `create`/`update` return exactly the planned values for everything known in the plan
//!   (keep what the user wrote; strip server-added keys);
//! - `read` returns `None` when the object is gone, and otherwise reports drift faithfully
//!   but keeps the prior value when the server merely normalised it.

pub mod diag;
pub mod plan;
pub mod schema;
pub mod server;

use async_trait::async_trait;

use crate::config::ProviderData;
use crate::cty::Value;
pub use diag::{Diagnostic, Diagnostics, Severity};
pub use plan::Planned;
pub use schema::{Attribute, Block, NestedAttributes, NestedBlock, NestedNesting, Nesting, Schema};

/// What `modify_plan` sees besides the planned state.
pub struct PlanRequest<'a> {
    pub prior: &'a Value,
    pub config: &'a Value,
}

#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The Terraform type name, `incus_<name>`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Checks across attributes (the schema's per-attribute validators already ran).
    /// `config` may contain unknown values: only check what is known.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Resource-specific plan rules, run after the generic planner.
    fn modify_plan(
        &self,
        _req: &PlanRequest<'_>,
        _planned: &mut Planned,
        _diags: &mut Diagnostics,
    ) {
    }
    /// Create the object; return the new state (all unknowns resolved).
    async fn create(&self, ctx: &ProviderData, planned: &Value) -> Result<Value, Diagnostics>;
    /// Refresh. `Ok(None)` = deleted out of band (Terraform plans a re-create).
    async fn read(&self, ctx: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics>;
    async fn update(
        &self,
        ctx: &ProviderData,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics>;
    async fn delete(&self, ctx: &ProviderData, prior: &Value) -> Result<(), Diagnostics>;
    /// Turn an import ID into a minimal state that `read` can complete.
    async fn import(&self, _ctx: &ProviderData, _id: &str) -> Result<Value, Diagnostics> {
        Err(diag::error(
            "Import not supported",
            format!(
                "{} cannot be imported; declare it and let Terraform create it.",
                self.type_name()
            ),
        ))
    }
}

#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn read(&self, ctx: &ProviderData, config: &Value) -> Result<Value, Diagnostics>;
}
