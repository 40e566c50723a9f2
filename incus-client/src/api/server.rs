//! `GET /1.0`: server info and API extensions.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Server {
    pub api_extensions: Vec<String>,
    pub api_status: String,
    pub api_version: String,
    pub auth: String,
    pub public: bool,
    pub auth_methods: Vec<String>,
    pub config: Map<String, Value>,
    pub environment: ServerEnvironment,
}

impl Server {
    pub fn has_extension(&self, name: &str) -> bool {
        self.api_extensions.iter().any(|e| e == name)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerEnvironment {
    pub addresses: Vec<String>,
    pub architectures: Vec<String>,
    pub driver: String,
    pub driver_version: String,
    pub kernel: String,
    pub kernel_version: String,
    pub os_name: String,
    pub os_version: String,
    pub project: String,
    pub server: String,
    pub server_clustered: bool,
    pub server_name: String,
    pub server_version: String,
    pub storage: String,
    pub storage_version: String,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
