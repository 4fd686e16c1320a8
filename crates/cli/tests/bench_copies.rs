//! `qyzmet bench copies` and `qyzmet bench verify-page` at a tiny size: each reports its figure
//! beside the limit measured in the same run, and the verify page bench takes a demo's appeal to a
//! published signed answer through the back office and serves its valid report without errors.
//! Outcomes and the presence of the figures only; no timing is asserted.

mod support;

use std::process::Command;

use serde_json::Value;
use support::browser::{Demo, artifacts};
use support::text;

fn bench(args: &[&str], data: Option<&std::path::Path>) -> Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qyzmet"));
    command.arg("bench").args(args).arg("--json");
    if let Some(data) = data {
        command.arg("--data").arg(data);
    }
    let output = command
        .env_remove("QYZMET_DATABASE_URL")
        .output()
        .expect("run qyzmet bench");
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

fn positive(report: &Value, pointer: &str) -> f64 {
    let value = report
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no {pointer}: {report}"));
    assert!(value > 0.0, "{pointer}: {report}");
    value
}

#[test]
fn copies_are_rendered_beside_a_bare_pdf_of_the_same_font() {
    let report = bench(&["copies", "--copies", "4", "--threads", "2"], None);
    assert_eq!(report["copies"], 4, "{report}");
    positive(&report, "/copies_per_s");
    positive(&report, "/copy_bytes");
    positive(&report, "/limit/bare_pdf_per_s");
    positive(&report, "/limit/bare_pdf_bytes");
    positive(&report, "/ratio_copies_per_bare_pdf");
}

#[test]
fn the_verify_page_of_a_published_answer_is_served_under_load() {
    let dir = artifacts("bench_verify_page");
    let demo = Demo::start(&dir.join("demo.log"));
    let report = bench(
        &[
            "verify-page",
            "--url",
            &demo.url,
            "--connections",
            "2",
            "--seconds",
            "0.5",
            "--limit-seconds",
            "0.2",
        ],
        Some(&demo.data()),
    );
    assert!(
        report["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/verify/")),
        "{report}"
    );
    for run in ["/peak", "/open_loop/run"] {
        positive(&report, &format!("{run}/ok"));
        positive(&report, &format!("{run}/requests_per_s"));
        positive(&report, &format!("{run}/latency_ms/p99"));
        assert_eq!(
            report.pointer(&format!("{run}/errors")),
            Some(&serde_json::json!({})),
            "{report}"
        );
    }
    positive(&report, "/open_loop/rate");
    positive(&report, "/limits/verifier_verify_per_s");
    positive(&report, "/limits/insert_1_per_tx_rows_per_s");
    positive(&report, "/ratios/peak_per_verify");
}
