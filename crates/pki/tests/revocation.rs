//! Revocation per RFC 5280 §6.3, rule by rule, with CAs and CRLs made by the crate itself: the scope of
//! an issuingDistributionPoint, reasons, delta CRLs merged with their base, who may sign a CRL (cRLSign, a
//! separate CRL-signing key, an indirect CRL issuer), unknown critical extensions, freshness, and the CRLs
//! a message carries.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use const_oid::AssociatedOid;
use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME};
use der::Encode;
use der::asn1::{Ia5String, OctetString};
use jiff::{SignedDuration, Timestamp};
use qyzmet_pki::algorithm::{signature_bits, to_der};
use qyzmet_pki::authority::{Authority, Profile};
use qyzmet_pki::crl::{self, CrlContents, CrlEntry, Revocation, RevocationReason};
use qyzmet_pki::fetch::{NetworkRevocation, crl_urls};
use qyzmet_pki::name::simple_name;
use qyzmet_pki::name_compare::names_match;
use qyzmet_pki::report::{RevocationEvidence, RevocationStatus};
use qyzmet_pki::revocation::{
    CrlIssuerPaths, CrlSet, MAX_CARRIED_CRLS, NoCrlIssuerPaths, RevocationQuery, RevocationSource,
};
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use support::{endpoints, holder, issue};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::{DistributionPoint, IssuingDistributionPoint, Reasons};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{CrlDistributionPoints, CrlReason, FreshestCrl, KeyUsage, KeyUsages};
use x509_cert::name::Name;

const ALGORITHM: KeyAlgorithm = KeyAlgorithm::EcdsaP256;

fn now() -> Timestamp {
    Timestamp::now()
}

fn name(common_name: &str) -> Name {
    simple_name(&[(COMMON_NAME, common_name), (COUNTRY_NAME, "KZ")]).unwrap()
}

/// A root, a CA under it and a person's certificate from the CA.
struct World {
    root: Authority,
    ca: Authority,
    leaf: Certificate,
}

impl World {
    fn new() -> World {
        let at = now() - SignedDuration::from_hours(1);
        let root = Authority::create_root(
            "root",
            name("Revocation Test Root"),
            PrivateKey::generate(ALGORITHM).unwrap(),
            &endpoints(),
            at,
        )
        .unwrap();
        let ca = root
            .create_subordinate(
                "nca",
                name("Revocation Test CA"),
                PrivateKey::generate(ALGORITHM).unwrap(),
                &endpoints(),
                at,
            )
            .unwrap();
        let key = PrivateKey::generate(ALGORITHM).unwrap();
        let leaf = issue(
            &ca,
            &holder(1, false),
            Profile::Signing { role: None },
            &key,
            at,
        );
        World { root, ca, leaf }
    }

    /// Another certificate of the CA (a distinct serial).
    fn another_leaf(&self, n: u32) -> Certificate {
        let key = PrivateKey::generate(ALGORITHM).unwrap();
        issue(
            &self.ca,
            &holder(n, false),
            Profile::Signing { role: None },
            &key,
            now() - SignedDuration::from_hours(1),
        )
    }

    /// An authority under the root with `subject` (the CA's own name for a separate CRL-signing key).
    fn authority_under_root(&self, code: &str, subject: Name) -> Authority {
        self.root
            .create_subordinate(
                code,
                subject,
                PrivateKey::generate(ALGORITHM).unwrap(),
                &endpoints(),
                now() - SignedDuration::from_hours(1),
            )
            .unwrap()
    }
}

/// `certificate` with its extensions edited and signed again by `issuer`.
fn resigned(
    certificate: &Certificate,
    issuer: &Authority,
    edit: impl FnOnce(&mut Vec<Extension>),
) -> Certificate {
    let mut tbs = certificate.tbs_certificate.clone();
    edit(tbs.extensions.get_or_insert_with(Vec::new));
    let signature = issuer.key.sign(&to_der(&tbs).unwrap()).unwrap();
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: issuer.key.signature_algorithm(),
        signature: signature_bits(&signature).unwrap(),
    }
}

fn replace_extension<T: Encode + AssociatedOid>(
    extensions: &mut Vec<Extension>,
    value: &T,
    critical: bool,
) {
    extensions.retain(|e| e.extn_id != T::OID);
    extensions.push(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der().unwrap()).unwrap(),
    });
}

/// The authority with its certificate re-issued by the root with only this key usage.
fn with_key_usage(world: &World, authority: &Authority, usages: KeyUsages) -> Authority {
    Authority {
        certificate: resigned(&authority.certificate, &world.root, |extensions| {
            replace_extension(extensions, &KeyUsage(usages.into()), true)
        }),
        ..authority.clone()
    }
}

fn serial(certificate: &Certificate) -> Vec<u8> {
    certificate
        .tbs_certificate
        .serial_number
        .as_bytes()
        .to_vec()
}

fn entry(certificate: &Certificate, reason: CrlReason) -> CrlEntry {
    CrlEntry {
        serial: serial(certificate),
        revoked_at: now() - SignedDuration::from_mins(30),
        reason: Some(reason),
        invalidity_date: None,
        certificate_issuer: None,
        extensions: Vec::new(),
    }
}

fn contents(number: u64, entries: Vec<CrlEntry>) -> CrlContents {
    CrlContents {
        number,
        this_update: now() - SignedDuration::from_mins(10),
        next_update: now() + SignedDuration::from_hours(24),
        entries,
        scope: None,
        delta_of: None,
        extensions: Vec::new(),
    }
}

fn scope() -> IssuingDistributionPoint {
    IssuingDistributionPoint {
        distribution_point: None,
        only_contains_user_certs: false,
        only_contains_ca_certs: false,
        only_some_reasons: None,
        indirect_crl: false,
        only_contains_attribute_certs: false,
    }
}

fn uri(text: &str) -> GeneralName {
    GeneralName::UniformResourceIdentifier(Ia5String::new(text).unwrap())
}

/// Certificates of CRL issuers the test declares to have valid paths (the verifier's side).
struct ValidPaths(Vec<Certificate>);

impl CrlIssuerPaths for ValidPaths {
    fn valid_certificates(&self, issuer_name: &Name, _: Timestamp) -> Vec<Certificate> {
        self.0
            .iter()
            .filter(|c| names_match(&c.tbs_certificate.subject, issuer_name))
            .cloned()
            .collect()
    }
}

fn check_with(
    crls: Vec<Vec<u8>>,
    certificate: &Certificate,
    issuer: &Certificate,
    paths: &dyn CrlIssuerPaths,
) -> RevocationEvidence {
    CrlSet::new(crls).check(&RevocationQuery {
        certificate,
        issuer,
        now: now(),
        carried_crls: &[],
        crl_issuer_paths: paths,
    })
}

fn check(crls: Vec<Vec<u8>>, world: &World) -> RevocationEvidence {
    check_with(crls, &world.leaf, &world.ca.certificate, &NoCrlIssuerPaths)
}

fn assert_revoked(evidence: &RevocationEvidence, reason: RevocationReason) {
    match &evidence.status {
        RevocationStatus::Revoked(revocation) => assert_eq!(revocation.reason, reason),
        other => panic!(
            "expected revoked ({reason}), got {other:?} from {}",
            evidence.source
        ),
    }
}

fn assert_good(evidence: &RevocationEvidence) {
    assert_eq!(
        evidence.status,
        RevocationStatus::Good,
        "source {}",
        evidence.source
    );
}

fn assert_unknown(evidence: &RevocationEvidence, because: &str) {
    match &evidence.status {
        RevocationStatus::Unknown { why } => {
            assert!(
                why.contains(because),
                "why {why:?} does not say {because:?}"
            )
        }
        other => panic!("expected unknown ({because}), got {other:?}"),
    }
}

#[test]
fn the_issuers_crl_says_good_revoked_and_on_hold_with_the_entrys_details() {
    let w = World::new();
    let held = w.another_leaf(2);
    let mut compromised = entry(&w.leaf, CrlReason::KeyCompromise);
    let invalid_since = now() - SignedDuration::from_hours(5);
    compromised.invalidity_date = Some(invalid_since);
    let crl = crl::sign(
        &w.ca,
        &contents(
            3,
            vec![compromised, entry(&held, CrlReason::CertificateHold)],
        ),
    )
    .unwrap();
    let evidence = check(vec![crl.clone()], &w);
    assert_revoked(&evidence, RevocationReason::KeyCompromise);
    assert!(
        evidence
            .source
            .starts_with("CRL #3 of CN=Revocation Test CA")
    );
    assert_eq!(
        evidence.invalidity_date.map(|t| t.as_second()),
        Some(invalid_since.as_second())
    );
    // Seed 003: the NCA's "revoked" test keys are on hold, and on hold is revoked while listed.
    let evidence = check_with(
        vec![crl.clone()],
        &held,
        &w.ca.certificate,
        &NoCrlIssuerPaths,
    );
    assert_revoked(&evidence, RevocationReason::CertificateHold);
    let unlisted = w.another_leaf(3);
    assert_good(&check_with(
        vec![crl],
        &unlisted,
        &w.ca.certificate,
        &NoCrlIssuerPaths,
    ));
    // No CRL of the issuer at all.
    assert_unknown(&check(Vec::new(), &w), "no CRL of CN=Revocation Test CA");
}

#[test]
fn a_crl_outside_its_issuing_distribution_point_scope_is_not_used() {
    let w = World::new();
    let revoked = || vec![entry(&w.leaf, CrlReason::KeyCompromise)];
    let scoped = |edit: &dyn Fn(&mut IssuingDistributionPoint)| {
        let mut idp = scope();
        edit(&mut idp);
        crl::sign(
            &w.ca,
            &CrlContents {
                scope: Some(idp),
                ..contents(4, revoked())
            },
        )
        .unwrap()
    };
    // A CRL of CA certificates only says nothing of a person's certificate: it cannot declare it good.
    let ca_only = scoped(&|idp| idp.only_contains_ca_certs = true);
    assert_unknown(&check(vec![ca_only], &w), "covers only CA certificates");
    let attributes_only = scoped(&|idp| idp.only_contains_attribute_certs = true);
    assert_unknown(&check(vec![attributes_only], &w), "attribute certificates");
    let users_only = scoped(&|idp| idp.only_contains_user_certs = true);
    assert_revoked(
        &check(vec![users_only], &w),
        RevocationReason::KeyCompromise,
    );
    // ... and a CRL of end-entity certificates only says nothing of a CA's.
    let roots_users_only = crl::sign(
        &w.root,
        &CrlContents {
            scope: Some(IssuingDistributionPoint {
                only_contains_user_certs: true,
                ..scope()
            }),
            ..contents(1, Vec::new())
        },
    )
    .unwrap();
    let ca_evidence = check_with(
        vec![roots_users_only],
        &w.ca.certificate,
        &w.root.certificate,
        &NoCrlIssuerPaths,
    );
    assert_unknown(&ca_evidence, "only end-entity certificates");

    // The distribution point the CRL is for must be one the certificate names.
    let elsewhere = scoped(&|idp| {
        idp.distribution_point = Some(DistributionPointName::FullName(vec![uri(
            "http://127.0.0.1:9/pki/crl/other",
        )]))
    });
    assert_unknown(&check(vec![elsewhere], &w), "distribution point");
    let own_point = crl_urls(&w.leaf).remove(0);
    let here = scoped(&|idp| {
        idp.distribution_point = Some(DistributionPointName::FullName(vec![uri(&own_point)]))
    });
    assert_revoked(&check(vec![here], &w), RevocationReason::KeyCompromise);
}

#[test]
fn crls_for_some_reasons_count_only_when_together_they_cover_all() {
    let w = World::new();
    let partial = |number, reasons| {
        crl::sign(
            &w.ca,
            &CrlContents {
                scope: Some(IssuingDistributionPoint {
                    only_some_reasons: Some(reasons),
                    ..scope()
                }),
                ..contents(number, Vec::new())
            },
        )
        .unwrap()
    };
    let compromise = partial(5, Reasons::KeyCompromise | Reasons::CaCompromise);
    assert_unknown(
        &check(vec![compromise.clone()], &w),
        "cover only some revocation reasons",
    );
    let rest = partial(
        6,
        Reasons::AffiliationChanged
            | Reasons::Superseded
            | Reasons::CessationOfOperation
            | Reasons::CertificateHold
            | Reasons::PrivilegeWithdrawn
            | Reasons::AaCompromise,
    );
    let evidence = check(vec![compromise, rest], &w);
    assert_good(&evidence);
    assert!(
        evidence.source.contains("#5") && evidence.source.contains("#6"),
        "{}",
        evidence.source
    );
}

#[test]
fn a_delta_crl_is_merged_with_its_base_and_never_used_alone() {
    let w = World::new();
    let on_hold = w.leaf.clone();
    let compromised_before = w.another_leaf(2);
    let compromised_later = w.another_leaf(3);
    let untouched = w.another_leaf(4);
    let base = crl::sign(
        &w.ca,
        &contents(
            10,
            vec![
                entry(&on_hold, CrlReason::CertificateHold),
                entry(&compromised_before, CrlReason::KeyCompromise),
            ],
        ),
    )
    .unwrap();
    let delta_contents = |number, delta_of| CrlContents {
        delta_of: Some(delta_of),
        ..contents(
            number,
            vec![
                entry(&compromised_later, CrlReason::KeyCompromise),
                entry(&on_hold, CrlReason::RemoveFromCRL),
            ],
        )
    };
    let delta = crl::sign(&w.ca, &delta_contents(11, 10)).unwrap();
    let both = || vec![base.clone(), delta.clone()];
    let of = |certificate: &Certificate, crls| {
        check_with(crls, certificate, &w.ca.certificate, &NoCrlIssuerPaths)
    };
    // Revoked only in the delta: revoked.
    let evidence = of(&compromised_later, both());
    assert_revoked(&evidence, RevocationReason::KeyCompromise);
    assert!(
        evidence.source.starts_with("delta CRL #11"),
        "{}",
        evidence.source
    );
    // The delta's removeFromCRL lifts the base's hold.
    let evidence = of(&on_hold, both());
    assert_good(&evidence);
    assert!(
        evidence.source.contains("with delta CRL #11"),
        "{}",
        evidence.source
    );
    assert_revoked(
        &of(&compromised_before, both()),
        RevocationReason::KeyCompromise,
    );
    assert_good(&of(&untouched, both()));
    // Without the delta the base alone speaks: the hold stands, the later compromise is not known.
    assert_revoked(
        &of(&on_hold, vec![base.clone()]),
        RevocationReason::CertificateHold,
    );
    // A delta alone is no complete CRL: nothing is known, not even of a certificate it does not list.
    assert_unknown(&of(&untouched, vec![delta.clone()]), "no CRL of");
    // A delta built on a newer base than the complete CRL at hand does not apply to it.
    let too_new = crl::sign(&w.ca, &delta_contents(13, 12)).unwrap();
    let evidence = of(&compromised_later, vec![base.clone(), too_new]);
    assert_good(&evidence);
    assert!(!evidence.source.contains("delta"), "{}", evidence.source);
    // A delta of another scope does not apply either.
    let other_scope = crl::sign(
        &w.ca,
        &CrlContents {
            scope: Some(IssuingDistributionPoint {
                only_contains_user_certs: true,
                ..scope()
            }),
            ..delta_contents(11, 10)
        },
    )
    .unwrap();
    assert_good(&of(&compromised_later, vec![base, other_scope]));
}

#[test]
fn a_crl_signed_by_a_key_without_crl_sign_is_not_used() {
    let w = World::new();
    let no_crl_sign = with_key_usage(&w, &w.ca, KeyUsages::KeyCertSign);
    let crl = crl::sign(&no_crl_sign, &contents(2, Vec::new())).unwrap();
    let evidence = check_with(
        vec![crl.clone()],
        &w.leaf,
        &no_crl_sign.certificate,
        &NoCrlIssuerPaths,
    );
    assert_unknown(&evidence, "cRLSign");
    // The same CRL with a certificate of the same key that may sign CRLs.
    let evidence = check_with(vec![crl], &w.leaf, &w.ca.certificate, &NoCrlIssuerPaths);
    assert_good(&evidence);
}

#[test]
fn a_critical_extension_not_understood_makes_a_crl_unusable() {
    let w = World::new();
    let unknown = |critical| Extension {
        extn_id: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
        critical,
        extn_value: OctetString::new(vec![0x05, 0x00]).unwrap(),
    };
    let with_crl_extension = |critical| {
        crl::sign(
            &w.ca,
            &CrlContents {
                extensions: vec![unknown(critical)],
                ..contents(7, Vec::new())
            },
        )
        .unwrap()
    };
    assert_unknown(
        &check(vec![with_crl_extension(true)], &w),
        "critical extension 1.3.6.1.4.1.99999.1",
    );
    assert_good(&check(vec![with_crl_extension(false)], &w));
    // A critical entry extension not understood spoils the whole CRL, not only its entry.
    let other = w.another_leaf(2);
    let mut odd_entry = entry(&other, CrlReason::Superseded);
    odd_entry.extensions.push(unknown(true));
    let crl = crl::sign(&w.ca, &contents(8, vec![odd_entry])).unwrap();
    assert_unknown(&check(vec![crl], &w), "an entry has a critical extension");
}

#[test]
fn an_indirect_crl_speaks_for_the_issuers_its_entries_name() {
    let w = World::new();
    let indirect_issuer = w.authority_under_root("indirect", name("Indirect CRL Issuer"));
    // The person's certificate names the indirect issuer as the issuer of its CRLs.
    let leaf = resigned(&w.leaf, &w.ca, |extensions| {
        replace_extension(
            extensions,
            &CrlDistributionPoints(vec![DistributionPoint {
                distribution_point: None,
                reasons: None,
                crl_issuer: Some(vec![GeneralName::DirectoryName(
                    indirect_issuer.certificate.tbs_certificate.subject.clone(),
                )]),
            }]),
            false,
        )
    });
    let same_serial_of_indirect_issuer = CrlEntry {
        // An entry of the CRL issuer's own certificate with the same serial comes first: not ours.
        serial: serial(&leaf),
        ..entry(&leaf, CrlReason::Superseded)
    };
    let of_ca = CrlEntry {
        certificate_issuer: Some(w.ca.certificate.tbs_certificate.subject.clone()),
        ..entry(&leaf, CrlReason::AffiliationChanged)
    };
    let indirect = |indirect_crl, entries| {
        crl::sign(
            &indirect_issuer,
            &CrlContents {
                scope: Some(IssuingDistributionPoint {
                    indirect_crl,
                    ..scope()
                }),
                ..contents(1, entries)
            },
        )
        .unwrap()
    };
    let paths = ValidPaths(vec![indirect_issuer.certificate.clone()]);
    let crl = indirect(true, vec![same_serial_of_indirect_issuer.clone(), of_ca]);
    assert_revoked(
        &check_with(vec![crl.clone()], &leaf, &w.ca.certificate, &paths),
        RevocationReason::AffiliationChanged,
    );
    // Only the entries carried forward to the CA count: the indirect issuer's own certificate with the
    // same serial is another certificate.
    let own_only = indirect(true, vec![same_serial_of_indirect_issuer.clone()]);
    assert_good(&check_with(
        vec![own_only],
        &leaf,
        &w.ca.certificate,
        &paths,
    ));
    // Without a valid path for the CRL issuer the CRL is not trusted.
    assert_unknown(
        &check_with(vec![crl], &leaf, &w.ca.certificate, &NoCrlIssuerPaths),
        "no certificate of its issuer CN=Indirect CRL Issuer",
    );
    // A CRL of that issuer that does not say it is indirect cannot speak for the CA's certificates.
    let direct = indirect(false, vec![same_serial_of_indirect_issuer]);
    assert_unknown(
        &check_with(vec![direct], &leaf, &w.ca.certificate, &paths),
        "not indirect",
    );
}

#[test]
fn a_separate_crl_signing_key_of_the_ca_is_found_through_the_verifiers_paths() {
    let w = World::new();
    // As in PKITS 4.4.19: the CA's certificate signs certificates only, another certificate of the same
    // name (another key) signs its CRLs.
    let ca = with_key_usage(&w, &w.ca, KeyUsages::KeyCertSign);
    let crl_signer = with_key_usage(
        &w,
        &w.authority_under_root("nca-crl", ca.certificate.tbs_certificate.subject.clone()),
        KeyUsages::CRLSign,
    );
    let crl = crl::sign(
        &crl_signer,
        &contents(2, vec![entry(&w.leaf, CrlReason::CessationOfOperation)]),
    )
    .unwrap();
    let paths = ValidPaths(vec![crl_signer.certificate.clone()]);
    assert_revoked(
        &check_with(vec![crl.clone()], &w.leaf, &ca.certificate, &paths),
        RevocationReason::CessationOfOperation,
    );
    assert_unknown(
        &check_with(
            vec![crl.clone()],
            &w.leaf,
            &ca.certificate,
            &NoCrlIssuerPaths,
        ),
        "cRLSign",
    );
    // A certificate of that name which may not sign CRLs is no signer either.
    let paths = ValidPaths(vec![
        with_key_usage(&w, &crl_signer, KeyUsages::KeyCertSign).certificate,
    ]);
    assert_unknown(
        &check_with(vec![crl], &w.leaf, &ca.certificate, &paths),
        "cRLSign",
    );
}

#[test]
fn stale_future_and_forged_crls_are_not_used() {
    let w = World::new();
    let stale = crl::sign(
        &w.ca,
        &CrlContents {
            this_update: now() - SignedDuration::from_hours(48),
            next_update: now() - SignedDuration::from_hours(24),
            ..contents(2, Vec::new())
        },
    )
    .unwrap();
    assert_unknown(&check(vec![stale.clone()], &w), "expired");
    let future = crl::sign(
        &w.ca,
        &CrlContents {
            this_update: now() + SignedDuration::from_hours(1),
            ..contents(3, Vec::new())
        },
    )
    .unwrap();
    assert_unknown(&check(vec![future], &w), "issued later");
    // A CRL in the CA's name signed by another key (PKITS 4.4.4's bad signature).
    let impostor = Authority {
        key: PrivateKey::generate(ALGORITHM).unwrap(),
        ..w.ca.clone()
    };
    let forged = crl::sign(&impostor, &contents(4, Vec::new())).unwrap();
    assert_unknown(&check(vec![forged.clone()], &w), "does not verify");
    // Of a good and a forged CRL (PKITS 4.4.7), the good one speaks; of two good ones, the newest.
    let good = crl::sign(&w.ca, &contents(5, Vec::new())).unwrap();
    assert_good(&check(vec![forged, good.clone(), stale], &w));
    let newer = crl::sign(
        &w.ca,
        &CrlContents {
            this_update: now() - SignedDuration::from_mins(1),
            ..contents(6, vec![entry(&w.leaf, CrlReason::Superseded)])
        },
    )
    .unwrap();
    assert_revoked(&check(vec![good, newer], &w), RevocationReason::Superseded);
}

#[test]
fn the_crls_a_message_carries_are_judged_like_any_other_and_bounded() {
    let w = World::new();
    let crl = crl::sign(
        &w.ca,
        &contents(2, vec![entry(&w.leaf, CrlReason::KeyCompromise)]),
    )
    .unwrap();
    let set = CrlSet::default();
    let ask = |carried: &[Vec<u8>]| {
        set.check(&RevocationQuery {
            certificate: &w.leaf,
            issuer: &w.ca.certificate,
            now: now(),
            carried_crls: carried,
            crl_issuer_paths: &NoCrlIssuerPaths,
        })
    };
    assert_revoked(
        &ask(std::slice::from_ref(&crl)),
        RevocationReason::KeyCompromise,
    );
    // Asked again, the parsed CRL is reused: same answer.
    assert_revoked(
        &ask(std::slice::from_ref(&crl)),
        RevocationReason::KeyCompromise,
    );
    // A carried CRL in the CA's name but not of its key says nothing.
    let impostor = Authority {
        key: PrivateKey::generate(ALGORITHM).unwrap(),
        ..w.ca.clone()
    };
    let forged = crl::sign(&impostor, &contents(3, Vec::new())).unwrap();
    assert_unknown(&ask(&[forged]), "does not verify");
    // Only the first MAX_CARRIED_CRLS are looked at.
    let mut many = vec![b"not a CRL".to_vec(); MAX_CARRIED_CRLS];
    many.push(crl.clone());
    assert_unknown(&ask(&many), "no CRL of");
    many.remove(0);
    assert_revoked(&ask(&many), RevocationReason::KeyCompromise);
}

#[test]
fn the_crate_still_issues_and_reads_its_plain_crls() {
    let w = World::new();
    let at = now() - SignedDuration::from_mins(5);
    let der = crl::issue(
        &w.ca,
        &[(
            serial(&w.leaf),
            Revocation {
                at,
                reason: RevocationReason::AffiliationChanged,
            },
        )],
        9,
        at,
        at + SignedDuration::from_hours(1),
    )
    .unwrap();
    let list = crl::RevocationList::parse(&der, &w.ca.certificate).unwrap();
    assert_eq!((list.number, list.delta_of, list.len()), (Some(9), None, 1));
    assert_eq!(
        list.lookup(&w.leaf.tbs_certificate.serial_number)
            .map(|r| r.reason),
        Some(RevocationReason::AffiliationChanged)
    );
    assert!(crl::RevocationList::parse(&der, &w.root.certificate).is_err());
}

/// A loopback HTTP server answering each GET with the body registered for its path (404 otherwise),
/// counting requests; it serves at most `max_requests` and stops.
fn serve(files: Vec<(String, Vec<u8>)>, max_requests: usize) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max_requests) {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .ok();
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request);
            let path = text.split_whitespace().nth(1).unwrap_or("");
            let response = match files.iter().find(|(p, _)| p == path) {
                Some((_, body)) => [
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes(),
                    body.clone(),
                ]
                .concat(),
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            stream.write_all(&response).ok();
        }
    });
    (port, served)
}

#[test]
fn fetched_base_and_delta_crls_are_merged_cached_and_outrank_an_older_complete_crl() {
    let w = World::new();
    let held = w.another_leaf(2);
    let base = crl::sign(
        &w.ca,
        &contents(20, vec![entry(&held, CrlReason::CertificateHold)]),
    )
    .unwrap();
    let delta = crl::sign(
        &w.ca,
        &CrlContents {
            delta_of: Some(20),
            ..contents(
                21,
                vec![
                    entry(&w.leaf, CrlReason::KeyCompromise),
                    entry(&held, CrlReason::RemoveFromCRL),
                ],
            )
        },
    )
    .unwrap();
    let (port, served) = serve(
        vec![
            ("/crl/ca.crl".into(), base.clone()),
            ("/crl/ca_d.crl".into(), delta.clone()),
        ],
        16,
    );
    // The certificates name the base CRL as their distribution point and the delta as the freshest CRL,
    // as the NCA's do.
    let point = |path: &str| DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![uri(&format!(
            "http://127.0.0.1:{port}{path}"
        ))])),
        reasons: None,
        crl_issuer: None,
    };
    let addressed = |certificate: &Certificate| {
        resigned(certificate, &w.ca, |extensions| {
            replace_extension(
                extensions,
                &CrlDistributionPoints(vec![point("/crl/ca.crl")]),
                false,
            );
            replace_extension(
                extensions,
                &FreshestCrl(vec![point("/crl/ca_d.crl")]),
                false,
            );
        })
    };
    let (leaf, held) = (addressed(&w.leaf), addressed(&held));
    let query = |certificate, carried| RevocationQuery {
        certificate,
        issuer: &w.ca.certificate,
        now: now(),
        carried_crls: carried,
        crl_issuer_paths: &NoCrlIssuerPaths,
    };
    let network = NetworkRevocation::new(CrlSet::default(), false);
    // The message carries an older complete CRL of the CA, from before the revocation and not yet past
    // its nextUpdate: the certificate says deltas are published, so they are fetched all the same.
    let older = crl::sign(
        &w.ca,
        &CrlContents {
            this_update: now() - SignedDuration::from_hours(2),
            ..contents(19, Vec::new())
        },
    )
    .unwrap();
    let evidence = network.check(&query(&leaf, std::slice::from_ref(&older)));
    assert_revoked(&evidence, RevocationReason::KeyCompromise);
    assert!(
        evidence.source.starts_with("delta CRL #21"),
        "{}",
        evidence.source
    );
    assert_good(&network.check(&query(&held, &[])));
    // Both CRLs were fetched once, for the first question; the second was answered from the cache.
    assert_eq!(served.load(Ordering::SeqCst), 2);
    // Given CRLs with their delta settle the status without the network; a complete CRL alone does not
    // when the certificate announces deltas (the fetched ones speak).
    let given = NetworkRevocation::new(CrlSet::new(vec![base.clone(), delta.clone()]), false);
    assert_revoked(
        &given.check(&query(&leaf, &[])),
        RevocationReason::KeyCompromise,
    );
    assert_eq!(served.load(Ordering::SeqCst), 2);
    let complete_only = NetworkRevocation::new(CrlSet::new(vec![older.clone()]), false);
    assert_revoked(
        &complete_only.check(&query(&leaf, &[])),
        RevocationReason::KeyCompromise,
    );
    assert_eq!(served.load(Ordering::SeqCst), 4);
}
