//! Profiles (`/1.0/profiles`). All calls are synchronous.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Config, Devices};
use crate::client::{Client, encode_segment};
use crate::error::Result;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub config: Config,
    pub devices: Devices,
    pub used_by: Vec<String>,
    pub project: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Profile {
    pub fn writable(&self) -> ProfilePut {
        ProfilePut {
            description: self.description.clone(),
            config: self.config.clone(),
            devices: self.devices.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ProfilePut {
    pub description: String,
    pub config: Config,
    pub devices: Devices,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfilesPost {
    pub name: String,
    pub description: String,
    pub config: Config,
    pub devices: Devices,
}

fn path(name: &str) -> String {
    format!("/1.0/profiles/{}", encode_segment(name))
}

impl Client {
    pub async fn list_profiles(&self) -> Result<Vec<Profile>> {
        self.get_json("/1.0/profiles?recursion=1").await
    }

    pub async fn get_profile(&self, name: &str) -> Result<Profile> {
        self.get_json(&path(name)).await
    }

    pub async fn get_profile_with_etag(&self, name: &str) -> Result<(Profile, Option<String>)> {
        self.get_json_with_etag(&path(name)).await
    }

    pub async fn create_profile(&self, req: &ProfilesPost) -> Result<()> {
        self.post("/1.0/profiles", req).await.map(|_| ())
    }

    pub async fn update_profile(
        &self,
        name: &str,
        put: &ProfilePut,
        etag: Option<&str>,
    ) -> Result<()> {
        self.put(&path(name), put, etag).await.map(|_| ())
    }

    pub async fn patch_profile(&self, name: &str, patch: &Value, etag: Option<&str>) -> Result<()> {
        self.patch(&path(name), patch, etag).await.map(|_| ())
    }

    pub async fn rename_profile(&self, name: &str, new_name: &str) -> Result<()> {
        self.post(&path(name), &serde_json::json!({ "name": new_name }))
            .await
            .map(|_| ())
    }

    /// `default` cannot be deleted (403 Forbidden).
    pub async fn delete_profile(&self, name: &str) -> Result<()> {
        self.delete(&path(name)).await.map(|_| ())
    }
}
