//! The tfplugin6 `Provider` service: decodes requests with the schemas, dispatches to the
//! registered resources and data sources, and encodes results and diagnostics.
//! gRPC errors are returned only for protocol bugs (undecodable values, unknown types).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tonic::{Request, Response, Status};

use crate::config::{self, ProviderData};
use crate::cty::{self, AttrPath, Step, Type, Value};
use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider;

use super::diag::{Diagnostics, Severity};
use super::{DataSource, PlanRequest, Resource, Schema, plan};

struct ResourceEntry {
    imp: Box<dyn Resource>,
    schema: Schema,
    ty: Type,
}

struct DataSourceEntry {
    imp: Box<dyn DataSource>,
    schema: Schema,
    ty: Type,
}

pub struct ProviderService {
    provider_schema: Schema,
    resources: BTreeMap<&'static str, ResourceEntry>,
    data_sources: BTreeMap<&'static str, DataSourceEntry>,
    configured: RwLock<Option<Arc<ProviderData>>>,
}

type RpcResult<T> = Result<Response<T>, Status>;

impl ProviderService {
    pub fn new(resources: Vec<Box<dyn Resource>>, data_sources: Vec<Box<dyn DataSource>>) -> Self {
        let resources = resources
            .into_iter()
            .map(|imp| {
                let schema = imp.schema();
                let ty = schema.ty();
                (imp.type_name(), ResourceEntry { imp, schema, ty })
            })
            .collect();
        let data_sources = data_sources
            .into_iter()
            .map(|imp| {
                let schema = imp.schema();
                let ty = schema.ty();
                (imp.type_name(), DataSourceEntry { imp, schema, ty })
            })
            .collect();
        ProviderService {
            provider_schema: config::schema(),
            resources,
            data_sources,
            configured: RwLock::new(None),
        }
    }

    /// The provider with every registered resource and data source.
    pub fn with_registry() -> Self {
        Self::new(crate::resources::all(), crate::data_sources::all())
    }

    fn resource(&self, name: &str) -> Result<&ResourceEntry, Status> {
        self.resources
            .get(name)
            .ok_or_else(|| Status::not_found(format!("unknown resource type {name:?}")))
    }

    fn data_source(&self, name: &str) -> Result<&DataSourceEntry, Status> {
        self.data_sources
            .get(name)
            .ok_or_else(|| Status::not_found(format!("unknown data source type {name:?}")))
    }

    fn ctx(&self) -> Result<Arc<ProviderData>, Diagnostics> {
        self.configured
            .read()
            .ok()
            .and_then(|g| g.clone())
            .ok_or_else(|| {
                super::diag::error(
                    "Provider not configured",
                    "ConfigureProvider was not called before this operation.",
                )
            })
    }
}

fn decode(dv: &Option<pb::DynamicValue>, ty: &Type) -> Result<Value, Status> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let r = if !dv.msgpack.is_empty() {
        cty::msgpack::decode(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        cty::json::decode(&dv.json, ty)
    } else {
        Ok(Value::Null)
    };
    r.map_err(|e| Status::invalid_argument(format!("cannot decode value: {e}")))
}

fn encode(v: &Value, ty: &Type) -> Result<Option<pb::DynamicValue>, Status> {
    let msgpack = cty::msgpack::encode(v, ty)
        .map_err(|e| Status::internal(format!("cannot encode value: {e}")))?;
    Ok(Some(pb::DynamicValue {
        msgpack,
        json: vec![],
    }))
}

pub fn path_to_proto(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::{Step as PStep, step::Selector};
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| PStep {
                selector: Some(match s {
                    Step::Attr(a) => Selector::AttributeName(a.clone()),
                    Step::Key(k) => Selector::ElementKeyString(k.clone()),
                    Step::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

fn diags_to_proto(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.0.iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error,
                Severity::Warning => pb::diagnostic::Severity::Warning,
            } as i32,
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            attribute: d.path.as_ref().filter(|p| !p.is_root()).map(path_to_proto),
        })
        .collect()
}

/// Validate a configuration against a schema's validators plus a custom check.
fn validate_with(
    schema: &Schema,
    config: &Value,
    custom: impl FnOnce(&Value, &mut Diagnostics),
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    plan::validate(&schema.block, config, &AttrPath::root(), &mut diags);
    custom(config, &mut diags);
    diags
}

#[tonic::async_trait]
impl Provider for ProviderService {
    async fn get_metadata(
        &self,
        _r: Request<pb::get_metadata::Request>,
    ) -> RpcResult<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(pb::ServerCapabilities::default()),
            diagnostics: vec![],
            data_sources: self
                .data_sources
                .keys()
                .map(|n| pb::get_metadata::DataSourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|n| pb::get_metadata::ResourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            functions: vec![],
            ephemeral_resources: vec![],
        }))
    }

    async fn get_provider_schema(
        &self,
        _r: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.to_proto()),
            resource_schemas: self
                .resources
                .iter()
                .map(|(n, e)| (n.to_string(), e.schema.to_proto()))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(n, e)| (n.to_string(), e.schema.to_proto()))
                .collect(),
            diagnostics: vec![],
            provider_meta: None,
            server_capabilities: Some(pb::ServerCapabilities::default()),
            functions: Default::default(),
            ephemeral_resource_schemas: Default::default(),
        }))
    }

    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        let config = decode(&r.get_ref().config, &self.provider_schema.ty())?;
        let diags = validate_with(&self.provider_schema, &config, config::validate);
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        let config = decode(&r.get_ref().config, &self.provider_schema.ty())?;
        let diags = match ProviderData::configure(&config) {
            Ok((data, warnings)) => {
                if let Ok(mut g) = self.configured.write() {
                    *g = Some(Arc::new(data));
                }
                warnings
            }
            Err(d) => d,
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        let e = self.resource(&r.get_ref().type_name)?;
        let config = decode(&r.get_ref().config, &e.ty)?;
        let diags = validate_with(&e.schema, &config, |c, d| e.imp.validate(c, d));
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        let e = self.data_source(&r.get_ref().type_name)?;
        let config = decode(&r.get_ref().config, &e.ty)?;
        let diags = validate_with(&e.schema, &config, |c, d| e.imp.validate(c, d));
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let req = r.get_ref();
        let e = self.resource(&req.type_name)?;
        let mut diags = Diagnostics::new();
        let raw = req
            .raw_state
            .as_ref()
            .map(|r| r.json.as_slice())
            .unwrap_or_default();
        let value = if raw.is_empty() {
            if req
                .raw_state
                .as_ref()
                .is_some_and(|r| !r.flatmap.is_empty())
            {
                diags.error(
                    "Unsupported state format",
                    "This state uses the pre-0.12 flatmap format; refresh it with the provider that wrote it first.",
                );
            }
            Value::Null
        } else {
            match cty::json::decode(raw, &e.ty) {
                Ok(v) => v,
                Err(err) => {
                    diags.error(
                        "Stored state does not match the schema",
                        format!("The state of this {} could not be read: {err}. Remove it from the state and import it again.", req.type_name),
                    );
                    Value::Null
                }
            }
        };
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: encode(&value, &e.ty)?,
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let req = r.get_ref();
        let e = self.resource(&req.type_name)?;
        let current = decode(&req.current_state, &e.ty)?;
        let (state, diags) = match self.ctx() {
            Err(d) => (current.clone(), d),
            Ok(ctx) => match e.imp.read(&ctx, &current).await {
                Ok(Some(v)) => (v, Diagnostics::new()),
                Ok(None) => {
                    tracing::info!(
                        resource = req.type_name,
                        "object no longer exists; removing it from state"
                    );
                    (Value::Null, Diagnostics::new())
                }
                Err(d) => (current.clone(), d),
            },
        };
        Ok(Response::new(pb::read_resource::Response {
            new_state: encode(&state, &e.ty)?,
            diagnostics: diags_to_proto(&diags),
            private: req.private.clone(),
            deferred: None,
            // No identity schemas (GetResourceIdentitySchemas is empty): no identity data.
            new_identity: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let req = r.get_ref();
        let e = self.resource(&req.type_name)?;
        let prior = decode(&req.prior_state, &e.ty)?;
        let proposed = decode(&req.proposed_new_state, &e.ty)?;
        let config = decode(&req.config, &e.ty)?;
        let mut planned = plan::plan(&e.schema, &prior, &proposed, &config);
        let mut diags = Diagnostics::new();
        if !planned.state.is_null() {
            e.imp.modify_plan(
                &PlanRequest {
                    prior: &prior,
                    config: &config,
                },
                &mut planned,
                &mut diags,
            );
            let bad = plan::check_plan_consistent(
                &e.schema.block,
                &config,
                &planned.state,
                &AttrPath::root(),
            );
            if !bad.is_empty() {
                tracing::error!(resource = req.type_name, problems = ?bad, "plan differs from configuration (provider bug)");
            }
        }
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: encode(&planned.state, &e.ty)?,
            requires_replace: planned.requires_replace.iter().map(path_to_proto).collect(),
            planned_private: req.prior_private.clone(),
            diagnostics: diags_to_proto(&diags),
            legacy_type_system: false,
            deferred: None,
            planned_identity: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let req = r.get_ref();
        let e = self.resource(&req.type_name)?;
        let prior = decode(&req.prior_state, &e.ty)?;
        let planned = decode(&req.planned_state, &e.ty)?;
        let (new_state, diags) = match self.ctx() {
            Err(d) => (prior.clone(), d),
            Ok(ctx) => {
                if planned.is_null() {
                    match e.imp.delete(&ctx, &prior).await {
                        Ok(()) => (Value::Null, Diagnostics::new()),
                        Err(d) => (prior.clone(), d),
                    }
                } else if prior.is_null() {
                    // A failed create has cleaned up after itself: nothing to track.
                    match e.imp.create(&ctx, &planned).await {
                        Ok(v) => (v, Diagnostics::new()),
                        Err(d) => (Value::Null, d),
                    }
                } else {
                    // A failed update keeps the prior state; the next refresh shows reality.
                    match e.imp.update(&ctx, &prior, &planned).await {
                        Ok(v) => (v, Diagnostics::new()),
                        Err(d) => (prior.clone(), d),
                    }
                }
            }
        };
        if !planned.is_null() && !diags.has_errors() {
            let bad = plan::check_apply_consistent(&planned, &new_state, &AttrPath::root());
            if !bad.is_empty() {
                tracing::error!(resource = req.type_name, problems = ?bad, "applied state differs from plan (provider bug)");
            }
        }
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: encode(&new_state, &e.ty)?,
            private: req.planned_private.clone(),
            diagnostics: diags_to_proto(&diags),
            legacy_type_system: false,
            new_identity: None,
        }))
    }

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let req = r.get_ref();
        let e = self.resource(&req.type_name)?;
        let result = match self.ctx() {
            Err(d) => Err(d),
            Ok(ctx) => e.imp.import(&ctx, &req.id).await,
        };
        let (imported, diags) = match result {
            Ok(v) => (
                vec![pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: encode(&v, &e.ty)?,
                    private: vec![],
                    identity: None,
                }],
                Diagnostics::new(),
            ),
            Err(d) => (vec![], d),
        };
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: diags_to_proto(&diags),
            deferred: None,
        }))
    }

    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        let req = r.get_ref();
        let e = self.data_source(&req.type_name)?;
        let config = decode(&req.config, &e.ty)?;
        let (state, diags) = match self.ctx() {
            Err(d) => (Value::Null, d),
            Ok(ctx) => match e.imp.read(&ctx, &config).await {
                Ok(v) => (v, Diagnostics::new()),
                Err(d) => (Value::Null, d),
            },
        };
        Ok(Response::new(pb::read_data_source::Response {
            state: encode(&state, &e.ty)?,
            diagnostics: diags_to_proto(&diags),
            deferred: None,
        }))
    }

    /// Resource identity (protocol 6.9, Terraform 1.12): no resource declares one. The
    /// documented empty reply, so clients need not fall back on UNIMPLEMENTED.
    async fn get_resource_identity_schemas(
        &self,
        _r: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(
            pb::get_resource_identity_schemas::Response::default(),
        ))
    }

    /// Provider functions (protocol 6.5, Terraform 1.8): none, the same answer as the
    /// empty `functions` map of GetProviderSchema.
    async fn get_functions(
        &self,
        _r: Request<pb::get_functions::Request>,
    ) -> RpcResult<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn stop_provider(
        &self,
        _r: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
