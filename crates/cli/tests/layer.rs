//! `qyzmet layer` as a person starts it: the binary, a PKCS#12 file, one signature over its socket.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use jiff::Timestamp;
use qyzmet_layer::LocalCertificate;
use qyzmet_layer::testing::{Client, base64, signature_of, test_keys};
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Verifier};
use serde_json::json;

/// The running agent, stopped when dropped (also when the test fails).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_agent_signs_once_over_its_socket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name);
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let p12 = keys
        .signing
        .to_pkcs12("құпия сөз", "signing")
        .expect("PKCS#12");
    std::fs::write(path("signing.p12"), p12).expect("write");
    std::fs::write(path("password"), "құпия сөз\n").expect("write");
    // A certificate the test knows, so that its client trusts exactly that one.
    let tls = LocalCertificate::generate().expect("certificate");
    std::fs::write(path("tls.pem"), &tls.certificate_pem).expect("write");
    std::fs::write(path("tls.key"), &tls.key_pem).expect("write");

    let mut child = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(["layer", "--yes", "--listen", "127.0.0.1:0", "--p12"])
        .arg(path("signing.p12"))
        .arg("--password-file")
        .arg(path("password"))
        .arg("--cert")
        .arg(path("tls.pem"))
        .arg("--key")
        .arg(path("tls.key"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qyzmet layer");
    let stdout = child.stdout.take().expect("stdout");
    let agent = Running(child);
    let line = BufReader::new(stdout)
        .lines()
        .next()
        .expect("a line")
        .expect("a line");
    let address = line
        .strip_prefix("qyzmet layer listening on wss://")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();

    let mut page = Client::connect(&address, Some(&tls.certificate_der)).await;
    assert!(page.greeting["result"]["version"].is_string());
    let document = "Өтініш №1".as_bytes();
    let answer = page
        .call(json!({
            "module": "kz.gov.pki.knca.commonUtils",
            "method": "createCAdESFromBase64",
            "args": ["PKCS12", "SIGNATURE", base64(document), true],
        }))
        .await;
    let cms = signature_of(&answer);
    let verifier = Verifier::new(
        vec![keys.root.clone()],
        Arc::new(CrlSet::new(keys.crls.clone())),
    );
    let expect = Expectation {
        iin: Some(keys.iin),
        ..Default::default()
    };
    let report = verifier.verify(&cms, None, &expect, Timestamp::now());
    assert!(report.valid, "{report:#?}");
    drop(agent);
}

#[test]
fn the_agent_listens_on_loopback_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(["layer", "--yes", "--listen", "0.0.0.0:13579", "--p12"])
        .arg(dir.path().join("none.p12"))
        .arg("--password-file")
        .arg(dir.path().join("password"))
        .output()
        .expect("run qyzmet layer");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}
