//! Instances (`/1.0/instances`), their state and snapshots.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Config, Devices, is_false};
use crate::client::{Client, encode_segment};
use crate::error::{Error, Result};

/// `api.Instance` (with `state`/`snapshots` when fetched with `recursion=1`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Instance {
    pub name: String,
    pub description: String,
    /// `container` or `virtual-machine`.
    #[serde(rename = "type")]
    pub instance_type: String,
    pub status: String,
    pub status_code: u16,
    pub architecture: String,
    pub config: Config,
    pub devices: Devices,
    pub ephemeral: bool,
    pub profiles: Vec<String>,
    pub stateful: bool,
    pub created_at: String,
    pub last_used_at: String,
    pub location: String,
    pub project: String,
    pub expanded_config: Config,
    pub expanded_devices: Devices,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<InstanceState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<Vec<InstanceSnapshot>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Instance {
    /// The writable part, to modify and send back with [`Client::update_instance`].
    pub fn writable(&self) -> InstancePut {
        InstancePut {
            architecture: self.architecture.clone(),
            config: self.config.clone(),
            devices: self.devices.clone(),
            ephemeral: self.ephemeral,
            profiles: self.profiles.clone(),
            stateful: self.stateful,
            description: self.description.clone(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.status_code == 103 || self.status == "Running"
    }
}

/// `api.InstancePut`: what `PUT /1.0/instances/NAME` replaces.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct InstancePut {
    pub architecture: String,
    pub config: Config,
    pub devices: Devices,
    pub ephemeral: bool,
    pub profiles: Vec<String>,
    pub stateful: bool,
    pub description: String,
}

/// `api.InstancesPost`: creation body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InstancesPost {
    pub name: String,
    /// `container` (default) or `virtual-machine`.
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub instance_type: String,
    pub source: InstanceSource,
    /// `None` means the daemon's default (the `default` profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles: Option<Vec<String>>,
    pub config: Config,
    pub devices: Devices,
    #[serde(skip_serializing_if = "is_false")]
    pub ephemeral: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Start after creation (extension `instance_create_start`).
    #[serde(skip_serializing_if = "is_false")]
    pub start: bool,
}

impl InstancesPost {
    /// A container from a local image alias (e.g. `local/debian12`).
    pub fn container_from_alias(name: &str, alias: &str) -> InstancesPost {
        InstancesPost {
            name: name.into(),
            instance_type: "container".into(),
            source: InstanceSource {
                source_type: "image".into(),
                alias: alias.into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// `api.InstanceSource`. `type`: `image`, `none`, `copy`, `migration`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceSource {
    #[serde(rename = "type")]
    pub source_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub alias: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
    /// Remote image server URL.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server: String,
    /// `simplestreams`, `incus` or `oci`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub protocol: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mode: String,
    /// For `copy`: the source instance (or `inst/snap`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub project: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `api.InstanceState` (`GET /1.0/instances/NAME/state`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceState {
    pub status: String,
    pub status_code: u16,
    pub pid: i64,
    pub processes: i64,
    pub network: Option<BTreeMap<String, InstanceStateNetwork>>,
    pub memory: Map<String, Value>,
    pub disk: Option<Map<String, Value>>,
    pub cpu: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl InstanceState {
    /// Global-scope addresses of `family` (`inet` or `inet6`) on all interfaces but `lo`.
    pub fn addresses(&self, family: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (name, nic) in self.network.iter().flatten() {
            if name == "lo" {
                continue;
            }
            for a in &nic.addresses {
                if a.family == family && a.scope == "global" {
                    out.push(a.address.clone());
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceStateNetwork {
    pub addresses: Vec<InstanceStateAddress>,
    pub hwaddr: String,
    pub host_name: String,
    pub mtu: i64,
    pub state: String,
    #[serde(rename = "type")]
    pub nic_type: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceStateAddress {
    pub family: String,
    pub address: String,
    pub netmask: String,
    pub scope: String,
}

/// Seconds a clean stop may take before [`Client::stop_instance`] forces it.
pub const GRACEFUL_STOP_TIMEOUT_S: i64 = 30;

/// `api.InstanceStatePut`: `action` is start, stop, restart, freeze or unfreeze.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceStatePut {
    pub action: String,
    /// Seconds to wait for a clean stop before failing (-1: forever... daemon default).
    pub timeout: i64,
    pub force: bool,
    pub stateful: bool,
}

/// `api.InstanceSnapshot`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceSnapshot {
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub stateful: bool,
    pub architecture: String,
    pub config: Config,
    pub devices: Devices,
    pub ephemeral: bool,
    pub profiles: Vec<String>,
    pub description: String,
    pub size: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `api.InstanceSnapshotsPost`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceSnapshotsPost {
    pub name: String,
    #[serde(skip_serializing_if = "is_false")]
    pub stateful: bool,
    /// RFC 3339 expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

pub(crate) fn path(name: &str) -> String {
    format!("/1.0/instances/{}", encode_segment(name))
}

impl Client {
    /// All instances of the project, with state and snapshots (`recursion=2` would add more).
    pub async fn list_instances(&self) -> Result<Vec<Instance>> {
        self.get_json("/1.0/instances?recursion=1").await
    }

    pub async fn get_instance(&self, name: &str) -> Result<Instance> {
        self.get_json(&path(name)).await
    }

    /// The instance and its `ETag` (for `update_instance`).
    pub async fn get_instance_with_etag(&self, name: &str) -> Result<(Instance, Option<String>)> {
        self.get_json_with_etag(&path(name)).await
    }

    /// The instance with `state` and `snapshots` embedded (`recursion=1`).
    pub async fn get_instance_full(&self, name: &str) -> Result<Instance> {
        self.get_json(&format!("{}?recursion=1", path(name))).await
    }

    /// Create an instance and wait for it. A taken name gives `Error::Conflict`; an unknown
    /// local image alias gives `Error::NotFound` naming the alias (the daemon itself only
    /// says "Image not provided for instance creation").
    pub async fn create_instance(&self, req: &InstancesPost) -> Result<()> {
        match self.post("/1.0/instances", req).await {
            Ok(_) => Ok(()),
            Err(Error::OperationFailed {
                method,
                path,
                message,
                ..
            }) if !req.source.alias.is_empty()
                && req.source.server.is_empty()
                && self
                    .get_image_alias(&req.source.alias)
                    .await
                    .is_err_and(|e| e.is_not_found()) =>
            {
                Err(Error::NotFound {
                    method,
                    path,
                    message: format!("image alias {:?} not found ({message})", req.source.alias),
                })
            }
            Err(Error::OperationFailed {
                method,
                path,
                message,
                ..
            }) if message.contains("UNIQUE constraint failed")
                || message.contains("already exists") =>
            {
                Err(Error::Conflict {
                    method,
                    path,
                    message: format!("instance {:?} already exists ({message})", req.name),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Replace the writable part (`PUT`), guarded by `etag` when given.
    pub async fn update_instance(
        &self,
        name: &str,
        put: &InstancePut,
        etag: Option<&str>,
    ) -> Result<()> {
        self.put(&path(name), put, etag).await.map(|_| ())
    }

    /// Merge fields (`PATCH`), e.g. `json!({"config": {"limits.cpu": "2"}})`.
    pub async fn patch_instance(
        &self,
        name: &str,
        patch: &Value,
        etag: Option<&str>,
    ) -> Result<()> {
        self.patch(&path(name), patch, etag).await.map(|_| ())
    }

    /// Delete a stopped instance (a running one gives an `Api` 400 "Instance is running").
    pub async fn delete_instance(&self, name: &str) -> Result<()> {
        self.delete(&path(name)).await.map(|_| ())
    }

    /// `POST /1.0/instances/NAME {name: new}`.
    pub async fn rename_instance(&self, name: &str, new_name: &str) -> Result<()> {
        self.post(&path(name), &serde_json::json!({ "name": new_name }))
            .await
            .map(|_| ())
    }

    pub async fn get_instance_state(&self, name: &str) -> Result<InstanceState> {
        self.get_json(&format!("{}/state", path(name))).await
    }

    /// `PUT /1.0/instances/NAME/state` and wait.
    pub async fn set_instance_state(&self, name: &str, state: &InstanceStatePut) -> Result<()> {
        self.put(&format!("{}/state", path(name)), state, None)
            .await
            .map(|_| ())
    }

    pub async fn start_instance(&self, name: &str) -> Result<()> {
        self.set_instance_state(
            name,
            &InstanceStatePut {
                action: "start".into(),
                timeout: -1,
                ..Default::default()
            },
        )
        .await
    }

    /// Stop; `force` kills instead of a clean shutdown.
    ///
    /// A clean shutdown is bounded by [`GRACEFUL_STOP_TIMEOUT_S`] and then forced: an instance
    /// asked to stop before its init installed the shutdown handler ignores the request, and an
    /// unbounded stop would hang forever (seen with containers stopped right after starting).
    pub async fn stop_instance(&self, name: &str, force: bool) -> Result<()> {
        let stop = |force: bool, timeout: i64| InstanceStatePut {
            action: "stop".into(),
            timeout,
            force,
            ..Default::default()
        };
        if force {
            return self.set_instance_state(name, &stop(true, -1)).await;
        }
        match self
            .set_instance_state(name, &stop(false, GRACEFUL_STOP_TIMEOUT_S))
            .await
        {
            Err(e) if !e.is_not_found() => {
                tracing::debug!("clean stop of {name} failed ({e}); forcing it");
                self.set_instance_state(name, &stop(true, -1)).await
            }
            other => other,
        }
    }

    /// Stop (forced) if running, then delete. A missing instance is not an error.
    pub async fn force_delete_instance(&self, name: &str) -> Result<()> {
        match self.get_instance(name).await {
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
            Ok(i) if i.status != "Stopped" => match self.stop_instance(name, true).await {
                Ok(()) => {}
                // It may have stopped on its own meanwhile.
                Err(e)
                    if e.daemon_message()
                        .is_some_and(|m| m.contains("already stopped")) => {}
                Err(e) => return Err(e),
            },
            Ok(_) => {}
        }
        // A stop or start still finishing makes the daemon refuse with "Instance is busy
        // running a ... operation"; give it a little time.
        let mut attempts = 0;
        loop {
            match self.delete_instance(name).await {
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e)
                    if attempts < 20
                        && e.daemon_message()
                            .is_some_and(|m| m.contains("is busy running")) =>
                {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                // The status we read was stale (e.g. a start that failed half-way).
                Err(e) if attempts < 20 && e.daemon_message() == Some("Instance is running") => {
                    attempts += 1;
                    if let Err(stop) = self.stop_instance(name, true).await {
                        tracing::debug!("force delete: stop {name}: {stop}");
                    }
                }
                other => return other,
            }
        }
    }

    pub async fn list_instance_snapshots(&self, name: &str) -> Result<Vec<InstanceSnapshot>> {
        self.get_json(&format!("{}/snapshots?recursion=1", path(name)))
            .await
    }

    pub async fn get_instance_snapshot(&self, name: &str, snap: &str) -> Result<InstanceSnapshot> {
        self.get_json(&format!(
            "{}/snapshots/{}",
            path(name),
            encode_segment(snap)
        ))
        .await
    }

    pub async fn create_instance_snapshot(
        &self,
        name: &str,
        req: &InstanceSnapshotsPost,
    ) -> Result<()> {
        self.post(&format!("{}/snapshots", path(name)), req)
            .await
            .map(|_| ())
    }

    pub async fn delete_instance_snapshot(&self, name: &str, snap: &str) -> Result<()> {
        self.delete(&format!(
            "{}/snapshots/{}",
            path(name),
            encode_segment(snap)
        ))
        .await
        .map(|_| ())
    }

    /// Restore a snapshot (`PUT /1.0/instances/NAME {restore: SNAP}`).
    pub async fn restore_instance_snapshot(&self, name: &str, snap: &str) -> Result<()> {
        self.put(&path(name), &serde_json::json!({ "restore": snap }), None)
            .await
            .map(|_| ())
    }
}
