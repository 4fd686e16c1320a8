//! The agent on a real socket, spoken to as NCALayer's pages speak, its signatures judged by the platform's
//! verifier and by OpenSSL.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::EncodePem;
use jiff::Timestamp;
use qyzmet_layer::testing::{Client, PAGE_ORIGIN, TestKeys, page_origins, test_keys};
use qyzmet_layer::{Agent, Confirm, LocalCertificate, TlsConfig};
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::report::Report;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Purpose, Verifier};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const COMMON: &str = "kz.gov.pki.knca.commonUtils";
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

/// `openssl cms -verify` with the root as the only anchor (the CMS carries the NCA certificate).
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

    // The newer basics module, with its object arguments and answer shape.
    let basics = page
        .call(json!({
            "module": "kz.gov.pki.knca.basics",
            "method": "sign",
            "args": {
                "allowedStorages": ["PKCS12"],
                "format": "cms",
                "data": data,
                "signingParams": {"decode": "true", "encapsulate": true, "digested": false, "tsaProfile": null},
                "signerParams": {"extKeyUsageOids": ["1.3.6.1.5.5.7.3.4"], "iin": keys.iin.to_string(), "bin": "", "chain": null},
                "locale": "kk"
            }
        }))
        .await;
    assert_eq!(basics["status"], true, "{basics}");
    let result = basics["body"]["result"][0].as_str().expect("result");
    assert_eq!(basics["responseObject"], result);
    let cms = STANDARD.decode(result).expect("base64");
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
    assert!(
        error_message(&short_hash).contains("32 bytes"),
        "{short_hash}"
    );

    let xml = page
        .call(common(
            "signXml",
            json!(["PKCS12", "SIGNATURE", "<a/>", "", ""]),
        ))
        .await;
    assert!(
        error_message(&xml).contains("XML signing is not supported"),
        "{xml}"
    );

    let basics_xml = page
        .call(json!({"module": "kz.gov.pki.knca.basics", "method": "sign",
            "args": {"format": "xml", "data": "<a/>", "signingParams": {"decode": false}}}))
        .await;
    assert_eq!(basics_xml["status"], false, "{basics_xml}");
    assert!(error_message(&basics_xml).contains("XML signing is not supported"));

    // Facts about the keys, told because the person (here: --yes) consented to it.
    let someone_else = page
        .call(json!({"module": "kz.gov.pki.knca.basics", "method": "sign",
            "args": {"format": "cms", "data": data, "signerParams": {"iin": "000000000000"}}}))
        .await;
    assert_eq!(
        error_message(&someone_else),
        "the loaded key is not of IIN 000000000000"
    );

    let not_an_iin = page
        .call(json!({"module": "kz.gov.pki.knca.basics", "method": "sign",
            "args": {"format": "cms", "data": data, "signerParams": {"iin": "x".repeat(100_000)}}}))
        .await;
    assert_eq!(
        error_message(&not_an_iin),
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
                     "signingParams": {"encapsulate": true},
                     "signerParams": {"extKeyUsageOids": ["1.3.6.1.5.5.7.3.2"]}}}))
        .await;
    let results = by_usage["body"]["result"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    for result in results {
        let cms = STANDARD
            .decode(result.as_str().expect("base64"))
            .expect("base64");
        assert_valid(&verify(&keys, &cms, None, Purpose::Authentication), &keys);
    }
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
    let basics = |signer_params: Value| {
        json!({"module": "kz.gov.pki.knca.basics", "method": "sign",
            "args": {"format": "cms", "data": data, "signerParams": signer_params}})
    };

    // What a page gets when the key fits and the person says no: the refusal every probe must get too.
    let declined = page
        .call(basics(json!({"iin": keys.iin.to_string()})))
        .await;
    assert_eq!(
        declined,
        json!({"status": false, "code": "500", "message": "action.canceled", "details": "action.canceled"})
    );
    for probe in [
        json!({"iin": "000000000000"}),
        json!({"bin": "000000000000"}),
        // There is no authentication key.
        json!({"extKeyUsageOids": ["1.3.6.1.5.5.7.3.2"]}),
        json!({"extKeyUsageOids": ["1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.1"]}),
    ] {
        let answer = page.call(basics(probe.clone())).await;
        assert_eq!(answer, declined, "{probe}");
    }
    // A list of documents: one refusal, the same.
    let several = page
        .call(json!({"module": "kz.gov.pki.knca.basics", "method": "sign",
            "args": {"format": "cms", "data": [data, data], "signerParams": {"iin": "000000000000"}}}))
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
