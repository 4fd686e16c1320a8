//! What our certification authorities issue passes an independent linter: pkilint (PyPI, pinned in
//! `.ci/run`), which checks certificates against RFC 5280, CRLs against RFC 5280 §5 and OCSP
//! responses against RFC 6960 — rules our own parsers, being lenient readers of what others
//! issue, do not enforce on what we write.
//!
//! For every key algorithm the CAs issue for (`KeyAlgorithm::ALL` and `KeyAlgorithm::GOST`) the test
//! creates a deployment's hierarchy as `qyzmet pki init` and `qyzmet demo` do (`Service::init` on a
//! fresh store), issues a certificate of every profile, revokes one, and lints: every certificate (`lint_pkix_cert`), the NCA's empty
//! first CRL and its CRL with the entry, the other CAs' CRLs (`lint_crl -t CRL -p PKIX`), an OCSP
//! answer "good" and one "revoked" as the web node's responder gives them (`lint_ocsp_response`).
//! A finding of severity ERROR or FATAL fails the test unless [`TOLERATED`] names its code with a
//! reason; WARNING, NOTICE and INFO findings are printed.
//!
//! pkilint is looked for with the Python at `QYZMET_PYTHON` (default `python3`); without it the test
//! says so and passes, unless `QYZMET_REQUIRE_PKILINT=1` (set by CI) makes that a failure. The tools
//! run in one Python process (each tool's own `main` with the command line it would be given), so
//! that the dozens of documents cost one interpreter start rather than one each; every document's
//! command line is printed for running it by hand.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use jiff::Timestamp;
use qyzmet_ca::{Authorities, Service, code, ocsp_status};
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_pki::authority::{EmployeeRole, Endpoints, Issue, Profile, serial_hex};
use qyzmet_pki::crl::RevocationReason;
use qyzmet_pki::name::{Holder, Organisation, simple_name};
use qyzmet_pki::{KeyAlgorithm, PrivateKey, ocsp};
use qyzmet_store::testing::Scratch;
use qyzmet_store::{Backend, Store};
use x509_cert::Certificate;

const PASSPHRASE: &[u8] = b"pkilint test passphrase";
const ACTOR: &str = "admin:pkilint";

/// Findings of severity ERROR or FATAL that are not defects of ours: (pkilint finding code, why).
///
/// Empty on purpose. pkilint 0.13.3 does not know the NCA's GOST key algorithms (GOST 34.310-2004,
/// 1.2.398.3.10.1.1.1.1, and GOST R 34.10-2015 512, 1.2.398.3.10.1.1.2.2); what it says of our GOST
/// certificates is only NOTICE, so it fails nothing and needs no entry here:
/// `pkix.public_key_algorithm_unsupported` (it cannot check the key usage against the key type) and,
/// on the self-signed root, `pkix.aki_absent_self_issued_and_unsupported_algorithm` (a self-signed
/// root may omit the authority key identifier, RFC 5280 §4.2.1.1, which pkilint accepts once it has
/// checked the self-signature — a GOST one it cannot check). Both are the linter's unfamiliarity, not
/// a defect: the GOST certificates' names, extensions, validity and encoding, and the GOST-signed CRLs
/// and OCSP answers, are linted like the others. The NCA's own GOST CAs draw the same notices.
/// An entry added here must name one code and say why it is not ours to fix.
const TOLERATED: &[(&str, &str)] = &[];

/// What pkilint is asked to lint: a document and the tool with its options.
struct Document {
    path: PathBuf,
    /// The tool (a script of pkilint's) and its arguments before the file.
    tool: &'static str,
    options: &'static [&'static str],
    /// The certificate profile, for the coverage check (`None` for a CRL or an OCSP response).
    profile: Option<Profile>,
}

const CERTIFICATE: (&str, &[&str]) = ("lint_pkix_cert", &[]);
const CRL: (&str, &[&str]) = ("lint_crl", &["-t", "CRL", "-p", "PKIX"]);
const OCSP_RESPONSE: (&str, &[&str]) = ("lint_ocsp_response", &[]);

impl Document {
    fn write(
        dir: &Path,
        name: &str,
        der: &[u8],
        (tool, options): (&'static str, &'static [&'static str]),
        profile: Option<Profile>,
    ) -> Document {
        let path = dir.join(format!("{name}.der"));
        std::fs::write(&path, der).unwrap();
        Document {
            path,
            tool,
            options,
            profile,
        }
    }

    fn certificate(dir: &Path, name: &str, certificate: &Certificate, profile: Profile) -> Self {
        let der = der::Encode::to_der(certificate).unwrap();
        Document::write(dir, name, &der, CERTIFICATE, Some(profile))
    }

    /// The arguments of the tool's `lint` command: every finding from INFO up, as JSON.
    fn arguments(&self) -> Vec<String> {
        ["lint", "-s", "INFO", "-f", "JSON"]
            .iter()
            .chain(self.options)
            .map(|a| a.to_string())
            .chain([self.path.display().to_string()])
            .collect()
    }
}

/// Every key algorithm the CAs issue for: `KeyAlgorithm::ALL` (those OpenSSL also verifies) and the
/// NCA's `KeyAlgorithm::GOST`. The enum has no list of its variants; the exhaustive match below is one,
/// so that a variant added to it does not compile until listed here, and fails the test until it is in
/// one of the two groups — and so linted.
fn every_algorithm() -> Vec<KeyAlgorithm> {
    use KeyAlgorithm::{EcdsaP256, Gost2004, Gost2015, Rsa2048};
    let issued: Vec<_> = KeyAlgorithm::ALL
        .into_iter()
        .chain(KeyAlgorithm::GOST)
        .collect();
    for variant in [Rsa2048, EcdsaP256, Gost2004, Gost2015] {
        match variant {
            Rsa2048 | EcdsaP256 | Gost2004 | Gost2015 => assert!(
                issued.contains(&variant),
                "{variant} is in neither KeyAlgorithm::ALL nor KeyAlgorithm::GOST"
            ),
        }
    }
    issued
}

/// Every profile the CAs issue. The match is exhaustive so that a profile added to `Profile` does
/// not compile until it is listed here, and the test then fails until it lints one.
fn every_profile() -> BTreeSet<&'static str> {
    let code = |profile: &Profile| match profile {
        Profile::RootCa
        | Profile::IssuingCa
        | Profile::Signing { .. }
        | Profile::Authentication { .. }
        | Profile::Tls { .. }
        | Profile::OcspResponder
        | Profile::TimeStamping => profile.code(),
    };
    [
        Profile::RootCa,
        Profile::IssuingCa,
        Profile::Signing { role: None },
        Profile::Authentication { role: None },
        Profile::Tls {
            dns_names: Vec::new(),
        },
        Profile::OcspResponder,
        Profile::TimeStamping,
    ]
    .iter()
    .map(code)
    .collect()
}

fn iin(n: u32) -> Iin {
    (0..1000)
        .find_map(|k| Iin::parse(&format!("8505154{n:02}{k:03}")).ok())
        .unwrap()
}

fn bin(n: u32) -> Bin {
    (0..1000)
        .find_map(|k| Bin::parse(&format!("0503400{n:02}{k:03}")).ok())
        .unwrap()
}

fn holder(n: u32, organisation: Option<&str>) -> Holder {
    Holder {
        surname: "Құнанбайұлы".into(),
        name: "Абай".into(),
        patronymic: Some("Құнанбайұлы".into()),
        iin: iin(n),
        organisation: organisation.map(|name| Organisation {
            name: name.into(),
            bin: bin(n),
        }),
        email: Some("abai@example.kz".into()),
    }
}

/// The hierarchy of one algorithm on a fresh store, a certificate of every profile, a revocation,
/// and the documents to lint written into `dir`.
async fn documents(store: &Store, algorithm: KeyAlgorithm, dir: &Path) -> Vec<Document> {
    let service = Service {
        store: store.clone(),
        endpoints: Endpoints {
            base_url: "http://127.0.0.1:8080".into(),
        },
    };
    let authorities = service.init(algorithm, PASSPHRASE, ACTOR).await.unwrap();
    let alg = algorithm.code();
    let mut out = Vec::new();
    // The NCA's first CRL, published empty by `init`.
    let first_crl = store.latest_crl(code::NCA).await.unwrap().unwrap();
    assert_eq!(first_crl.number, 1);
    out.push(Document::write(
        dir,
        &format!("{alg}-nca-crl-empty"),
        &first_crl.crl_der,
        CRL,
        None,
    ));

    for ca in &authorities.cas {
        let profile = if ca.code == code::ROOT {
            Profile::RootCa
        } else {
            Profile::IssuingCa
        };
        out.push(Document::certificate(
            dir,
            &format!("{alg}-{}", ca.code),
            &ca.certificate,
            profile,
        ));
    }
    for (_, responder) in &authorities.responders {
        out.push(Document::certificate(
            dir,
            &format!("{alg}-{}", responder.code),
            &responder.certificate,
            Profile::OcspResponder,
        ));
    }
    out.push(Document::certificate(
        dir,
        &format!("{alg}-tsa"),
        &authorities
            .tsa
            .as_ref()
            .expect("one passphrase unlocks the TSA")
            .certificate,
        Profile::TimeStamping,
    ));

    // Personal certificates: an individual and a legal entity's employee from the NCA, an official
    // from the state bodies' CA.
    let individual = holder(1, None);
    let employee = holder(2, Some("«Алаш» ЖШС"));
    let official = holder(3, Some("Қазақстан Республикасы Цифрлық даму министрлігі"));
    let role = Some(EmployeeRole::RightToSign);
    let mut personal = Vec::new();
    for (ca, who, holder, role) in [
        (code::NCA, "individual", &individual, None),
        (code::NCA, "employee", &employee, role),
        (code::GOV, "official", &official, role),
    ] {
        for profile in [Profile::Signing { role }, Profile::Authentication { role }] {
            let issued = service
                .issue_key_store(&authorities, ca, holder, profile.clone(), algorithm, ACTOR)
                .await
                .unwrap();
            let name = format!("{alg}-{ca}-{}-{who}", profile.code());
            out.push(Document::certificate(
                dir,
                &name,
                &issued.certificate,
                profile,
            ));
            personal.push(issued.certificate);
        }
    }
    let tls_key = PrivateKey::generate(algorithm).unwrap();
    let host = "qyzmet.example.kz";
    let tls = Profile::Tls {
        dns_names: vec![host.into()],
    };
    let tls_certificate = service
        .issue(
            &authorities,
            code::NCA,
            &Issue {
                subject: simple_name(&[(const_oid::db::rfc4519::COMMON_NAME, host)]).unwrap(),
                public_key: tls_key.public_key_info().unwrap(),
                profile: tls.clone(),
                not_before: Timestamp::now(),
            },
            ACTOR,
        )
        .await
        .unwrap();
    out.push(Document::certificate(
        dir,
        &format!("{alg}-nca-tls"),
        &tls_certificate,
        tls,
    ));

    // The individual's signing certificate is revoked: the NCA's CRL now has an entry.
    let [revoked, good, ..] = personal.as_slice() else {
        unreachable!("six personal certificates were issued")
    };
    let revoked_serial = serial_hex(&revoked.tbs_certificate.serial_number);
    service
        .revoke(
            &authorities,
            &revoked_serial,
            RevocationReason::KeyCompromise,
            Timestamp::now(),
            ACTOR,
        )
        .await
        .unwrap();
    for ca in [code::ROOT, code::NCA, code::GOV] {
        let crl = store.latest_crl(ca).await.unwrap().unwrap();
        let name = if ca == code::NCA {
            format!("{alg}-nca-crl-with-entry")
        } else {
            format!("{alg}-{ca}-crl-empty")
        };
        out.push(Document::write(dir, &name, &crl.crl_der, CRL, None));
    }

    // OCSP answers as the web node gives them: the responders unlocked alone, the register consulted.
    let trust = service.load_services(PASSPHRASE).await.unwrap();
    let nca = authorities.ca(code::NCA).unwrap().certificate.clone();
    for (certificate, state) in [(good, "good"), (revoked, "revoked")] {
        let der = ocsp_answer(store, &trust, &authorities, certificate, &nca).await;
        let answer = ocsp::parse_response(&der, certificate, &nca, &nca, Timestamp::now()).unwrap();
        let expected_revoked = state == "revoked";
        assert_eq!(
            matches!(answer.status, ocsp::Status::Revoked { .. }),
            expected_revoked,
            "{alg} OCSP {state}: {:?}",
            answer.status
        );
        out.push(Document::write(
            dir,
            &format!("{alg}-ocsp-{state}"),
            &der,
            OCSP_RESPONSE,
            None,
        ));
    }
    out
}

async fn ocsp_answer(
    store: &Store,
    trust: &qyzmet_ca::TrustServices,
    authorities: &Authorities,
    certificate: &Certificate,
    issuer: &Certificate,
) -> Vec<u8> {
    let request = ocsp::build_request(certificate, issuer, Some(b"pkilint nonce")).unwrap();
    let serial = serial_hex(&certificate.tbs_certificate.serial_number);
    let record = store.certificate(&serial).await.unwrap();
    assert!(authorities.issuer_of(certificate).is_some());
    trust.answer_ocsp(
        &request,
        |ca, asked| {
            if serial_hex(asked) == serial {
                ocsp_status(record.as_ref(), ca)
            } else {
                ocsp::Status::Unknown
            }
        },
        Timestamp::now(),
    )
}

/// Runs each tool's `main` with its command-line arguments, one document after another, and prints
/// one JSON line per document: the exit code and what the tool printed.
const DRIVER: &str = r#"
import contextlib, io, json, sys
from pkilint.bin import lint_crl, lint_ocsp_response, lint_pkix_cert
tools = {"lint_pkix_cert": lint_pkix_cert.main, "lint_crl": lint_crl.main,
         "lint_ocsp_response": lint_ocsp_response.main}
for tool, args in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = tools[tool](args)
        except SystemExit as e:
            code = e.code
    print(json.dumps({"exit": code, "stdout": out.getvalue(), "stderr": err.getvalue()}))
"#;

/// The Python with pkilint, or `None` (with the reason printed) when the test is to be skipped.
fn python() -> Option<String> {
    let python = std::env::var("QYZMET_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import pkilint.bin.lint_pkix_cert"])
        .output();
    let missing = match probe {
        Ok(o) if o.status.success() => return Some(python),
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
        Err(e) => e.to_string(),
    };
    assert!(
        std::env::var("QYZMET_REQUIRE_PKILINT").as_deref() != Ok("1"),
        "QYZMET_REQUIRE_PKILINT=1 but {python} has no pkilint: {missing}"
    );
    eprintln!("note: {python} has no pkilint ({missing}); skipping the lint of our PKI");
    None
}

/// One finding as pkilint reports it.
#[derive(Debug)]
struct Finding {
    severity: String,
    code: String,
    validator: String,
    node: String,
    message: String,
}

fn findings(report: &str) -> Vec<Finding> {
    let report: serde_json::Value = serde_json::from_str(report.trim())
        .unwrap_or_else(|e| panic!("pkilint's JSON report: {e}: {report}"));
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let mut out = Vec::new();
    for result in report["results"].as_array().unwrap() {
        for finding in result["finding_descriptions"].as_array().unwrap() {
            out.push(Finding {
                severity: text(&finding["severity"]),
                code: text(&finding["code"]),
                validator: text(&result["validator"]),
                node: text(&result["node_path"]),
                message: text(&finding["message"]),
            });
        }
    }
    out
}

#[tokio::test]
async fn what_our_authorities_issue_passes_pkilint() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut documents_all = Vec::new();
    for algorithm in every_algorithm() {
        let scratch = Scratch::new(Backend::Sqlite).await.unwrap();
        let mut produced = documents(&scratch.store, algorithm, dir.path()).await;
        scratch.finish().await;
        let linted: BTreeSet<_> = produced
            .iter()
            .filter_map(|d| d.profile.as_ref().map(Profile::code))
            .collect();
        assert_eq!(linted, every_profile(), "{algorithm}: profiles linted");
        documents_all.append(&mut produced);
    }

    let jobs: Vec<(&str, Vec<String>)> = documents_all
        .iter()
        .map(|d| (d.tool, d.arguments()))
        .collect();
    let output = Command::new(&python)
        .args(["-c", DRIVER, &serde_json::to_string(&jobs).unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pkilint driver: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let answers: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        answers.len(),
        documents_all.len(),
        "one answer per document"
    );

    let mut failures = Vec::new();
    let mut counts = [0usize; 2];
    for (document, answer) in documents_all.iter().zip(answers) {
        let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
        let command = format!("{} {}", document.tool, document.arguments().join(" "));
        let report = answer["stdout"].as_str().unwrap_or_default();
        // The tools exit with the number of findings shown, so only an empty report means failure.
        if report.trim().is_empty() {
            failures.push(format!(
                "{command}: no report (exit {}): {}",
                answer["exit"], answer["stderr"]
            ));
            continue;
        }
        let found = findings(report);
        println!("{command}: {} finding(s)", found.len());
        for f in found {
            let fails = matches!(f.severity.as_str(), "ERROR" | "FATAL");
            let tolerated = TOLERATED.iter().find(|(code, _)| *code == f.code);
            let line = format!(
                "  {} {} ({}) at {}{}",
                f.severity,
                f.code,
                f.validator,
                f.node,
                if f.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", f.message)
                }
            );
            match (fails, tolerated) {
                (true, None) => {
                    counts[0] += 1;
                    failures.push(format!("{command}: {} {}", f.severity, f.code));
                    println!("{line}");
                }
                (true, Some((_, why))) => {
                    counts[1] += 1;
                    println!("{line}\n    tolerated: {why}");
                }
                (false, _) => println!("{line}"),
            }
        }
    }
    println!(
        "{} documents linted; {} error(s), {} tolerated",
        documents_all.len(),
        counts[0],
        counts[1]
    );
    assert!(
        failures.is_empty(),
        "pkilint findings of severity ERROR or FATAL:\n{}",
        failures.join("\n")
    );
}
