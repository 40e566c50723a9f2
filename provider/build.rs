//! Compiles our own .proto definitions (provider/proto) with the pure-Rust `protox`,
//! so no `protoc` is needed on the build machine.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/tfplugin6.proto", "proto/grpc_controller.proto"];
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let fds = protox::compile(protos, ["proto"])?;
    tonic_prost_build::configure()
        // Clients are only used by the in-process tests; generating them always is cheap.
        .build_client(true)
        .build_server(true)
        // RPCs we do not implement answer UNIMPLEMENTED (newer protocol minors).
        .generate_default_stubs(true)
        .compile_fds(fds)?;
    Ok(())
}
