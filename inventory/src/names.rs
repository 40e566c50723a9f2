//! Group names the way Ansible accepts them.
//!
//! Ansible warns about (and, with `TRANSFORM_INVALID_GROUP_CHARS=always`, rewrites) every group
//! name matching `^[\d\W]|[^\w]` (`ansible/constants.py`, `INVALID_VARIABLE_NAMES`): a name must be
//! usable as a Python identifier so that `groups.web` works in templates. We apply exactly that
//! rewrite ourselves — each offending character becomes `_`, a leading digit too — so the names we
//! print are the ones Ansible would use, and the rename is reported as a warning instead of Ansible
//! printing a vague one. Host names are left alone: Ansible accepts any string there.
//!
//! `\w` in Python 3 is Unicode-aware: letters and digits of any script plus `_`, so `café` or
//! `сервер` stay as they are. We approximate it with `char::is_alphanumeric` (equal for letters and
//! digits; the two differ only on rare combining marks).

/// Ansible's word character (`\w` on a Python `str`).
fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Returns the name Ansible would use for group `name`, or `None` when `name` is already valid.
pub fn sanitize_group_name(name: &str) -> Option<String> {
    let needs_change = name
        .chars()
        .enumerate()
        .any(|(i, c)| !is_word(c) || (i == 0 && c.is_numeric()));
    if !needs_change {
        return None;
    }
    let fixed = name
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if !is_word(c) || (i == 0 && c.is_numeric()) {
                '_'
            } else {
                c
            }
        })
        .collect();
    Some(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_are_kept() {
        for ok in [
            "web",
            "web_servers",
            "_private",
            "café",
            "сервер",
            "数据库",
            "w3",
        ] {
            assert_eq!(sanitize_group_name(ok), None, "{ok}");
        }
    }

    #[test]
    fn invalid_characters_become_underscores_like_ansible() {
        // Expected values computed with Ansible's own regex: re.sub(r'^[\d\W]|[^\w]', '_', name).
        assert_eq!(
            sanitize_group_name("web-servers").as_deref(),
            Some("web_servers")
        );
        assert_eq!(sanitize_group_name("1web").as_deref(), Some("_web"));
        assert_eq!(sanitize_group_name("a.b c").as_deref(), Some("a_b_c"));
        assert_eq!(sanitize_group_name("-x").as_deref(), Some("_x"));
        assert_eq!(
            sanitize_group_name("base-café").as_deref(),
            Some("base_café")
        );
    }
}
