//! `qyzmet sign` with the NCA's own test key stores (KalkanCrypt's PKCS#12: BER, 3DES/RC2, a GOST-2015
//! key), checked by an independent GOST implementation (PyPI gostcrypto) and by `qyzmet verify`, which
//! names every key CRL #166 revokes (issue 18).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use der::{Decode, Encode};

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
        .output()
        .expect("run qyzmet")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
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
