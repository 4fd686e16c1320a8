//! The workflow engine from the command line: `simulate`, `bench overdue`, and a new service that is
//! only a new file given to `serve --regulations`.

mod support;

use std::process::Command;

use support::{Serving, qyzmet, text};

/// The number after `label` in `line`, e.g. `moves` in "… 412 moves in …".
fn number_before(out: &str, label: &str) -> u64 {
    out.split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[1] == label)
        .and_then(|w| w[0].trim_start_matches('(').parse().ok())
        .unwrap_or_else(|| panic!("no number before {label:?} in {out}"))
}

#[test]
fn simulate_finishes_every_application_and_reports_the_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = qyzmet(&[
        "simulate",
        "archival-reference-regional",
        "--instances",
        "40",
        "--channel",
        "psc",
        "--data",
        data.to_str().expect("UTF-8"),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("finished: 40 ("), "{stdout}");
    assert!(stdout.contains("open 0;"), "{stdout}");
    let results = number_before(&stdout, "results,");
    let refusals = number_before(&stdout, "refusals),");
    assert_eq!(results + refusals, 40);
    // Every application makes at least the shortest path's moves through the PSC channel.
    assert!(number_before(&stdout, "moves") >= 40 * 4, "{stdout}");
    // The database's audit chain holds every move and verifies.
    let verify = qyzmet(&["audit", "verify", "--data", data.to_str().expect("UTF-8")]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));

    let unknown = qyzmet(&[
        "simulate",
        "no-such-service",
        "--data",
        data.to_str().expect("UTF-8"),
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("known: "),
        "{}",
        text(&unknown.stderr)
    );
    let channel = qyzmet(&[
        "simulate",
        "deposit",
        "--channel",
        "fax",
        "--data",
        data.to_str().expect("UTF-8"),
    ]);
    assert_eq!(channel.status.code(), Some(1));
    assert!(text(&channel.stderr).contains("--channel"));
}

#[test]
fn bench_overdue_finds_exactly_the_overdue_applications() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("UTF-8");
    let out = qyzmet(&[
        "bench",
        "overdue",
        "--instances",
        "5000",
        "--overdue-every",
        "100",
        "--runs",
        "1",
        "--data",
        data,
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("open applications: 5000, overdue: 50"),
        "{stdout}"
    );
    // A second run would mix its rows with the first: refused.
    let again = qyzmet(&["bench", "overdue", "--instances", "10", "--data", data]);
    assert_eq!(again.status.code(), Some(1));
}

/// Issue 4: "a new service must be a new file, not new code".
#[test]
fn a_new_service_is_a_new_file_given_to_serve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let regulations = dir.path().join("regulations");
    std::fs::create_dir(&regulations).expect("mkdir");
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../regulations/deposit.toml"
    ))
    .expect("deposit.toml");
    let new_service = shipped.replacen("code = \"deposit\"", "code = \"deposit-of-datasets\"", 1);
    assert_ne!(new_service, shipped);
    std::fs::write(regulations.join("deposit-of-datasets.toml"), new_service).expect("write");
    let data = dir.path().join("data");
    let serve_args = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        data.to_str().expect("UTF-8"),
        "--regulations",
        regulations.to_str().expect("UTF-8"),
    ];
    let serving = Serving::start(Command::new(env!("CARGO_BIN_EXE_qyzmet")).args(serve_args));
    let services = serving.get("/api/regulations");
    let diagram = serving.get("/regulations/deposit-of-datasets/provider.svg");
    drop(serving);
    assert!(
        services.contains("\"code\":\"deposit-of-datasets\""),
        "{services}"
    );
    assert!(
        services.contains("\"code\":\"deposit\""),
        "the shipped one stays"
    );
    assert!(diagram.starts_with("HTTP/1.1 200"), "{diagram}");

    // A broken file stops the node from starting, naming the file and the rule.
    std::fs::write(regulations.join("broken.toml"), "code = \"x\"\n").expect("write");
    let out = qyzmet(&serve_args);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("broken.toml"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn serve_names_an_unreadable_gateway_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let password = dir.path().join("password");
    std::fs::write(&password, "secret").expect("write");
    let not_a_key = dir.path().join("gateway.p12");
    std::fs::write(&not_a_key, "not a PKCS#12").expect("write");
    let out = qyzmet(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        dir.path().join("data").to_str().expect("UTF-8"),
        "--gateway-key",
        not_a_key.to_str().expect("UTF-8"),
        "--gateway-key-password-file",
        password.to_str().expect("UTF-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--gateway-key"),
        "{}",
        text(&out.stderr)
    );
    // The key without its password is a usage error.
    let usage = qyzmet(&["serve", "--gateway-key", not_a_key.to_str().expect("UTF-8")]);
    assert_eq!(usage.status.code(), Some(2));
}
