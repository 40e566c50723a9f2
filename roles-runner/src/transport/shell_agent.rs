//! One `/bin/sh` per host, started once with an exec whose websockets stay open, that runs
//! every later command of the run: an Incus exec costs ~50 ms of daemon work (operation,
//! forkexec, attaching to the container's namespaces, output logs), a command through the
//! open shell costs one fork in the instance and one websocket round trip. The same idea as
//! SSH connection multiplexing; nothing but a POSIX shell is needed in the instance.
//!
//! Protocol (strictly one request at a time):
//! - request: `FLOE <token> <lines>\n` followed by exactly `<lines>` lines of shell script;
//! - the shell writes `<token> S\n` on stdout and stderr, runs the script in a subshell with
//!   stdin from `/dev/null` and its stdout and stderr on the agent's own, then writes
//!   `\n<token> <rc>\n` on stdout and `\n<token>\n` on stderr. The token is random per
//!   command, so command output cannot fake the end, and output a background process of an
//!   earlier command writes between two commands is dropped.
//!
//! Nothing is written to the instance's disk.

use std::fmt::Write as _;

use incus_client::{ExecSession, OutputStream};

use super::{ExecOutput, ExecRequest, NewFile};

/// The agent itself: read a header, read the script's lines, run it, mark the end.
pub const BOOT_SCRIPT: &str = r#"while IFS= read -r h; do
case $h in "FLOE "*) ;; *) echo "floe agent: bad request header" >&2; exit 90;; esac
set -- $h; t=$2; n=$3; s=
while [ "$n" -gt 0 ]; do IFS= read -r l || exit 91; s="$s$l
"; n=$((n-1)); done
printf '%s S\n' "$t"; printf '%s S\n' "$t" >&2
(eval "$s") </dev/null
r=$?
printf '\n%s %s\n' "$t" "$r"
printf '\n%s\n' "$t" >&2
done"#;

/// Longest script sent through the agent; longer ones (huge argv) use a plain exec, since
/// the shell reads the request byte by byte.
const MAX_SCRIPT: usize = 256 * 1024;

/// POSIX single-quoting.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Files up to this size are written through the agent (as a `printf` format inside the
/// request); larger ones go through the file API.
pub const MAX_INLINE_FILE: usize = 16 * 1024;

/// `data` as a single-quoted `printf` format that reproduces it byte for byte (NUL included):
/// plain characters as they are, everything else as a three-digit octal escape.
pub fn printf_format(data: &[u8]) -> String {
    let mut f = String::with_capacity(data.len() * 2 + 2);
    f.push('\'');
    for &b in data {
        if b.is_ascii_alphanumeric() || b" ,./_-:=+@#".contains(&b) {
            f.push(b as char);
        } else {
            // Writing to a String cannot fail.
            let _ = write!(f, "\\{b:03o}");
        }
    }
    f.push('\'');
    f
}

/// Script that creates the NEW file `path` (refuses an existing one) holding `data`, with owner and
/// mode, and then — when `rename_to` is given — renames it over that path. A failure removes
/// the new file: nothing half-written is left. Only root can chown, like the file API.
pub fn write_script(path: &str, file: NewFile<'_>, rename_to: Option<&str>) -> String {
    let NewFile {
        data,
        uid,
        gid,
        mode,
    } = file;
    let p = quote(path);
    let dir = match path.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => path[..i].to_string(),
        None => ".".to_string(),
    };
    let mut s = format!(
        "[ -d {d} ] || {{ printf '%s\\n' {msg} >&2; exit 1; }}\n\
         if [ -e {p} ] || [ -L {p} ]; then printf '%s\\n' {exists} >&2; exit 1; fi\n",
        d = quote(&dir),
        msg = quote(&format!("{dir}: No such file or directory")),
        exists = quote(&format!("{path}: File exists")),
    );
    // Permission bits a umask can give a new file need no chmod (no fork).
    let by_umask = mode & 0o7111 == 0;
    s.push_str(&format!(
        "umask {:04o}\n",
        if by_umask { !mode & 0o777 } else { 0o077 }
    ));
    let mut steps = vec![format!("printf {} >{p}", printf_format(data))];
    if (uid, gid) != (0, 0) {
        steps.push(format!("chown {uid}:{gid} {p}"));
    }
    if !by_umask {
        steps.push(format!("chmod {mode:04o} {p}"));
    }
    if let Some(dest) = rename_to {
        steps.push(format!("mv -f {p} {}", quote(dest)));
    }
    s.push_str(&format!(
        "{{ {}; }} || {{ rm -f {p}; exit 1; }}\n",
        steps.join(" && ")
    ));
    s
}

fn valid_env_name(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// The script that runs `req` like an Incus exec would (argv executed directly, given
/// environment and working directory), or `None` when the request cannot go through the
/// agent. `argv` is the final argv (become wrappers applied); `stdin_file` is a file already
/// pushed to the instance that becomes the command's stdin and is unlinked once open.
pub fn command_script(
    req: &ExecRequest,
    argv: &[String],
    stdin_file: Option<&str>,
) -> Option<String> {
    if argv.is_empty() || req.env.iter().any(|(k, _)| !valid_env_name(k)) {
        return None;
    }
    let mut s = String::new();
    if let Some(f) = stdin_file {
        s.push_str(&format!(
            "exec 3<{f} && rm -f {f} || exit 1\n",
            f = quote(f)
        ));
    }
    if let Some(cwd) = &req.cwd {
        s.push_str(&format!("cd {} || exit 1\n", quote(cwd)));
    }
    for (k, v) in &req.env {
        s.push_str(&format!("export {k}={}\n", quote(v)));
    }
    // The shell's own "exec: x: not found" would name the agent; say what Incus would.
    let argv0 = &argv[0];
    let missing = format!(
        "{{ printf '%s\\n' {} >&2; exit 127; }}\n",
        quote(&format!(
            "executable {argv0:?} does not exist in the instance"
        ))
    );
    if argv0.contains('/') {
        s.push_str(&format!("[ -e {} ] || {missing}", quote(argv0)));
    } else {
        s.push_str(&format!(
            "command -v {} >/dev/null || {missing}",
            quote(argv0)
        ));
    }
    s.push_str("exec");
    for a in argv {
        s.push(' ');
        s.push_str(&quote(a));
    }
    if stdin_file.is_some() {
        s.push_str(" <&3 3<&-");
    }
    s.push('\n');
    (s.len() <= MAX_SCRIPT).then_some(s)
}

/// Why a command through the agent did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The shell's streams ended mid-command (instance stopped, or the command killed it).
    #[error("the connection to the instance's shell closed while the command ran")]
    Closed,
    #[error("{0}")]
    Client(#[from] incus_client::Error),
}

pub struct Agent {
    session: ExecSession,
    /// Set while a request is out: still set at the next call means the caller was
    /// cancelled mid-exchange (a task `timeout`), and the shell's output is out of step.
    in_flight: bool,
}

impl Agent {
    pub fn new(session: ExecSession) -> Agent {
        Agent {
            session,
            in_flight: false,
        }
    }

    /// False once an exchange was abandoned half-way: the agent must be replaced.
    pub fn usable(&self) -> bool {
        !self.in_flight
    }

    pub fn into_session(self) -> ExecSession {
        self.session
    }

    /// Run one script and collect its output and exit status.
    pub async fn run(&mut self, script: &str) -> Result<ExecOutput, AgentError> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let lines = script.bytes().filter(|&b| b == b'\n').count();
        let mut request = format!("FLOE {token} {lines}\n").into_bytes();
        request.extend_from_slice(script.as_bytes());
        self.in_flight = true;
        self.session.write(&request).await?;

        let start = format!("{token} S\n");
        let mut out = Framed::new(start.clone(), format!("\n{token} "));
        let mut err = Framed::new(start, format!("\n{token}\n"));
        let mut rc: Option<i32> = None;
        while rc.is_none() || err.end.is_none() {
            let Some((stream, chunk)) = self.session.read().await else {
                return Err(AgentError::Closed);
            };
            match stream {
                OutputStream::Stdout => {
                    out.push(&chunk);
                    if let Some(end) = out.end {
                        // "<rc>\n" follows the mark; it may arrive in a later chunk.
                        let tail = &out.buf[end + out.end_mark.len()..];
                        if let Some(nl) = tail.iter().position(|&b| b == b'\n') {
                            let code = std::str::from_utf8(&tail[..nl])
                                .ok()
                                .and_then(|s| s.parse().ok());
                            rc = Some(code.ok_or(AgentError::Closed)?);
                        }
                    }
                }
                OutputStream::Stderr => err.push(&chunk),
            }
        }
        self.in_flight = false;
        Ok(ExecOutput {
            rc: rc.unwrap_or(-1),
            stdout: out.into_output(),
            stderr: err.into_output(),
        })
    }
}

/// One output stream of one command: the bytes between the start mark (anything before it
/// is late output of an earlier command's background process, dropped) and the end mark.
struct Framed {
    buf: Vec<u8>,
    start_mark: String,
    end_mark: String,
    /// Index just past the start mark.
    begin: Option<usize>,
    /// Index of the end mark.
    end: Option<usize>,
}

impl Framed {
    fn new(start_mark: String, end_mark: String) -> Framed {
        Framed {
            buf: Vec::new(),
            start_mark,
            end_mark,
            begin: None,
            end: None,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        // Marks may straddle chunks: rescan a mark's length back.
        let rescan = self
            .buf
            .len()
            .saturating_sub(self.start_mark.len().max(self.end_mark.len()));
        self.buf.extend_from_slice(chunk);
        if self.begin.is_none() {
            self.begin = find(&self.buf[rescan..], self.start_mark.as_bytes())
                .map(|i| rescan + i + self.start_mark.len());
        }
        if let (Some(begin), None) = (self.begin, self.end) {
            let from = begin.max(rescan);
            self.end = find(&self.buf[from..], self.end_mark.as_bytes()).map(|i| from + i);
        }
    }

    fn into_output(mut self) -> Vec<u8> {
        let (begin, end) = (self.begin.unwrap_or(0), self.end.unwrap_or(self.buf.len()));
        self.buf.truncate(end);
        self.buf.drain(..begin.min(end));
        self.buf
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes_and_newlines() {
        assert_eq!(quote("a'b"), r"'a'\''b'");
        assert_eq!(quote("x\ny"), "'x\ny'");
    }

    #[test]
    fn script_runs_argv_with_env_cwd_and_stdin() {
        let req = ExecRequest {
            env: vec![("LANG".into(), "C".into())],
            cwd: Some("/srv/it's".into()),
            ..Default::default()
        };
        let argv = vec!["/bin/echo".to_string(), "a b".into()];
        let s = command_script(&req, &argv, Some("/tmp/in")).expect("agent-eligible");
        assert_eq!(
            s,
            "exec 3<'/tmp/in' && rm -f '/tmp/in' || exit 1\n\
             cd '/srv/it'\\''s' || exit 1\n\
             export LANG='C'\n\
             [ -e '/bin/echo' ] || { printf '%s\\n' 'executable \"/bin/echo\" does not exist in the instance' >&2; exit 127; }\n\
             exec '/bin/echo' 'a b' <&3 3<&-\n"
        );
    }

    #[test]
    fn printf_format_escapes_everything_the_shell_or_printf_would_read() {
        assert_eq!(
            printf_format(b"a b\n%'\\\0\xc3"),
            r"'a b\012\045\047\134\000\303'"
        );
    }

    #[test]
    fn write_script_sets_owner_and_mode_and_cleans_up_on_failure() {
        let s = write_script(
            "/etc/x.tmp",
            NewFile {
                data: b"hi\n",
                uid: 0,
                gid: 0,
                mode: 0o644,
            },
            Some("/etc/x"),
        );
        assert_eq!(
            s,
            "[ -d '/etc' ] || { printf '%s\\n' '/etc: No such file or directory' >&2; exit 1; }\n\
             if [ -e '/etc/x.tmp' ] || [ -L '/etc/x.tmp' ]; then printf '%s\\n' '/etc/x.tmp: File exists' >&2; exit 1; fi\n\
             umask 0133\n\
             { printf 'hi\\012' >'/etc/x.tmp' && mv -f '/etc/x.tmp' '/etc/x'; } || { rm -f '/etc/x.tmp'; exit 1; }\n"
        );
        let s = write_script(
            "rel",
            NewFile {
                data: b"",
                uid: 5,
                gid: 6,
                mode: 0o4755,
            },
            None,
        );
        assert!(s.contains("umask 0077\n"), "{s}");
        assert!(
            s.contains("&& chown 5:6 'rel' && chmod 4755 'rel'; }"),
            "{s}"
        );
    }

    #[test]
    fn framing_drops_late_output_and_finds_marks_split_across_chunks() {
        let mut f = Framed::new("tok S\n".into(), "\ntok ".into());
        for chunk in [
            "late output of a background job\nto",
            "k S\nreal\n",
            "output\n",
            "\nt",
            "ok 0\n",
        ] {
            f.push(chunk.as_bytes());
        }
        assert!(f.end.is_some());
        assert_eq!(f.into_output(), b"real\noutput\n");
        // An empty output: the end mark right after the start mark.
        let mut f = Framed::new("tok S\n".into(), "\ntok\n".into());
        f.push(b"tok S\n\ntok\n");
        assert_eq!(f.into_output(), b"");
    }

    #[test]
    fn env_names_the_shell_cannot_export_use_a_plain_exec() {
        let req = ExecRequest {
            env: vec![("BAD-NAME".into(), "x".into())],
            ..Default::default()
        };
        assert!(command_script(&req, &["true".into()], None).is_none());
        assert!(command_script(&ExecRequest::default(), &[], None).is_none());
    }
}
