//! The registry docs under docs/ are generated from the schemas; this fails when they
//! drift. Regenerate with `cargo run -p terraform-provider-incus -- --print-docs docs`.

use std::path::Path;

#[test]
fn docs_match_the_schemas() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let mut stale = Vec::new();
    for (rel, text) in floe_provider::docs::pages() {
        let path = root.join(&rel);
        match std::fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == text => {}
            _ => stale.push(rel.display().to_string()),
        }
    }
    assert!(
        stale.is_empty(),
        "stale or missing docs: {stale:?}; run `cargo run -p terraform-provider-incus -- --print-docs docs`"
    );
}

#[test]
fn every_attribute_is_documented() {
    for r in floe_provider::resources::all() {
        for a in &r.schema().block.attributes {
            assert!(
                !a.description.is_empty(),
                "{}.{} has no description",
                r.type_name(),
                a.name
            );
        }
    }
    for d in floe_provider::data_sources::all() {
        for a in &d.schema().block.attributes {
            assert!(
                !a.description.is_empty(),
                "data {}.{} has no description",
                d.type_name(),
                a.name
            );
        }
    }
}
