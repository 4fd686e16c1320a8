//! NIST PKITS (Public Key Interoperability Test Suite 1.0.1, the 2011 data) against the verifier, under
//! the document's default settings (initial-policy-set anyPolicy, no explicit policy, mapping and
//! anyPolicy allowed): each S/MIME message of `smime/` is verified as `qyzmet verify` would, with the
//! trust anchor `TrustAnchorRootCertificate` and only the CRLs the message carries, at a time inside
//! the certificates' 2010–2030 window.
//!
//! The data ships in the PyPI package `cryptography-vectors` (`x509/PKITS_data`); `.ci/run` unpacks it and
//! sets `QYZMET_PKITS_DIR` and `QYZMET_REQUIRE_PKITS=1`. Without it the test says it skipped, unless
//! `QYZMET_REQUIRE_PKITS=1`.
//!
//! The test fails if any invalid path is accepted or any valid path refused; the DSA tests are not
//! applicable (the verifier takes RSA and ECDSA keys) and are reported as such.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use qyzmet_pki::path::{ANY_POLICY, PathSettings};
use qyzmet_pki::report::{Code, Report};
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Expectation, Verifier};

const VALID: bool = true;
const INVALID: bool = false;

/// Every PKITS test that has an S/MIME message: its section number in the PKITS document, its name, and
/// the expected result under the default settings. Most names say Valid or Invalid; for the policy
/// tests of 4.8 (and 4.4.1, 4.12.3) the expected result is the PKITS document's for the default
/// settings (as also listed per test and setting in Chromium's pkits_testcases-inl.h).
const TESTS: [(&str, &str, bool); 224] = [
    ("4.1.1", "ValidSignaturesTest1", VALID),
    ("4.1.2", "InvalidCASignatureTest2", INVALID),
    ("4.1.3", "InvalidEESignatureTest3", INVALID),
    ("4.1.4", "ValidDSASignaturesTest4", VALID),
    ("4.1.5", "ValidDSAParameterInheritanceTest5", VALID),
    ("4.1.6", "InvalidDSASignatureTest6", INVALID),
    ("4.2.1", "InvalidCAnotBeforeDateTest1", INVALID),
    ("4.2.2", "InvalidEEnotBeforeDateTest2", INVALID),
    ("4.2.3", "Validpre2000UTCnotBeforeDateTest3", VALID),
    ("4.2.4", "ValidGeneralizedTimenotBeforeDateTest4", VALID),
    ("4.2.5", "InvalidCAnotAfterDateTest5", INVALID),
    ("4.2.6", "InvalidEEnotAfterDateTest6", INVALID),
    ("4.2.7", "Invalidpre2000UTCEEnotAfterDateTest7", INVALID),
    ("4.2.8", "ValidGeneralizedTimenotAfterDateTest8", VALID),
    ("4.3.1", "InvalidNameChainingEETest1", INVALID),
    ("4.3.2", "InvalidNameChainingOrderTest2", INVALID),
    ("4.3.3", "ValidNameChainingWhitespaceTest3", VALID),
    ("4.3.4", "ValidNameChainingWhitespaceTest4", VALID),
    ("4.3.5", "ValidNameChainingCapitalizationTest5", VALID),
    ("4.3.6", "ValidNameChainingUIDsTest6", VALID),
    ("4.3.7", "ValidRFC3280MandatoryAttributeTypesTest7", VALID),
    ("4.3.8", "ValidRFC3280OptionalAttributeTypesTest8", VALID),
    ("4.3.9", "ValidUTF8StringEncodedNamesTest9", VALID),
    (
        "4.3.10",
        "ValidRolloverfromPrintableStringtoUTF8StringTest10",
        VALID,
    ),
    ("4.3.11", "ValidUTF8StringCaseInsensitiveMatchTest11", VALID),
    ("4.4.1", "MissingCRLTest1", INVALID),
    ("4.4.2", "InvalidRevokedCATest2", INVALID),
    ("4.4.3", "InvalidRevokedEETest3", INVALID),
    ("4.4.4", "InvalidBadCRLSignatureTest4", INVALID),
    ("4.4.5", "InvalidBadCRLIssuerNameTest5", INVALID),
    ("4.4.6", "InvalidWrongCRLTest6", INVALID),
    ("4.4.7", "ValidTwoCRLsTest7", VALID),
    ("4.4.8", "InvalidUnknownCRLEntryExtensionTest8", INVALID),
    ("4.4.9", "InvalidUnknownCRLExtensionTest9", INVALID),
    ("4.4.10", "InvalidUnknownCRLExtensionTest10", INVALID),
    ("4.4.11", "InvalidOldCRLnextUpdateTest11", INVALID),
    ("4.4.12", "Invalidpre2000CRLnextUpdateTest12", INVALID),
    ("4.4.13", "ValidGeneralizedTimeCRLnextUpdateTest13", VALID),
    ("4.4.14", "ValidNegativeSerialNumberTest14", VALID),
    ("4.4.15", "InvalidNegativeSerialNumberTest15", INVALID),
    ("4.4.16", "ValidLongSerialNumberTest16", VALID),
    ("4.4.17", "ValidLongSerialNumberTest17", VALID),
    ("4.4.18", "InvalidLongSerialNumberTest18", INVALID),
    ("4.4.19", "ValidSeparateCertificateandCRLKeysTest19", VALID),
    (
        "4.4.20",
        "InvalidSeparateCertificateandCRLKeysTest20",
        INVALID,
    ),
    (
        "4.4.21",
        "InvalidSeparateCertificateandCRLKeysTest21",
        INVALID,
    ),
    ("4.5.1", "ValidBasicSelfIssuedOldWithNewTest1", VALID),
    ("4.5.2", "InvalidBasicSelfIssuedOldWithNewTest2", INVALID),
    ("4.5.3", "ValidBasicSelfIssuedNewWithOldTest3", VALID),
    ("4.5.4", "ValidBasicSelfIssuedNewWithOldTest4", VALID),
    ("4.5.5", "InvalidBasicSelfIssuedNewWithOldTest5", INVALID),
    ("4.5.6", "ValidBasicSelfIssuedCRLSigningKeyTest6", VALID),
    ("4.5.7", "InvalidBasicSelfIssuedCRLSigningKeyTest7", INVALID),
    ("4.5.8", "InvalidBasicSelfIssuedCRLSigningKeyTest8", INVALID),
    ("4.6.1", "InvalidMissingbasicConstraintsTest1", INVALID),
    ("4.6.2", "InvalidcAFalseTest2", INVALID),
    ("4.6.3", "InvalidcAFalseTest3", INVALID),
    ("4.6.4", "ValidbasicConstraintsNotCriticalTest4", VALID),
    ("4.6.5", "InvalidpathLenConstraintTest5", INVALID),
    ("4.6.6", "InvalidpathLenConstraintTest6", INVALID),
    ("4.6.7", "ValidpathLenConstraintTest7", VALID),
    ("4.6.8", "ValidpathLenConstraintTest8", VALID),
    ("4.6.9", "InvalidpathLenConstraintTest9", INVALID),
    ("4.6.10", "InvalidpathLenConstraintTest10", INVALID),
    ("4.6.11", "InvalidpathLenConstraintTest11", INVALID),
    ("4.6.12", "InvalidpathLenConstraintTest12", INVALID),
    ("4.6.13", "ValidpathLenConstraintTest13", VALID),
    ("4.6.14", "ValidpathLenConstraintTest14", VALID),
    ("4.6.15", "ValidSelfIssuedpathLenConstraintTest15", VALID),
    (
        "4.6.16",
        "InvalidSelfIssuedpathLenConstraintTest16",
        INVALID,
    ),
    ("4.6.17", "ValidSelfIssuedpathLenConstraintTest17", VALID),
    (
        "4.7.1",
        "InvalidkeyUsageCriticalkeyCertSignFalseTest1",
        INVALID,
    ),
    (
        "4.7.2",
        "InvalidkeyUsageNotCriticalkeyCertSignFalseTest2",
        INVALID,
    ),
    ("4.7.3", "ValidkeyUsageNotCriticalTest3", VALID),
    ("4.7.4", "InvalidkeyUsageCriticalcRLSignFalseTest4", INVALID),
    (
        "4.7.5",
        "InvalidkeyUsageNotCriticalcRLSignFalseTest5",
        INVALID,
    ),
    ("4.8.1", "AllCertificatesSamePolicyTest1", VALID),
    ("4.8.2", "AllCertificatesNoPoliciesTest2", VALID),
    ("4.8.3", "DifferentPoliciesTest3", VALID),
    ("4.8.4", "DifferentPoliciesTest4", INVALID),
    ("4.8.5", "DifferentPoliciesTest5", INVALID),
    ("4.8.6", "OverlappingPoliciesTest6", VALID),
    ("4.8.7", "DifferentPoliciesTest7", INVALID),
    ("4.8.8", "DifferentPoliciesTest8", INVALID),
    ("4.8.9", "DifferentPoliciesTest9", INVALID),
    ("4.8.10", "AllCertificatesSamePoliciesTest10", VALID),
    ("4.8.11", "AllCertificatesAnyPolicyTest11", VALID),
    ("4.8.12", "DifferentPoliciesTest12", INVALID),
    ("4.8.13", "AllCertificatesSamePoliciesTest13", VALID),
    ("4.8.14", "AnyPolicyTest14", VALID),
    ("4.8.15", "UserNoticeQualifierTest15", VALID),
    ("4.8.16", "UserNoticeQualifierTest16", VALID),
    ("4.8.17", "UserNoticeQualifierTest17", VALID),
    ("4.8.18", "UserNoticeQualifierTest18", VALID),
    ("4.8.19", "UserNoticeQualifierTest19", VALID),
    ("4.8.20", "CPSPointerQualifierTest20", VALID),
    ("4.9.1", "ValidRequireExplicitPolicyTest1", VALID),
    ("4.9.2", "ValidRequireExplicitPolicyTest2", VALID),
    ("4.9.3", "InvalidRequireExplicitPolicyTest3", INVALID),
    ("4.9.4", "ValidRequireExplicitPolicyTest4", VALID),
    ("4.9.5", "InvalidRequireExplicitPolicyTest5", INVALID),
    ("4.9.6", "ValidSelfIssuedrequireExplicitPolicyTest6", VALID),
    (
        "4.9.7",
        "InvalidSelfIssuedrequireExplicitPolicyTest7",
        INVALID,
    ),
    (
        "4.9.8",
        "InvalidSelfIssuedrequireExplicitPolicyTest8",
        INVALID,
    ),
    ("4.10.1", "ValidPolicyMappingTest1", VALID),
    ("4.10.2", "InvalidPolicyMappingTest2", INVALID),
    ("4.10.3", "ValidPolicyMappingTest3", VALID),
    ("4.10.4", "InvalidPolicyMappingTest4", INVALID),
    ("4.10.5", "ValidPolicyMappingTest5", VALID),
    ("4.10.6", "ValidPolicyMappingTest6", VALID),
    ("4.10.7", "InvalidMappingFromanyPolicyTest7", INVALID),
    ("4.10.8", "InvalidMappingToanyPolicyTest8", INVALID),
    ("4.10.9", "ValidPolicyMappingTest9", VALID),
    ("4.10.10", "InvalidPolicyMappingTest10", INVALID),
    ("4.10.11", "ValidPolicyMappingTest11", VALID),
    ("4.10.12", "ValidPolicyMappingTest12", VALID),
    ("4.10.13", "ValidPolicyMappingTest13", VALID),
    ("4.10.14", "ValidPolicyMappingTest14", VALID),
    ("4.11.1", "InvalidinhibitPolicyMappingTest1", INVALID),
    ("4.11.2", "ValidinhibitPolicyMappingTest2", VALID),
    ("4.11.3", "InvalidinhibitPolicyMappingTest3", INVALID),
    ("4.11.4", "ValidinhibitPolicyMappingTest4", VALID),
    ("4.11.5", "InvalidinhibitPolicyMappingTest5", INVALID),
    ("4.11.6", "InvalidinhibitPolicyMappingTest6", INVALID),
    ("4.11.7", "ValidSelfIssuedinhibitPolicyMappingTest7", VALID),
    (
        "4.11.8",
        "InvalidSelfIssuedinhibitPolicyMappingTest8",
        INVALID,
    ),
    (
        "4.11.9",
        "InvalidSelfIssuedinhibitPolicyMappingTest9",
        INVALID,
    ),
    (
        "4.11.10",
        "InvalidSelfIssuedinhibitPolicyMappingTest10",
        INVALID,
    ),
    (
        "4.11.11",
        "InvalidSelfIssuedinhibitPolicyMappingTest11",
        INVALID,
    ),
    ("4.12.1", "InvalidinhibitAnyPolicyTest1", INVALID),
    ("4.12.2", "ValidinhibitAnyPolicyTest2", VALID),
    ("4.12.3", "inhibitAnyPolicyTest3", VALID),
    ("4.12.4", "InvalidinhibitAnyPolicyTest4", INVALID),
    ("4.12.5", "InvalidinhibitAnyPolicyTest5", INVALID),
    ("4.12.6", "InvalidinhibitAnyPolicyTest6", INVALID),
    ("4.12.7", "ValidSelfIssuedinhibitAnyPolicyTest7", VALID),
    ("4.12.8", "InvalidSelfIssuedinhibitAnyPolicyTest8", INVALID),
    ("4.12.9", "ValidSelfIssuedinhibitAnyPolicyTest9", VALID),
    (
        "4.12.10",
        "InvalidSelfIssuedinhibitAnyPolicyTest10",
        INVALID,
    ),
    ("4.13.1", "ValidDNnameConstraintsTest1", VALID),
    ("4.13.2", "InvalidDNnameConstraintsTest2", INVALID),
    ("4.13.3", "InvalidDNnameConstraintsTest3", INVALID),
    ("4.13.4", "ValidDNnameConstraintsTest4", VALID),
    ("4.13.5", "ValidDNnameConstraintsTest5", VALID),
    ("4.13.6", "ValidDNnameConstraintsTest6", VALID),
    ("4.13.7", "InvalidDNnameConstraintsTest7", INVALID),
    ("4.13.8", "InvalidDNnameConstraintsTest8", INVALID),
    ("4.13.9", "InvalidDNnameConstraintsTest9", INVALID),
    ("4.13.10", "InvalidDNnameConstraintsTest10", INVALID),
    ("4.13.11", "ValidDNnameConstraintsTest11", VALID),
    ("4.13.12", "InvalidDNnameConstraintsTest12", INVALID),
    ("4.13.13", "InvalidDNnameConstraintsTest13", INVALID),
    ("4.13.14", "ValidDNnameConstraintsTest14", VALID),
    ("4.13.15", "InvalidDNnameConstraintsTest15", INVALID),
    ("4.13.16", "InvalidDNnameConstraintsTest16", INVALID),
    ("4.13.17", "InvalidDNnameConstraintsTest17", INVALID),
    ("4.13.18", "ValidDNnameConstraintsTest18", VALID),
    ("4.13.19", "ValidSelfIssuedDNnameConstraintsTest19", VALID),
    (
        "4.13.20",
        "InvalidSelfIssuedDNnameConstraintsTest20",
        INVALID,
    ),
    ("4.13.21", "ValidRFC822nameConstraintsTest21", VALID),
    ("4.13.22", "InvalidRFC822nameConstraintsTest22", INVALID),
    ("4.13.23", "ValidRFC822nameConstraintsTest23", VALID),
    ("4.13.24", "InvalidRFC822nameConstraintsTest24", INVALID),
    ("4.13.25", "ValidRFC822nameConstraintsTest25", VALID),
    ("4.13.26", "InvalidRFC822nameConstraintsTest26", INVALID),
    ("4.13.27", "ValidDNandRFC822nameConstraintsTest27", VALID),
    (
        "4.13.28",
        "InvalidDNandRFC822nameConstraintsTest28",
        INVALID,
    ),
    (
        "4.13.29",
        "InvalidDNandRFC822nameConstraintsTest29",
        INVALID,
    ),
    ("4.13.30", "ValidDNSnameConstraintsTest30", VALID),
    ("4.13.31", "InvalidDNSnameConstraintsTest31", INVALID),
    ("4.13.32", "ValidDNSnameConstraintsTest32", VALID),
    ("4.13.33", "InvalidDNSnameConstraintsTest33", INVALID),
    ("4.13.34", "ValidURInameConstraintsTest34", VALID),
    ("4.13.35", "InvalidURInameConstraintsTest35", INVALID),
    ("4.13.36", "ValidURInameConstraintsTest36", VALID),
    ("4.13.37", "InvalidURInameConstraintsTest37", INVALID),
    ("4.13.38", "InvalidDNSnameConstraintsTest38", INVALID),
    ("4.14.1", "ValiddistributionPointTest1", VALID),
    ("4.14.2", "InvaliddistributionPointTest2", INVALID),
    ("4.14.3", "InvaliddistributionPointTest3", INVALID),
    ("4.14.4", "ValiddistributionPointTest4", VALID),
    ("4.14.5", "ValiddistributionPointTest5", VALID),
    ("4.14.6", "InvaliddistributionPointTest6", INVALID),
    ("4.14.7", "ValiddistributionPointTest7", VALID),
    ("4.14.8", "InvaliddistributionPointTest8", INVALID),
    ("4.14.9", "InvaliddistributionPointTest9", INVALID),
    ("4.14.10", "ValidNoissuingDistributionPointTest10", VALID),
    ("4.14.11", "InvalidonlyContainsUserCertsCRLTest11", INVALID),
    ("4.14.12", "InvalidonlyContainsCACertsCRLTest12", INVALID),
    ("4.14.13", "ValidonlyContainsCACertsCRLTest13", VALID),
    (
        "4.14.14",
        "InvalidonlyContainsAttributeCertsTest14",
        INVALID,
    ),
    ("4.14.15", "InvalidonlySomeReasonsTest15", INVALID),
    ("4.14.16", "InvalidonlySomeReasonsTest16", INVALID),
    ("4.14.17", "InvalidonlySomeReasonsTest17", INVALID),
    ("4.14.18", "ValidonlySomeReasonsTest18", VALID),
    ("4.14.19", "ValidonlySomeReasonsTest19", VALID),
    ("4.14.20", "InvalidonlySomeReasonsTest20", INVALID),
    ("4.14.21", "InvalidonlySomeReasonsTest21", INVALID),
    ("4.14.22", "ValidIDPwithindirectCRLTest22", VALID),
    ("4.14.23", "InvalidIDPwithindirectCRLTest23", INVALID),
    ("4.14.24", "ValidIDPwithindirectCRLTest24", VALID),
    ("4.14.25", "ValidIDPwithindirectCRLTest25", VALID),
    ("4.14.26", "InvalidIDPwithindirectCRLTest26", INVALID),
    ("4.14.27", "InvalidcRLIssuerTest27", INVALID),
    ("4.14.28", "ValidcRLIssuerTest28", VALID),
    ("4.14.29", "ValidcRLIssuerTest29", VALID),
    ("4.14.30", "ValidcRLIssuerTest30", VALID),
    ("4.14.31", "InvalidcRLIssuerTest31", INVALID),
    ("4.14.32", "InvalidcRLIssuerTest32", INVALID),
    ("4.14.33", "ValidcRLIssuerTest33", VALID),
    ("4.14.34", "InvalidcRLIssuerTest34", INVALID),
    ("4.14.35", "InvalidcRLIssuerTest35", INVALID),
    ("4.15.1", "InvaliddeltaCRLIndicatorNoBaseTest1", INVALID),
    ("4.15.2", "ValiddeltaCRLTest2", VALID),
    ("4.15.3", "InvaliddeltaCRLTest3", INVALID),
    ("4.15.4", "InvaliddeltaCRLTest4", INVALID),
    ("4.15.5", "ValiddeltaCRLTest5", VALID),
    ("4.15.6", "InvaliddeltaCRLTest6", INVALID),
    ("4.15.7", "ValiddeltaCRLTest7", VALID),
    ("4.15.8", "ValiddeltaCRLTest8", VALID),
    ("4.15.9", "InvaliddeltaCRLTest9", INVALID),
    ("4.15.10", "InvaliddeltaCRLTest10", INVALID),
    (
        "4.16.1",
        "ValidUnknownNotCriticalCertificateExtensionTest1",
        VALID,
    ),
    (
        "4.16.2",
        "InvalidUnknownCriticalCertificateExtensionTest2",
        INVALID,
    ),
];

/// The DSA tests: the verifier takes RSA and ECDSA keys only.
const NOT_APPLICABLE: [&str; 3] = ["4.1.4", "4.1.5", "4.1.6"];

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("QYZMET_PKITS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/pkits/cryptography_vectors/x509/PKITS_data")
        });
    dir.join("smime").is_dir().then_some(dir)
}

/// The two parts of a multipart/signed message: the first part exactly as signed (its lines ending in
/// CRLF, RFC 5751 §3.1.1) and the detached signature as PEM for the verifier's reader.
fn split_signed(message: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let text = std::str::from_utf8(message).map_err(|e| e.to_string())?;
    let boundary = text
        .split("boundary=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no boundary")?;
    let delimiter = format!("--{boundary}");
    let mut parts = text.split(delimiter.as_str()).skip(1);
    let first = parts.next().ok_or("no first part")?;
    let second = parts.next().ok_or("no signature part")?;
    // The part starts after the delimiter's line break and ends before the next delimiter's.
    let body = first
        .strip_prefix("\r\n")
        .or_else(|| first.strip_prefix('\n'))
        .ok_or("part after the delimiter")?;
    let body = body
        .strip_suffix("\r\n")
        .or_else(|| body.strip_suffix('\n'))
        .ok_or("line break before the delimiter")?;
    let signed = body
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes();
    let (_, base64) = second
        .replace("\r\n", "\n")
        .split_once("\n\n")
        .map(|(h, b)| (h.to_owned(), b.to_owned()))
        .ok_or("signature part without a body")?;
    let lines: Vec<&str> = base64
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let pem = format!(
        "-----BEGIN CMS-----\n{}\n-----END CMS-----\n",
        lines.join("\n")
    );
    Ok((signed, pem.into_bytes()))
}

struct Outcome {
    number: &'static str,
    name: &'static str,
    expected: bool,
    report: Report,
}

/// A verifier trusting the PKITS anchor with no CRL given: revocation comes from the CRLs each message
/// carries.
fn verifier(dir: &Path, settings: PathSettings) -> Verifier {
    let anchor_der = std::fs::read(dir.join("certs/TrustAnchorRootCertificate.crt"))
        .unwrap_or_else(|e| panic!("the PKITS trust anchor: {e}"));
    let anchors = qyzmet_pki::certificates_from_pem(&anchor_der)
        .unwrap_or_else(|e| panic!("the PKITS trust anchor: {e}"));
    let mut verifier = Verifier::new(anchors, Arc::new(CrlSet::new(Vec::new())));
    verifier.path_settings = settings;
    verifier
}

/// Verifies `smime/Signed<name>.eml` as a document signature (PKITS end-entity keys carry
/// nonRepudiation and no extended key usage), at a time inside every PKITS certificate's validity
/// (2010-01-01 to 2030-12-31) but for the tests about it.
fn verify_message(dir: &Path, verifier: &Verifier, name: &str) -> Report {
    let path = dir.join(format!("smime/Signed{name}.eml"));
    let message = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (signed, cms) = split_signed(&message).unwrap_or_else(|e| panic!("{name}: {e}"));
    let at: Timestamp = "2026-06-01T00:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    verifier.verify(&cms, Some(&signed), &Expectation::default(), at)
}

fn run(dir: &Path) -> Vec<Outcome> {
    let verifier = verifier(dir, PathSettings::default());
    TESTS
        .iter()
        .map(|&(number, name, expected)| Outcome {
            number,
            name,
            expected,
            report: verify_message(dir, &verifier, name),
        })
        .collect()
}

/// The data directory, or `None` after saying the test is skipped (a failure when CI requires it).
fn data_or_skip() -> Option<PathBuf> {
    let dir = data_dir();
    if dir.is_none() {
        assert!(
            std::env::var("QYZMET_REQUIRE_PKITS").as_deref() != Ok("1"),
            "QYZMET_REQUIRE_PKITS=1 but no PKITS data: set QYZMET_PKITS_DIR to x509/PKITS_data"
        );
        eprintln!(
            "PKITS skipped: no data (set QYZMET_PKITS_DIR to cryptography_vectors/x509/PKITS_data)"
        );
    }
    dir
}

#[test]
fn pkits_default_settings() {
    let Some(dir) = data_or_skip() else {
        return;
    };
    let outcomes = run(&dir);
    let mut accepted_invalid = Vec::new();
    let mut refused_valid = Vec::new();
    // Per section: (right, wrong, not applicable).
    let mut sections: Vec<(String, [usize; 3])> = Vec::new();
    for outcome in &outcomes {
        let section = outcome
            .number
            .rsplit_once('.')
            .map_or("?", |(section, _)| section)
            .to_owned();
        if sections.last().is_none_or(|(s, _)| *s != section) {
            sections.push((section, [0; 3]));
        }
        let Some((_, tally)) = sections.last_mut() else {
            continue;
        };
        let codes: Vec<&str> = outcome.report.codes().iter().map(|c| c.as_str()).collect();
        let got = outcome.report.valid;
        let verdict = if NOT_APPLICABLE.contains(&outcome.number) {
            tally[2] += 1;
            "n/a (DSA)"
        } else if got == outcome.expected {
            tally[0] += 1;
            "ok"
        } else {
            tally[1] += 1;
            if got {
                accepted_invalid.push(outcome.number);
            } else {
                refused_valid.push(outcome.number);
            }
            "WRONG"
        };
        let first_detail = outcome
            .report
            .failures
            .iter()
            .chain(
                outcome
                    .report
                    .signers
                    .iter()
                    .flat_map(|s| s.failures.iter()),
            )
            .next()
            .map(|f| f.detail.as_str())
            .unwrap_or("");
        println!(
            "{:<7} {:<48} expected {:<7} got {:<7} {:<9} {} {}",
            outcome.number,
            outcome.name,
            if outcome.expected { "valid" } else { "invalid" },
            if got { "valid" } else { "invalid" },
            verdict,
            codes.join(","),
            first_detail
        );
    }
    for (section, [right, wrong, not_applicable]) in &sections {
        println!("PKITS {section}: {right} right, {wrong} wrong, {not_applicable} not applicable");
    }
    assert!(
        accepted_invalid.is_empty() && refused_valid.is_empty(),
        "invalid paths accepted: {accepted_invalid:?}; valid paths refused: {refused_valid:?}"
    );
}

/// Policy tests under explicit settings (PKITS's subparts other than the default): the settings are an
/// input of the validation, not a constant.
#[test]
fn pkits_explicit_policy_settings() {
    let Some(dir) = data_or_skip() else {
        return;
    };
    let policy = |n: u32| {
        const_oid::ObjectIdentifier::new(&format!("2.16.840.1.101.3.2.1.48.{n}"))
            .unwrap_or(ANY_POLICY)
    };
    let explicit = |set: Vec<const_oid::ObjectIdentifier>| PathSettings {
        initial_policy_set: set,
        initial_explicit_policy: true,
        ..PathSettings::default()
    };
    let cases = [
        // 4.8.2 subpart 2: no policies anywhere, an explicit policy required.
        (
            "4.8.2",
            "AllCertificatesNoPoliciesTest2",
            explicit(vec![ANY_POLICY]),
            INVALID,
        ),
        // 4.8.20: NIST-test-policy-1 required and asserted.
        (
            "4.8.20",
            "CPSPointerQualifierTest20",
            explicit(vec![policy(1)]),
            VALID,
        ),
        // 4.10.1 subparts 1–3: policy 1 mapped to policy 2 by the CA.
        (
            "4.10.1",
            "ValidPolicyMappingTest1",
            PathSettings {
                initial_policy_set: vec![policy(1)],
                ..PathSettings::default()
            },
            VALID,
        ),
        (
            "4.10.1",
            "ValidPolicyMappingTest1",
            PathSettings {
                initial_policy_set: vec![policy(2)],
                ..PathSettings::default()
            },
            INVALID,
        ),
        (
            "4.10.1",
            "ValidPolicyMappingTest1",
            PathSettings {
                initial_policy_mapping_inhibit: true,
                ..PathSettings::default()
            },
            INVALID,
        ),
        // 4.12.3 subpart 2: anyPolicy inhibited from the start.
        (
            "4.12.3",
            "inhibitAnyPolicyTest3",
            PathSettings {
                initial_any_policy_inhibit: true,
                ..PathSettings::default()
            },
            INVALID,
        ),
    ];
    for (number, name, settings, expected) in cases {
        let report = verify_message(&dir, &verifier(&dir, settings.clone()), name);
        println!("{number} {name} {settings:?}: {:?}", report.codes());
        assert_eq!(
            report.valid,
            expected,
            "{number} {name} under {settings:?}: {:?}",
            report.codes()
        );
        if !expected {
            assert_eq!(report.codes(), [Code::PathInvalid], "{number} {name}");
        }
    }
}

#[test]
fn a_multipart_signed_message_splits_into_the_signed_part_and_the_signature() {
    let message = b"Content-Type: multipart/signed; boundary=\"--B\"\n\nintro\n----B\nContent-Type: text/plain\r\n\r\nhi\r\n\n----B\nContent-Type: application/pkcs7-signature\n\nQUJD\n\n----B--\n";
    let (signed, pem) = split_signed(message).unwrap_or_default();
    assert_eq!(signed, b"Content-Type: text/plain\r\n\r\nhi\r\n");
    assert_eq!(pem, b"-----BEGIN CMS-----\nQUJD\n-----END CMS-----\n");
}
