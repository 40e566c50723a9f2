//! Networks (`/1.0/networks`). All calls are synchronous. On a cluster, create with
//! `with_target(member)` per member first (member-specific keys only), then without target.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Config;
use crate::client::{Client, encode_segment};
use crate::error::Result;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Network {
    pub name: String,
    /// `bridge`, `ovn`, `physical`, `macvlan`, `sriov` (forces replacement).
    #[serde(rename = "type")]
    pub network_type: String,
    pub description: String,
    pub config: Config,
    pub managed: bool,
    pub status: String,
    pub locations: Vec<String>,
    pub used_by: Vec<String>,
    pub project: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Network {
    pub fn writable(&self) -> NetworkPut {
        NetworkPut {
            description: self.description.clone(),
            config: self.config.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NetworkPut {
    pub description: String,
    pub config: Config,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworksPost {
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub network_type: String,
    pub description: String,
    pub config: Config,
}

pub(crate) fn path(name: &str) -> String {
    format!("/1.0/networks/{}", encode_segment(name))
}

impl Client {
    pub async fn list_networks(&self) -> Result<Vec<Network>> {
        self.get_json("/1.0/networks?recursion=1").await
    }

    pub async fn get_network(&self, name: &str) -> Result<Network> {
        self.get_json(&path(name)).await
    }

    pub async fn get_network_with_etag(&self, name: &str) -> Result<(Network, Option<String>)> {
        self.get_json_with_etag(&path(name)).await
    }

    pub async fn create_network(&self, req: &NetworksPost) -> Result<()> {
        self.post("/1.0/networks", req).await.map(|_| ())
    }

    pub async fn update_network(
        &self,
        name: &str,
        put: &NetworkPut,
        etag: Option<&str>,
    ) -> Result<()> {
        self.put(&path(name), put, etag).await.map(|_| ())
    }

    pub async fn patch_network(&self, name: &str, patch: &Value, etag: Option<&str>) -> Result<()> {
        self.patch(&path(name), patch, etag).await.map(|_| ())
    }

    pub async fn rename_network(&self, name: &str, new_name: &str) -> Result<()> {
        self.post(&path(name), &serde_json::json!({ "name": new_name }))
            .await
            .map(|_| ())
    }

    pub async fn delete_network(&self, name: &str) -> Result<()> {
        self.delete(&path(name)).await.map(|_| ())
    }

    /// `GET /1.0/networks/NAME/state` (addresses, counters), untyped.
    pub async fn get_network_state(&self, name: &str) -> Result<Value> {
        self.get_json(&format!("{}/state", path(name))).await
    }
}
