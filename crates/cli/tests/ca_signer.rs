//! The CA signer (issue 20) on `qyzmet demo`: the certification authorities' keys are in the signer
//! process only — the web process that serves applicants and staff holds neither a CA key nor the
//! CA passphrase (its memory is searched) — and the signer obeys only signed requests of a
//! registration-centre operator or, for an application at a CA step, the engine; every refusal is
//! audited. An operator's issuance from an OpenSSL PKCS#10 names the holder as the registry knows
//! them, and after the revocation `openssl ocsp` against the node says revoked.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use der::{Decode, Encode, EncodePem};
use qyzmet_ca::signer::{Client, Command as CaCommand, Refusal, Reply, forward};
use qyzmet_pki::PrivateKey;
use qyzmet_pki::name::Identity;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_store::{Location, Store};
use support::browser::{Demo, artifacts};
use x509_cert::Certificate;

const P12_PASSWORD: &str = "qyzmet-demo";

fn key_store(data: &Path, stem: &str) -> Arc<KeyStore> {
    let bytes = std::fs::read(data.join("keys").join(format!("{stem}-signing.p12"))).expect("p12");
    Arc::new(KeyStore::from_pkcs12(&bytes, P12_PASSWORD).expect("open p12"))
}

/// The P-256 private scalar inside a PKCS#8 (the ECPrivateKey's 32-byte OCTET STRING).
fn scalar(pkcs8: &[u8]) -> Vec<u8> {
    let at = pkcs8
        .windows(5)
        .position(|w| w == [0x02, 0x01, 0x01, 0x04, 0x20])
        .expect("an ECPrivateKey");
    pkcs8[at + 5..at + 37].to_vec()
}

/// Whether any readable mapping of process `pid` contains one of `needles`.
fn memory_contains(pid: u32, needles: &[Vec<u8>]) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    let mut memory = std::fs::File::open(format!("/proc/{pid}/mem")).expect("mem");
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !perms.starts_with('r') || line.contains("[vvar]") || line.contains("[vsyscall]") {
            continue;
        }
        let (start, end) = range.split_once('-').expect("a range");
        let start = u64::from_str_radix(start, 16).expect("hex");
        let end = u64::from_str_radix(end, 16).expect("hex");
        let mut bytes = vec![0u8; (end - start) as usize];
        if memory.seek(SeekFrom::Start(start)).is_err() || memory.read_exact(&mut bytes).is_err() {
            continue;
        }
        if needles
            .iter()
            .any(|needle| bytes.windows(needle.len()).any(|w| w == needle.as_slice()))
        {
            return true;
        }
    }
    false
}

/// The process whose parent is `parent` and whose command line has `word`.
fn child_with(parent: u32, word: &str) -> u32 {
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if ppid == Some(parent) && String::from_utf8_lossy(&cmdline).contains(word) {
            return pid;
        }
    }
    panic!("no child of {parent} runs {word}")
}

fn refused(reply: &Reply) -> Refusal {
    match reply {
        Reply::Refused { code, .. } => *code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_ca_keys_live_in_the_signer_only_and_it_obeys_only_operators_and_the_engine() {
    let dir = artifacts("ca_signer");
    let demo = Demo::start(&dir.join("demo.log"));
    let operator = demo.login("ca_operator of nca-rk");
    let individual = demo.login("individual");
    let data = demo.data();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::open_existing(&Location::from_args(&data, None))
            .await
            .expect("the demo's database");
        let authorities = store.authorities().await.expect("authorities");
        let passphrase = std::fs::read_to_string(data.join("ca-passphrase")).expect("passphrase");
        let passphrase = passphrase.trim().as_bytes().to_vec();

        // No process serving HTTP holds a CA key; the signer does (the search's control).
        let web = demo.serving.pid();
        let signer = child_with(web, "serve");
        for ca in ["root", "nca", "gov"] {
            let record = authorities.iter().find(|a| a.code == ca).expect("the CA");
            let key = PrivateKey::from_encrypted_pem(&record.key_pem, &passphrase).expect("unlock");
            let be = scalar(key.to_pkcs8_der().expect("pkcs8").as_bytes());
            let le: Vec<u8> = be.iter().rev().copied().collect();
            let needles = [be, le];
            assert!(
                memory_contains(signer, &needles),
                "the signer holds the {ca} key"
            );
            assert!(
                !memory_contains(web, &needles),
                "the web process holds the {ca} key"
            );
        }
        assert!(
            !memory_contains(web, std::slice::from_ref(&passphrase)),
            "the web process holds the CA passphrase"
        );

        let socket = data.join("ca.sock");
        let person = Client::new(&socket, key_store(&data, &individual));
        let engine = Client::new(&socket, key_store(&data, "engine"));
        let operator = Client::new(&socket, key_store(&data, &operator));
        let publish = || CaCommand::PublishCrl { ca: "nca".into() };

        // Refused, each audited: a person who is no operator, the engine outside an application,
        // the engine for an application that does not exist, bytes that are no signed request.
        let before = audited_refusals(&store).await;
        let reply = person.send("t-person", publish()).await.expect("reply");
        assert_eq!(refused(&reply), Refusal::NotAuthorised);
        let reply = engine.send("t-engine", publish()).await.expect("reply");
        assert_eq!(refused(&reply), Refusal::NotAuthorised);
        let for_nothing = CaCommand::IssueForApplication {
            application: "no-such-application".into(),
            request_field: "signature_public_key".into(),
        };
        let reply = engine.send("t-nothing", for_nothing).await.expect("reply");
        assert_eq!(refused(&reply), Refusal::Application);
        let reply = forward(&socket, b"not a signed request")
            .await
            .expect("reply");
        assert!(matches!(
            refused(&reply),
            Refusal::Signature | Refusal::Malformed
        ));
        assert_eq!(audited_refusals(&store).await, before + 4);

        // An operator issues for an OpenSSL PKCS#10; the subject is the registry's person.
        let csr = openssl_request(&dir);
        let issue = CaCommand::Issue {
            ca: "nca".into(),
            profile: "signing".into(),
            csr: B64.encode(&csr),
            holder_iin: individual.clone(),
        };
        let Reply::Issued {
            serial,
            certificate,
            ..
        } = operator.send("t-issue", issue).await.expect("reply")
        else {
            panic!("the operator's issuance was refused");
        };
        let certificate = Certificate::from_der(&B64.decode(certificate).expect("base64"))
            .expect("a certificate");
        let holder = Identity::of(&certificate.tbs_certificate.subject);
        assert_eq!(holder.iin.map(|i| i.to_string()), Some(individual.clone()));

        // Revoked once: the same request id is answered from the journal, not revoked again.
        let revoke = || CaCommand::Revoke {
            serial: serial.clone(),
            reason: 1,
        };
        let first = operator.send("t-revoke", revoke()).await.expect("reply");
        assert!(matches!(first, Reply::Revoked { .. }), "{first:?}");
        let again = operator.send("t-revoke", revoke()).await.expect("reply");
        assert_eq!(first, again);

        // OCSP of the web node says revoked (OpenSSL as the relying party).
        let cert_file = dir.join("issued.pem");
        std::fs::write(
            &cert_file,
            certificate.to_pem(der::pem::LineEnding::LF).expect("pem"),
        )
        .expect("write");
        let nca = authorities.iter().find(|a| a.code == "nca").expect("nca");
        let issuer_file = dir.join("nca.pem");
        let nca_cert = Certificate::from_der(&nca.certificate_der).expect("nca");
        std::fs::write(
            &issuer_file,
            nca_cert.to_pem(der::pem::LineEnding::LF).expect("pem"),
        )
        .expect("write");
        let ocsp = Command::new("openssl")
            .args(["ocsp", "-no_nonce", "-noverify", "-url"])
            .arg(format!("{}/pki/ocsp", demo.url))
            .arg("-issuer")
            .arg(&issuer_file)
            .arg("-cert")
            .arg(&cert_file)
            .output()
            .expect("openssl ocsp");
        let said = String::from_utf8_lossy(&ocsp.stdout);
        assert!(
            said.contains(": revoked"),
            "openssl ocsp: {said}{}",
            String::from_utf8_lossy(&ocsp.stderr)
        );
        let _ = certificate.to_der();
        store.close().await;
    });
}

async fn audited_refusals(store: &Store) -> usize {
    store
        .recent_audit(1000)
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.record.action == "pki.signer.refused")
        .count()
}

fn openssl_request(dir: &Path) -> Vec<u8> {
    let out = dir.join("request.der");
    let status = Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args(["-subj", "/CN=Whoever the request says"])
        .arg("-keyout")
        .arg(dir.join("request.key"))
        .args(["-outform", "DER", "-out"])
        .arg(&out)
        .status()
        .expect("openssl req");
    assert!(status.success());
    std::fs::read(out).expect("the request")
}
