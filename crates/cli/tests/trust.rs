//! `qyzmet trust` as an operator uses it to open a deployment to the NCA's PKI (issue 18), `qyzmet
//! verify` judging KalkanCrypt's signatures with the NCA's test chain, and `qyzmet sign` with the NCA's
//! own test key stores (KalkanCrypt's PKCS#12: BER, 3DES/RC2, a GOST-2015 key), checked by an
//! independent GOST implementation (PyPI gostcrypto) and by `qyzmet verify`, which names every key
//! CRL #166 revokes.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use der::{Decode, Encode};

use qyzmet_store::{Location, Store, both_backends};

both_backends!(an_operator_trusts_the_nca_test_pki);

fn nca(relative: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/nca-test")
        .join(relative)
        .display()
        .to_string()
}

fn qyzmet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(args)
        .env_remove("QYZMET_DATABASE_URL")
        .env_remove("QYZMET_CA_PASSPHRASE")
        .output()
        .expect("run qyzmet")
}

fn with_store(store: &Store, args: &[&str]) -> Output {
    let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    match store.location() {
        Location::DataDir(dir) => all.extend(["--data".into(), dir.display().to_string()]),
        Location::Postgres(url) => all.extend(["--database-url".into(), url.clone()]),
    }
    qyzmet(&all.iter().map(String::as_str).collect::<Vec<_>>())
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: &Output, what: &str) -> String {
    assert_eq!(out.status.code(), Some(0), "{what}: {}", text(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn an_operator_trusts_the_nca_test_pki(store: &Store) {
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "ұзын құпия сөз\n").unwrap();
    ok(
        &with_store(
            store,
            &[
                "pki",
                "init",
                "--passphrase-file",
                pass.to_str().unwrap(),
                "--public-url",
                "http://127.0.0.1:9",
            ],
        ),
        "pki init",
    );

    let root = nca("ca/root_test_gost_2022.cer");
    let intermediate = nca("ca/nca_gost2022_test.cer");
    let added = ok(
        &with_store(store, &["trust", "add", "--ca-revocation-optional", &root]),
        "trust add",
    );
    assert!(added.starts_with("trusted as anchor: "), "{added}");
    let again = ok(&with_store(store, &["trust", "add", &root]), "again");
    assert!(again.starts_with("already trusted"), "{again}");
    ok(
        &with_store(store, &["trust", "add", "--intermediate", &intermediate]),
        "trust add --intermediate",
    );
    let as_anchor = with_store(store, &["trust", "add", &intermediate]);
    assert_eq!(as_anchor.status.code(), Some(1));
    assert!(
        text(&as_anchor).contains("already trusted as intermediate"),
        "{}",
        text(&as_anchor)
    );
    ok(
        &with_store(
            store,
            &[
                "trust",
                "crl",
                &nca("crl/nca_gost2022_test_crl166_2026-08-11.crl"),
            ],
        ),
        "trust crl",
    );
    ok(&with_store(store, &["trust", "host", "pki.gov.kz"]), "host");
    let bad_host = with_store(store, &["trust", "host", "http://x/"]);
    assert_eq!(bad_host.status.code(), Some(1), "{}", text(&bad_host));
    // Not a certificate at all: refused by name, nothing written.
    let not_a_certificate = with_store(store, &["trust", "add", &nca("FACTS.md")]);
    assert_eq!(not_a_certificate.status.code(), Some(1));
    assert!(text(&not_a_certificate).contains("FACTS.md"));

    let list = ok(&with_store(store, &["trust", "list"]), "trust list");
    assert_eq!(list.lines().count(), 4, "{list}");
    assert!(
        list.contains("anchor") && list.contains("НЕГІЗГІ"),
        "{list}"
    );
    assert!(
        list.contains("intermediate") && list.contains("ҰЛТТЫҚ"),
        "{list}"
    );
    assert!(list.contains("issuer-host  pki.gov.kz"), "{list}");

    // The node's verifier is what the store says.
    let set = qyzmet_ca::trust::TrustSet::load(store).await.unwrap();
    assert_eq!(set.anchors.len(), 2, "our root and the NCA's");
    assert_eq!(set.ca_revocation_optional.len(), 1);
    assert_eq!(set.crls.len(), 1);
    let verifier = set.verifier().unwrap();
    let report = verifier.verify(
        &std::fs::read(nca("cms/skarm_individual_2026_attached.cms")).unwrap(),
        None,
        &Default::default(),
        "2026-10-01T00:00:00Z".parse().unwrap(),
    );
    assert!(report.valid, "{report:#?}");

    // Every change is on the audit record.
    let anchor_line = list.lines().find(|l| l.starts_with("anchor")).unwrap();
    let prefix = anchor_line.split_whitespace().nth(1).unwrap();
    let events = store.recent_audit(1000).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.record.action.as_str()).collect();
    for action in ["pki.trust.add", "pki.trust.add_crl", "pki.trust.add_host"] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    let removed = ok(&with_store(store, &["trust", "remove", prefix]), "remove");
    assert!(removed.contains("no longer trusted"), "{removed}");
    let short = with_store(store, &["trust", "remove", "ab"]);
    assert_eq!(short.status.code(), Some(1));
    let set = qyzmet_ca::trust::TrustSet::load(store).await.unwrap();
    assert_eq!(set.anchors.len(), 1, "only our root is left");
    let report = set.verifier().unwrap().verify(
        &std::fs::read(nca("cms/skarm_individual_2026_attached.cms")).unwrap(),
        None,
        &Default::default(),
        "2026-10-01T00:00:00Z".parse().unwrap(),
    );
    assert!(!report.valid);
}

#[test]
fn verify_judges_kalkan_signatures_with_the_nca_test_chain() {
    let chain = [
        "--trust",
        &nca("ca/root_test_gost_2022.cer"),
        "--intermediate",
        &nca("ca/nca_gost2022_test.cer"),
        "--crl",
        &nca("crl/nca_gost2022_test_crl166_2026-08-11.crl"),
        "--ca-revocation-optional",
        "--at",
        "2026-10-01T00:00:00Z",
    ]
    .map(str::to_owned);
    let run = |extra: &[String]| {
        let args: Vec<&str> = ["verify"]
            .into_iter()
            .chain(chain.iter().map(String::as_str))
            .chain(extra.iter().map(String::as_str))
            .collect();
        qyzmet(&args)
    };
    let attached = run(&[nca("cms/skarm_individual_2026_attached.cms")]);
    assert!(ok(&attached, "attached").starts_with("VALID"));
    let detached = run(&[
        "--data".into(),
        nca("cms/data/skarm_individual_document.txt"),
        nca("cms/skarm_individual_2026_detached.cms"),
    ]);
    assert!(ok(&detached, "detached").starts_with("VALID"));
    let wrong = run(&[
        "--data".into(),
        nca("cms/data/hello_world.txt"),
        nca("cms/skarm_individual_2026_detached.cms"),
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong).contains("TAMPERED"), "{}", text(&wrong));
    // As a base64 text (what pages post and NCALayer's createCAdESFromBase64 returns).
    let dir = tempfile::tempdir().unwrap();
    let b64 = dir.path().join("cms.b64");
    let der = std::fs::read(nca("cms/skarm_individual_2026_attached.cms")).unwrap();
    std::fs::write(
        &b64,
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der),
    )
    .unwrap();
    assert!(ok(&run(&[b64.display().to_string()]), "base64").starts_with("VALID"));
    // The 2004 SDK sample: the key OID as signature algorithm, PEM labelled CMS with CRLF.
    let old = qyzmet(&[
        "verify",
        "--trust",
        &nca("ca/root_gost_test.pem"),
        "--intermediate",
        &nca("ca/nca_gost_test.pem"),
        "--allow-unknown-revocation",
        "--at",
        "2019-08-27T00:00:00Z",
        "--data",
        &nca("cms/data/hello_world.txt"),
        &nca("cms/kalkan_sdk_example_CMS_for_double_sign.pem"),
    ]);
    assert!(ok(&old, "2004").starts_with("VALID"));

    // An XML document signed by Kalkan (NCANode), judged by the same command with the RSA test chain.
    let xml_chain = [
        "verify",
        "--trust",
        &nca("ca/root_rsa_test.pem"),
        "--intermediate",
        &nca("ca/nca_rsa_test.pem"),
        "--allow-unknown-revocation",
        "--at",
        "2021-06-01T00:00:00Z",
    ];
    let sample = nca("xml/ncanode_rsa_enveloped.xml");
    let xml = qyzmet(&[xml_chain.as_slice(), &[sample.as_str()]].concat());
    assert!(ok(&xml, "xml").starts_with("VALID"), "{}", text(&xml));
    let original = std::fs::read_to_string(&sample).unwrap();
    let changed = dir.path().join("changed.xml");
    let signed_text = original.find("</").unwrap();
    let mut altered = original.clone();
    altered.insert(signed_text, 'x');
    std::fs::write(&changed, altered).unwrap();
    let tampered = qyzmet(&[xml_chain.as_slice(), &[changed.to_str().unwrap()]].concat());
    assert_eq!(tampered.status.code(), Some(1), "{}", text(&tampered));
    assert!(text(&tampered).contains("TAMPERED"), "{}", text(&tampered));
}

/// Signs `document` with the pack's key store `p12` (password Qwerty12); returns the CMS file.
fn sign(dir: &Path, p12: &str, document: &Path) -> PathBuf {
    let password = dir.join("password");
    std::fs::write(&password, "Qwerty12\n").unwrap();
    let out = dir.join(format!("{p12}.cms"));
    let signed = qyzmet(&[
        "sign",
        "--p12",
        &nca(&format!("p12/{p12}.p12")),
        "--password-file",
        password.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        document.to_str().unwrap(),
    ]);
    assert_eq!(signed.status.code(), Some(0), "{p12}: {}", text(&signed));
    out
}

fn verify(cms: &Path) -> Output {
    qyzmet(&[
        "verify",
        "--trust",
        &nca("ca/root_test_gost_2022.cer"),
        "--intermediate",
        &nca("ca/nca_gost2022_test.cer"),
        "--crl",
        &nca("crl/nca_gost2022_test_crl166_2026-08-11.crl"),
        "--ca-revocation-optional",
        "--at",
        "2026-10-01T00:00:00Z",
        cms.to_str().unwrap(),
    ])
}

fn document(dir: &Path) -> PathBuf {
    let path = dir.join("өтініш.txt");
    std::fs::write(&path, "Анықтама беруіңізді сұраймын.\n").unwrap();
    path
}

#[test]
fn the_valid_keys_of_the_pack_sign_what_qyzmet_verify_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let document = document(dir.path());
    for p12 in [
        "individual_valid_individual_valid",
        "legal_valid_head",
        "legal_valid_employee_signright",
        "legal_valid_treasury_client",
    ] {
        let cms = sign(dir.path(), p12, &document);
        let out = verify(&cms);
        assert_eq!(out.status.code(), Some(0), "{p12}: {}", text(&out));
        assert!(text(&out).starts_with("VALID"), "{p12}: {}", text(&out));
    }
}

#[test]
fn every_key_crl_166_holds_is_named_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let document = document(dir.path());
    // The file names say "revoked" (certificateHold); CRL #166 also holds two "valid" ones
    // (README: trust the CRL), one of them superseded.
    for p12 in [
        "individual_revoked_individual_revoked",
        "legal_revoked_employee",
        "legal_revoked_employee_signright",
        "legal_revoked_head",
        "legal_revoked_infosystem",
        "legal_revoked_treasury_client",
        "legal_valid_employee",
        "legal_valid_infosystem",
    ] {
        let cms = sign(dir.path(), p12, &document);
        let out = verify(&cms);
        assert_eq!(out.status.code(), Some(1), "{p12}: {}", text(&out));
        assert!(
            text(&out).contains("REVOKED") && text(&out).contains("revoked at 2026-"),
            "{p12}: {}",
            text(&out)
        );
    }
}

#[test]
fn a_wrong_password_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "Qwerty13\n").unwrap();
    let out = qyzmet(&[
        "sign",
        "--p12",
        &nca("p12/individual_valid_individual_valid.p12"),
        "--password-file",
        password.to_str().unwrap(),
        document(dir.path()).to_str().unwrap(),
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out).contains("password"), "{}", text(&out));
}

/// The PyPI gostcrypto package, where it is installed (CI installs it: QYZMET_REQUIRE_GOST_ORACLE).
fn gostcrypto() -> Option<String> {
    let python = std::env::var("QYZMET_PYTHON").unwrap_or_else(|_| "python3".into());
    let found = Command::new(&python)
        .args(["-c", "import gostcrypto"])
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(python);
    }
    assert!(
        std::env::var_os("QYZMET_REQUIRE_GOST_ORACLE").is_none(),
        "gostcrypto is required (QYZMET_REQUIRE_GOST_ORACLE) but {python} cannot import it"
    );
    eprintln!("skipped: gostcrypto is not installed for {python}");
    None
}

fn oracle(python: &str, args: &[&str]) -> String {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../pki/tests/oracle/gostcrypto_oracle.py");
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn gostcrypto_verifies_what_qyzmet_sign_makes_with_the_ncas_key() {
    let Some(python) = gostcrypto() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cms = std::fs::read(sign(
        dir.path(),
        "individual_valid_individual_valid",
        &document(dir.path()),
    ))
    .unwrap();
    let info = cms::content_info::ContentInfo::from_der(&cms).unwrap();
    let signed: cms::signed_data::SignedData = info.content.decode_as().unwrap();
    let signer = signed.signer_infos.0.get(0).unwrap();
    let attributes = signer.signed_attrs.as_ref().unwrap().to_der().unwrap();
    let certificate = signed
        .certificates
        .as_ref()
        .and_then(|set| {
            set.0.iter().find_map(|c| match c {
                cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                _ => None,
            })
        })
        .unwrap();
    let public = der::asn1::OctetString::from_der(
        certificate
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    )
    .unwrap();
    // The oracle hashes the signed attributes with its own Streebog and checks r‖s with its own curve.
    let digest = oracle(&python, &["streebog512", &hex::encode(&attributes)]);
    let signature = hex::encode(signer.signature.as_bytes());
    let public = hex::encode(public.as_bytes());
    assert_eq!(
        oracle(
            &python,
            &["verify", "gost2015", &public, &digest, &signature]
        ),
        "valid"
    );
    let mut forged = signer.signature.as_bytes().to_vec();
    forged[5] ^= 1;
    assert_eq!(
        oracle(
            &python,
            &["verify", "gost2015", &public, &digest, &hex::encode(forged)]
        ),
        "invalid"
    );
}
