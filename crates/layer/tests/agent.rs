//! The agent on a real socket, spoken to as NCALayer's pages speak, its signatures judged by the platform's
//! verifier and by OpenSSL.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::EncodePem;
use jiff::Timestamp;
use qyzmet_layer::testing::{
    Client, PAGE_ORIGIN, TestKeys, page_origins, serve_time_stamps, test_keys,
};
use qyzmet_layer::{Agent, Confirm, LocalCertificate, TlsConfig};
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::report::Report;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Purpose, Verifier};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const COMMON: &str = "kz.gov.pki.knca.commonUtils";
const BASICS: &str = "kz.gov.pki.knca.basics";
const EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";
const CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
const DOCUMENT: &str = "Өтініш: мекенжай анықтамасын беруді сұраймын.\n";

/// Starts the agent over TLS on a free port; its address and certificate.
async fn start_tls(agent: Agent) -> (String, Vec<u8>) {
    let certificate = LocalCertificate::generate().expect("certificate");
    let tls = certificate.tls_config().expect("TLS config");
    let address = start(agent, tls).await;
    (address, certificate.certificate_der)
}

async fn start(agent: Agent, tls: TlsConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    tokio::spawn(qyzmet_layer::serve(listener, agent, tls, page_origins()));
    address
}

fn common(method: &str, args: Value) -> Value {
    json!({"module": COMMON, "method": method, "args": args})
}

/// A basics.sign request with these args.
fn basics(args: Value) -> Value {
    json!({"module": BASICS, "method": "sign", "args": args})
}

/// The result of a successful basics answer, checked to be mirrored where this agent's earlier clients
/// read it.
fn result_of(answer: &Value) -> &Value {
    assert_eq!(answer["status"], true, "{answer}");
    assert_eq!(
        answer["responseObject"], answer["body"]["result"],
        "{answer}"
    );
    &answer["body"]["result"]
}

/// The DER inside a basics CMS: PEM with the label CMS, as NCALayer answers.
fn cms_of_pem(pem: &Value) -> Vec<u8> {
    let pem = pem.as_str().expect("a PEM CMS");
    assert!(pem.starts_with("-----BEGIN CMS-----\n"), "{pem}");
    assert!(pem.ends_with("\n-----END CMS-----\n"), "{pem}");
    let (label, der) = der::pem::decode_vec(pem.as_bytes()).expect("PEM");
    assert_eq!(label, "CMS");
    der
}

/// The message of a basics error, checked to have NCALayer's shape.
fn basics_error(answer: &Value) -> String {
    assert_eq!(answer["status"], false, "{answer}");
    assert_eq!(answer["code"], "INVOCATION_ERROR", "{answer}");
    assert!(answer["details"].is_string(), "{answer}");
    answer["message"].as_str().expect("message").to_owned()
}

fn ok_object(answer: &Value) -> &Value {
    assert_eq!(answer["code"], "200", "{answer}");
    &answer["responseObject"]
}

fn cms_of(answer: &Value) -> Vec<u8> {
    let text = ok_object(answer).as_str().expect("base64 CMS");
    STANDARD.decode(text).expect("base64")
}

fn error_message(answer: &Value) -> String {
    assert_ne!(answer["code"], "200", "{answer}");
    answer["message"].as_str().expect("message").to_owned()
}

fn verify(keys: &TestKeys, cms: &[u8], data: Option<&[u8]>, purpose: Purpose) -> Report {
    let verifier = Verifier::new(
        vec![keys.root.clone()],
        Arc::new(CrlSet::new(keys.crls.clone())),
    );
    let expect = Expectation {
        iin: Some(keys.iin),
        bin: None,
        purpose,
    };
    verifier.verify(cms, data, &expect, Timestamp::now())
}

fn assert_valid(report: &Report, keys: &TestKeys) {
    assert!(report.valid, "{report:#?}");
    let signer = report.signers[0].signer.as_ref().expect("signer");
    assert_eq!(signer.iin.as_ref(), Some(&keys.iin));
}

/// `openssl cms -verify` with the root as the only anchor (the CMS carries the NCA certificate); the
/// document it vouches for must be [`DOCUMENT`].
fn openssl_verifies(dir: &Path, keys: &TestKeys, cms: &[u8], detached: Option<&[u8]>) {
    let path = |name: &str| -> PathBuf { dir.join(name) };
    std::fs::write(
        path("root.pem"),
        keys.root.to_pem(der::pem::LineEnding::LF).expect("PEM"),
    )
    .expect("write");
    std::fs::write(path("sig.der"), cms).expect("write");
    let mut command = Command::new("openssl");
    command.args(["cms", "-verify", "-binary", "-inform", "DER"]);
    command.arg("-in").arg(path("sig.der"));
    command.arg("-CAfile").arg(path("root.pem"));
    command.arg("-out").arg(path("out.bin"));
    if let Some(content) = detached {
        std::fs::write(path("content.bin"), content).expect("write");
        command.arg("-content").arg(path("content.bin"));
    }
    let out = command.output().expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl cms -verify failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(path("out.bin")).expect("read"),
        DOCUMENT.as_bytes()
    );
}

#[tokio::test]
async fn pages_sign_over_tls_as_with_ncalayer() {
    let keys = test_keys(KeyAlgorithm::Rsa2048);
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Always).expect("agent");
    let (address, certificate) = start_tls(agent).await;
    let mut page = Client::connect(&address, Some(&certificate)).await;
    assert_eq!(
        page.greeting,
        json!({"result": {"version": qyzmet_layer::VERSION}})
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let data = STANDARD.encode(DOCUMENT);

    let tokens = page
        .call(json!({"module": COMMON, "method": "getActiveTokens"}))
        .await;
    assert_eq!(ok_object(&tokens), &json!(["PKCS12"]));

    let info = page.call(common("getKeyInfo", json!(["PKCS12"]))).await;
    let info = ok_object(&info);
    assert_eq!(info["iin"], keys.iin.to_string());
    assert_eq!(info["keyType"], "SIGNATURE");
    assert_eq!(info["algorithm"], "RSA");
    assert!(
        info["subjectDn"].as_str().expect("DN").contains("ТӨЛЕУОВ"),
        "{info}"
    );
    assert!(
        info["issuerCn"].as_str().expect("CN").contains("TEST"),
        "{info}"
    );
    assert!(
        info["pem"]
            .as_str()
            .expect("pem")
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let not_before: i64 = info["certNotBefore"]
        .as_str()
        .expect("ms")
        .parse()
        .expect("number");
    let not_after: i64 = info["certNotAfter"]
        .as_str()
        .expect("ms")
        .parse()
        .expect("number");
    assert!(not_before < Timestamp::now().as_millisecond() && not_after > not_before);
    assert!(!info["serialNumber"].as_str().expect("serial").is_empty());

    // Attached: the document travels inside.
    let attached = page
        .call(common(
            "createCAdESFromBase64",
            json!(["PKCS12", "SIGNATURE", data, true]),
        ))
        .await;
    let cms = cms_of(&attached);
    assert_valid(
        &verify(&keys, &cms, None, Purpose::DocumentSignature),
        &keys,
    );
    openssl_verifies(dir.path(), &keys, &cms, None);

    // Detached: the verifier needs the document, and a changed one fails.
    let detached = page
        .call(common(
            "createCAdESFromBase64",
            json!(["PKCS12", "SIGNATURE", data, false]),
        ))
        .await;
    let cms = cms_of(&detached);
    let report = verify(&keys, &cms, None, Purpose::DocumentSignature);
    assert!(!report.valid, "a detached signature alone is not valid");
    assert_valid(
        &verify(
            &keys,
            &cms,
            Some(DOCUMENT.as_bytes()),
            Purpose::DocumentSignature,
        ),
        &keys,
    );
    assert!(
        !verify(
            &keys,
            &cms,
            Some(b"another document"),
            Purpose::DocumentSignature
        )
        .valid
    );
    openssl_verifies(dir.path(), &keys, &cms, Some(DOCUMENT.as_bytes()));

    // Over a hash the page computed: detached, and it verifies against the document itself.
    let hash = STANDARD.encode(Sha256::digest(DOCUMENT.as_bytes()));
    let hashed = page
        .call(common(
            "createCAdESFromBase64Hash",
            json!(["PKCS12", "SIGNATURE", hash]),
        ))
        .await;
    let cms = cms_of(&hashed);
    assert_valid(
        &verify(
            &keys,
            &cms,
            Some(DOCUMENT.as_bytes()),
            Purpose::DocumentSignature,
        ),
        &keys,
    );
    assert!(
        !verify(
            &keys,
            &cms,
            Some(b"another document"),
            Purpose::DocumentSignature
        )
        .valid
    );
    openssl_verifies(dir.path(), &keys, &cms, Some(DOCUMENT.as_bytes()));

    // The newer basics module, with its object arguments and answer shape (the example page's: flags as
    // strings).
    let answer = page
        .call(basics(json!({
            "allowedStorages": ["PKCS12"],
            "format": "cms",
            "data": data,
            "signingParams": {"decode": "true", "encapsulate": "true", "digested": "false", "tsaProfile": null},
            "signerParams": {"extKeyUsageOids": [EMAIL_PROTECTION], "iin": keys.iin.to_string(), "bin": "", "serialNumber": "", "chain": null},
            "locale": "kk"
        })))
        .await;
    let cms = cms_of_pem(result_of(&answer));
    assert_valid(
        &verify(&keys, &cms, None, Purpose::DocumentSignature),
        &keys,
    );
    openssl_verifies(dir.path(), &keys, &cms, None);

    let locale = page.call(common("changeLocale", json!(["kk"]))).await;
    assert_eq!(locale["code"], "200");
}

#[tokio::test]
async fn errors_are_answers_and_the_connection_stays_usable() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Always).expect("agent");
    let (address, certificate) = start_tls(agent).await;
    let mut page = Client::connect(&address, Some(&certificate)).await;
    let data = STANDARD.encode(DOCUMENT);

    let unknown = page.call(common("rebootComputer", json!([]))).await;
    assert!(
        error_message(&unknown).contains("unknown method"),
        "{unknown}"
    );

    let bad_base64 = page
        .call(common(
            "createCAdESFromBase64",
            json!(["PKCS12", "SIGNATURE", "not base64!", false]),
        ))
        .await;
    assert!(
        error_message(&bad_base64).contains("base64"),
        "{bad_base64}"
    );

    let malformed = page
        .send_text("{\"module\": \"kz.gov.pki.knca.commonUtils\", ")
        .await;
    assert!(
        error_message(&malformed).contains("malformed JSON"),
        "{malformed}"
    );

    let no_authentication_key = page
        .call(common(
            "createCAdESFromBase64",
            json!(["PKCS12", "AUTHENTICATION", data, false]),
        ))
        .await;
    assert!(
        error_message(&no_authentication_key).contains("no AUTHENTICATION key"),
        "{no_authentication_key}"
    );

    let wrong_types = page
        .call(common(
            "createCAdESFromBase64",
            json!(["PKCS12", 123, data]),
        ))
        .await;
    assert!(
        error_message(&wrong_types).contains("argument type mismatch"),
        "{wrong_types}"
    );

    let token = page
        .call(common("getKeyInfo", json!(["AKKaztokenStore"])))
        .await;
    assert!(error_message(&token).contains("not available"), "{token}");

    let short_hash = page
        .call(common(
            "createCAdESFromBase64Hash",
            json!(["PKCS12", "SIGNATURE", "aGk="]),
        ))
        .await;
    assert_eq!(
        error_message(&short_hash),
        "base64Hash: a hash of 2 bytes fits no key (SHA-256 and GOST hashes have 32 bytes, Streebog-512 64)"
    );

    // Facts about the keys, told because the person (here: --yes) consented to it.
    let someone_else = page
        .call(json!({"module": "kz.gov.pki.knca.basics", "method": "sign",
            "args": {"format": "cms", "data": data, "signerParams": {"extKeyUsageOids": [], "iin": "000000000000"}}}))
        .await;
    assert_eq!(
        basics_error(&someone_else),
        "the loaded key is not of IIN 000000000000"
    );

    let not_an_iin = page
        .call(json!({"module": "kz.gov.pki.knca.basics", "method": "sign",
            "args": {"format": "cms", "data": data, "signerParams": {"extKeyUsageOids": [], "iin": "x".repeat(100_000)}}}))
        .await;
    assert_eq!(
        basics_error(&not_an_iin),
        "signerParams.iin must be 12 digits"
    );

    let no_module = page.call(json!({"method": "getActiveTokens"})).await;
    assert!(
        error_message(&no_module).contains("no module"),
        "{no_module}"
    );

    // After all that, the same connection still signs.
    let signed = page
        .call(common(
            "createCAdESFromBase64",
            json!(["PKCS12", "SIGNATURE", data, true]),
        ))
        .await;
    assert_valid(
        &verify(&keys, &cms_of(&signed), None, Purpose::DocumentSignature),
        &keys,
    );
}

#[tokio::test]
async fn the_authentication_key_answers_authentication_requests() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    // Given in either order, each key goes to its purpose.
    let agent = Agent::new(
        vec![keys.authentication.clone(), keys.signing.clone()],
        Confirm::Always,
    )
    .expect("agent");
    let (address, certificate) = start_tls(agent).await;
    let mut page = Client::connect(&address, Some(&certificate)).await;
    let challenge = STANDARD.encode("login challenge 8f3a");
    let login = page
        .call(common(
            "createCAdESFromBase64",
            json!(["PKCS12", "AUTHENTICATION", challenge, true]),
        ))
        .await;
    let cms = cms_of(&login);
    assert_valid(&verify(&keys, &cms, None, Purpose::Authentication), &keys);
    assert!(!verify(&keys, &cms, None, Purpose::DocumentSignature).valid);

    let by_usage = page
        .call(json!({"module": "kz.gov.pki.knca.basics", "method": "sign",
            "args": {"format": "cms", "data": [challenge, challenge],
                     "signingParams": {"decode": true},
                     "signerParams": {"extKeyUsageOids": [CLIENT_AUTH]}}}))
        .await;
    let results = result_of(&by_usage).as_array().expect("results");
    assert_eq!(results.len(), 2);
    for result in results {
        let cms = cms_of_pem(result);
        assert_valid(&verify(&keys, &cms, None, Purpose::Authentication), &keys);
    }
    // Any key will do: the signing key answers before the authentication key.
    let any = page
        .call(basics(
            json!({"format": "cms", "data": "x", "signerParams": {"extKeyUsageOids": []}}),
        ))
        .await;
    let cms = cms_of_pem(result_of(&any));
    assert_valid(
        &verify(&keys, &cms, None, Purpose::DocumentSignature),
        &keys,
    );
}

#[tokio::test]
async fn a_refusal_is_action_canceled_and_signs_nothing() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Never).expect("agent");
    let (address, certificate) = start_tls(agent).await;
    let mut page = Client::connect(&address, Some(&certificate)).await;
    let data = STANDARD.encode(DOCUMENT);
    for _ in 0..2 {
        let refused = page
            .call(common(
                "createCAdESFromBase64",
                json!(["PKCS12", "SIGNATURE", data, false]),
            ))
            .await;
        assert_eq!(error_message(&refused), "action.canceled");
        assert!(refused.get("responseObject").is_none());
    }
    let info = page.call(common("getKeyInfo", json!(["PKCS12"]))).await;
    assert_eq!(error_message(&info), "action.canceled");
}

#[tokio::test]
async fn plain_websocket_for_pages_served_over_http() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Always).expect("agent");
    let address = start(agent, TlsConfig::Plain).await;
    let mut page = Client::connect(&address, None).await;
    assert_eq!(page.greeting["result"]["version"], qyzmet_layer::VERSION);
    let signed = page
        .call(common(
            "createCAdESFromBase64",
            json!(["PKCS12", "SIGNATURE", STANDARD.encode(DOCUMENT), true]),
        ))
        .await;
    assert_valid(
        &verify(&keys, &cms_of(&signed), None, Purpose::DocumentSignature),
        &keys,
    );
}

#[tokio::test]
async fn several_pages_at_once() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Always).expect("agent");
    let (address, certificate) = start_tls(agent).await;
    let mut first = Client::connect(&address, Some(&certificate)).await;
    let mut second = Client::connect(&address, Some(&certificate)).await;
    let request = common("getActiveTokens", json!([]));
    assert_eq!(first.call(request.clone()).await["code"], "200");
    assert_eq!(second.call(request).await["code"], "200");
}

#[test]
fn key_stores_must_say_which_key_is_which() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let two_signing = Agent::new(
        vec![keys.signing.clone(), keys.signing.clone()],
        Confirm::Always,
    );
    assert!(two_signing.is_err_and(|e| e.to_string().contains("two SIGNATURE keys")));
    assert!(Agent::new(vec![], Confirm::Always).is_err());
    let only_authentication =
        Agent::new(vec![keys.authentication.clone()], Confirm::Always).expect("agent");
    assert!(
        only_authentication
            .key(Some(qyzmet_layer::KeyType::Signature))
            .is_none()
    );
}

#[tokio::test]
async fn pages_of_other_origins_are_refused_in_the_handshake() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Always).expect("agent");
    let (address, certificate) = start_tls(agent).await;
    for foreign in [
        Some("https://evil.test"),
        // The same host by another scheme or port is another site.
        Some("http://portal.test"),
        Some("https://portal.test:8443"),
        Some("https://portal.test.evil.test"),
        // Sandboxed frames and file:// pages.
        Some("null"),
        None,
    ] {
        match Client::connect_from(&address, Some(&certificate), foreign).await {
            Ok(_) => panic!("a page of {foreign:?} was let in"),
            Err(refused) => assert_eq!(refused.status, 403, "{foreign:?}: {refused:?}"),
        }
    }
    let mut page = Client::connect_from(&address, Some(&certificate), Some(PAGE_ORIGIN))
        .await
        .expect("the allowed origin is let in");
    assert_eq!(page.greeting["result"]["version"], qyzmet_layer::VERSION);
    let tokens = page.call(common("getActiveTokens", json!([]))).await;
    assert_eq!(ok_object(&tokens), &json!(["PKCS12"]));
}

#[tokio::test]
async fn nothing_about_the_keys_is_said_before_consent() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    // One signing key, no authentication key; the person declines everything.
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Never).expect("agent");
    let (address, certificate) = start_tls(agent).await;
    let mut page = Client::connect(&address, Some(&certificate)).await;
    let data = STANDARD.encode(DOCUMENT);
    let other = test_keys(KeyAlgorithm::EcdsaP256);
    let other_root = other.root.to_pem(der::pem::LineEnding::LF).expect("PEM");
    let sign = |signer_params: Value, signing_params: Value| {
        basics(
            json!({"format": "cms", "data": data, "signingParams": signing_params, "signerParams": signer_params}),
        )
    };

    // What a page gets when the key fits and the person says no: the refusal every probe must get too.
    let declined = page
        .call(sign(
            json!({"extKeyUsageOids": [], "iin": keys.iin.to_string()}),
            json!({}),
        ))
        .await;
    assert_eq!(
        declined,
        json!({"status": true, "body": {}, "code": "500", "message": "action.canceled"})
    );
    let mut probes: Vec<Value> = [
        json!({"extKeyUsageOids": [], "iin": "000000000000"}),
        json!({"extKeyUsageOids": [], "bin": "000000000000"}),
        json!({"extKeyUsageOids": [], "serialNumber": "0badc0de"}),
        // There is no authentication key.
        json!({"extKeyUsageOids": [CLIENT_AUTH]}),
        json!({"extKeyUsageOids": [EMAIL_PROTECTION, "1.3.6.1.5.5.7.3.1"]}),
        // Another CA's root.
        json!({"extKeyUsageOids": [], "chain": [other_root]}),
    ]
    .into_iter()
    .map(|signer| sign(signer, json!({})))
    .collect();
    // A hash the key's digest algorithm does not make (P-256 signs SHA-256).
    probes.push(basics(
        json!({"format": "cms", "data": STANDARD.encode([7u8; 64]),
        "signingParams": {"decode": true, "digested": true, "encapsulate": false},
        "signerParams": {"extKeyUsageOids": []}}),
    ));
    for probe in probes {
        let answer = page.call(probe.clone()).await;
        assert_eq!(answer, declined, "{probe}");
    }
    // A list of documents: one refusal, the same.
    let several = page
        .call(basics(json!({"format": "cms", "data": [data, data],
            "signerParams": {"extKeyUsageOids": [], "iin": "000000000000"}})))
        .await;
    assert_eq!(several, declined);

    let declined = page
        .call(common(
            "createCAdESFromBase64",
            json!(["PKCS12", "SIGNATURE", data, false]),
        ))
        .await;
    assert_eq!(
        declined,
        json!({"code": "500", "message": "action.canceled"})
    );
    for probe in [
        common(
            "createCAdESFromBase64",
            json!(["PKCS12", "AUTHENTICATION", data, false]),
        ),
        common(
            "createCAdESFromBase64Hash",
            json!([
                "PKCS12",
                "AUTHENTICATION",
                STANDARD.encode(Sha256::digest(DOCUMENT))
            ]),
        ),
        common("getKeyInfo", json!(["PKCS12"])),
    ] {
        let answer = page.call(probe.clone()).await;
        assert_eq!(answer, declined, "{probe}");
    }
}

/// An agent over TLS with `keys`' signing key, consenting to everything, and a page connected to it.
async fn page_for(agent: Agent) -> Client {
    let (address, certificate) = start_tls(agent).await;
    Client::connect(&address, Some(&certificate)).await
}

#[tokio::test]
async fn basics_sign_answers_every_shape_of_the_current_protocol() {
    let keys = test_keys(KeyAlgorithm::Rsa2048);
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Always).expect("agent");
    let mut page = page_for(agent).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let any_key = json!({"extKeyUsageOids": []});

    // Text, attached: the defaults (decode false, encapsulate true).
    let text = page
        .call(basics(
            json!({"format": "cms", "data": DOCUMENT, "signerParams": any_key}),
        ))
        .await;
    let cms = cms_of_pem(result_of(&text));
    assert_valid(
        &verify(&keys, &cms, None, Purpose::DocumentSignature),
        &keys,
    );
    openssl_verifies(dir.path(), &keys, &cms, None);

    // Base64, detached: the document is needed to verify.
    let detached = page
        .call(basics(
            json!({"format": "cms", "data": STANDARD.encode(DOCUMENT),
            "signingParams": {"decode": true, "encapsulate": false}, "signerParams": any_key}),
        ))
        .await;
    let cms = cms_of_pem(result_of(&detached));
    assert!(!verify(&keys, &cms, None, Purpose::DocumentSignature).valid);
    assert_valid(
        &verify(
            &keys,
            &cms,
            Some(DOCUMENT.as_bytes()),
            Purpose::DocumentSignature,
        ),
        &keys,
    );
    openssl_verifies(dir.path(), &keys, &cms, Some(DOCUMENT.as_bytes()));

    // A list: a list of results, in order.
    let other = "Екінші құжат.";
    let list = page
        .call(basics(json!({"format": "cms", "data": [DOCUMENT, other],
            "signingParams": {"encapsulate": false}, "signerParams": any_key})))
        .await;
    let results = result_of(&list).as_array().expect("a list");
    assert_eq!(results.len(), 2);
    for (result, document) in results.iter().zip([DOCUMENT, other]) {
        let cms = cms_of_pem(result);
        assert_valid(
            &verify(
                &keys,
                &cms,
                Some(document.as_bytes()),
                Purpose::DocumentSignature,
            ),
            &keys,
        );
    }

    // A hash: a detached CMS whose message digest it is, valid for the document behind it.
    let hash = STANDARD.encode(Sha256::digest(DOCUMENT));
    let digested = page
        .call(basics(json!({"format": "cms", "data": hash,
            "signingParams": {"decode": true, "digested": true, "encapsulate": false}, "signerParams": any_key})))
        .await;
    let cms = cms_of_pem(result_of(&digested));
    assert_valid(
        &verify(
            &keys,
            &cms,
            Some(DOCUMENT.as_bytes()),
            Purpose::DocumentSignature,
        ),
        &keys,
    );
    assert!(!verify(&keys, &cms, Some(b"another"), Purpose::DocumentSignature).valid);
    openssl_verifies(dir.path(), &keys, &cms, Some(DOCUMENT.as_bytes()));
    // A length no digest has is refused at once; one the key's digest does not make, after consent.
    let odd = page
        .call(basics(
            json!({"format": "cms", "data": STANDARD.encode([1u8; 31]),
            "signingParams": {"decode": true, "digested": true}, "signerParams": any_key}),
        ))
        .await;
    assert!(
        basics_error(&odd).starts_with("data: a hash of 31 bytes fits no key"),
        "{odd}"
    );
    let streebog_long = page
        .call(basics(
            json!({"format": "cms", "data": STANDARD.encode([1u8; 64]),
            "signingParams": {"decode": true, "digested": true}, "signerParams": any_key}),
        ))
        .await;
    assert_eq!(
        basics_error(&streebog_long),
        "the hash has 64 bytes, but the key's digest algorithm makes 32-byte hashes"
    );

    // Raw: the bare signature value over the document's bytes.
    let raw = page
        .call(basics(
            json!({"format": "raw", "data": DOCUMENT, "signerParams": any_key}),
        ))
        .await;
    let signature = STANDARD
        .decode(result_of(&raw).as_str().expect("base64"))
        .expect("base64");
    let certificate = &keys.signing.certificate;
    let verifies = |message: &[u8]| {
        qyzmet_pki::algorithm::verify_signature(
            &certificate.tbs_certificate.subject_public_key_info,
            &keys.signing.key.signature_algorithm(),
            None,
            message,
            &signature,
        )
    };
    assert_eq!(verifies(DOCUMENT.as_bytes()), Ok(()));
    assert!(verifies(b"another").is_err());

    // outputCert: the signatures beside the signer's certificate.
    let certificate_pem = certificate.to_pem(der::pem::LineEnding::LF).expect("PEM");
    for format in ["raw", "cms"] {
        let with_certificate = page
            .call(basics(json!({"format": format, "data": DOCUMENT,
                "signingParams": {"outputCert": true}, "signerParams": any_key})))
            .await;
        let result = result_of(&with_certificate);
        assert_eq!(result["certificate"], certificate_pem, "{result}");
        let signatures = result["signatures"].as_array().expect("signatures");
        assert_eq!(signatures.len(), 1, "{result}");
        if format == "cms" {
            assert_valid(
                &verify(
                    &keys,
                    &cms_of_pem(&signatures[0]),
                    None,
                    Purpose::DocumentSignature,
                ),
                &keys,
            );
        }
    }
}

#[tokio::test]
async fn basics_refuses_what_it_cannot_do_before_asking() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    // The person would decline: each answer below comes before any question.
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Never).expect("agent");
    let mut page = page_for(agent).await;
    let any_key = json!({"extKeyUsageOids": []});

    // NCALayer's recorded error: signingParams that is not an object.
    let recorded = page
        .call(basics(
            json!({"allowedStorages": null, "format": "cms", "data": "MTEK",
            "signingParams": 555, "signerParams": any_key, "locale": "ru"}),
        ))
        .await;
    assert_eq!(
        recorded,
        json!({"status": false, "code": "INVOCATION_ERROR",
            "message": "signingParams is not an object", "details": "signingParams is not an object"})
    );
    for (args, expected) in [
        (
            json!({"format": "cms", "data": "x"}),
            "signerParams must be an object with extKeyUsageOids",
        ),
        (
            json!({"format": "cms", "data": "x", "signerParams": {"iin": ""}}),
            "signerParams.extKeyUsageOids is required",
        ),
        (
            json!({"format": "pdf", "data": "x", "signerParams": any_key}),
            "format pdf is not known",
        ),
        (
            json!({"format": "cms", "data": [], "signerParams": any_key}),
            "data must be a string or a non-empty list",
        ),
        (
            json!({"format": "cms", "data": vec!["x"; 201], "signerParams": any_key}),
            "data: 201 documents, at most 200",
        ),
        (
            json!({"format": "cms", "data": "x", "signingParams": {"tsaProfile": {}}, "signerParams": any_key}),
            "signingParams.tsaProfile: this agent has no time-stamping authority",
        ),
        (
            json!({"format": "raw", "data": "x", "signingParams": {"digested": true}, "signerParams": any_key}),
            "signingParams.digested: a hash is signed as a CMS only",
        ),
        (
            json!({"format": "cms", "data": "not base64!", "signingParams": {"decode": true}, "signerParams": any_key}),
            "data is not valid base64",
        ),
        (
            json!({"format": "cms", "data": "x", "allowedStorages": ["AKKaztokenStore"], "signerParams": any_key}),
            "none of the allowedStorages is available",
        ),
        (
            json!({"format": "cms", "data": "x", "signerParams": {"extKeyUsageOids": ["email"]}}),
            "signerParams.extKeyUsageOids: \"email\" is not an OID",
        ),
        (
            json!({"format": "cms", "data": "x", "signerParams": {"extKeyUsageOids": [], "serialNumber": "zz"}}),
            "signerParams.serialNumber must be the certificate's serial number in hex",
        ),
        (
            json!({"format": "cms", "data": "x", "signerParams": {"extKeyUsageOids": [], "chain": ["not PEM"]}}),
            "signerParams.chain[0]: not a PEM certificate",
        ),
        (
            json!({"format": "xml", "data": "<a>", "signerParams": any_key}),
            "org.xml.sax.SAXParseException; lineNumber: 1; columnNumber: ",
        ),
    ] {
        let answer = page.call(basics(args.clone())).await;
        let message = basics_error(&answer);
        assert!(message.starts_with(expected), "{args}: {message}");
    }
    let unknown = page
        .call(json!({"module": BASICS, "method": "verify", "args": {}}))
        .await;
    assert!(
        basics_error(&unknown).contains("unknown method"),
        "{unknown}"
    );
}

#[tokio::test]
async fn signer_params_choose_among_the_loaded_keys() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let other = test_keys(KeyAlgorithm::EcdsaP256);
    let pem = |certificate: &x509_cert::Certificate| {
        certificate.to_pem(der::pem::LineEnding::LF).expect("PEM")
    };
    let agent = Agent::new(
        vec![keys.signing.clone(), keys.authentication.clone()],
        Confirm::Always,
    )
    .expect("agent")
    // Kalkan's key files carry no CA certificate: the configured roots include the NCA.
    .with_roots(vec![keys.root.clone(), keys.nca.clone()]);
    let mut page = page_for(agent).await;
    let sign = |signer: Value, signing: Value| {
        basics(
            json!({"format": "cms", "data": DOCUMENT, "signingParams": signing, "signerParams": signer}),
        )
    };
    let signer_of = |answer: &Value, purpose| {
        let cms = cms_of_pem(result_of(answer));
        let report = verify(&keys, &cms, None, purpose);
        assert_valid(&report, &keys);
        report.signers[0]
            .certificate
            .as_ref()
            .expect("certificate")
            .serial
            .clone()
    };
    let serial = |store: &qyzmet_pki::pkcs12::KeyStore| {
        hex::encode(store.certificate.tbs_certificate.serial_number.as_bytes())
    };

    let by_usage = page
        .call(sign(json!({"extKeyUsageOids": [CLIENT_AUTH]}), json!({})))
        .await;
    assert_eq!(
        signer_of(&by_usage, Purpose::Authentication).to_lowercase(),
        serial(&keys.authentication)
    );
    let by_serial = page
        .call(sign(
            json!({"extKeyUsageOids": [], "serialNumber": serial(&keys.authentication).to_uppercase()}),
            json!({}),
        ))
        .await;
    assert_eq!(
        signer_of(&by_serial, Purpose::Authentication).to_lowercase(),
        serial(&keys.authentication)
    );
    // The page's chain replaces the configured roots; [] builds no path at all.
    for chain in [
        json!([pem(&keys.root), pem(&keys.nca)]),
        json!([pem(&keys.nca)]),
        json!([]),
    ] {
        let answer = page
            .call(sign(
                json!({"extKeyUsageOids": [EMAIL_PROTECTION], "chain": chain}),
                json!({}),
            ))
            .await;
        signer_of(&answer, Purpose::DocumentSignature);
    }
    let foreign = page
        .call(sign(
            json!({"extKeyUsageOids": [EMAIL_PROTECTION], "chain": [pem(&other.root), pem(&other.nca)]}),
            json!({}),
        ))
        .await;
    let message = basics_error(&foreign);
    assert!(
        message.starts_with(
            "no loaded key fits: the SIGNATURE key does not chain to the CA certificates the page accepts"
        ),
        "{message}"
    );
    let neither = page
        .call(sign(
            json!({"extKeyUsageOids": [], "serialNumber": "0badc0de"}),
            json!({}),
        ))
        .await;
    let message = basics_error(&neither);
    assert!(
        message.contains("the SIGNATURE key has serial number"),
        "{message}"
    );
    assert!(
        message.contains("; the AUTHENTICATION key has serial number"),
        "{message}"
    );

    // The configured roots are what chain: null means.
    let elsewhere = Agent::new(vec![keys.signing.clone()], Confirm::Always)
        .expect("agent")
        .with_roots(vec![other.root.clone(), other.nca.clone()]);
    let mut page = page_for(elsewhere).await;
    let refused = page
        .call(sign(json!({"extKeyUsageOids": []}), json!({})))
        .await;
    assert!(
        basics_error(&refused).starts_with("the loaded key does not chain to"),
        "{refused}"
    );
    let anywhere = page
        .call(sign(json!({"extKeyUsageOids": [], "chain": []}), json!({})))
        .await;
    signer_of(&anywhere, Purpose::DocumentSignature);
}

#[tokio::test]
async fn expired_and_revoked_keys_sign_only_when_the_page_allows_it() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let sign = |signing: Value| {
        basics(
            json!({"format": "cms", "data": DOCUMENT, "signingParams": signing,
            "signerParams": {"extKeyUsageOids": []}}),
        )
    };

    let expired = Agent::new(vec![keys.expired.clone()], Confirm::Always)
        .expect("agent")
        .with_roots(vec![keys.root.clone(), keys.nca.clone()]);
    let mut page = page_for(expired).await;
    let refused = page.call(sign(json!({}))).await;
    assert!(
        basics_error(&refused).starts_with("the loaded key expired on"),
        "{refused}"
    );
    let allowed = page.call(sign(json!({"allowExpired": true}))).await;
    let report = verify(
        &keys,
        &cms_of_pem(result_of(&allowed)),
        None,
        Purpose::DocumentSignature,
    );
    // Signed, and the platform's verifier still judges it expired.
    assert!(
        report.signers[0]
            .failures
            .iter()
            .any(|f| f.code == qyzmet_pki::report::Code::Expired),
        "{report:#?}"
    );

    let revoked = Agent::new(vec![keys.signing.clone()], Confirm::Always)
        .expect("agent")
        .with_roots(vec![keys.root.clone(), keys.nca.clone()])
        .with_revocation(Arc::new(CrlSet::new(keys.crls_revoking_signing.clone())));
    let mut page = page_for(revoked).await;
    let refused = page.call(sign(json!({}))).await;
    assert!(
        basics_error(&refused).starts_with("the loaded key is revoked"),
        "{refused}"
    );
    let allowed = page.call(sign(json!({"allowRevoked": true}))).await;
    result_of(&allowed);
}

#[tokio::test]
async fn time_stamps_come_from_the_agents_tsa() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let url = serve_time_stamps(keys.tsa.clone()).await;
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Always)
        .expect("agent")
        .with_time_stamp_authority(url);
    let mut page = page_for(agent).await;
    let stamped = |report: &Report| report.signers[0].time_stamp.is_some();

    let answer = page
        .call(basics(json!({"format": "cms", "data": DOCUMENT,
            "signingParams": {"tsaProfile": {}}, "signerParams": {"extKeyUsageOids": []}})))
        .await;
    let report = verify(
        &keys,
        &cms_of_pem(result_of(&answer)),
        None,
        Purpose::DocumentSignature,
    );
    assert_valid(&report, &keys);
    assert!(stamped(&report), "{report:#?}");
    let unstamped = page
        .call(basics(json!({"format": "cms", "data": DOCUMENT,
            "signingParams": {"tsaProfile": null}, "signerParams": {"extKeyUsageOids": []}})))
        .await;
    let report = verify(
        &keys,
        &cms_of_pem(result_of(&unstamped)),
        None,
        Purpose::DocumentSignature,
    );
    assert!(!stamped(&report), "{report:#?}");

    // commonUtils: the older name adds a time-stamp, as NCALayer's does; the newer does not.
    let data = STANDARD.encode(DOCUMENT);
    for (method, expected) in [
        ("createCMSSignatureFromBase64", true),
        ("createCAdESFromBase64", false),
    ] {
        let answer = page
            .call(common(method, json!(["PKCS12", "SIGNATURE", data, true])))
            .await;
        let report = verify(&keys, &cms_of(&answer), None, Purpose::DocumentSignature);
        assert_valid(&report, &keys);
        assert_eq!(stamped(&report), expected, "{method}");
    }
}

#[tokio::test]
async fn common_utils_answers_as_ncalayer_recorded() {
    let keys = test_keys(KeyAlgorithm::EcdsaP256);
    let agent = Agent::new(
        vec![keys.signing.clone(), keys.authentication.clone()],
        Confirm::Always,
    )
    .expect("agent");
    let mut page = page_for(agent).await;
    let data = STANDARD.encode(DOCUMENT);

    let mismatch = page.call(common("getKeyInfo", json!([null]))).await;
    assert_eq!(
        mismatch,
        json!({"code": "500",
            "message": "java.lang.IllegalArgumentException: argument type mismatch. Method: getKeyInfo",
            "details": "argument 1 (storageName) must be a string"})
    );
    let locale = page.call(common("changeLocale", json!([2]))).await;
    assert!(error_message(&locale).contains("argument type mismatch. Method: changeLocale"));
    assert_eq!(
        page.call(common("changeLocale", json!(["kz"]))).await,
        json!({"code": "200"})
    );

    let info = page.call(common("getKeyInfo", json!(["PKCS12"]))).await;
    let info = ok_object(&info);
    for field in [
        "alias",
        "keyId",
        "algorithm",
        "subjectCn",
        "subjectDn",
        "issuerCn",
        "issuerDn",
        "serialNumber",
        "certNotAfter",
        "certNotBefore",
        "authorityKeyIdentifier",
        "pem",
    ] {
        assert!(info[field].is_string(), "{field}: {info}");
    }
    assert_eq!(info["algorithm"], "EC");

    // keyType: SIGNATURE, AUTHENTICATION, anything else any key (the signing key first).
    for (key_type, purpose) in [
        ("AUTHENTICATION", Purpose::Authentication),
        ("SIGNATURE", Purpose::DocumentSignature),
        ("123", Purpose::DocumentSignature),
    ] {
        let answer = page
            .call(common(
                "createCAdESFromBase64",
                json!(["PKCS12", key_type, data, true]),
            ))
            .await;
        assert_valid(&verify(&keys, &cms_of(&answer), None, purpose), &keys);
    }
    let hash = STANDARD.encode(Sha256::digest(DOCUMENT));
    let hashed = page
        .call(common(
            "createCAdESFromBase64Hash",
            json!(["PKCS12", "AUTHENTICATION", hash]),
        ))
        .await;
    assert_valid(
        &verify(
            &keys,
            &cms_of(&hashed),
            Some(DOCUMENT.as_bytes()),
            Purpose::Authentication,
        ),
        &keys,
    );
    let long = page
        .call(common(
            "createCAdESFromBase64Hash",
            json!(["PKCS12", "SIGNATURE", STANDARD.encode([0u8; 64])]),
        ))
        .await;
    assert_eq!(
        error_message(&long),
        "the hash has 64 bytes, but the key's digest algorithm makes 32-byte hashes"
    );

    // Recorded: a number for the XML, a string for the list of XMLs.
    for (method, xml) in [
        ("signXml", json!(555)),
        ("signXmls", json!("<tag>data</tag>")),
    ] {
        let answer = page
            .call(common(method, json!(["PKCS12", "123", xml, "", ""])))
            .await;
        assert_eq!(
            error_message(&answer),
            format!("java.lang.IllegalArgumentException: argument type mismatch. Method: {method}")
        );
    }
}

/// Whether xmlsec1 (the independent XML verifier CI installs) is here; without it the interop check is
/// skipped unless QYZMET_REQUIRE_XMLSEC=1 demands it.
fn xmlsec_present() -> bool {
    let found = Command::new("xmlsec1").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("QYZMET_REQUIRE_XMLSEC").as_deref() != Ok("1"),
            "QYZMET_REQUIRE_XMLSEC=1 but xmlsec1 is not installed"
        );
        eprintln!("xmlsec1 not installed: skipping the interop check");
    }
    found
}

/// `xmlsec1 --verify` of a signed document with the test root trusted and the NCA as intermediate.
fn xmlsec_verifies(dir: &Path, keys: &TestKeys, xml: &str, extra: &[&str]) {
    let path = |name: &str| -> PathBuf { dir.join(name) };
    let pem = |certificate: &x509_cert::Certificate| {
        certificate.to_pem(der::pem::LineEnding::LF).expect("PEM")
    };
    std::fs::write(path("root.pem"), pem(&keys.root)).expect("write");
    std::fs::write(path("nca.pem"), pem(&keys.nca)).expect("write");
    std::fs::write(path("signed.xml"), xml).expect("write");
    let out = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(path("root.pem"))
        .arg("--untrusted-pem")
        .arg(path("nca.pem"))
        .args(extra)
        .arg(path("signed.xml"))
        .output()
        .expect("xmlsec1 runs");
    assert!(
        out.status.success(),
        "xmlsec1 --verify failed: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn xml_is_signed_as_ncalayer_signs_it() {
    let keys = test_keys(KeyAlgorithm::Rsa2048);
    let agent = Agent::new(vec![keys.signing.clone()], Confirm::Always).expect("agent");
    let mut page = page_for(agent).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let check = xmlsec_present();
    let document = "<tag>data</tag>";

    // basics: a list of signed documents even for one.
    let answer = page
        .call(basics(
            json!({"format": "xml", "data": document, "signingParams": {},
            "signerParams": {"extKeyUsageOids": []}, "locale": "ru"}),
        ))
        .await;
    let results = result_of(&answer).as_array().expect("a list");
    assert_eq!(results.len(), 1, "{answer}");
    let signed = results[0].as_str().expect("signed XML");
    assert!(
        signed
            .starts_with("<tag>data<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"),
        "{signed}"
    );
    assert!(signed.contains("xmldsig-more#rsa-sha256"), "{signed}");
    assert!(signed.ends_with("</ds:Signature></tag>"), "{signed}");
    if check {
        xmlsec_verifies(dir.path(), &keys, signed, &[]);
    }
    let decoded = page
        .call(basics(json!({"format": "xml", "data": [STANDARD.encode(document), STANDARD.encode("<b>екі</b>")],
            "signingParams": {"decode": true}, "signerParams": {"extKeyUsageOids": [EMAIL_PROTECTION]}})))
        .await;
    assert_eq!(
        result_of(&decoded).as_array().map(Vec::len),
        Some(2),
        "{decoded}"
    );

    // commonUtils: signXml answers the document, signXmls a list; an element by XPath.
    let whole = page
        .call(common(
            "signXml",
            json!(["PKCS12", "SIGNATURE", document, "", ""]),
        ))
        .await;
    let signed = ok_object(&whole).as_str().expect("signed XML");
    if check {
        xmlsec_verifies(dir.path(), &keys, signed, &[]);
    }
    let element = page
        .call(common(
            "signXml",
            json!([
                "PKCS12",
                "SIGNATURE",
                "<doc><item Id=\"a1\">x</item><sig/></doc>",
                "/doc/item",
                "/doc/sig"
            ]),
        ))
        .await;
    let signed = ok_object(&element).as_str().expect("signed XML");
    assert!(signed.contains("URI=\"#a1\""), "{signed}");
    assert!(signed.contains("<sig><ds:Signature"), "{signed}");
    if check {
        xmlsec_verifies(dir.path(), &keys, signed, &["--id-attr:Id", "item"]);
    }
    let several = page
        .call(common(
            "signXmls",
            json!(["PKCS12", "123", [document, document], "", ""]),
        ))
        .await;
    assert_eq!(
        ok_object(&several).as_array().map(Vec::len),
        Some(2),
        "{several}"
    );

    // A malformed document: the parser's complaint in SAX's words, before anyone is asked.
    let malformed = page
        .call(common(
            "signXml",
            json!(["PKCS12", "SIGNATURE", "<this>is not a valid XML", "", ""]),
        ))
        .await;
    assert!(
        error_message(&malformed)
            .starts_with("org.xml.sax.SAXParseException; lineNumber: 1; columnNumber: "),
        "{malformed}"
    );
    let malformed = page
        .call(basics(json!({"format": "xml", "data": ["<a/>", "<b>"], "signerParams": {"extKeyUsageOids": []}})))
        .await;
    assert!(
        basics_error(&malformed).starts_with("org.xml.sax.SAXParseException"),
        "{malformed}"
    );
    let hashed = page
        .call(basics(
            json!({"format": "xml", "data": "<a/>", "signingParams": {"digested": true},
            "signerParams": {"extKeyUsageOids": []}}),
        ))
        .await;
    assert!(
        basics_error(&hashed).starts_with("signingParams.digested"),
        "{hashed}"
    );
}

/// A file of the NCA's public test material (testdata/nca-test).
fn nca_test(path: &str) -> Vec<u8> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/nca-test")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[tokio::test]
async fn a_kalkan_gost_key_signs_through_the_same_protocol() {
    let store = |name: &str| {
        qyzmet_pki::pkcs12::KeyStore::from_pkcs12(&nca_test(&format!("p12/{name}.p12")), "Qwerty12")
            .expect("the NCA's PKCS#12")
    };
    let certificate = |name: &str| {
        qyzmet_pki::certificates_from_pem(&nca_test(&format!("ca/{name}")))
            .expect("certificate")
            .remove(0)
    };
    let (root, nca) = (
        certificate("root_test_gost_2022.cer"),
        certificate("nca_gost2022_test.cer"),
    );
    let crl = nca_test("crl/nca_gost2022_test_crl166_2026-08-11.crl");
    let verifier = Verifier::new(
        vec![root.clone(), nca.clone()],
        Arc::new(CrlSet::new(vec![crl.clone()])),
    );
    let judge = |cms: &[u8], data: Option<&[u8]>| {
        verifier.verify(cms, data, &Expectation::default(), Timestamp::now())
    };
    let agent = Agent::new(
        vec![store("individual_valid_individual_valid")],
        Confirm::Always,
    )
    .expect("agent")
    .with_roots(vec![root.clone(), nca.clone()])
    .with_revocation(Arc::new(CrlSet::new(vec![crl.clone()])));
    let mut page = page_for(agent).await;
    let any_key = json!({"extKeyUsageOids": [EMAIL_PROTECTION, "1.2.398.3.3.4.1.1"]});

    let info = page.call(common("getKeyInfo", json!(["PKCS12"]))).await;
    assert_eq!(
        ok_object(&info)["algorithm"],
        "ECGOST3410-2015-512",
        "{info}"
    );

    let attached = page
        .call(basics(
            json!({"format": "cms", "data": DOCUMENT, "signerParams": any_key}),
        ))
        .await;
    let report = judge(&cms_of_pem(result_of(&attached)), None);
    assert!(report.valid, "{report:#?}");

    // Over a Streebog-512 hash: 64 bytes; a 32-byte hash is not this key's, said after consent.
    let digest = qyzmet_pki::algorithm::DigestAlgorithm::Streebog512.digest(DOCUMENT.as_bytes());
    let digested = page
        .call(basics(
            json!({"format": "cms", "data": STANDARD.encode(&digest),
            "signingParams": {"decode": true, "digested": true}, "signerParams": any_key}),
        ))
        .await;
    let cms = cms_of_pem(result_of(&digested));
    assert!(judge(&cms, Some(DOCUMENT.as_bytes())).valid);
    assert!(!judge(&cms, Some(b"another")).valid);
    let short = page
        .call(basics(
            json!({"format": "cms", "data": STANDARD.encode(Sha256::digest(DOCUMENT)),
            "signingParams": {"decode": true, "digested": true}, "signerParams": any_key}),
        ))
        .await;
    assert_eq!(
        basics_error(&short),
        "the hash has 32 bytes, but the key's digest algorithm makes 64-byte hashes"
    );

    // XML with the GOST key: Kalkan's URIs (FACTS §1).
    let xml = page
        .call(basics(
            json!({"format": "xml", "data": "<tag>data</tag>", "signerParams": any_key}),
        ))
        .await;
    let signed = result_of(&xml)[0].as_str().expect("signed XML").to_owned();
    assert!(
        signed.contains(
            "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512"
        ),
        "{signed}"
    );

    // A key on CRL #166 is not offered unless the page allows it.
    let revoked = Agent::new(
        vec![store("individual_revoked_individual_revoked")],
        Confirm::Always,
    )
    .expect("agent")
    .with_roots(vec![root, nca])
    .with_revocation(Arc::new(CrlSet::new(vec![crl])));
    let mut page = page_for(revoked).await;
    let sign = |signing: Value| {
        basics(
            json!({"format": "cms", "data": DOCUMENT, "signingParams": signing, "signerParams": {"extKeyUsageOids": []}}),
        )
    };
    let refused = page.call(sign(json!({}))).await;
    assert!(
        basics_error(&refused).starts_with("the loaded key is revoked"),
        "{refused}"
    );
    result_of(&page.call(sign(json!({"allowRevoked": true}))).await);
}
