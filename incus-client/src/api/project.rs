//! Projects (`/1.0/projects`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Config;
use crate::client::{Client, encode_segment};
use crate::error::Result;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    pub name: String,
    pub description: String,
    pub config: Config,
    pub used_by: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Project {
    pub fn writable(&self) -> ProjectPut {
        ProjectPut {
            description: self.description.clone(),
            config: self.config.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ProjectPut {
    pub description: String,
    pub config: Config,
}

/// Creation body. With `features.profiles=false` the project uses the `default` project's
/// profiles (root disk and NIC included), which is what throw-away projects usually want.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectsPost {
    pub name: String,
    pub description: String,
    pub config: Config,
}

fn path(name: &str) -> String {
    format!("/1.0/projects/{}", encode_segment(name))
}

impl Client {
    pub async fn list_projects(&self) -> Result<Vec<Project>> {
        self.without_scope()
            .get_json("/1.0/projects?recursion=1")
            .await
    }

    pub async fn get_project(&self, name: &str) -> Result<Project> {
        self.without_scope().get_json(&path(name)).await
    }

    pub async fn get_project_with_etag(&self, name: &str) -> Result<(Project, Option<String>)> {
        self.without_scope().get_json_with_etag(&path(name)).await
    }

    pub async fn create_project(&self, req: &ProjectsPost) -> Result<()> {
        self.without_scope()
            .post("/1.0/projects", req)
            .await
            .map(|_| ())
    }

    pub async fn update_project(
        &self,
        name: &str,
        put: &ProjectPut,
        etag: Option<&str>,
    ) -> Result<()> {
        self.without_scope()
            .put(&path(name), put, etag)
            .await
            .map(|_| ())
    }

    pub async fn patch_project(&self, name: &str, patch: &Value, etag: Option<&str>) -> Result<()> {
        self.without_scope()
            .patch(&path(name), patch, etag)
            .await
            .map(|_| ())
    }

    pub async fn rename_project(&self, name: &str, new_name: &str) -> Result<()> {
        self.without_scope()
            .post(&path(name), &serde_json::json!({ "name": new_name }))
            .await
            .map(|_| ())
    }

    /// The project must be empty (no instances, images, volumes... left in it).
    pub async fn delete_project(&self, name: &str) -> Result<()> {
        self.without_scope().delete(&path(name)).await.map(|_| ())
    }
}
