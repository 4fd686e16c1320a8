//! `qyzmet layer` as a person starts it: the binary, a PKCS#12 file, signatures over its socket, the
//! questions on its terminal, and the pages it refuses.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use qyzmet_layer::LocalCertificate;
use qyzmet_layer::testing::{Client, PAGE_ORIGIN, TestKeys, base64, signature_of, test_keys};
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Verifier};
use serde_json::{Value, json};

const AUTO_CONSENT: &str = "QYZMET_LAYER_AUTO_CONSENT_FOR_TEST";

/// A signing key store, its password file and a TLS certificate the test's client trusts, in a temporary
/// directory.
struct Files {
    dir: tempfile::TempDir,
    keys: TestKeys,
    tls: LocalCertificate,
}

impl Files {
    fn new() -> Files {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = test_keys(KeyAlgorithm::EcdsaP256);
        let p12 = keys
            .signing
            .to_pkcs12("құпия сөз", "signing")
            .expect("PKCS#12");
        std::fs::write(dir.path().join("signing.p12"), p12).expect("write");
        std::fs::write(dir.path().join("password"), "құпия сөз\n").expect("write");
        let tls = LocalCertificate::generate().expect("certificate");
        std::fs::write(dir.path().join("tls.pem"), &tls.certificate_pem).expect("write");
        std::fs::write(dir.path().join("tls.key"), &tls.key_pem).expect("write");
        Files { dir, keys, tls }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `qyzmet layer` with these files on a free loopback port, `extra` appended; no --yes variable
    /// unless the caller sets one.
    fn command(&self, extra: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qyzmet"));
        command
            .args(["layer", "--listen", "127.0.0.1:0", "--p12"])
            .arg(self.path("signing.p12"))
            .arg("--password-file")
            .arg(self.path("password"))
            .arg("--cert")
            .arg(self.path("tls.pem"))
            .arg("--key")
            .arg(self.path("tls.key"))
            .args(extra)
            .env_remove(AUTO_CONSENT);
        command
    }
}

/// The running agent, stopped when dropped (also when the test fails); what it wrote to standard error
/// so far, read as it comes.
struct Running {
    child: Child,
    address: String,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start qyzmet layer");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let keep = stderr.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buffer) {
                keep.lock().expect("lock").extend_from_slice(&buffer[..n]);
            }
        });
        let mut running = Running {
            child,
            address: String::new(),
            stdin,
            stderr,
        };
        let line = BufReader::new(stdout).lines().next();
        let Some(Ok(line)) = line else {
            panic!(
                "qyzmet layer printed no address; stderr: {}",
                running.stderr()
            );
        };
        running.address = line
            .strip_prefix("qyzmet layer listening on wss://")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        running
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("lock")).into_owned()
    }

    /// Waits (10 s at most) until standard error holds `needle` `times` times.
    async fn wait_for_stderr(&self, needle: &str, times: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.stderr().matches(needle).count() < times {
            assert!(
                Instant::now() < deadline,
                "the agent did not write {needle:?} ({times}×); stderr: {}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the `times`th question holding `question` and answers it on the agent's terminal.
    async fn answer(&mut self, question: &str, times: usize, reply: &str) {
        self.wait_for_stderr(question, times).await;
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{reply}").expect("write the answer");
        stdin.flush().expect("flush");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sign_request(document: &[u8]) -> Value {
    json!({
        "module": "kz.gov.pki.knca.commonUtils",
        "method": "createCAdESFromBase64",
        "args": ["PKCS12", "SIGNATURE", base64(document), true],
    })
}

#[tokio::test]
async fn the_agent_signs_once_over_its_socket() {
    let files = Files::new();
    let mut command = files.command(&["--yes", "--allow-origin", PAGE_ORIGIN]);
    command.env(AUTO_CONSENT, "the_agent_signs_once_over_its_socket");
    let agent = Running::start(command);
    agent
        .wait_for_stderr(
            "WARNING: --yes for the test \"the_agent_signs_once_over_its_socket\"",
            1,
        )
        .await;
    assert!(
        agent.stderr().contains("WITHOUT ASKING"),
        "{}",
        agent.stderr()
    );

    let mut page = Client::connect(&agent.address, Some(&files.tls.certificate_der)).await;
    assert!(page.greeting["result"]["version"].is_string());
    let answer = page.call(sign_request("Өтініш №1".as_bytes())).await;
    let cms = signature_of(&answer);
    let verifier = Verifier::new(
        vec![files.keys.root.clone()],
        Arc::new(CrlSet::new(files.keys.crls.clone())),
    );
    let expect = Expectation {
        iin: Some(files.keys.iin),
        ..Default::default()
    };
    let report = verifier.verify(&cms, None, &expect, Timestamp::now());
    assert!(report.valid, "{report:#?}");

    // Another site's page, even with --yes, does not get past the handshake.
    let foreign = Client::connect_from(
        &agent.address,
        Some(&files.tls.certificate_der),
        Some("https://evil.test"),
    )
    .await;
    assert_eq!(foreign.err().map(|refused| refused.status), Some(403));
    agent
        .wait_for_stderr("refused a page of origin Some(\"https://evil.test\")", 1)
        .await;
}

#[test]
fn yes_is_refused_unless_a_test_is_named() {
    let files = Files::new();
    for value in [None, Some(""), Some("  ")] {
        let mut command = files.command(&["--yes", "--allow-origin", PAGE_ORIGIN]);
        if let Some(value) = value {
            command.env(AUTO_CONSENT, value);
        }
        let out = command.output().expect("run qyzmet layer");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value:?}: {stderr}");
        assert!(
            stderr.contains(
                "--yes signs every request without asking and is for automated tests only"
            ) && stderr.contains(AUTO_CONSENT),
            "{value:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "it must not have started");
    }
}

#[test]
fn origins_that_are_not_origins_are_refused_at_start() {
    let files = Files::new();
    let out = files
        .command(&["--allow-origin", "https://portal.test/login"])
        .output()
        .expect("run qyzmet layer");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--allow-origin") && stderr.contains("no path"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_person_is_asked_and_a_page_learns_of_another_iin_only_if_they_agree() {
    let files = Files::new();
    let mut agent = Running::start(files.command(&["--allow-origin", PAGE_ORIGIN]));
    agent
        .wait_for_stderr("each signature will be asked here first", 1)
        .await;
    assert!(
        agent
            .stderr()
            .contains(&format!("pages served: {PAGE_ORIGIN} (")),
        "{}",
        agent.stderr()
    );
    let mut page = Client::connect(&agent.address, Some(&files.tls.certificate_der)).await;
    let someone_else = json!({"module": "kz.gov.pki.knca.basics", "method": "sign",
        "args": {"format": "cms", "data": base64(b"x"), "signingParams": {"decode": true},
            "signerParams": {"extKeyUsageOids": [], "iin": "000000000000"}}});
    let own = json!({"module": "kz.gov.pki.knca.basics", "method": "sign",
        "args": {"format": "cms", "data": base64(b"x"), "signingParams": {"decode": true},
            "signerParams": {"extKeyUsageOids": [], "iin": files.keys.iin.to_string()}}});

    // The page sends; the agent asks; the person's answer decides what the page hears.
    let cannot =
        "asks for a signature this agent cannot make: the loaded key is not of IIN 000000000000";
    let sign = "to sign 1 bytes with the key of";
    let (declined_probe, ()) = tokio::join!(
        page.call(someone_else.clone()),
        agent.answer(cannot, 1, "n")
    );
    let (declined_own, ()) = tokio::join!(page.call(own.clone()), agent.answer(sign, 1, "n"));
    assert_eq!(declined_probe, declined_own);
    assert_eq!(
        declined_probe["message"], "action.canceled",
        "{declined_probe}"
    );
    let (told, ()) = tokio::join!(page.call(someone_else), agent.answer(cannot, 2, "y"));
    assert_eq!(told["status"], false, "{told}");
    assert_eq!(told["message"], "the loaded key is not of IIN 000000000000");
    let (signed, ()) = tokio::join!(page.call(own), agent.answer(sign, 2, "y"));
    assert_eq!(signed["status"], true, "{signed}");
    assert!(
        agent
            .stderr()
            .contains(&format!("The page {PAGE_ORIGIN} asks")),
        "{}",
        agent.stderr()
    );
}

#[test]
fn the_agent_listens_on_loopback_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(["layer", "--listen", "0.0.0.0:13579", "--p12"])
        .arg(dir.path().join("none.p12"))
        .arg("--password-file")
        .arg(dir.path().join("password"))
        .output()
        .expect("run qyzmet layer");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}
