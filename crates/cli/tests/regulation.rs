//! `qyzmet regulation` as an author of service files uses it.

use std::process::{Command, Output};

fn qyzmet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(args)
        .output()
        .expect("run qyzmet")
}

fn regulations() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../regulations")
}

#[test]
fn the_shipped_regulations_pass_and_the_published_schema_is_current() {
    let dir = regulations();
    let out = qyzmet(&["regulation", "check", dir.to_str().expect("UTF-8 path")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let schema = qyzmet(&["regulation", "schema"]);
    let published =
        std::fs::read_to_string(dir.join("schema.json")).expect("regulations/schema.json");
    assert_eq!(
        String::from_utf8_lossy(&schema.stdout),
        published,
        "regulations/schema.json is stale: run `qyzmet regulation schema > regulations/schema.json`"
    );
}

#[test]
fn a_broken_file_is_reported_with_file_element_and_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let original = std::fs::read_to_string(regulations().join("archival-reference-regional.toml"))
        .expect("read");
    let broken = original.replacen("next = \"P12\"", "next = \"P99\"", 1);
    let file = dir.path().join("broken.toml");
    std::fs::write(&file, broken).expect("write");
    let out = qyzmet(&["regulation", "check", file.to_str().expect("UTF-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("broken.toml: channels[portal].steps[P11].next: no step \"P99\" in this channel [rule step.next.unknown]"),
        "{text}"
    );
    let missing = qyzmet(&[
        "regulation",
        "check",
        dir.path().join("none").to_str().expect("UTF-8"),
    ]);
    assert_eq!(missing.status.code(), Some(2));
}
