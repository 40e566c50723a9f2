//! Compiles our own .proto definitions (provider/proto) with the pure-Rust `protox`,
//! so no `protoc` is needed on the build machine.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/tfplugin6.proto", "proto/grpc_controller.proto"];
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let fds = protox::compile(protos, ["proto"])?;
    // Kept for tests/descriptor_vs_terraform.rs, which compares our tfplugin6 with the
    // descriptor compiled into the Terraform binaries field by field.
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("descriptor_set.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        // Clients are only used by the in-process tests; generating them always is cheap.
        .build_client(true)
        .build_server(true)
        // RPCs we do not implement answer UNIMPLEMENTED (newer protocol minors).
        .generate_default_stubs(true)
        .compile_fds(fds)?;
    Ok(())
}
