//! Registry-style Markdown docs generated from the schemas, so they cannot drift.

use std::path::{Path, PathBuf};

use crate::framework::schema::{Block, Nesting, Presence};

/// Render the doc page of one resource or data source.
pub fn render(kind: &str, name: &str, block: &Block, example: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!("# {name} ({kind})\n\n"));
    if !block.description.is_empty() {
        out.push_str(block.description);
        out.push_str("\n\n");
    }
    if !example.is_empty() {
        out.push_str("## Example\n\n```hcl\n");
        out.push_str(example.trim());
        out.push_str("\n```\n\n");
    }
    out.push_str("<!-- Generated from the schema by `terraform-provider-incus --print-docs`; do not edit. -->\n\n");
    render_block(
        &mut out,
        block,
        "## Argument reference",
        "## Attribute reference",
        0,
    );
    out
}

fn render_block(
    out: &mut String,
    block: &Block,
    args_title: &str,
    attrs_title: &str,
    depth: usize,
) {
    let indent = "  ".repeat(depth);
    let args: Vec<_> = block
        .attributes
        .iter()
        .filter(|a| a.is_configurable())
        .collect();
    let computed: Vec<_> = block
        .attributes
        .iter()
        .filter(|a| a.presence == Presence::Computed)
        .collect();
    if depth == 0 {
        out.push_str(args_title);
        out.push_str("\n\n");
    }
    for a in &args {
        let mut tags = vec![
            match a.presence {
                Presence::Required => "Required",
                _ => "Optional",
            }
            .to_string(),
        ];
        tags.push(a.ty.friendly());
        if a.requires_replace {
            tags.push("forces replacement".into());
        }
        if let Some(d) = &a.default {
            tags.push(format!("default `{}`", crate::cty::json::to_json(d)));
        }
        out.push_str(&format!(
            "{indent}* `{}` ({}) {}\n",
            a.name,
            tags.join(", "),
            a.description
        ));
        if let Some(n) = &a.nested {
            render_block(out, &Block::new(n.attributes.clone()), "", "", depth + 1);
        }
    }
    for b in &block.blocks {
        let nesting = match b.nesting {
            Nesting::Single => "block",
            Nesting::List => "list of blocks",
            Nesting::Set => "set of blocks",
        };
        out.push_str(&format!(
            "{indent}* `{}` ({nesting}) {}\n",
            b.type_name, b.description
        ));
        render_block(out, &b.block, "", "", depth + 1);
    }
    if depth == 0 && !computed.is_empty() {
        out.push('\n');
        out.push_str(attrs_title);
        out.push_str("\n\n");
    }
    for a in computed {
        out.push_str(&format!(
            "{indent}* `{}` ({}) {}\n",
            a.name,
            a.ty.friendly(),
            a.description
        ));
    }
    if depth == 0 {
        out.push('\n');
    }
}

/// (relative path, contents) of every page.
pub fn pages() -> Vec<(PathBuf, String)> {
    let mut pages = vec![(
        PathBuf::from("index.md"),
        render(
            "provider",
            "incus",
            &crate::config::schema().block,
            INDEX_EXAMPLE,
        ),
    )];
    for r in crate::resources::all() {
        let short = r.type_name().trim_start_matches("incus_");
        pages.push((
            PathBuf::from(format!("resources/{short}.md")),
            render(
                "resource",
                r.type_name(),
                &r.schema().block,
                crate::resources::example(r.type_name()),
            ),
        ));
    }
    for d in crate::data_sources::all() {
        let short = d.type_name().trim_start_matches("incus_");
        pages.push((
            PathBuf::from(format!("data-sources/{short}.md")),
            render(
                "data source",
                d.type_name(),
                &d.schema().block,
                crate::data_sources::example(d.type_name()),
            ),
        ));
    }
    pages
}

pub fn write_all(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (rel, text) in pages() {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

const INDEX_EXAMPLE: &str = r#"
terraform {
  required_providers {
    incus = {
      source = "floe/incus"   # instead of lxc/incus; nothing else in the HCL changes
    }
  }
}

provider "incus" {}
"#;
