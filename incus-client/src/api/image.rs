//! Images and aliases (`/1.0/images`), read side: enough to resolve what to launch.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Client, encode_segment};
use crate::error::Result;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Image {
    pub fingerprint: String,
    pub filename: String,
    pub size: i64,
    pub architecture: String,
    /// `container` or `virtual-machine`.
    #[serde(rename = "type")]
    pub image_type: String,
    pub public: bool,
    pub auto_update: bool,
    pub cached: bool,
    pub aliases: Vec<ImageAlias>,
    pub properties: Map<String, Value>,
    pub created_at: String,
    pub uploaded_at: String,
    pub expires_at: String,
    pub last_used_at: String,
    pub profiles: Vec<String>,
    pub project: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageAlias {
    pub name: String,
    pub description: String,
}

/// `api.ImageAliasesEntry` (`GET /1.0/images/aliases/NAME`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageAliasEntry {
    pub name: String,
    pub description: String,
    /// The image fingerprint.
    pub target: String,
    #[serde(rename = "type")]
    pub image_type: String,
}

impl Client {
    pub async fn list_images(&self) -> Result<Vec<Image>> {
        self.get_json("/1.0/images?recursion=1").await
    }

    pub async fn get_image(&self, fingerprint: &str) -> Result<Image> {
        self.get_json(&format!("/1.0/images/{}", encode_segment(fingerprint)))
            .await
    }

    /// Look up an alias such as `local/debian12` (404 "Image alias not found" if absent).
    pub async fn get_image_alias(&self, alias: &str) -> Result<ImageAliasEntry> {
        self.get_json(&format!("/1.0/images/aliases/{}", encode_segment(alias)))
            .await
    }
}
