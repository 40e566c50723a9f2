//! `plugin.GRPCController`: Terraform calls Shutdown when it is done with the provider;
//! we stop serving and the process exits (otherwise go-plugin kills us after 2 s and warns).

use std::sync::Arc;

use tokio::sync::Notify;

use crate::proto::plugin::{Empty, grpc_controller_server::GrpcController};

pub struct Controller {
    stop: Arc<Notify>,
    /// False in `--debug` (reattach) mode: the provider outlives each Terraform run.
    exit_on_shutdown: bool,
}

impl Controller {
    /// The controller and a future that resolves when Shutdown is called.
    pub fn new() -> (Self, impl std::future::Future<Output = ()> + Send + 'static) {
        let stop = Arc::new(Notify::new());
        let waiter = stop.clone();
        (
            Controller {
                stop,
                exit_on_shutdown: true,
            },
            async move { waiter.notified().await },
        )
    }

    /// A controller that ignores Shutdown (debug/reattach mode).
    pub fn persistent() -> Self {
        Controller {
            stop: Arc::new(Notify::new()),
            exit_on_shutdown: false,
        }
    }
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(
        &self,
        _req: tonic::Request<Empty>,
    ) -> Result<tonic::Response<Empty>, tonic::Status> {
        tracing::debug!("shutdown requested by the plugin client");
        if !self.exit_on_shutdown {
            return Ok(tonic::Response::new(Empty {}));
        }
        self.stop.notify_one();
        // Graceful gRPC shutdown waits for the client to hang up; do not outlive it for long.
        tokio::spawn(async {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            super::remove_socket_file();
            std::process::exit(0);
        });
        Ok(tonic::Response::new(Empty {}))
    }
}
