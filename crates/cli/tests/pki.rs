//! `qyzmet pki`, `sign` and `verify` as an operator and a relying party use them, with OpenSSL on the
//! other side.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use qyzmet_store::{Location, Store, both_backends};

both_backends!(an_operator_initialises_issues_lists_and_revokes);

fn qyzmet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(args)
        .env_remove("QYZMET_DATABASE_URL")
        .env_remove("QYZMET_CA_PASSPHRASE")
        .output()
        .expect("run qyzmet")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn with_store(store: &Store, args: &[&str]) -> Output {
    let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    match store.location() {
        Location::DataDir(dir) => all.extend(["--data".into(), dir.display().to_string()]),
        Location::Postgres(url) => all.extend(["--database-url".into(), url.clone()]),
    }
    qyzmet(&all.iter().map(String::as_str).collect::<Vec<_>>())
}

fn openssl(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed (.ci/run installs it)")
}

fn ok(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn path(dir: &Path, file: &str) -> String {
    dir.join(file).to_string_lossy().into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

async fn an_operator_initialises_issues_lists_and_revokes(store: &Store) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("pass"), "ұзын құпия сөз\n").unwrap();
    std::fs::write(d.join("p12pass"), "p12-пароль\n").unwrap();
    let pass = path(d, "pass");
    let init = [
        "pki",
        "init",
        "--passphrase-file",
        &pass,
        "--public-url",
        "http://127.0.0.1:9",
    ];
    ok(&with_store(store, &init), "pki init");
    let again = with_store(store, &init);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already initialised"));
    let wrong = std::fs::write(d.join("wrong"), "nope")
        .map(|_| path(d, "wrong"))
        .unwrap();
    let out = with_store(
        store,
        &["pki", "crl", "--ca", "nca", "--passphrase-file", &wrong],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "a wrong passphrase unlocks nothing"
    );
    assert!(
        text(&out.stderr).contains("wrong password or passphrase"),
        "{}",
        text(&out.stderr)
    );

    for ca in ["root", "nca"] {
        ok(
            &with_store(
                store,
                &[
                    "pki",
                    "certificate",
                    ca,
                    "-o",
                    &path(d, &format!("{ca}.pem")),
                ],
            ),
            "pki certificate",
        );
    }
    // Seed 003 annexes 6–7: an SSL certificate from a PKCS#10 request made by OpenSSL.
    ok(
        &openssl(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &path(d, "tls.key"),
            "-subj",
            "/CN=egov.example.kz/C=KZ",
            "-addext",
            "subjectAltName=DNS:egov.example.kz",
            "-out",
            &path(d, "tls.csr"),
        ]),
        "openssl req",
    );
    let issue_tls = [
        "pki",
        "issue",
        "--profile",
        "tls",
        "--csr",
        &path(d, "tls.csr"),
        "-o",
        &path(d, "tls.pem"),
        "--passphrase-file",
        &pass,
    ];
    ok(&with_store(store, &issue_tls), "pki issue --csr");
    ok(
        &openssl(&[
            "verify",
            "-CAfile",
            &path(d, "root.pem"),
            "-untrusted",
            &path(d, "nca.pem"),
            "-purpose",
            "sslserver",
            &path(d, "tls.pem"),
        ]),
        "openssl verify tls",
    );

    // Input that names no CA, or the root for an end-entity certificate, is refused with exit 1.
    let unknown_ca = with_store(
        store,
        &["pki", "crl", "--ca", "nobody", "--passphrase-file", &pass],
    );
    assert_eq!(
        unknown_ca.status.code(),
        Some(1),
        "{}",
        text(&unknown_ca.stderr)
    );
    assert!(
        text(&unknown_ca.stderr).contains("ca: unknown certification authority"),
        "{}",
        text(&unknown_ca.stderr)
    );
    let from_root = with_store(
        store,
        &[
            "pki",
            "issue",
            "--ca",
            "root",
            "--profile",
            "tls",
            "--csr",
            &path(d, "tls.csr"),
            "--passphrase-file",
            &pass,
        ],
    );
    assert_eq!(
        from_root.status.code(),
        Some(1),
        "{}",
        text(&from_root.stderr)
    );

    let iin = "850515400011";
    let iin = (0..100)
        .map(|k| format!("8505154000{k:02}"))
        .find(|candidate| qyzmet(&["id", "check", candidate]).status.success())
        .unwrap_or_else(|| iin.to_owned());
    let issue = [
        "pki",
        "issue",
        "--iin",
        &iin,
        "--surname",
        "Әлімов",
        "--name",
        "Ерлан",
        "--p12-out",
        &path(d, "signer.p12"),
        "--p12-password-file",
        &path(d, "p12pass"),
        "--algorithm",
        "rsa2048",
        "--passphrase-file",
        &pass,
    ];
    ok(&with_store(store, &issue), "pki issue --p12-out");
    let opened = openssl(&[
        "pkcs12",
        "-in",
        &path(d, "signer.p12"),
        "-passin",
        "pass:p12-пароль",
        "-nokeys",
        "-clcerts",
    ]);
    assert!(
        text(&opened.stdout).contains("IIN"),
        "openssl pkcs12 opens the file: {}",
        text(&opened.stderr)
    );
    let bad_name = with_store(
        store,
        &[
            "pki",
            "issue",
            "--iin",
            &iin,
            "--surname",
            " ",
            "--name",
            "X",
            "--p12-out",
            &path(d, "x.p12"),
            "--p12-password-file",
            &path(d, "p12pass"),
            "--passphrase-file",
            &pass,
        ],
    );
    assert_eq!(bad_name.status.code(), Some(1));
    assert!(
        text(&bad_name.stderr).contains("surname"),
        "{}",
        text(&bad_name.stderr)
    );

    let listed = json(&with_store(
        store,
        &["pki", "list", "--iin", &iin, "--json"],
    ));
    let serial = listed[0]["serial"].as_str().unwrap().to_owned();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["profile"], "signing");

    std::fs::write(d.join("doc.txt"), "Анықтама беруді сұраймын").unwrap();
    // A PKCS#12 written by OpenSSL signs with `qyzmet sign` as well.
    ok(
        &openssl(&[
            "pkcs12",
            "-in",
            &path(d, "signer.p12"),
            "-passin",
            "pass:p12-пароль",
            "-nodes",
            "-out",
            &path(d, "all.pem"),
        ]),
        "openssl pkcs12 -nodes",
    );
    ok(
        &openssl(&[
            "pkcs12",
            "-export",
            "-in",
            &path(d, "all.pem"),
            "-passout",
            "pass:theirs",
            "-out",
            &path(d, "theirs.p12"),
        ]),
        "openssl pkcs12 -export",
    );
    std::fs::write(d.join("theirs.pass"), "theirs").unwrap();
    sign(d, "theirs.p12", "theirs.pass", "theirs.p7s", "doc.txt");
    openssl_verifies(d, "theirs.p7s", "openssl verifies it");
    sign(d, "signer.p12", "p12pass", "doc.p7s", "doc.txt");
    openssl_verifies(d, "doc.p7s", "openssl cms -verify");

    let crls = |d: &Path| {
        for ca in ["root", "nca"] {
            ok(
                &with_store(
                    store,
                    &[
                        "pki",
                        "crl",
                        "--ca",
                        ca,
                        "-o",
                        &path(d, &format!("{ca}.crl")),
                        "--passphrase-file",
                        &pass,
                    ],
                ),
                "pki crl",
            );
        }
    };
    crls(d);
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--trust",
            &path(d, "root.pem").leak()[..],
            "--crl",
            path(d, "root.crl").leak(),
            "--crl",
            path(d, "nca.crl").leak(),
            "--json",
        ];
        args.extend_from_slice(extra);
        args.push(path(d, "doc.p7s").leak());
        qyzmet(&args)
    };
    let valid = verify(&["--expect-iin", &iin]);
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid.stdout));
    assert_eq!(json(&valid)["indication"], "TOTAL_PASSED");

    ok(
        &with_store(
            store,
            &[
                "pki",
                "revoke",
                &serial,
                "--reason",
                "affiliation-changed",
                "--passphrase-file",
                &pass,
            ],
        ),
        "pki revoke",
    );
    let twice = with_store(
        store,
        &[
            "pki",
            "revoke",
            &serial,
            "--reason",
            "key-compromise",
            "--passphrase-file",
            &pass,
        ],
    );
    assert_eq!(twice.status.code(), Some(1));
    assert!(
        text(&twice.stderr).contains("already revoked"),
        "{}",
        text(&twice.stderr)
    );
    crls(d);
    let crl_text = text(
        &openssl(&[
            "crl",
            "-inform",
            "DER",
            "-in",
            &path(d, "nca.crl"),
            "-noout",
            "-text",
        ])
        .stdout,
    );
    assert!(
        crl_text.contains(&serial) && crl_text.contains("Affiliation Changed"),
        "{crl_text}"
    );
    let revoked = verify(&[]);
    assert_eq!(revoked.status.code(), Some(1));
    let report = json(&revoked);
    assert_eq!(report["signers"][0]["failures"][0]["code"], "REVOKED");
    assert_eq!(
        report["signers"][0]["failures"][0]["revocation"]["reason"],
        "affiliation-changed"
    );
    assert_eq!(
        report["signers"][0]["failures"][0]["message"]["kk"],
        "Сертификат кері қайтарылған."
    );
    let revoked_list = json(&with_store(
        store,
        &["pki", "list", "--status", "revoked", "--json"],
    ));
    assert_eq!(revoked_list.as_array().unwrap().len(), 1);
}

/// OpenSSL verifies the attached CMS `signature` (in `d`) against `d/root.pem`.
fn openssl_verifies(d: &Path, signature: &str, what: &str) {
    let (input, output) = (path(d, signature), path(d, &format!("{signature}.out")));
    let args = [
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        &input,
        "-CAfile",
        &path(d, "root.pem"),
        "-out",
        &output,
    ];
    ok(&openssl(&args), what);
}

/// `qyzmet sign` of `d/document` with a PKCS#12 and its password file into `d/signature`.
fn sign(d: &Path, p12: &str, password: &str, signature: &str, document: &str) {
    let args = [
        "sign",
        "--p12",
        &path(d, p12),
        "--password-file",
        &path(d, password),
        "-o",
        &path(d, signature),
        &path(d, document),
    ];
    ok(&qyzmet(&args), &format!("sign with {p12}"));
}

/// A running demo: its URL and the process.
struct Demo {
    child: Child,
    url: String,
    /// The file name of the first applicant's signing key (issued by the NCA).
    applicant_key: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo(data: &str) -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(["demo", "--data", data, "--listen", "127.0.0.1:0"])
        .env_remove("QYZMET_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start demo");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the demo prints its URLs").unwrap();
        if let Some(url) = line.split_whitespace().find(|w| w.ends_with("/healthz")) {
            break url.trim_end_matches("/healthz").to_owned();
        }
    };
    // The key list follows once the CAs are ready.
    let applicant_key = loop {
        let line = lines.next().expect("the demo lists its keys").unwrap();
        if line.trim_start().starts_with("individual") && line.ends_with("-signing.p12") {
            break line.split_whitespace().last().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Demo {
        child,
        url,
        applicant_key,
    }
}

#[test]
fn the_demo_serves_crl_ocsp_and_tsa_to_our_verifier_and_to_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = path(d, "data");
    let demo = start_demo(&data);
    let keys = d.join("data").join("keys");
    let p12 = keys.join(&demo.applicant_key);
    let iin = p12.file_name().unwrap().to_string_lossy()[..12].to_owned();
    let password = keys.join("password.txt");
    ok(
        &qyzmet(&[
            "pki",
            "certificate",
            "root",
            "--data",
            &data,
            "-o",
            &path(d, "root.pem"),
        ]),
        "root",
    );
    ok(
        &qyzmet(&[
            "pki",
            "certificate",
            "nca",
            "--data",
            &data,
            "-o",
            &path(d, "nca.pem"),
        ]),
        "nca",
    );
    std::fs::write(d.join("doc.bin"), b"\x00binary\xffdocument").unwrap();

    // Signed with a time-stamp from the demo's TSA, detached.
    let tsa = format!("{}/pki/tsa", demo.url);
    let sign = [
        "sign",
        "--p12",
        &p12.to_string_lossy(),
        "--password-file",
        &password.to_string_lossy(),
        "--detached",
        "--tsa",
        &tsa,
        "-o",
        &path(d, "doc.p7s"),
        &path(d, "doc.bin"),
    ];
    ok(&qyzmet(&sign), "sign --tsa");
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--trust",
            path(d, "root.pem").leak(),
            "--data",
            path(d, "doc.bin").leak(),
            "--json",
        ];
        args.extend_from_slice(extra);
        args.push(path(d, "doc.p7s").leak());
        qyzmet(&args)
    };
    // Revocation from the CRL at the certificate's distribution point, then from OCSP.
    for extra in [&[][..], &["--ocsp"][..]] {
        let out = verify(&[&["--expect-iin", &iin][..], extra].concat());
        let report = json(&out);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {report:#}");
        let source = report["signers"][0]["revocation"][0]["source"]
            .as_str()
            .unwrap();
        assert!(
            source.starts_with(if extra.is_empty() {
                "CRL #1"
            } else {
                "OCSP http://"
            }),
            "{source}"
        );
        assert!(
            report["signers"][0]["time_stamp"]["time"].is_string(),
            "{report:#}"
        );
    }
    // Another applicant's IIN; changed data.
    let other = verify(&["--expect-iin", "000000000000"]);
    assert_eq!(
        other.status.code(),
        Some(2),
        "an invalid IIN is a usage error"
    );
    std::fs::write(d.join("doc.bin"), b"\x00binary\xffdocumenT").unwrap();
    let tampered = verify(&[]);
    assert_eq!(tampered.status.code(), Some(1));
    assert_eq!(
        json(&tampered)["signers"][0]["failures"][0]["code"],
        "TAMPERED"
    );

    // OpenSSL asks the demo's OCSP responder over HTTP.
    ok(
        &openssl(&[
            "pkcs12",
            "-in",
            &p12.to_string_lossy(),
            "-passin",
            "pass:qyzmet-demo",
            "-nokeys",
            "-clcerts",
            "-out",
            &path(d, "leaf.pem"),
        ]),
        "pkcs12",
    );
    let ocsp = openssl(&[
        "ocsp",
        "-issuer",
        &path(d, "nca.pem"),
        "-cert",
        &path(d, "leaf.pem"),
        "-url",
        &format!("{}/pki/ocsp", demo.url),
        "-CAfile",
        &path(d, "root.pem"),
    ]);
    let answer = format!("{}{}", text(&ocsp.stdout), text(&ocsp.stderr));
    assert!(
        answer.contains("Response verify OK") && answer.contains("leaf.pem: good"),
        "{answer}"
    );

    // Usage and I/O errors exit 2.
    let missing = qyzmet(&[
        "verify",
        "--trust",
        &path(d, "none.pem"),
        &path(d, "doc.p7s"),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    std::fs::write(d.join("bad"), "wrong\n").unwrap();
    let wrong = qyzmet(&[
        "sign",
        "--p12",
        &p12.to_string_lossy(),
        "--password-file",
        &path(d, "bad"),
        &path(d, "doc.bin"),
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        text(&wrong.stderr).contains("wrong password"),
        "{}",
        text(&wrong.stderr)
    );
    // A file that is no signature at all is invalid, MALFORMED.
    let garbage = qyzmet(&[
        "verify",
        "--trust",
        &path(d, "root.pem"),
        "--json",
        &path(d, "doc.bin"),
    ]);
    assert_eq!(garbage.status.code(), Some(1));
    assert_eq!(json(&garbage)["failures"][0]["code"], "MALFORMED");
}

/// Starts `qyzmet serve` and returns it with the address it serves on.
fn start_serve(data: &str, passphrase_file: Option<&str>) -> (Child, String) {
    let mut args = vec!["serve", "--data", data, "--listen", "127.0.0.1:0"];
    if let Some(file) = passphrase_file {
        args.extend(["--passphrase-file", file]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(&args)
        .env_remove("QYZMET_DATABASE_URL")
        .env_remove("QYZMET_CA_PASSPHRASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let line = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .expect("serve prints its address")
        .unwrap();
    let address = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .expect("an address")
        .to_owned();
    (child, address)
}

/// A raw HTTP/1.1 POST: the status line and the headers, lower-cased.
fn post(address: &str, path: &str, content_type: &str, body: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let end = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(reply.len());
    String::from_utf8_lossy(&reply[..end]).to_lowercase()
}

#[test]
fn serve_answers_ocsp_only_with_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = path(d, "data");
    std::fs::write(d.join("pass"), "serve-pass\n").unwrap();
    ok(
        &qyzmet(&[
            "pki",
            "init",
            "--data",
            &data,
            "--passphrase-file",
            &path(d, "pass"),
        ]),
        "pki init",
    );

    let (mut with_keys, address) = start_serve(&data, Some(&path(d, "pass")));
    let answer = post(
        &address,
        "/pki/ocsp",
        "application/ocsp-request",
        b"not a request",
    );
    let _ = with_keys.kill();
    let _ = with_keys.wait();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(
        answer.contains("content-type: application/ocsp-response"),
        "{answer}"
    );

    let (mut without, address) = start_serve(&data, None);
    let answer = post(&address, "/pki/tsa", "application/timestamp-query", b"x");
    let _ = without.kill();
    let _ = without.wait();
    assert!(answer.starts_with("http/1.1 503"), "{answer}");
}

/// Issue 16: `qyzmet verify` on NIST PKITS messages (the data `.ci/run` fetches into target/pkits, or
/// `QYZMET_PKITS_DIR`), OpenSSL taking the S/MIME apart: a path within its pathLenConstraint is valid,
/// one past it is refused with PATH_INVALID, revocation coming from the CRLs the message carries.
#[test]
fn verify_judges_pkits_paths_through_the_cli() {
    let data = std::env::var_os("QYZMET_PKITS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/pkits/cryptography_vectors/x509/PKITS_data")
        });
    if !data.join("smime").is_dir() {
        assert!(
            std::env::var("QYZMET_REQUIRE_PKITS").as_deref() != Ok("1"),
            "QYZMET_REQUIRE_PKITS=1 but no PKITS data"
        );
        eprintln!("skipped: no PKITS data");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let anchor = path(&data, "certs/TrustAnchorRootCertificate.crt");
    for (test, valid) in [
        ("ValidpathLenConstraintTest7", true),
        ("InvalidpathLenConstraintTest5", false),
    ] {
        let message = path(&data, &format!("smime/Signed{test}.eml"));
        let (content, signature) = (path(d, "content"), path(d, "signature.pem"));
        // The signed part exactly as signed (canonical CRLF), and the detached PKCS #7.
        ok(
            &openssl(&[
                "smime",
                "-verify",
                "-noverify",
                "-binary",
                "-in",
                &message,
                "-out",
                &content,
            ]),
            "openssl smime -verify",
        );
        ok(
            &openssl(&["smime", "-pk7out", "-in", &message, "-out", &signature]),
            "openssl smime -pk7out",
        );
        let out = qyzmet(&[
            "verify",
            "--trust",
            &anchor,
            "--data",
            &content,
            "--at",
            "2026-06-01T00:00:00Z",
            "--json",
            &signature,
        ]);
        let report = json(&out);
        if valid {
            assert_eq!(out.status.code(), Some(0), "{test}: {report}");
            assert_eq!(report["valid"], true);
        } else {
            assert_eq!(out.status.code(), Some(1), "{test}: {report}");
            assert_eq!(report["signers"][0]["failures"][0]["code"], "PATH_INVALID");
        }
    }
}
