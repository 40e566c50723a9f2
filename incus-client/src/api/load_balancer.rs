//! Network load balancers (`/1.0/networks/NET/load-balancers`, OVN networks only).
//! The listen address is the identity and forces replacement.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Config;
use crate::client::{Client, encode_segment};
use crate::error::Result;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkLoadBalancer {
    pub listen_address: String,
    pub description: String,
    pub config: Config,
    pub backends: Vec<LoadBalancerBackend>,
    pub ports: Vec<LoadBalancerPort>,
    pub location: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NetworkLoadBalancer {
    pub fn writable(&self) -> NetworkLoadBalancerPut {
        NetworkLoadBalancerPut {
            description: self.description.clone(),
            config: self.config.clone(),
            backends: self.backends.clone(),
            ports: self.ports.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NetworkLoadBalancerPut {
    pub description: String,
    pub config: Config,
    pub backends: Vec<LoadBalancerBackend>,
    pub ports: Vec<LoadBalancerPort>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkLoadBalancersPost {
    pub listen_address: String,
    pub description: String,
    pub config: Config,
    pub backends: Vec<LoadBalancerBackend>,
    pub ports: Vec<LoadBalancerPort>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LoadBalancerBackend {
    pub name: String,
    pub description: String,
    pub target_address: String,
    /// Port list/ranges like `"80,90-100"`; empty means the listen ports.
    pub target_port: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LoadBalancerPort {
    pub description: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// `"80,90-100"`.
    pub listen_port: String,
    pub target_backend: Vec<String>,
}

fn base(network: &str) -> String {
    format!("/1.0/networks/{}/load-balancers", encode_segment(network))
}

fn path(network: &str, listen: &str) -> String {
    format!("{}/{}", base(network), encode_segment(listen))
}

impl Client {
    pub async fn list_network_load_balancers(
        &self,
        network: &str,
    ) -> Result<Vec<NetworkLoadBalancer>> {
        self.get_json(&format!("{}?recursion=1", base(network)))
            .await
    }

    pub async fn get_network_load_balancer(
        &self,
        network: &str,
        listen: &str,
    ) -> Result<NetworkLoadBalancer> {
        self.get_json(&path(network, listen)).await
    }

    pub async fn get_network_load_balancer_with_etag(
        &self,
        network: &str,
        listen: &str,
    ) -> Result<(NetworkLoadBalancer, Option<String>)> {
        self.get_json_with_etag(&path(network, listen)).await
    }

    pub async fn create_network_load_balancer(
        &self,
        network: &str,
        req: &NetworkLoadBalancersPost,
    ) -> Result<()> {
        self.post(&base(network), req).await.map(|_| ())
    }

    pub async fn update_network_load_balancer(
        &self,
        network: &str,
        listen: &str,
        put: &NetworkLoadBalancerPut,
        etag: Option<&str>,
    ) -> Result<()> {
        self.put(&path(network, listen), put, etag)
            .await
            .map(|_| ())
    }

    pub async fn delete_network_load_balancer(&self, network: &str, listen: &str) -> Result<()> {
        self.delete(&path(network, listen)).await.map(|_| ())
    }

    /// `GET …/LISTEN/state` (backend health, extension `network_load_balancer_state`), untyped.
    pub async fn get_network_load_balancer_state(
        &self,
        network: &str,
        listen: &str,
    ) -> Result<Value> {
        self.get_json(&format!("{}/state", path(network, listen)))
            .await
    }
}
