//! Shared by the interop tests: a small CA hierarchy and an OpenSSL runner.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use der::Encode;
use der::EncodePem;
use jiff::Timestamp;
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_pki::authority::{Authority, Endpoints, Issue, Profile};
use qyzmet_pki::name::{Holder, Organisation, simple_name};
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use x509_cert::Certificate;

pub fn endpoints() -> Endpoints {
    Endpoints {
        base_url: "http://127.0.0.1:9".into(),
    }
}

pub struct Hierarchy {
    pub root: Authority,
    pub nca: Authority,
}

pub fn hierarchy(algorithm: KeyAlgorithm) -> Hierarchy {
    use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME};
    let now = Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let root = Authority::create_root(
        "root",
        simple_name(&[(COMMON_NAME, "Qyzmet Test Root"), (COUNTRY_NAME, "KZ")]).unwrap(),
        PrivateKey::generate(algorithm).unwrap(),
        &endpoints(),
        now,
    )
    .unwrap();
    let nca = root
        .create_subordinate(
            "nca",
            simple_name(&[
                (COMMON_NAME, "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (TEST)"),
                (COUNTRY_NAME, "KZ"),
            ])
            .unwrap(),
            PrivateKey::generate(algorithm).unwrap(),
            &endpoints(),
            now,
        )
        .unwrap();
    Hierarchy { root, nca }
}

pub fn iin(n: u32) -> Iin {
    (0..1000)
        .find_map(|k| Iin::parse(&format!("9001014{n:02}{k:03}")).ok())
        .unwrap()
}

pub fn bin(n: u32) -> Bin {
    (0..1000)
        .find_map(|k| Bin::parse(&format!("1001400{n:02}{k:03}")).ok())
        .unwrap()
}

pub fn holder(n: u32, employer: bool) -> Holder {
    Holder {
        surname: "Төлеуов".into(),
        name: "Ерғали".into(),
        patronymic: Some("Серікұлы".into()),
        iin: iin(n),
        organisation: employer.then(|| Organisation {
            name: "«Ақжол» ЖШС".into(),
            bin: bin(n),
        }),
        email: None,
    }
}

pub fn issue(
    ca: &Authority,
    holder: &Holder,
    profile: Profile,
    key: &PrivateKey,
    not_before: Timestamp,
) -> Certificate {
    ca.issue(
        &Issue {
            subject: holder.subject().unwrap(),
            public_key: key.public_key_info().unwrap(),
            profile,
            not_before,
        },
        &endpoints(),
    )
    .unwrap()
}

pub fn write_pem(path: &Path, certs: &[&Certificate]) {
    let text: String = certs
        .iter()
        .map(|c| c.to_pem(der::pem::LineEnding::LF).unwrap())
        .collect();
    std::fs::write(path, text).unwrap();
}

pub fn write_der<T: Encode>(path: &Path, value: &T) {
    std::fs::write(path, value.to_der().unwrap()).unwrap();
}

pub fn openssl(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed (.ci/run installs it)")
}

pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
