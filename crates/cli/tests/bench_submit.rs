//! `qyzmet bench submit` against a `qyzmet demo` it did not start: the applicants get keys from the
//! demo's own CAs, every signed application is accepted, and sending the same documents again gives
//! the same applications back as duplicates, never new ones. Outcomes only; no timing is asserted.

mod support;

use std::process::Command;

use serde_json::Value;
use support::browser::{Demo, artifacts};
use support::text;

fn bench_submit(demo: &Demo, extra: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(["bench", "submit", "--url", &demo.url, "--data"])
        .arg(demo.data())
        .args(["--applicants", "3", "--connections", "4", "--json"])
        .args(extra)
        .env_remove("QYZMET_DATABASE_URL")
        .env_remove("QYZMET_CA_PASSPHRASE")
        .output()
        .expect("run qyzmet bench submit");
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let stdout = text(&output.stdout);
    let line = stdout.lines().last().expect("a report line");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn every_signed_submission_is_accepted_and_a_replay_gives_duplicates() {
    let dir = artifacts("bench_submit");
    let demo = Demo::start(&dir.join("demo.log"));

    let report = bench_submit(&demo, &["--submissions", "40", "--replay"]);
    assert_eq!(report["accepted"], 40, "{report}");
    assert_eq!(report["duplicates"], 0, "{report}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    assert_eq!(report["replay"]["duplicates"], 40, "{report}");
    assert_eq!(report["replay"]["created"], 0, "{report}");
    assert_eq!(
        report["replay"]["errors"],
        serde_json::json!({}),
        "{report}"
    );

    // Open loop at a fixed rate: the same outcome.
    let report = bench_submit(&demo, &["--submissions", "20", "--rate", "200"]);
    assert_eq!(report["accepted"], 20, "{report}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    assert!(report["latency_ms"]["max"].as_f64().is_some(), "{report}");
}
