//! Shared set-up for the tests that talk to the real daemon: a throw-away project per test,
//! unique names, and cleanup on drop (also when the test fails).

#![allow(dead_code)]

use incus_client::{Client, ProjectsPost};

/// The image the testbed imports (`scripts/testbed.sh`).
pub fn image() -> String {
    std::env::var("FLOE_IMAGE").unwrap_or_else(|_| "local/debian12".into())
}

/// The local daemon; fails loudly when it is not there (run `make testbed`).
pub fn client() -> Client {
    let socket = incus_client::default_socket_path();
    assert!(
        socket.exists(),
        "Incus socket {} is missing: these tests need the real daemon (run `make testbed`)",
        socket.display()
    );
    Client::unix(socket).expect("client")
}

pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..10])
}

/// A project that uses the default project's profiles and images (so `default` brings a
/// root disk and NIC) and is deleted, with everything in it, on drop.
pub struct TestProject {
    pub name: String,
    pub client: Client,
}

impl TestProject {
    pub async fn new(prefix: &str) -> TestProject {
        Self::with_own(prefix, &[]).await
    }

    /// Like `new`, but the listed features (e.g. `features.storage.volumes`) are `true`: those
    /// objects then live inside the project and go away with it.
    pub async fn with_own(prefix: &str, own: &[&str]) -> TestProject {
        let base = client();
        let name = unique(prefix);
        let mut req = ProjectsPost {
            name: name.clone(),
            description: "incus-client test (deleted when the test ends)".into(),
            ..Default::default()
        };
        for key in [
            "features.profiles",
            "features.images",
            "features.storage.volumes",
            "features.networks",
        ] {
            let value = if own.contains(&key) { "true" } else { "false" };
            req.config.insert(key.into(), value.into());
        }
        base.create_project(&req)
            .await
            .expect("create test project");
        TestProject {
            client: base.with_project(&name),
            name,
        }
    }
}

impl Drop for TestProject {
    fn drop(&mut self) {
        let client = self.client.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime: clean up on a separate thread and runtime.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(instances) = client.list_instances().await {
                    for i in instances {
                        if let Err(e) = client.force_delete_instance(&i.name).await {
                            eprintln!("cleanup: instance {}: {e}", i.name);
                        }
                    }
                }
                // Objects the project may own (when its features are enabled).
                for prof in client.list_profiles().await.unwrap_or_default() {
                    if prof.project == name && prof.name != "default" {
                        let _ = client.delete_profile(&prof.name).await;
                    }
                }
                for acl in client.list_network_acls().await.unwrap_or_default() {
                    if acl.project == name {
                        let _ = client.delete_network_acl(&acl.name).await;
                    }
                }
                for pool in client.list_storage_pools().await.unwrap_or_default() {
                    for vol in client
                        .list_storage_volumes(&pool.name)
                        .await
                        .unwrap_or_default()
                    {
                        if vol.project == name && vol.volume_type == "custom" {
                            let _ = client
                                .delete_storage_volume(&pool.name, "custom", &vol.name)
                                .await;
                        }
                    }
                }
                if let Err(e) = client.delete_project(&name).await {
                    eprintln!("cleanup: project {name}: {e}");
                }
            });
        });
        let _ = cleanup.join();
    }
}
