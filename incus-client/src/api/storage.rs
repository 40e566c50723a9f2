//! Storage pools (`/1.0/storage-pools`), volumes and volume snapshots.
//!
//! Volume calls take the volume type (`custom`, `container`, `image`...); most callers use
//! `"custom"`. On a cluster with local (non-shared) pools, volume calls need `with_target`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Config, is_false};
use crate::client::{Client, encode_segment};
use crate::error::Result;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StoragePool {
    pub name: String,
    /// `dir`, `zfs`, `btrfs`, `lvm`, `ceph`... (forces replacement).
    pub driver: String,
    pub description: String,
    pub config: Config,
    pub used_by: Vec<String>,
    pub status: String,
    pub locations: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StoragePool {
    pub fn writable(&self) -> StoragePoolPut {
        StoragePoolPut {
            description: self.description.clone(),
            config: self.config.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StoragePoolPut {
    pub description: String,
    pub config: Config,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StoragePoolsPost {
    pub name: String,
    pub driver: String,
    pub description: String,
    pub config: Config,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageVolume {
    pub name: String,
    #[serde(rename = "type")]
    pub volume_type: String,
    /// `filesystem`, `block` or `iso`.
    pub content_type: String,
    pub description: String,
    pub config: Config,
    pub used_by: Vec<String>,
    pub location: String,
    pub project: String,
    pub created_at: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StorageVolume {
    pub fn writable(&self) -> StorageVolumePut {
        StorageVolumePut {
            description: self.description.clone(),
            config: self.config.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StorageVolumePut {
    pub description: String,
    pub config: Config,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageVolumesPost {
    pub name: String,
    /// Usually `custom`.
    #[serde(rename = "type")]
    pub volume_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub content_type: String,
    pub description: String,
    pub config: Config,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageVolumeSnapshot {
    pub name: String,
    pub description: String,
    pub config: Config,
    pub content_type: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageVolumeSnapshotsPost {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub stateful: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageVolumeSnapshotPut {
    pub description: String,
    pub expires_at: Option<String>,
}

fn pool_path(pool: &str) -> String {
    format!("/1.0/storage-pools/{}", encode_segment(pool))
}

fn volume_path(pool: &str, vtype: &str, name: &str) -> String {
    format!(
        "{}/volumes/{}/{}",
        pool_path(pool),
        encode_segment(vtype),
        encode_segment(name)
    )
}

impl Client {
    pub async fn list_storage_pools(&self) -> Result<Vec<StoragePool>> {
        self.get_json("/1.0/storage-pools?recursion=1").await
    }

    pub async fn get_storage_pool(&self, name: &str) -> Result<StoragePool> {
        self.get_json(&pool_path(name)).await
    }

    pub async fn get_storage_pool_with_etag(
        &self,
        name: &str,
    ) -> Result<(StoragePool, Option<String>)> {
        self.get_json_with_etag(&pool_path(name)).await
    }

    pub async fn create_storage_pool(&self, req: &StoragePoolsPost) -> Result<()> {
        self.post("/1.0/storage-pools", req).await.map(|_| ())
    }

    pub async fn update_storage_pool(
        &self,
        name: &str,
        put: &StoragePoolPut,
        etag: Option<&str>,
    ) -> Result<()> {
        self.put(&pool_path(name), put, etag).await.map(|_| ())
    }

    pub async fn patch_storage_pool(
        &self,
        name: &str,
        patch: &Value,
        etag: Option<&str>,
    ) -> Result<()> {
        self.patch(&pool_path(name), patch, etag).await.map(|_| ())
    }

    pub async fn delete_storage_pool(&self, name: &str) -> Result<()> {
        self.delete(&pool_path(name)).await.map(|_| ())
    }

    /// All volumes of the pool (every type) in the handle's project.
    pub async fn list_storage_volumes(&self, pool: &str) -> Result<Vec<StorageVolume>> {
        self.get_json(&format!("{}/volumes?recursion=1", pool_path(pool)))
            .await
    }

    pub async fn get_storage_volume(
        &self,
        pool: &str,
        vtype: &str,
        name: &str,
    ) -> Result<StorageVolume> {
        self.get_json(&volume_path(pool, vtype, name)).await
    }

    pub async fn get_storage_volume_with_etag(
        &self,
        pool: &str,
        vtype: &str,
        name: &str,
    ) -> Result<(StorageVolume, Option<String>)> {
        self.get_json_with_etag(&volume_path(pool, vtype, name))
            .await
    }

    /// Create a volume (`req.volume_type` is usually `custom`); waits for the operation.
    pub async fn create_storage_volume(&self, pool: &str, req: &StorageVolumesPost) -> Result<()> {
        let vtype = if req.volume_type.is_empty() {
            "custom"
        } else {
            &req.volume_type
        };
        self.post(
            &format!("{}/volumes/{}", pool_path(pool), encode_segment(vtype)),
            req,
        )
        .await
        .map(|_| ())
    }

    pub async fn update_storage_volume(
        &self,
        pool: &str,
        vtype: &str,
        name: &str,
        put: &StorageVolumePut,
        etag: Option<&str>,
    ) -> Result<()> {
        self.put(&volume_path(pool, vtype, name), put, etag)
            .await
            .map(|_| ())
    }

    pub async fn patch_storage_volume(
        &self,
        pool: &str,
        vtype: &str,
        name: &str,
        patch: &Value,
        etag: Option<&str>,
    ) -> Result<()> {
        self.patch(&volume_path(pool, vtype, name), patch, etag)
            .await
            .map(|_| ())
    }

    pub async fn rename_storage_volume(
        &self,
        pool: &str,
        vtype: &str,
        name: &str,
        new_name: &str,
    ) -> Result<()> {
        self.post(
            &volume_path(pool, vtype, name),
            &serde_json::json!({ "name": new_name }),
        )
        .await
        .map(|_| ())
    }

    pub async fn delete_storage_volume(&self, pool: &str, vtype: &str, name: &str) -> Result<()> {
        self.delete(&volume_path(pool, vtype, name))
            .await
            .map(|_| ())
    }

    pub async fn list_storage_volume_snapshots(
        &self,
        pool: &str,
        vtype: &str,
        name: &str,
    ) -> Result<Vec<StorageVolumeSnapshot>> {
        self.get_json(&format!(
            "{}/snapshots?recursion=1",
            volume_path(pool, vtype, name)
        ))
        .await
    }

    pub async fn get_storage_volume_snapshot(
        &self,
        pool: &str,
        vtype: &str,
        name: &str,
        snap: &str,
    ) -> Result<StorageVolumeSnapshot> {
        self.get_json(&format!(
            "{}/snapshots/{}",
            volume_path(pool, vtype, name),
            encode_segment(snap)
        ))
        .await
    }

    pub async fn create_storage_volume_snapshot(
        &self,
        pool: &str,
        vtype: &str,
        name: &str,
        req: &StorageVolumeSnapshotsPost,
    ) -> Result<()> {
        self.post(
            &format!("{}/snapshots", volume_path(pool, vtype, name)),
            req,
        )
        .await
        .map(|_| ())
    }

    pub async fn update_storage_volume_snapshot(
        &self,
        pool: &str,
        vtype: &str,
        name: &str,
        snap: &str,
        put: &StorageVolumeSnapshotPut,
    ) -> Result<()> {
        self.put(
            &format!(
                "{}/snapshots/{}",
                volume_path(pool, vtype, name),
                encode_segment(snap)
            ),
            put,
            None,
        )
        .await
        .map(|_| ())
    }

    pub async fn delete_storage_volume_snapshot(
        &self,
        pool: &str,
        vtype: &str,
        name: &str,
        snap: &str,
    ) -> Result<()> {
        self.delete(&format!(
            "{}/snapshots/{}",
            volume_path(pool, vtype, name),
            encode_segment(snap)
        ))
        .await
        .map(|_| ())
    }
}
