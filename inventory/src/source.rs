//! Where the outputs come from: `tofu|terraform output -json` run in an environment directory, a
//! file, or stdin. Everything is read completely before anything is parsed.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// The outputs JSON text and a human description of where it came from (used in errors).
#[derive(Debug, Clone)]
pub struct RawOutputs {
    pub json: String,
    pub origin: String,
}

/// Finds the program to run: `tool` if given (a name looked up on PATH, or a path), else `tofu`
/// when it is on PATH, else `terraform`.
pub fn resolve_tool(tool: Option<&Path>) -> Result<PathBuf> {
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    match tool {
        Some(t) if t.components().count() > 1 || t.is_absolute() => {
            if is_executable(t) {
                Ok(t.to_path_buf())
            } else {
                Err(Error::ToolNotFound {
                    tool_desc: format!("`{}`", t.display()),
                    detail: "the file does not exist or is not executable".into(),
                })
            }
        }
        Some(t) => find_on_path(t.as_os_str(), &path_var).ok_or_else(|| Error::ToolNotFound {
            tool_desc: format!("`{}`", t.display()),
            detail: "it is not on PATH".into(),
        }),
        None => find_on_path(OsStr::new("tofu"), &path_var)
            .or_else(|| find_on_path(OsStr::new("terraform"), &path_var))
            .ok_or_else(|| Error::ToolNotFound {
                tool_desc: "`tofu` or `terraform`".into(),
                detail: "neither is on PATH".into(),
            }),
    }
}

fn find_on_path(name: &OsStr, path_var: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Runs `<tool> output -json` in `dir` and returns its stdout. Never echoes stdout in errors
/// (it holds the values, sensitive ones in clear); stderr only carries the tool's diagnostics.
pub fn run_output_json(dir: &Path, tool: Option<&Path>) -> Result<RawOutputs> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::BadDirectory {
                dir: dir.to_path_buf(),
                problem: "is not a directory".into(),
            });
        }
        Err(e) => {
            return Err(Error::BadDirectory {
                dir: dir.to_path_buf(),
                problem: format!("cannot be read ({e})"),
            });
        }
    }
    let program = resolve_tool(tool)?;
    let tool_name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.display().to_string());
    let mut command = Command::new(&program);
    if std::env::var_os("CHECKPOINT_DISABLE").is_none() {
        // Terraform's version check is a network call per run; an inventory lookup does not need it.
        command.env("CHECKPOINT_DISABLE", "1");
    }
    let result = command
        .args(["output", "-no-color", "-json"])
        .current_dir(dir)
        // Non-interactive: never wait for input, shorter messages.
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Io {
            action: format!(
                "run `{} output -json` in {}",
                program.display(),
                dir.display()
            ),
            source: e,
        })?;
    let stderr = String::from_utf8_lossy(&result.stderr);
    if !result.status.success() {
        let status = match result.status.code() {
            Some(c) => format!("exit code {c}"),
            None => "killed by a signal".into(),
        };
        return Err(Error::ToolFailed {
            fix: fix_for_failure(&tool_name, dir, &stderr),
            stderr: summarize_stderr(&stderr),
            tool: tool_name,
            dir: dir.to_path_buf(),
            status,
        });
    }
    let json = String::from_utf8(result.stdout).map_err(|_| Error::NotOutputsJson {
        origin: format!("`{tool_name} output -json` in {}", dir.display()),
        problem: "the tool printed bytes that are not UTF-8".into(),
    })?;
    Ok(RawOutputs {
        json,
        origin: format!("`{tool_name} output -json` in {}", dir.display()),
    })
}

/// Reads the outputs JSON from a file.
pub fn read_file(path: &Path) -> Result<RawOutputs> {
    let json = std::fs::read_to_string(path).map_err(|e| Error::Io {
        action: format!("read outputs file {}", path.display()),
        source: e,
    })?;
    Ok(RawOutputs {
        json,
        origin: path.display().to_string(),
    })
}

/// Reads the outputs JSON from any reader (the binary passes stdin).
pub fn read_from(mut reader: impl Read, origin: &str) -> Result<RawOutputs> {
    let mut json = String::new();
    reader.read_to_string(&mut json).map_err(|e| Error::Io {
        action: format!("read outputs from {origin}"),
        source: e,
    })?;
    Ok(RawOutputs {
        json,
        origin: origin.to_owned(),
    })
}

/// The tool's diagnostic on one line: box-drawing frame removed, blank lines dropped, bounded length.
fn summarize_stderr(stderr: &str) -> String {
    let lines: Vec<String> = stderr
        .lines()
        .map(|l| l.trim_start_matches(['│', '╷', '╵', ' ']).trim().to_owned())
        .filter(|l| !l.is_empty())
        // Terraform prints a CLI-config warning when TF_CLI_CONFIG_FILE is dangling; keep errors first.
        .collect();
    let mut text = lines.join(" ");
    if text.is_empty() {
        return "(no message on stderr)".into();
    }
    const MAX: usize = 400;
    if text.len() > MAX {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" …");
    }
    text
}

/// A concrete next step, chosen from the tool's message.
fn fix_for_failure(tool: &str, dir: &Path, stderr: &str) -> String {
    let d = dir.display();
    if stderr.contains("Backend initialization required")
        || stderr.contains("terraform init")
        || stderr.contains("tofu init")
        || stderr.contains("Initialization required")
    {
        format!("run `{tool} init` in {d}, then try again")
    } else if stderr.contains("Failed to load state") || stderr.contains("state file") {
        format!(
            "the state in {d} cannot be read; restore it (e.g. from terraform.tfstate.backup or the backend's \
             versioning), or use --file with a saved `output -json`"
        )
    } else if stderr.to_lowercase().contains("lock") {
        format!(
            "another {tool} command holds the state lock; wait for it to finish (or `{tool} force-unlock`)"
        )
    } else {
        format!("run `{tool} output -json` in {d} yourself to see the full message")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_is_flattened_and_bounded() {
        let s = "╷\n│ Error: Backend initialization required, please run \"terraform init\"\n│ \n│ Reason: x\n╵\n";
        assert_eq!(
            summarize_stderr(s),
            "Error: Backend initialization required, please run \"terraform init\" Reason: x"
        );
        let long = "é".repeat(1000);
        assert!(summarize_stderr(&long).len() <= 404);
        assert_eq!(summarize_stderr(""), "(no message on stderr)");
    }

    #[test]
    fn fixes_are_chosen_from_the_message() {
        let d = Path::new("/env");
        assert!(
            fix_for_failure("terraform", d, "Backend initialization required")
                .contains("terraform init")
        );
        assert!(fix_for_failure("tofu", d, "Error: Failed to load state: x").contains("restore"));
        assert!(
            fix_for_failure("tofu", d, "Error acquiring the state lock").contains("force-unlock")
        );
        assert!(fix_for_failure("tofu", d, "boom").contains("yourself"));
    }

    #[test]
    fn missing_tools_are_reported() {
        let err = resolve_tool(Some(Path::new("/nonexistent/tofu"))).expect_err("missing");
        assert!(
            err.to_string().contains("cannot find `/nonexistent/tofu`"),
            "{err}"
        );
        let err = resolve_tool(Some(Path::new("surely-not-a-tool-floe"))).expect_err("missing");
        assert!(err.to_string().contains("not on PATH"), "{err}");
    }
}
