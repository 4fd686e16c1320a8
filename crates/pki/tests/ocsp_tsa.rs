//! The OCSP responder (RFC 6960) and the time-stamping authority (RFC 3161) as OpenSSL sees them, our own
//! clients against them, and both servers against garbage.

// clippy.toml's allow-unwrap-in-tests covers #[test] functions only, not the helpers of an integration-test
// crate (here and in `support`); a failed unwrap in a helper is a failed test all the same.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME};
use der::{Decode, Encode};
use jiff::{SignedDuration, Timestamp};
use qyzmet_pki::authority::{Authority, Issue, Profile};
use qyzmet_pki::name::simple_name;
use qyzmet_pki::ocsp::{self, OcspAnswer, Responder, Status};
use qyzmet_pki::tsp::{self, TimeStampAuthority};
use qyzmet_pki::{KeyAlgorithm, PkiError, PrivateKey};
use sha2::{Digest, Sha256};
use support::*;
use x509_cert::Certificate;
use x509_ocsp::{BasicOcspResponse, OcspResponse, OcspResponseStatus, ResponderId};

const TSA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.3.9.1");

/// A certificate for a service (responder, TSA) under `ca`, valid since yesterday.
fn service_certificate(
    ca: &Authority,
    cn: &str,
    profile: Profile,
    key: &PrivateKey,
) -> Certificate {
    ca.issue(
        &Issue {
            subject: simple_name(&[(COMMON_NAME, cn), (COUNTRY_NAME, "KZ")]).unwrap(),
            public_key: key.public_key_info().unwrap(),
            profile,
            not_before: Timestamp::now() - SignedDuration::from_hours(24),
        },
        &endpoints(),
    )
    .unwrap()
}

fn responder(ca: &Authority) -> Responder {
    let key = PrivateKey::generate(ca.key.algorithm()).unwrap();
    Responder {
        certificate: service_certificate(ca, "NCA OCSP (TEST)", Profile::OcspResponder, &key),
        key,
    }
}

fn tsa(ca: &Authority) -> TimeStampAuthority {
    let key = PrivateKey::generate(ca.key.algorithm()).unwrap();
    TimeStampAuthority {
        certificate: service_certificate(ca, "NCA TSA (TEST)", Profile::TimeStamping, &key),
        key,
        chain: ca.chain_from_here(),
        policy: TSA_POLICY,
    }
}

fn leaf(ca: &Authority, n: u32) -> Certificate {
    let key = PrivateKey::generate(ca.key.algorithm()).unwrap();
    issue(
        ca,
        &holder(n, false),
        Profile::Signing { role: None },
        &key,
        Timestamp::now() - SignedDuration::from_hours(1),
    )
}

/// Whole seconds: what GeneralizedTime keeps.
fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap()
}

fn revoked_at() -> Timestamp {
    now() - SignedDuration::from_hours(3)
}

fn ocsp_status(der: &[u8]) -> OcspResponseStatus {
    OcspResponse::from_der(der).unwrap().response_status
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }
    fn p(&self, file: &str) -> String {
        self.0.path().join(file).to_string_lossy().into_owned()
    }
    fn write(&self, file: &str, bytes: &[u8]) {
        std::fs::write(self.p(file), bytes).unwrap();
    }
    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.p(file)).unwrap()
    }
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

// -------------------------------------------------------------------------------------------------------
// OCSP
// -------------------------------------------------------------------------------------------------------

#[test]
fn openssl_accepts_our_ocsp_answers() {
    for algorithm in KeyAlgorithm::ALL {
        let h = hierarchy(algorithm);
        let responder = responder(&h.nca);
        let cert = leaf(&h.nca, 1);
        let d = Dir::new();
        write_pem(&d.0.path().join("root.pem"), &[&h.root.certificate]);
        write_pem(&d.0.path().join("nca.pem"), &[&h.nca.certificate]);
        write_pem(&d.0.path().join("leaf.pem"), &[&cert]);
        write_pem(
            &d.0.path().join("others.pem"),
            &[&h.nca.certificate, &responder.certificate],
        );
        let cases = [
            (Status::Good, "leaf.pem: good"),
            (
                Status::Revoked {
                    at: revoked_at(),
                    reason: Some(1),
                },
                "leaf.pem: revoked",
            ),
            (Status::Unknown, "leaf.pem: unknown"),
        ];
        // OpenSSL's default SHA-1 CertID, and SHA-256 to exercise the other match.
        for digest in ["-sha1", "-sha256"] {
            let out = openssl(&[
                "ocsp",
                digest,
                "-issuer",
                &d.p("nca.pem"),
                "-cert",
                &d.p("leaf.pem"),
                "-reqout",
                &d.p("req.der"),
                "-nonce",
            ]);
            assert_ok(&out, "openssl ocsp -reqout");
            let request = d.read("req.der");
            for (status, expected) in cases {
                let now = now();
                let response = ocsp::respond(
                    &request,
                    &responder,
                    std::slice::from_ref(&h.nca.certificate),
                    |issuer, serial| {
                        assert_eq!(issuer, &h.nca.certificate);
                        assert_eq!(serial, &cert.tbs_certificate.serial_number);
                        status
                    },
                    now,
                    Some(now + SignedDuration::from_hours(1)),
                );
                d.write("resp.der", &response);
                // The status line, as a relying party asks: a fresh request of OpenSSL's own (same CertID
                // hash), without a nonce (ours answers the earlier request's).
                let out = openssl(&[
                    "ocsp",
                    digest,
                    "-respin",
                    &d.p("resp.der"),
                    "-issuer",
                    &d.p("nca.pem"),
                    "-cert",
                    &d.p("leaf.pem"),
                    "-CAfile",
                    &d.p("root.pem"),
                    "-verify_other",
                    &d.p("others.pem"),
                    "-no_nonce",
                ]);
                assert_ok(&out, "openssl ocsp -respin");
                let text = stdout_of(&out);
                assert!(
                    text.contains("Response verify OK"),
                    "{algorithm} {digest}: {text}"
                );
                assert!(text.contains(expected), "{algorithm} {digest}: {text}");
                if matches!(status, Status::Revoked { .. }) {
                    assert!(text.contains("Reason: keyCompromise"), "{text}");
                }
                // The nonce: OpenSSL compares the request's with the response's.
                let out = openssl(&[
                    "ocsp",
                    "-reqin",
                    &d.p("req.der"),
                    "-respin",
                    &d.p("resp.der"),
                    "-CAfile",
                    &d.p("root.pem"),
                    "-verify_other",
                    &d.p("others.pem"),
                    "-resp_text",
                ]);
                assert_ok(&out, "openssl ocsp -reqin -respin");
                let text = stdout_of(&out);
                assert!(text.contains("Response verify OK"), "{text}");
                assert!(!text.contains("WARNING"), "{text}");
                assert!(text.contains("OCSP Nonce"), "{text}");
            }
        }
    }
}

#[test]
fn our_client_and_responder_agree() {
    for algorithm in KeyAlgorithm::ALL {
        let h = hierarchy(algorithm);
        let responder = responder(&h.nca);
        let cert = leaf(&h.nca, 2);
        let nca = &h.nca.certificate;
        let nonce = [7u8; 16];
        let request = ocsp::build_request(&cert, nca, Some(&nonce)).unwrap();
        for status in [
            Status::Good,
            Status::Revoked {
                at: revoked_at(),
                reason: Some(1),
            },
            Status::Revoked {
                at: revoked_at(),
                reason: None,
            },
            Status::Unknown,
        ] {
            let now = now();
            let next = now + SignedDuration::from_hours(1);
            let response = ocsp::respond(
                &request,
                &responder,
                std::slice::from_ref(nca),
                |_, _| status,
                now,
                Some(next),
            );
            let answer = ocsp::parse_response(&response, &cert, nca, nca, now).unwrap();
            assert_eq!(
                answer,
                OcspAnswer {
                    status,
                    this_update: now,
                    next_update: Some(next),
                    produced_at: now,
                    nonce: Some(nonce.to_vec()),
                }
            );
            // The responder names itself by key and includes its certificate (RFC 6960 §4.2.1).
            let basic = basic_response(&response);
            assert!(matches!(
                basic.tbs_response_data.responder_id,
                ResponderId::ByKey(_)
            ));
            assert_eq!(basic.certs, Some(vec![responder.certificate.clone()]));
        }

        // The CA may answer for itself, and a SHA-256 CertID is understood.
        let itself = Responder {
            certificate: nca.clone(),
            key: h.nca.key.clone(),
        };
        let request = x509_ocsp::OcspRequest {
            tbs_request: x509_ocsp::TbsRequest {
                version: x509_ocsp::Version::V1,
                requestor_name: None,
                request_list: vec![x509_ocsp::Request::from_cert::<Sha256>(nca, &cert).unwrap()],
                request_extensions: None,
            },
            optional_signature: None,
        }
        .to_der()
        .unwrap();
        let now = now();
        let response = ocsp::respond(
            &request,
            &itself,
            &[h.root.certificate.clone(), nca.clone()],
            |_, _| Status::Good,
            now,
            None,
        );
        let answer = ocsp::parse_response(&response, &cert, nca, nca, now).unwrap();
        assert_eq!(answer.status, Status::Good);
        assert_eq!(answer.next_update, None);
        assert_eq!(answer.nonce, None);

        // The edges of time: a nextUpdate in 9999 is read without overflow; a clock before 1970 cannot be
        // written, which is the responder's internal error, not the client's fault.
        let far = Timestamp::from_second(Timestamp::MAX.as_second()).unwrap(); // in 9999
        let response = ocsp::respond(
            &request,
            &itself,
            std::slice::from_ref(nca),
            |_, _| Status::Good,
            now,
            Some(far),
        );
        let answer = ocsp::parse_response(&response, &cert, nca, nca, now).unwrap();
        assert_eq!(answer.next_update, Some(far));
        let before_1970 = Timestamp::from_second(-100).unwrap();
        let response = ocsp::respond(
            &request,
            &itself,
            std::slice::from_ref(nca),
            |_, _| Status::Good,
            before_1970,
            None,
        );
        assert_eq!(ocsp_status(&response), OcspResponseStatus::InternalError);
    }
}

fn basic_response(der: &[u8]) -> BasicOcspResponse {
    let response = OcspResponse::from_der(der).unwrap();
    BasicOcspResponse::from_der(response.response_bytes.unwrap().response.as_bytes()).unwrap()
}

/// `response` re-signed by `signer`, who names itself by key and includes its certificate: how a
/// responder the client must not trust would answer.
fn resign(response: &[u8], signer: &Responder) -> Vec<u8> {
    let mut basic = basic_response(response);
    basic.tbs_response_data.responder_id = ResponderId::ByKey(
        der::asn1::OctetString::new(qyzmet_pki::algorithm::key_identifier(
            &signer.certificate.tbs_certificate.subject_public_key_info,
        ))
        .unwrap(),
    );
    let signature = signer
        .key
        .sign(&basic.tbs_response_data.to_der().unwrap())
        .unwrap();
    basic.signature_algorithm = signer.key.signature_algorithm();
    basic.signature = der::asn1::BitString::from_bytes(&signature).unwrap();
    basic.certs = Some(vec![signer.certificate.clone()]);
    OcspResponse::successful(basic).unwrap().to_der().unwrap()
}

#[test]
fn answers_from_unauthorised_responders_are_rejected() {
    let h = hierarchy(KeyAlgorithm::EcdsaP256);
    let other = hierarchy(KeyAlgorithm::EcdsaP256);
    let responder = responder(&h.nca);
    let cert = leaf(&h.nca, 3);
    let nca = &h.nca.certificate;
    let now = now();
    let request = ocsp::build_request(&cert, nca, None).unwrap();
    let good = ocsp::respond(
        &request,
        &responder,
        std::slice::from_ref(nca),
        |_, _| Status::Good,
        now,
        Some(now + SignedDuration::from_hours(1)),
    );
    assert!(ocsp::parse_response(&good, &cert, nca, nca, now).is_ok());

    // A responder certified by another CA.
    let foreign = resign(&good, &self::responder(&other.nca));
    let err = ocsp::parse_response(&foreign, &cert, nca, nca, now).unwrap_err();
    assert!(
        matches!(&err, PkiError::Rejected(m) if m.contains("not issued by")),
        "{err}"
    );
    // … even when the caller trusts that CA's root as well.
    assert!(ocsp::parse_response(&foreign, &cert, nca, &other.root.certificate, now).is_err());

    // A certificate of our CA, but not for OCSP signing.
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let signing = Responder {
        certificate: service_certificate(
            &h.nca,
            "NOT A RESPONDER",
            Profile::Signing { role: None },
            &key,
        ),
        key,
    };
    let err = ocsp::parse_response(&resign(&good, &signing), &cert, nca, nca, now).unwrap_err();
    assert!(
        matches!(&err, PkiError::Rejected(m) if m.contains("OCSPSigning")),
        "{err}"
    );

    // A broken signature.
    let mut tampered = good.clone();
    let last = tampered.len() - 1;
    tampered[last - 40] ^= 0x01;
    assert!(ocsp::parse_response(&tampered, &cert, nca, nca, now).is_err());

    // An answer about another certificate.
    let other_leaf = leaf(&h.nca, 4);
    let err = ocsp::parse_response(&good, &other_leaf, nca, nca, now).unwrap_err();
    assert!(matches!(err, PkiError::Rejected(_)), "{err}");

    // Stale, and from the future.
    let late = now + SignedDuration::from_hours(2);
    let err = ocsp::parse_response(&good, &cert, nca, nca, late).unwrap_err();
    assert!(
        matches!(&err, PkiError::Rejected(m) if m.contains("stale")),
        "{err}"
    );
    let early = now - SignedDuration::from_mins(30);
    let err = ocsp::parse_response(&good, &cert, nca, nca, early).unwrap_err();
    assert!(
        matches!(&err, PkiError::Rejected(m) if m.contains("future")),
        "{err}"
    );
}

#[test]
fn the_responder_refuses_what_it_cannot_answer() {
    let h = hierarchy(KeyAlgorithm::EcdsaP256);
    let other = hierarchy(KeyAlgorithm::EcdsaP256);
    let responder = responder(&h.nca);
    let nca = &h.nca.certificate;
    let now = now();
    let answer = |request: &[u8], issuers: &[Certificate]| {
        ocsp::respond(request, &responder, issuers, |_, _| Status::Good, now, None)
    };

    for garbage in [
        &b""[..],
        b"garbage",
        &[0x30, 0x80, 0x00, 0x00],
        &[0x30, 0x00],
    ] {
        let response = answer(garbage, std::slice::from_ref(nca));
        assert_eq!(ocsp_status(&response), OcspResponseStatus::MalformedRequest);
        let err = ocsp::parse_response(&response, nca, nca, nca, now).unwrap_err();
        assert!(
            matches!(&err, PkiError::Rejected(m) if m.contains("malformedRequest")),
            "{err}"
        );
    }
    // A certificate of a CA the responder does not serve.
    let stranger = leaf(&other.nca, 5);
    let request = ocsp::build_request(&stranger, &other.nca.certificate, None).unwrap();
    assert_eq!(
        ocsp_status(&answer(&request, std::slice::from_ref(nca))),
        OcspResponseStatus::Unauthorized
    );
    // A CA it knows but is not delegated by: its answer would not verify, so it gives none.
    assert_eq!(
        ocsp_status(&answer(
            &request,
            &[nca.clone(), other.nca.certificate.clone()]
        )),
        OcspResponseStatus::Unauthorized
    );
    // The client refuses to ask with a nonce RFC 8954 forbids.
    let cert = leaf(&h.nca, 6);
    assert!(ocsp::build_request(&cert, nca, Some(&[0u8; 33])).is_err());
    assert!(ocsp::build_request(&cert, nca, Some(&[])).is_err());
    // … and about a certificate with the wrong issuer.
    assert!(ocsp::build_request(&cert, &h.root.certificate, None).is_err());
}

// -------------------------------------------------------------------------------------------------------
// Time-stamps
// -------------------------------------------------------------------------------------------------------

#[test]
fn openssl_accepts_our_time_stamps() {
    for algorithm in KeyAlgorithm::ALL {
        let h = hierarchy(algorithm);
        let tsa = tsa(&h.nca);
        let d = Dir::new();
        d.write("data.txt", "Өтініш: демалыс 2026 жыл".as_bytes());
        write_pem(&d.0.path().join("root.pem"), &[&h.root.certificate]);
        write_pem(
            &d.0.path().join("chain.pem"),
            &[&h.nca.certificate, &tsa.certificate],
        );
        let mut serial = 1000u128;
        // Without a nonce asking for the certificate; with OpenSSL's nonce; without the certificate.
        let queries: [&[&str]; 3] = [&["-cert", "-no_nonce"], &["-cert"], &[]];
        for extra in queries {
            let (data, query) = (d.p("data.txt"), d.p("q.tsq"));
            let mut args = vec!["ts", "-query", "-data", &data, "-sha256"];
            args.extend_from_slice(extra);
            args.extend_from_slice(&["-out", &query]);
            assert_ok(&openssl(&args), "openssl ts -query");
            serial += 1;
            let response = tsp::respond(&d.read("q.tsq"), &tsa, serial, now());
            d.write("r.tsr", &response);

            let out = openssl(&["ts", "-reply", "-in", &d.p("r.tsr"), "-text"]);
            assert_ok(&out, "openssl ts -reply -text");
            let text = stdout_of(&out);
            assert!(text.contains("Status: Granted"), "{text}");
            assert!(text.contains(&TSA_POLICY.to_string()), "{text}");
            assert!(text.contains("Accuracy: 0x01 seconds"), "{text}");

            for against in [["-data", &d.p("data.txt")], ["-queryfile", &d.p("q.tsq")]] {
                let out = openssl(&[
                    "ts",
                    "-verify",
                    against[0],
                    against[1],
                    "-in",
                    &d.p("r.tsr"),
                    "-CAfile",
                    &d.p("root.pem"),
                    "-untrusted",
                    &d.p("chain.pem"),
                ]);
                let text = stdout_of(&out);
                assert!(
                    out.status.success() && text.contains("Verification: OK"),
                    "{algorithm} {extra:?} {against:?}: {text}"
                );
            }
        }
    }
}

#[test]
fn our_client_verifies_our_tokens() {
    for algorithm in KeyAlgorithm::ALL {
        let h = hierarchy(algorithm);
        let tsa = tsa(&h.nca);
        let root = &h.root.certificate;
        let digest: [u8; 32] = Sha256::digest(b"the document").into();
        let now = now();
        let nonce = 0x8000_0000_0000_0001u64; // top bit set: the INTEGER needs a leading zero octet
        let request = tsp::build_request(&digest, Some(nonce), true);
        let response = tsp::respond(&request, &tsa, 0xABCDEF, now);
        let token = tsp::extract_token(&response).unwrap();
        let info = tsp::verify_token(&token, &digest, std::slice::from_ref(root)).unwrap();
        assert_eq!(info.gen_time, now);
        assert_eq!(info.serial_hex, "ABCDEF");
        assert_eq!(info.policy, TSA_POLICY.to_string());
        assert!(
            info.tsa_subject.contains("CN=NCA TSA (TEST)"),
            "{}",
            info.tsa_subject
        );
        assert!(info.nonce_is(nonce));
        assert!(!info.nonce_is(nonce + 1));
        // Anchored at the issuing CA instead of the root.
        assert!(
            tsp::verify_token(&token, &digest, std::slice::from_ref(&h.nca.certificate)).is_ok()
        );

        // Other data.
        let other: [u8; 32] = Sha256::digest(b"another document").into();
        let err = tsp::verify_token(&token, &other, std::slice::from_ref(root)).unwrap_err();
        assert!(
            matches!(&err, PkiError::Rejected(m) if m.contains("other data")),
            "{err}"
        );
        // Another trust anchor.
        let stranger = hierarchy(algorithm);
        let err = tsp::verify_token(
            &token,
            &digest,
            std::slice::from_ref(&stranger.root.certificate),
        )
        .unwrap_err();
        assert!(
            matches!(&err, PkiError::Untrusted(m) if m.contains("chain")),
            "{err}"
        );
        // Any changed octet of the token breaks it (here: inside the TSTInfo's genTime).
        let position = token
            .windows(2)
            .position(|w| w == [0x18, 0x0f])
            .expect("genTime");
        let mut tampered = token.clone();
        tampered[position + 10] ^= 0x01;
        assert!(tsp::verify_token(&tampered, &digest, std::slice::from_ref(root)).is_err());

        // Without certReq the token carries no certificate: the TSA certificate must then be known.
        let request = tsp::build_request(&digest, None, false);
        let token = tsp::extract_token(&tsp::respond(&request, &tsa, 7, now)).unwrap();
        assert!(tsp::verify_token(&token, &digest, std::slice::from_ref(root)).is_err());
        let info =
            tsp::verify_token(&token, &digest, &[tsa.certificate.clone(), root.clone()]).unwrap();
        assert_eq!(info.serial_hex, "07");
        assert_eq!(info.nonce, None);
    }
}

#[test]
fn our_client_verifies_openssl_tokens() {
    for algorithm in KeyAlgorithm::ALL {
        let h = hierarchy(algorithm);
        let tsa = tsa(&h.nca);
        let d = Dir::new();
        d.write("data.txt", b"signed elsewhere");
        write_pem(&d.0.path().join("tsa.pem"), &[&tsa.certificate]);
        write_pem(&d.0.path().join("chain.pem"), &[&h.nca.certificate]);
        let key = tsa.key.to_pkcs8_der().unwrap();
        let key_pem =
            der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, key.as_bytes())
                .unwrap();
        d.write("tsa.key", key_pem.as_bytes());
        d.write("serial", b"01\n");
        let digest: [u8; 32] = Sha256::digest(b"signed elsewhere").into();
        // OpenSSL's default ESS form is SigningCertificate with SHA-1; sha256 gives SigningCertificateV2.
        for ess in ["sha1", "sha256"] {
            let config = format!(
                "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = {serial}\ncrypto_device = builtin\n\
                 signer_cert = {cert}\ncerts = {chain}\nsigner_key = {key}\nsigner_digest = sha256\n\
                 default_policy = 1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\nordering = yes\n\
                 tsa_name = yes\ness_cert_id_alg = {ess}\n",
                serial = d.p("serial"),
                cert = d.p("tsa.pem"),
                chain = d.p("chain.pem"),
                key = d.p("tsa.key"),
            );
            d.write("tsa.cnf", config.as_bytes());
            let (data, query) = (d.p("data.txt"), d.p("q.tsq"));
            let args = [
                "ts", "-query", "-data", &data, "-sha256", "-cert", "-out", &query,
            ];
            assert_ok(&openssl(&args), "openssl ts -query");
            let out = openssl(&[
                "ts",
                "-reply",
                "-config",
                &d.p("tsa.cnf"),
                "-queryfile",
                &d.p("q.tsq"),
                "-out",
                &d.p("r.tsr"),
            ]);
            assert_ok(&out, "openssl ts -reply (as TSA)");
            let token = tsp::extract_token(&d.read("r.tsr")).unwrap();
            let info =
                tsp::verify_token(&token, &digest, std::slice::from_ref(&h.root.certificate))
                    .unwrap_or_else(|e| panic!("{algorithm} {ess}: {e}"));
            assert_eq!(info.policy, "1.2.3.4.1");
            assert!(info.nonce.is_some());
            let other: [u8; 32] = Sha256::digest(b"something else").into();
            assert!(
                tsp::verify_token(&token, &other, std::slice::from_ref(&h.root.certificate))
                    .is_err()
            );
        }
    }
}

#[test]
fn the_tsa_refuses_what_it_cannot_stamp() {
    let h = hierarchy(KeyAlgorithm::EcdsaP256);
    let tsa = tsa(&h.nca);
    let d = Dir::new();
    d.write("data.txt", b"data");
    let refusal = |response: &[u8]| match tsp::extract_token(response) {
        Err(PkiError::Rejected(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    };

    for garbage in [
        &b""[..],
        b"garbage",
        &[0x30, 0x00],
        &[0x30, 0x03, 0x02, 0x01, 0x01],
    ] {
        let response = tsp::respond(garbage, &tsa, 1, now());
        let m = refusal(&response);
        assert!(
            m.contains("rejection") && m.contains("badDataFormat"),
            "{m}"
        );
        d.write("bad.tsr", &response);
        let out = openssl(&["ts", "-reply", "-in", &d.p("bad.tsr"), "-text"]);
        assert_ok(&out, "openssl ts -reply (rejection)");
        let text = stdout_of(&out);
        assert!(text.contains("Status: Rejected"), "{text}");
        assert!(
            text.contains("the data submitted has the wrong format"),
            "{text}"
        );
    }

    // SHA-1 is refused (badAlg), SHA-384 and SHA-512 are stamped.
    for (digest, accepted) in [("-sha1", false), ("-sha384", true), ("-sha512", true)] {
        let data = d.p("data.txt");
        let query = d.p("q.tsq");
        let args = [
            "ts", "-query", "-data", &data, digest, "-cert", "-out", &query,
        ];
        assert_ok(&openssl(&args), "openssl ts -query");
        let response = tsp::respond(&d.read("q.tsq"), &tsa, 2, now());
        if accepted {
            assert!(tsp::extract_token(&response).is_ok(), "{digest}");
        } else {
            let m = refusal(&response);
            assert!(m.contains("badAlg"), "{m}");
            d.write("bad.tsr", &response);
            let text = stdout_of(&openssl(&["ts", "-reply", "-in", &d.p("bad.tsr"), "-text"]));
            assert!(
                text.contains("unrecognized or unsupported algorithm"),
                "{text}"
            );
        }
    }

    // Another policy.
    let data = d.p("data.txt");
    let query = d.p("q.tsq");
    let args = [
        "ts",
        "-query",
        "-data",
        &data,
        "-tspolicy",
        "1.2.3.4",
        "-out",
        &query,
    ];
    assert_ok(&openssl(&args), "openssl ts -query -tspolicy");
    let m = refusal(&tsp::respond(&d.read("q.tsq"), &tsa, 3, now()));
    assert!(m.contains("unacceptedPolicy"), "{m}");

    // An imprint shorter than its algorithm's digest.
    let mut request = tsp::build_request(&[1u8; 32], None, true);
    let imprint = request.windows(2).position(|w| w == [0x04, 0x20]).unwrap();
    request[imprint + 1] = 0x1f;
    request.remove(imprint + 2);
    request[1] -= 1; // TimeStampReq length
    request[6] -= 1; // MessageImprint length
    let m = refusal(&tsp::respond(&request, &tsa, 4, now()));
    assert!(m.contains("badDataFormat"), "{m}");
}

// -------------------------------------------------------------------------------------------------------
// No input makes either server (or client) panic
// -------------------------------------------------------------------------------------------------------

/// xorshift64*: reproducible mutations without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for _ in 0..=rng.below(3) {
        match rng.below(5) {
            0 => {
                let i = rng.below(bytes.len());
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                let i = rng.below(bytes.len());
                if let Some(b) = bytes.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
            2 => bytes.truncate(rng.below(bytes.len() + 1)),
            3 => {
                let i = rng.below(bytes.len() + 1);
                bytes.insert(i, rng.next() as u8);
            }
            _ => {
                let i = rng.below(bytes.len());
                if i < bytes.len() {
                    bytes.remove(i);
                }
            }
        }
    }
    bytes
}

#[test]
fn mutated_inputs_never_panic() {
    let h = hierarchy(KeyAlgorithm::EcdsaP256);
    let responder = responder(&h.nca);
    let tsa = tsa(&h.nca);
    let cert = leaf(&h.nca, 7);
    let nca = &h.nca.certificate;
    let root = &h.root.certificate;
    let now = now();
    let ocsp_request = ocsp::build_request(&cert, nca, Some(&[9u8; 20])).unwrap();
    let ocsp_response = ocsp::respond(
        &ocsp_request,
        &responder,
        std::slice::from_ref(nca),
        |_, _| Status::Good,
        now,
        Some(now + SignedDuration::from_hours(1)),
    );
    let digest = [5u8; 32];
    let tsp_request = tsp::build_request(&digest, Some(42), true);
    let tsp_response = tsp::respond(&tsp_request, &tsa, 1, now);
    let token = tsp::extract_token(&tsp_response).unwrap();

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut granted, mut refused) = (0, 0);
    // More rounds on demand: OCSP_TSA_MUTATIONS=100000 cargo test … mutated_inputs_never_panic
    let rounds = std::env::var("OCSP_TSA_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    for _ in 0..rounds {
        let request = mutate(&mut rng, &ocsp_request);
        let response = ocsp::respond(
            &request,
            &responder,
            std::slice::from_ref(nca),
            |_, _| Status::Good,
            now,
            None,
        );
        // Always a well-formed OCSPResponse.
        ocsp_status(&response);

        let request = mutate(&mut rng, &tsp_request);
        let response = tsp::respond(&request, &tsa, 2, now);
        match tsp::extract_token(&response) {
            Ok(_) => granted += 1,
            Err(PkiError::Rejected(_)) => refused += 1,
            Err(e) => panic!("not a TimeStampResp: {e}"),
        }

        let _ = ocsp::parse_response(&mutate(&mut rng, &ocsp_response), &cert, nca, nca, now);
        let _ = tsp::extract_token(&mutate(&mut rng, &tsp_response));
        let _ = tsp::verify_token(
            &mutate(&mut rng, &token),
            &digest,
            std::slice::from_ref(root),
        );
    }
    // The mutations reached both branches of the authority.
    assert!(
        granted > 0 && refused > 0,
        "{granted} granted, {refused} refused"
    );
}

/// A token stuffed with CA certificates (each a signature check for a chain builder) is refused
/// before any of them is tried; the same token with its own certificates verifies.
#[test]
fn a_token_with_too_many_certificates_is_refused() {
    use cms::cert::CertificateChoices;
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;

    let h = hierarchy(KeyAlgorithm::EcdsaP256);
    let tsa = tsa(&h.nca);
    let digest: [u8; 32] = Sha256::digest(b"the document").into();
    let request = tsp::build_request(&digest, None, true);
    let token = tsp::extract_token(&tsp::respond(&request, &tsa, 9, now())).unwrap();
    let root = std::slice::from_ref(&h.root.certificate);
    assert!(tsp::verify_token(&token, &digest, root).is_ok());

    let mut info = ContentInfo::from_der(&token).unwrap();
    let mut signed: SignedData = info.content.decode_as().unwrap();
    let certificates = signed
        .certificates
        .as_mut()
        .expect("certReq: the TSA's certificate");
    while certificates.0.len() <= 8 {
        let other = hierarchy(KeyAlgorithm::EcdsaP256);
        for extra in [other.root.certificate, other.nca.certificate] {
            certificates
                .0
                .insert(CertificateChoices::Certificate(extra))
                .unwrap();
        }
    }
    info.content = der::Any::encode_from(&signed).unwrap();
    let stuffed = info.to_der().unwrap();
    let err = tsp::verify_token(&stuffed, &digest, root).unwrap_err();
    assert!(
        matches!(&err, PkiError::LimitExceeded(m) if m.contains("certificates")),
        "{err}"
    );
}
