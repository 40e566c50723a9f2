//! `terraform-provider-incus`: started by Terraform/OpenTofu as a plugin.
//! `--debug` serves for `TF_REATTACH_PROVIDERS`; `--print-docs DIR` writes the registry docs.

use floe_provider::framework::server::ProviderService;
use floe_provider::plugin;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let debug = args.iter().any(|a| a == "--debug" || a == "-debug");
    if let Some(i) = args.iter().position(|a| a == "--print-docs") {
        let dir = args.get(i + 1).map(String::as_str).unwrap_or("docs");
        match floe_provider::docs::write_all(std::path::Path::new(dir)) {
            Ok(files) => {
                for f in files {
                    println!("{}", f.display());
                }
                return;
            }
            Err(e) => {
                eprintln!("error: writing docs to {dir}: {e}");
                std::process::exit(1);
            }
        }
    }
    if !debug && !plugin::check_magic_cookie() {
        eprintln!("{}", plugin::handshake::NOT_A_COMMAND);
        std::process::exit(1);
    }
    plugin::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        let service = ProviderService::with_registry();
        if debug {
            let addr = args
                .iter()
                .position(|a| a == "--address")
                .and_then(|i| args.get(i + 1).cloned())
                .unwrap_or_else(|| floe_provider::DEFAULT_PROVIDER_ADDRESS.to_string());
            plugin::serve_debug(service, &addr).await
        } else {
            // Terraform forwards Ctrl-C to the whole process group; like go-plugin, ignore
            // it and let Terraform stop us through StopProvider/Shutdown.
            tokio::spawn(async {
                while tokio::signal::ctrl_c().await.is_ok() {
                    tracing::debug!("ignoring interrupt; Terraform will shut the provider down");
                }
            });
            plugin::serve(service).await
        }
    });
    if let Err(e) = result {
        tracing::error!("provider failed: {e:#}");
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
