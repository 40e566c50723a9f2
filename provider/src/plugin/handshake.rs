//! The go-plugin handshake: the magic cookie check and the single stdout line
//! `CORE|APP|NETWORK|ADDR|PROTOCOL|CERT` that tells Terraform where to connect.

use std::io::Write;
use std::path::Path;

use base64::Engine;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
pub const CLIENT_CERT_ENV: &str = "PLUGIN_CLIENT_CERT";
/// go-plugin core protocol version and our application (tfplugin) protocol version.
pub const CORE_PROTOCOL: u32 = 1;
pub const APP_PROTOCOL: u32 = 6;

/// The human message go-plugin prints when a plugin binary is run by hand.
pub const NOT_A_COMMAND: &str = "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically";

/// True when Terraform (or OpenTofu) launched us.
pub fn check_magic_cookie() -> bool {
    std::env::var(MAGIC_COOKIE_KEY).is_ok_and(|v| v == MAGIC_COOKIE_VALUE)
}

/// The handshake line (without newline). `cert_der` is our TLS certificate under AutoMTLS.
pub fn line(socket: &Path, cert_der: Option<&[u8]>) -> String {
    let cert = cert_der
        .map(|d| base64::engine::general_purpose::STANDARD_NO_PAD.encode(d))
        .unwrap_or_default();
    format!(
        "{CORE_PROTOCOL}|{APP_PROTOCOL}|unix|{}|grpc|{cert}",
        socket.display()
    )
}

/// Print and flush the handshake line. Nothing else may be written to stdout before it.
pub fn print_line(socket: &Path, cert_der: Option<&[u8]>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", line(socket, cert_der))?;
    out.flush()
}

/// After the handshake line, point our stdout at `/dev/null`. Terraform's go-plugin client
/// keeps reading the stdout pipe and `cmd.Wait` closes that pipe when we exit; when the
/// reader is still running then, go-plugin >= 1.5.1 (Terraform 1.6+) logs
/// `[ERROR] provider: error encountered while scanning stdout: read |0: file already
/// closed` (go-plugin issue 298) — a third of `TF_LOG=error terraform plan` runs showed it.
/// Closing our end now gives the reader its EOF long before we exit. Logs go to stderr, and
/// anything printed to stdout later was never read by Terraform anyway.
pub fn detach_stdout() -> std::io::Result<()> {
    let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
    rustix::stdio::dup2_stdout(&null)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_six_fields_and_unpadded_base64() {
        let l = line(Path::new("/tmp/s"), Some(&[1, 2, 3, 4]));
        assert_eq!(l, "1|6|unix|/tmp/s|grpc|AQIDBA");
        assert_eq!(line(Path::new("/tmp/s"), None), "1|6|unix|/tmp/s|grpc|");
    }
}
