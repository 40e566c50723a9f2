//! Network ACLs (`/1.0/network-acls`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Config;
use crate::client::{Client, encode_segment};
use crate::error::Result;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkAcl {
    pub name: String,
    pub description: String,
    pub egress: Vec<NetworkAclRule>,
    pub ingress: Vec<NetworkAclRule>,
    pub config: Config,
    pub used_by: Vec<String>,
    pub project: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NetworkAcl {
    pub fn writable(&self) -> NetworkAclPut {
        NetworkAclPut {
            description: self.description.clone(),
            egress: self.egress.clone(),
            ingress: self.ingress.clone(),
            config: self.config.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NetworkAclPut {
    pub description: String,
    pub egress: Vec<NetworkAclRule>,
    pub ingress: Vec<NetworkAclRule>,
    pub config: Config,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkAclsPost {
    pub name: String,
    pub description: String,
    pub egress: Vec<NetworkAclRule>,
    pub ingress: Vec<NetworkAclRule>,
    pub config: Config,
}

/// One rule. `action`: allow, allow-stateless, drop, reject; `state`: enabled, disabled,
/// logged.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NetworkAclRule {
    pub action: String,
    pub state: String,
    pub description: String,
    pub source: String,
    pub destination: String,
    pub protocol: String,
    pub source_port: String,
    pub destination_port: String,
    pub icmp_type: String,
    pub icmp_code: String,
}

fn path(name: &str) -> String {
    format!("/1.0/network-acls/{}", encode_segment(name))
}

impl Client {
    pub async fn list_network_acls(&self) -> Result<Vec<NetworkAcl>> {
        self.get_json("/1.0/network-acls?recursion=1").await
    }

    pub async fn get_network_acl(&self, name: &str) -> Result<NetworkAcl> {
        self.get_json(&path(name)).await
    }

    pub async fn get_network_acl_with_etag(
        &self,
        name: &str,
    ) -> Result<(NetworkAcl, Option<String>)> {
        self.get_json_with_etag(&path(name)).await
    }

    pub async fn create_network_acl(&self, req: &NetworkAclsPost) -> Result<()> {
        self.post("/1.0/network-acls", req).await.map(|_| ())
    }

    pub async fn update_network_acl(
        &self,
        name: &str,
        put: &NetworkAclPut,
        etag: Option<&str>,
    ) -> Result<()> {
        self.put(&path(name), put, etag).await.map(|_| ())
    }

    pub async fn rename_network_acl(&self, name: &str, new_name: &str) -> Result<()> {
        self.post(&path(name), &serde_json::json!({ "name": new_name }))
            .await
            .map(|_| ())
    }

    pub async fn delete_network_acl(&self, name: &str) -> Result<()> {
        self.delete(&path(name)).await.map(|_| ())
    }
}
