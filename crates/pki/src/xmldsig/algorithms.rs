//! The XMLDSig algorithm URIs mapped to the OIDs [`crate::algorithm`] works with: signing and
//! verification stay on the crate's one code path per algorithm (issue 3), the URIs are only names.
//!
//! GOST's URIs are Kalkan's (FACTS.md §1). Their signature OIDs go to [`verify_signature`] as they are and
//! their digest OIDs to [`DigestAlgorithm::from_oid`]: whatever those know, XML signatures know.
//!
//! SHA-1 is refused, as digest and inside a signature method: collisions are practical (SHAttered 2017,
//! a chosen-prefix collision in 2020), neither Kalkan nor NCALayer writes it, and an appeal signed today
//! has no reason to use it.
//!
//! [`verify_signature`]: crate::algorithm::verify_signature

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ID_SHA_256, ID_SHA_384, ID_SHA_512,
    SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};

use crate::PkiError;
use crate::algorithm::DigestAlgorithm;

/// GOST 34.311-95 with GOST 34.310-2004 (Kalkan `GOST34311withECGOST34310`).
pub const GOST_2004_SIGNATURE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.2");
/// GOST 34.311-95 digest.
pub const GOST_34311_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.1");
/// GOST R 34.10-2015 512 with Streebog-512.
pub const GOST_2015_512_SIGNATURE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.3.2");
/// GOST R 34.11-2015 (Streebog) 512 digest.
pub const STREEBOG_512_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.3");

/// (signature method URI, signature algorithm OID, digest OID, digest method URI Kalkan pairs with it).
const SIGNATURE_METHODS: [(&str, ObjectIdentifier, ObjectIdentifier, &str); 8] = [
    (
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        SHA_256_WITH_RSA_ENCRYPTION,
        ID_SHA_256,
        SHA256,
    ),
    (
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        SHA_384_WITH_RSA_ENCRYPTION,
        ID_SHA_384,
        SHA384,
    ),
    (
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        SHA_512_WITH_RSA_ENCRYPTION,
        ID_SHA_512,
        SHA512,
    ),
    (
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        ECDSA_WITH_SHA_256,
        ID_SHA_256,
        SHA256,
    ),
    (
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        ECDSA_WITH_SHA_384,
        ID_SHA_384,
        SHA384,
    ),
    (
        "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311",
        GOST_2004_SIGNATURE,
        GOST_34311_DIGEST,
        GOST_34311,
    ),
    (
        "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512",
        GOST_2015_512_SIGNATURE,
        STREEBOG_512_DIGEST,
        STREEBOG_512,
    ),
    // Kalkan's SDK samples of 2018–2021 name the GOST 2004 *key* OID as a signature algorithm (FACTS §2.8):
    // not an XML URI, but the key may report it as its signature algorithm.
    (
        "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311",
        ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.1"),
        GOST_34311_DIGEST,
        GOST_34311,
    ),
];

const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";
const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
const GOST_34311: &str = "http://www.w3.org/2001/04/xmldsig-more#gost34311";
const STREEBOG_512: &str = "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512";

const DIGEST_METHODS: [(&str, ObjectIdentifier); 5] = [
    (SHA256, ID_SHA_256),
    (SHA384, ID_SHA_384),
    (SHA512, ID_SHA_512),
    (GOST_34311, GOST_34311_DIGEST),
    (STREEBOG_512, STREEBOG_512_DIGEST),
];

const SHA1_URIS: [&str; 3] = [
    "http://www.w3.org/2000/09/xmldsig#sha1",
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
];

fn sha1_refused(uri: &str) -> PkiError {
    PkiError::UnsupportedAlgorithm(format!(
        "{uri}: SHA-1 is refused (practical collisions; Kalkan and NCALayer use SHA-256 or GOST)"
    ))
}

/// A signature method: its OID for [`crate::algorithm::verify_signature`] and the digest it implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureMethod {
    pub uri: &'static str,
    pub oid: ObjectIdentifier,
    pub digest_oid: ObjectIdentifier,
    /// The DigestMethod a signer with this method writes for its references.
    pub digest_uri: &'static str,
}

impl SignatureMethod {
    pub fn from_uri(uri: &str) -> Result<SignatureMethod, PkiError> {
        if SHA1_URIS.contains(&uri) {
            return Err(sha1_refused(uri));
        }
        SIGNATURE_METHODS
            .iter()
            .find(|(u, ..)| *u == uri)
            .map(|m| Self::of(*m))
            .ok_or_else(|| PkiError::UnsupportedAlgorithm(format!("SignatureMethod {uri}")))
    }

    /// The method for a key's signature algorithm OID (what [`crate::PrivateKey::signature_algorithm`]
    /// says).
    pub fn for_signature_oid(oid: ObjectIdentifier) -> Result<SignatureMethod, PkiError> {
        SIGNATURE_METHODS
            .iter()
            .find(|(_, o, ..)| *o == oid)
            .map(|m| Self::of(*m))
            .ok_or_else(|| {
                PkiError::UnsupportedAlgorithm(format!("no XML signature method for {oid}"))
            })
    }

    fn of(
        (uri, oid, digest_oid, digest_uri): (
            &'static str,
            ObjectIdentifier,
            ObjectIdentifier,
            &'static str,
        ),
    ) -> SignatureMethod {
        SignatureMethod {
            uri,
            oid,
            digest_oid,
            digest_uri,
        }
    }

    /// XMLDSig writes an ECDSA signature as r‖s, fixed size (RFC 4050 §3.3, XMLDSig 1.1 §6.4.3); the
    /// crate's ECDSA code speaks DER.
    pub fn is_ecdsa(&self) -> bool {
        self.oid == ECDSA_WITH_SHA_256 || self.oid == ECDSA_WITH_SHA_384
    }

    /// The signature value as [`crate::algorithm::verify_signature`] takes it: RSA (PKCS #1) and GOST
    /// (r‖s little-endian, as in CMS) as they are, ECDSA from r‖s to DER.
    pub fn value_to_der(&self, value: &[u8]) -> Result<Vec<u8>, PkiError> {
        if !self.is_ecdsa() {
            return Ok(value.to_vec());
        }
        p256::ecdsa::Signature::from_slice(value)
            .map(|s| s.to_der().as_bytes().to_vec())
            .map_err(|_| {
                PkiError::Malformed(format!(
                    "SignatureValue: {} bytes is not a P-256 r‖s",
                    value.len()
                ))
            })
    }

    /// The signature value as XMLDSig writes it, from what [`crate::PrivateKey::sign`] returns.
    pub fn value_from_der(&self, signature: &[u8]) -> Result<Vec<u8>, PkiError> {
        if !self.is_ecdsa() {
            return Ok(signature.to_vec());
        }
        p256::ecdsa::Signature::from_der(signature)
            .map(|s| s.to_bytes().to_vec())
            .map_err(|e| PkiError::Crypto(format!("ECDSA signature: {e}")))
    }
}

/// The digest a DigestMethod URI names, if this crate computes it.
pub fn digest_method(uri: &str) -> Result<DigestAlgorithm, PkiError> {
    if SHA1_URIS.contains(&uri) {
        return Err(sha1_refused(uri));
    }
    let (_, oid) = DIGEST_METHODS
        .iter()
        .find(|(u, _)| *u == uri)
        .ok_or_else(|| PkiError::UnsupportedAlgorithm(format!("DigestMethod {uri}")))?;
    digest_of_oid(*oid)
}

pub fn digest_of_oid(oid: ObjectIdentifier) -> Result<DigestAlgorithm, PkiError> {
    DigestAlgorithm::from_oid(oid)
        .ok_or_else(|| PkiError::UnsupportedAlgorithm(format!("digest {oid} is not available")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_refused_and_kalkan_uris_are_known() {
        for uri in SHA1_URIS {
            assert!(matches!(
                digest_method(uri).map(|_| ()).or(SignatureMethod::from_uri(uri).map(|_| ())),
                Err(PkiError::UnsupportedAlgorithm(m)) if m.contains("SHA-1")
            ));
        }
        let rsa =
            SignatureMethod::from_uri("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256").unwrap();
        assert_eq!(rsa.oid, SHA_256_WITH_RSA_ENCRYPTION);
        assert_eq!(
            digest_method(rsa.digest_uri).unwrap(),
            DigestAlgorithm::Sha256
        );
        let gost = SignatureMethod::from_uri(
            "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512",
        )
        .unwrap();
        assert_eq!(gost.digest_oid, STREEBOG_512_DIGEST);
        assert!(SignatureMethod::from_uri("http://example.org/rot13").is_err());
    }

    #[test]
    fn ecdsa_values_convert_between_xml_and_der() {
        let key = crate::PrivateKey::generate(crate::KeyAlgorithm::EcdsaP256).unwrap();
        let method = SignatureMethod::for_signature_oid(key.signature_algorithm().oid).unwrap();
        let der = key.sign(b"m").unwrap();
        let raw = method.value_from_der(&der).unwrap();
        assert_eq!(raw.len(), 64);
        assert_eq!(method.value_to_der(&raw).unwrap(), der);
        assert!(method.value_to_der(&raw[..63]).is_err());
    }
}
