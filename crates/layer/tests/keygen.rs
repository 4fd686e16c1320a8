//! `kz.gov.pki.qyzmet.keys` on a real socket, as the portal's pages speak it: a key pair generated on the
//! applicant's side, its PKCS#10 request checked by OpenSSL and by the platform, the certificate a CA
//! issues for it installed into a new PKCS#12 that OpenSSL opens, and every refusal.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME};
use der::{Encode, EncodePem};
use jiff::{SignedDuration, Timestamp};
use qyzmet_domain::ids::Iin;
use qyzmet_layer::testing::{Client, test_keys};
use qyzmet_layer::{Agent, Confirm, LocalCertificate, MODULE_KEYS};
use qyzmet_pki::authority::{Authority, CertificationRequest, Endpoints, Issue, Profile};
use qyzmet_pki::name::{Holder, simple_name};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use serde_json::{Value, json};
use x509_cert::Certificate;

const PASSWORD: &str = "Qwerty12";

/// A root and an NCA under it, as the platform's CA signer would hold them.
struct Ca {
    root: Authority,
    nca: Authority,
    endpoints: Endpoints,
}

fn ca() -> Ca {
    let endpoints = Endpoints {
        base_url: "http://127.0.0.1:9".into(),
    };
    let now = Timestamp::now() - SignedDuration::from_hours(1);
    let key = || PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let name = |cn: &str| simple_name(&[(COMMON_NAME, cn), (COUNTRY_NAME, "KZ")]).expect("name");
    let root = Authority::create_root("root", name("Keygen Test Root"), key(), &endpoints, now)
        .expect("root");
    let nca = root
        .create_subordinate("nca", name("Keygen Test NCA"), key(), &endpoints, now)
        .expect("nca");
    Ca {
        root,
        nca,
        endpoints,
    }
}

fn iin() -> Iin {
    (0..1000)
        .find_map(|k| Iin::parse(&format!("850312300{k:03}")).ok())
        .expect("an IIN")
}

impl Ca {
    /// What the CA does with a request: checks its self-signature, takes only its public key and
    /// writes the holder's proven identity as the subject.
    fn issue(&self, request_der: &[u8], profile: Profile) -> Certificate {
        let request = CertificationRequest::parse(request_der).expect("the request verifies");
        let holder = Holder {
            surname: "Сейітова".into(),
            name: "Айгүл".into(),
            patronymic: None,
            iin: iin(),
            organisation: None,
            email: None,
        };
        self.nca
            .issue(
                &Issue {
                    subject: holder.subject().expect("subject"),
                    public_key: request.public_key,
                    profile,
                    not_before: Timestamp::now() - SignedDuration::from_mins(5),
                },
                &self.endpoints,
            )
            .expect("issue")
    }

    /// The CA certificates the agent is given (`--ca`): the chain an installed key store carries.
    fn certificates(&self) -> Vec<Certificate> {
        vec![self.nca.certificate.clone(), self.root.certificate.clone()]
    }
}

/// An agent over TLS with a key directory, and a page connected to it.
async fn page_for(agent: Agent) -> Client {
    let certificate = LocalCertificate::generate().expect("certificate");
    let tls = certificate.tls_config().expect("TLS config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    tokio::spawn(qyzmet_layer::serve(
        listener,
        agent,
        tls,
        qyzmet_layer::testing::page_origins(),
    ));
    Client::connect(&address, Some(&certificate.certificate_der)).await
}

/// An agent holding the person's current signing key (the portal's repeat issuance is signed with it).
fn agent(dir: &Path, confirm: Confirm, ca: &Ca) -> Agent {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    Agent::new(vec![keys.signing], confirm)
        .expect("agent")
        .with_roots(ca.certificates())
        .with_key_directory(dir, PASSWORD)
}

fn keys(method: &str, args: Value) -> Value {
    json!({"module": MODULE_KEYS, "method": method, "args": args})
}

fn result_of(answer: &Value) -> &Value {
    assert_eq!(answer["status"], true, "{answer}");
    assert_eq!(answer["code"], "200", "{answer}");
    assert_eq!(answer["responseObject"], answer["body"]["result"]);
    &answer["body"]["result"]
}

fn error_of(answer: &Value) -> String {
    assert_eq!(answer["status"], false, "{answer}");
    assert_eq!(answer["code"], "INVOCATION_ERROR", "{answer}");
    answer["message"].as_str().expect("message").to_owned()
}

fn canceled() -> Value {
    json!({"status": true, "body": {}, "code": "500", "message": "action.canceled"})
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn openssl(args: &[&str], dir: &Path) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Generates a request through the page; its DER and the key id the agent answered.
async fn generate(page: &mut Client, algorithm: &str, purpose: &str) -> (Vec<u8>, String) {
    let answer = page
        .call(keys(
            "generateRequest",
            json!({
                "algorithm": algorithm,
                "purpose": purpose,
                "subject": {"commonName": "СЕЙІТОВА АЙГҮЛ", "iin": iin().to_string()},
                "locale": "kk",
            }),
        ))
        .await;
    let result = result_of(&answer);
    assert_eq!(result["algorithm"], algorithm);
    assert_eq!(result["purpose"], purpose);
    let der = STANDARD
        .decode(result["request"].as_str().expect("request"))
        .expect("base64");
    (der, result["keyId"].as_str().expect("keyId").to_owned())
}

#[tokio::test]
async fn a_generated_key_gets_its_certificate_installed_into_a_key_store_openssl_opens() {
    let ca = ca();
    for (algorithm, purpose, profile, prefix) in [
        (
            "RSA2048",
            "auth",
            Profile::Authentication { role: None },
            "auth",
        ),
        ("P256", "sign", Profile::Signing { role: None }, "sign"),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys_dir = dir.path().join("keys");
        std::fs::create_dir(&keys_dir).expect("mkdir");
        let mut page = page_for(agent(&keys_dir, Confirm::Always, &ca)).await;
        let (request, key_id) = generate(&mut page, algorithm, purpose).await;

        // OpenSSL checks the request's self-signature; so does the platform's CA.
        let pem =
            der::pem::encode_string("CERTIFICATE REQUEST", der::pem::LineEnding::LF, &request)
                .expect("PEM");
        std::fs::write(dir.path().join("req.pem"), pem).expect("write");
        let text = openssl(
            &["req", "-in", "req.pem", "-verify", "-noout", "-subject"],
            dir.path(),
        );
        assert!(text.contains(&format!("IIN{}", iin())), "{text}");
        // The pending key: encrypted PKCS#8 under the key stores' password, named by its public key.
        let pending = format!("pending-{key_id}.p8");
        assert_eq!(files(&keys_dir), std::slice::from_ref(&pending));
        let pending_pem = std::fs::read_to_string(keys_dir.join(&pending)).expect("read");
        assert!(pending_pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let opened = openssl(
            &[
                "pkey",
                "-in",
                &format!("keys/{pending}"),
                "-passin",
                &format!("pass:{PASSWORD}"),
                "-pubout",
            ],
            dir.path(),
        );
        let from_request = openssl(&["req", "-in", "req.pem", "-noout", "-pubkey"], dir.path());
        assert_eq!(opened, from_request);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(keys_dir.join(&pending))
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");
        }

        let certificate = ca.issue(&request, profile);
        let serial = qyzmet_pki::authority::serial_hex(&certificate.tbs_certificate.serial_number);
        let certificate_der = certificate.to_der().expect("DER");
        let answer = page
            .call(keys(
                "installCertificate",
                json!({"certificate": STANDARD.encode(&certificate_der), "locale": "ru"}),
            ))
            .await;
        let installed = result_of(&answer);
        let file = format!("{prefix}-{}-{serial}.p12", iin());
        assert_eq!(installed["file"], file, "{installed}");
        assert_eq!(installed["purpose"], purpose);
        assert_eq!(installed["serialNumber"], serial);
        assert_eq!(
            installed["keyType"],
            if purpose == "sign" {
                "SIGNATURE"
            } else {
                "AUTHENTICATION"
            }
        );
        // The pending key is gone; the key store took its place.
        assert_eq!(files(&keys_dir), std::slice::from_ref(&file));

        // OpenSSL opens it, and its certificate's key is the key inside.
        let path = format!("keys/{file}");
        let pass = format!("pass:{PASSWORD}");
        let certificates = openssl(
            &["pkcs12", "-in", &path, "-passin", &pass, "-nokeys"],
            dir.path(),
        );
        assert_eq!(
            certificates.matches("-----BEGIN CERTIFICATE-----").count(),
            3,
            "the certificate, the NCA and the root: {certificates}"
        );
        std::fs::write(
            dir.path().join("leaf.pem"),
            openssl(
                &[
                    "pkcs12", "-in", &path, "-passin", &pass, "-nokeys", "-clcerts",
                ],
                dir.path(),
            ),
        )
        .expect("write");
        std::fs::write(
            dir.path().join("key.pem"),
            openssl(
                &[
                    "pkcs12", "-in", &path, "-passin", &pass, "-nocerts", "-nodes",
                ],
                dir.path(),
            ),
        )
        .expect("write");
        let certificate_key = openssl(
            &["x509", "-in", "leaf.pem", "-noout", "-pubkey"],
            dir.path(),
        );
        let private_key = openssl(&["pkey", "-in", "key.pem", "-pubout"], dir.path());
        assert_eq!(certificate_key, private_key);
        assert_eq!(certificate_key, from_request);

        // The platform reads it back as a key store the agent can load (--p12).
        let store = KeyStore::from_pkcs12(
            &std::fs::read(keys_dir.join(&file)).expect("read"),
            PASSWORD,
        )
        .expect("key store");
        assert_eq!(store.certificate, certificate);
        assert_eq!(store.chain, ca.certificates());
        assert!(Agent::new(vec![store], Confirm::Never).is_ok());

        // The same certificate again: its key was installed, nothing is pending.
        let again = page
            .call(keys(
                "installCertificate",
                json!({"certificate": STANDARD.encode(&certificate_der)}),
            ))
            .await;
        assert!(
            error_of(&again).starts_with("no key generated by this agent matches"),
            "{again}"
        );
        assert_eq!(files(&keys_dir), [file]);
    }
}

#[tokio::test]
async fn an_existing_key_store_is_never_overwritten() {
    let ca = ca();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut page = page_for(agent(dir.path(), Confirm::Always, &ca)).await;
    let (request, key_id) = generate(&mut page, "P256", "sign").await;
    let certificate = ca.issue(&request, Profile::Signing { role: None });
    let serial = qyzmet_pki::authority::serial_hex(&certificate.tbs_certificate.serial_number);
    let file = format!("sign-{}-{serial}.p12", iin());
    std::fs::write(dir.path().join(&file), b"the person's own file").expect("write");
    let answer = page
        .call(keys(
            "installCertificate",
            json!({"certificate": certificate.to_pem(der::pem::LineEnding::LF).expect("PEM")}),
        ))
        .await;
    assert!(
        error_of(&answer).contains("exists already and is not overwritten"),
        "{answer}"
    );
    assert_eq!(
        std::fs::read(dir.path().join(&file)).expect("read"),
        b"the person's own file"
    );
    // The key still waits for another try.
    assert!(dir.path().join(format!("pending-{key_id}.p8")).is_file());
}

#[tokio::test]
async fn a_certificate_of_no_generated_key_is_refused() {
    let ca = ca();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut page = page_for(agent(dir.path(), Confirm::Always, &ca)).await;
    generate(&mut page, "P256", "sign").await;
    // A certificate for somebody else's key.
    let stranger = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let request = qyzmet_pki::pkcs10::build(
        &stranger,
        simple_name(&[(COMMON_NAME, "X")]).expect("name"),
        &[],
    )
    .expect("request");
    let certificate = ca.issue(&request, Profile::Signing { role: None });
    let answer = page
        .call(keys(
            "installCertificate",
            json!({"certificate": STANDARD.encode(certificate.to_der().expect("DER"))}),
        ))
        .await;
    assert!(
        error_of(&answer).starts_with("no key generated by this agent matches"),
        "{answer}"
    );
    assert_eq!(files(dir.path()).len(), 1, "only the pending key");
    // Not a certificate at all.
    let answer = page
        .call(keys(
            "installCertificate",
            json!({"certificate": STANDARD.encode(b"junk")}),
        ))
        .await;
    assert!(
        error_of(&answer).starts_with("certificate is not an X.509 certificate"),
        "{answer}"
    );
}

#[tokio::test]
async fn nothing_is_made_or_said_without_consent() {
    let ca = ca();
    let dir = tempfile::tempdir().expect("temp dir");
    // Generated with consent, then the person declines everything.
    let request = {
        let mut page = page_for(agent(dir.path(), Confirm::Always, &ca)).await;
        generate(&mut page, "P256", "sign").await.0
    };
    let before = files(dir.path());
    let mut page = page_for(agent(dir.path(), Confirm::Never, &ca)).await;
    let declined = page
        .call(keys(
            "generateRequest",
            json!({"algorithm": "P256", "purpose": "auth"}),
        ))
        .await;
    assert_eq!(declined, canceled());
    let certificate = ca.issue(&request, Profile::Signing { role: None });
    let declined = page
        .call(keys(
            "installCertificate",
            json!({"certificate": STANDARD.encode(certificate.to_der().expect("DER"))}),
        ))
        .await;
    assert_eq!(declined, canceled());
    // A certificate of no generated key gets the same answer: the page learns nothing of the keys.
    let other = ca.issue(
        &qyzmet_pki::pkcs10::build(
            &PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key"),
            simple_name(&[(COMMON_NAME, "X")]).expect("name"),
            &[],
        )
        .expect("request"),
        Profile::Signing { role: None },
    );
    let declined = page
        .call(keys(
            "installCertificate",
            json!({"certificate": STANDARD.encode(other.to_der().expect("DER"))}),
        ))
        .await;
    assert_eq!(declined, canceled());
    assert_eq!(
        files(dir.path()),
        before,
        "nothing written, nothing removed"
    );

    // What the request itself gets wrong is said before anyone is asked.
    for (args, expected) in [
        (
            json!({"algorithm": "DSA1024", "purpose": "sign"}),
            "algorithm must be one of RSA2048, P256, GOST2004, GOST2015",
        ),
        (
            json!({"algorithm": "P256", "purpose": "encrypt"}),
            "purpose must be \"sign\", \"auth\" or \"tls\"",
        ),
        (
            json!({"algorithm": "P256", "purpose": "tls", "subject": {"dnsNames": ["bad host"]}}),
            "subject.dnsNames: \"bad host\" is not a DNS name",
        ),
    ] {
        let answer = page.call(keys("generateRequest", args)).await;
        assert!(error_of(&answer).starts_with(expected), "{answer}");
    }
    let unknown = page.call(keys("exportKey", json!({}))).await;
    assert!(error_of(&unknown).starts_with("unknown method kz.gov.pki.qyzmet.keys.exportKey"));

    // An agent without a key directory says so.
    let keys_only = test_keys(KeyAlgorithm::EcdsaP256);
    let mut page =
        page_for(Agent::new(vec![keys_only.signing], Confirm::Always).expect("agent")).await;
    let answer = page
        .call(keys(
            "generateRequest",
            json!({"algorithm": "P256", "purpose": "sign"}),
        ))
        .await;
    assert!(error_of(&answer).contains("no key directory"), "{answer}");
}

#[tokio::test]
async fn gost_and_tls_requests_carry_what_the_ca_reads() {
    let ca = ca();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut page = page_for(agent(dir.path(), Confirm::Always, &ca)).await;
    // GOST 34.310-2004 (the signing key of Annexes 4 and 8): OpenSSL has no GOST, the platform checks it.
    let (request, _) = generate(&mut page, "GOST2004", "sign").await;
    let read = CertificationRequest::parse(&request).expect("a GOST request verifies");
    assert_eq!(
        read.public_key.algorithm.oid.to_string(),
        "1.2.398.3.10.1.1.1.1"
    );
    // A TLS server's request names its hosts in the extensionRequest the CA reads.
    let answer = page
        .call(keys(
            "generateRequest",
            json!({"algorithm": "RSA2048", "purpose": "tls",
                   "subject": {"dnsNames": ["Portal.Example.kz", "*.example.kz"]}}),
        ))
        .await;
    let der = STANDARD
        .decode(result_of(&answer)["request"].as_str().expect("request"))
        .expect("base64");
    let read = CertificationRequest::parse(&der).expect("verifies");
    assert_eq!(read.dns_names, ["portal.example.kz", "*.example.kz"]);
    let certificate = ca.issue(
        &der,
        Profile::Tls {
            dns_names: read.dns_names.clone(),
        },
    );
    let installed = page
        .call(keys(
            "installCertificate",
            json!({"certificate": STANDARD.encode(certificate.to_der().expect("DER"))}),
        ))
        .await;
    let installed = result_of(&installed);
    assert_eq!(installed["purpose"], "tls");
    assert_eq!(installed["keyType"], Value::Null);
    assert!(
        installed["file"]
            .as_str()
            .expect("file")
            .starts_with(&format!("tls-{}-", iin())),
        "{installed}"
    );
}
