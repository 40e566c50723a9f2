//! Small helpers: SHA-1 (Ansible's checksums), modes, k=v parsing, shell quoting.

use serde_json::{Map, Value as Json};

/// SHA-1 as hex (Ansible reports `checksum` as SHA-1; no crate in the workspace has it).
pub fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([
                chunk[4 * i],
                chunk[4 * i + 1],
                chunk[4 * i + 2],
                chunk[4 * i + 3],
            ]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let (mut a, mut b, mut c, mut d, mut e) = (h[0], h[1], h[2], h[3], h[4]);
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        h[0] = h[0].wrapping_add(a);
        h[1] = h[1].wrapping_add(b);
        h[2] = h[2].wrapping_add(c);
        h[3] = h[3].wrapping_add(d);
        h[4] = h[4].wrapping_add(e);
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// Decode Python-style escapes used in k=v arguments (`\n`, `\t`, `\\`, `\"`).
fn decode_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('\'') => out.push('\''),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Split on whitespace, keeping quoted parts and `{{ }}` expressions together.
pub fn split_args(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            cur.push(c);
            if c == '\\' && i + 1 < chars.len() {
                cur.push(chars[i + 1]);
                i += 1;
            } else if c == q {
                quote = None;
            }
        } else if (c == '{' || c == '}') && i + 1 < chars.len() && chars[i + 1] == c {
            depth = if c == '{' {
                depth + 1
            } else {
                depth.saturating_sub(1)
            };
            cur.push(c);
            cur.push(c);
            i += 1;
        } else if (c == '"' || c == '\'') && depth == 0 {
            quote = Some(c);
            cur.push(c);
        } else if c.is_whitespace() && depth == 0 {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
        i += 1;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn unquote(s: &str) -> &str {
    if s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')))
    {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Ansible's free-form `k=v` parsing; words that are not `k=v` go to `_raw_params`
/// (when `free_form` is true, e.g. command/shell).
pub fn parse_kv(s: &str, free_form: bool) -> Map<String, Json> {
    let mut out = Map::new();
    let mut raw: Vec<String> = vec![];
    for part in split_args(s) {
        let eq = part.find('=');
        let is_kv = match eq {
            Some(i) => {
                let k = &part[..i];
                !k.is_empty()
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !(free_form && !COMMAND_KV.contains(&k))
            }
            None => false,
        };
        if is_kv && let Some(i) = eq {
            let k = &part[..i];
            let v = decode_escapes(unquote(&part[i + 1..]));
            out.insert(k.to_string(), Json::String(v));
        } else {
            raw.push(part);
        }
    }
    if !raw.is_empty() {
        out.insert("_raw_params".into(), Json::String(raw.join(" ")));
    }
    out
}

/// k=v options that command/shell recognise inside their free-form string.
const COMMAND_KV: &[&str] = &[
    "creates",
    "removes",
    "chdir",
    "executable",
    "warn",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
];

/// POSIX single-quote a word for `sh -c`.
pub fn shq(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_vectors() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn kv_args() {
        let m = parse_kv(
            r#"content="{{ banner }}\n" dest=/etc/motd owner=root mode=0644"#,
            false,
        );
        assert_eq!(m["content"], Json::from("{{ banner }}\n"));
        assert_eq!(m["dest"], Json::from("/etc/motd"));
        assert_eq!(m["mode"], Json::from("0644"));
        let c = parse_kv("echo a=b chdir=/tmp", true);
        assert_eq!(c["_raw_params"], Json::from("echo a=b"));
        assert_eq!(c["chdir"], Json::from("/tmp"));
    }
}
