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

/// Every channel of every shipped regulation exports to BPMN 2.0 that bpmn-moddle parses without a
/// warning (issue 4). Needs Node.js and `npm ci --prefix tools/bpmn-check`; `.ci/run` provides both and
/// sets QYZMET_REQUIRE_BPMN_CHECK=1 so that their absence fails instead of skipping.
#[test]
fn every_channel_exports_bpmn_that_bpmn_moddle_reads_without_warnings() {
    let tool = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/bpmn-check");
    let ready = tool.join("node_modules/bpmn-moddle").is_dir()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ready {
        assert!(
            std::env::var("QYZMET_REQUIRE_BPMN_CHECK").as_deref() != Ok("1"),
            "QYZMET_REQUIRE_BPMN_CHECK=1 but node or tools/bpmn-check/node_modules is missing"
        );
        eprintln!(
            "note: node or bpmn-moddle missing; skipping the BPMN check (run npm ci --prefix tools/bpmn-check)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut exported = Vec::new();
    for entry in std::fs::read_dir(regulations()).expect("regulations/") {
        let file = entry.expect("entry").path();
        if file.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        let regulation =
            qyzmet_domain::regulation::check("f", &text).expect("a shipped regulation passes");
        for channel in &regulation.channels {
            for lang in ["kk", "ru"] {
                let out = qyzmet(&[
                    "regulation",
                    "bpmn",
                    file.to_str().expect("UTF-8"),
                    "--channel",
                    &channel.code,
                    "--lang",
                    lang,
                ]);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let path = dir
                    .path()
                    .join(format!("{}-{}-{lang}.bpmn", regulation.code, channel.code));
                std::fs::write(&path, &out.stdout).expect("write");
                exported.push(path);
            }
        }
    }
    assert!(!exported.is_empty());
    let out = Command::new("node")
        .arg(tool.join("check.mjs"))
        .args(&exported)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "bpmn-moddle:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        report.matches(", 0 warnings").count(),
        exported.len(),
        "{report}"
    );
}

/// Every channel of every shipped regulation draws as a well-formed SVG document, in each language
/// (issue 4: the diagram on the service's page).
#[test]
fn every_channel_draws_as_a_well_formed_svg() {
    use quick_xml::events::Event;

    let mut drawn = 0;
    for entry in std::fs::read_dir(regulations()).expect("regulations/") {
        let file = entry.expect("entry").path();
        if file.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        let regulation =
            qyzmet_domain::regulation::check("f", &text).expect("a shipped regulation passes");
        for channel in &regulation.channels {
            for language in ["kk", "ru", "en"] {
                let out = qyzmet(&[
                    "regulation",
                    "svg",
                    file.to_str().expect("UTF-8"),
                    "--channel",
                    &channel.code,
                    "--language",
                    language,
                ]);
                let at = format!("{} {} {language}", file.display(), channel.code);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{at}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let svg = String::from_utf8(out.stdout).expect("UTF-8");
                let mut reader = quick_xml::Reader::from_str(&svg);
                let mut root = None;
                let mut depth = 0_i32;
                loop {
                    match reader.read_event() {
                        Err(e) => {
                            panic!("{at}: not well-formed at {}: {e}", reader.buffer_position())
                        }
                        Ok(Event::Eof) => break,
                        Ok(Event::Start(e)) => {
                            if depth == 0 {
                                assert!(root.is_none(), "{at}: a second root element");
                                root =
                                    Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                            }
                            depth += 1;
                        }
                        Ok(Event::End(_)) => depth -= 1,
                        Ok(_) => {}
                    }
                }
                assert_eq!(depth, 0, "{at}: unclosed elements");
                assert_eq!(root.as_deref(), Some("svg"), "{at}");
                assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""), "{at}");
                drawn += 1;
            }
        }
    }
    assert!(drawn > 0);
    let unknown = qyzmet(&[
        "regulation",
        "svg",
        regulations()
            .join("archival-reference-regional.toml")
            .to_str()
            .expect("UTF-8"),
        "--channel",
        "mail",
    ]);
    assert_eq!(unknown.status.code(), Some(1));
}

/// A regulation's providers are organisations of the directory the demo loads.
#[test]
fn every_provider_is_in_the_directory() {
    let directory = qyzmet_demo::directory();
    for entry in std::fs::read_dir(regulations()).expect("regulations/") {
        let file = entry.expect("entry").path();
        if file.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let regulation =
            qyzmet_domain::regulation::check("f", &std::fs::read_to_string(&file).expect("read"))
                .expect("a shipped regulation passes");
        for provider in &regulation.providers {
            assert!(
                directory.get(provider).is_some(),
                "{}: provider {provider:?} is not in the directory",
                file.display()
            );
        }
    }
}
