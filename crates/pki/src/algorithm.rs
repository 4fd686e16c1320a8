//! Key pairs and signature algorithms.
//!
//! The algorithm is a parameter everywhere (issue 3: "keep the algorithm a parameter, not an assumption"):
//! every signature the platform makes goes through [`PrivateKey::sign`], every signature it checks goes
//! through [`verify_signature`]. GOST 34.310-2004 and GOST R 34.10-2015 (512) are variants of each
//! ([`crate::gost`] has the arithmetic and Kalkan's byte order).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SHA_256_WITH_RSA_ENCRYPTION,
};
use der::asn1::{AnyRef, BitString};
use der::{Decode, Encode};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::PkiError;
use crate::gost::{self, ParameterSet};

/// The key algorithms Qyzmet issues certificates for (REFERENCE: the NCA issues RSA and GOST keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    Rsa2048,
    EcdsaP256,
    /// GOST 34.310-2004 (256-bit, CryptoPro-A), as the NCA's 2004-generation keys.
    Gost2004,
    /// GOST R 34.10-2015 with 512-bit keys (TC26 paramSetA), as the NCA's keys since 2022.
    Gost2015,
}

impl KeyAlgorithm {
    /// The algorithms OpenSSL and the other standard tools also verify (the interoperability tests run
    /// over these): OpenSSL 3 has no GOST, and never knew Kalkan's byte order.
    pub const ALL: [KeyAlgorithm; 2] = [KeyAlgorithm::Rsa2048, KeyAlgorithm::EcdsaP256];

    /// The NCA's GOST algorithms, issued through the same code as the others.
    pub const GOST: [KeyAlgorithm; 2] = [KeyAlgorithm::Gost2004, KeyAlgorithm::Gost2015];

    pub fn code(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "rsa2048",
            KeyAlgorithm::EcdsaP256 => "p256",
            KeyAlgorithm::Gost2004 => "gost2004",
            KeyAlgorithm::Gost2015 => "gost2015",
        }
    }

    /// The GOST parameter set of a GOST algorithm.
    pub fn gost(self) -> Option<ParameterSet> {
        match self {
            KeyAlgorithm::Gost2004 => Some(ParameterSet::Gost2004),
            KeyAlgorithm::Gost2015 => Some(ParameterSet::Gost2015),
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::EcdsaP256 => None,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = PkiError;
    fn from_str(s: &str) -> Result<Self, PkiError> {
        let known = || KeyAlgorithm::ALL.into_iter().chain(KeyAlgorithm::GOST);
        known().find(|a| a.code() == s).ok_or_else(|| {
            let known: Vec<&str> = known().map(KeyAlgorithm::code).collect();
            PkiError::UnsupportedAlgorithm(format!("{s} (known: {})", known.join(", ")))
        })
    }
}

/// A private key held by the platform: a CA's, the OCSP responder's, the TSA's, or a key generated for a
/// holder and handed out at once inside a PKCS#12 (never stored).
///
/// The key material is RustCrypto's (generation, PKCS#8, PKCS#12); signatures are made by ring when it
/// takes the key: its constant-time, assembly-backed arithmetic is 3–10× faster than the portable crates
/// (docs/PERFORMANCE.md) and is not subject to the `rsa` crate's timing advisory (RUSTSEC-2023-0071).
/// GOST keys are [`gost::SigningKey`]s (ring has no GOST).
#[derive(Clone)]
pub struct PrivateKey {
    key: Key,
    fast: Option<Arc<FastSigner>>,
}

#[derive(Clone)]
enum Key {
    Rsa(Box<rsa::RsaPrivateKey>),
    EcdsaP256(p256::ecdsa::SigningKey),
    Gost(Box<gost::SigningKey>),
}

enum FastSigner {
    Rsa(ring::rsa::KeyPair),
    Ecdsa(ring::signature::EcdsaKeyPair),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.algorithm())
    }
}

impl PrivateKey {
    fn new(key: Key) -> Result<Self, PkiError> {
        let crypto = |e: pkcs8::Error| PkiError::Crypto(e.to_string());
        // ring refuses some keys the standards allow (RSA under 2048 bits, say): those sign portably.
        let fast = match &key {
            Key::Rsa(k) => {
                ring::rsa::KeyPair::from_pkcs8(k.to_pkcs8_der().map_err(crypto)?.as_bytes())
                    .ok()
                    .map(FastSigner::Rsa)
            }
            Key::EcdsaP256(k) => ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                k.to_pkcs8_der().map_err(crypto)?.as_bytes(),
                &ring::rand::SystemRandom::new(),
            )
            .ok()
            .map(FastSigner::Ecdsa),
            Key::Gost(_) => None,
        };
        Ok(PrivateKey {
            key,
            fast: fast.map(Arc::new),
        })
    }

    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, PkiError> {
        Self::new(match algorithm {
            KeyAlgorithm::Rsa2048 => Key::Rsa(Box::new(
                rsa::RsaPrivateKey::new(&mut OsRng, 2048)
                    .map_err(|e| PkiError::Crypto(e.to_string()))?,
            )),
            KeyAlgorithm::EcdsaP256 => Key::EcdsaP256(p256::ecdsa::SigningKey::random(&mut OsRng)),
            KeyAlgorithm::Gost2004 => Key::Gost(Box::new(gost::SigningKey::generate(
                ParameterSet::Gost2004,
            )?)),
            KeyAlgorithm::Gost2015 => Key::Gost(Box::new(gost::SigningKey::generate(
                ParameterSet::Gost2015,
            )?)),
        })
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match &self.key {
            Key::Rsa(_) => KeyAlgorithm::Rsa2048,
            Key::EcdsaP256(_) => KeyAlgorithm::EcdsaP256,
            Key::Gost(k) => match k.parameter_set() {
                ParameterSet::Gost2004 => KeyAlgorithm::Gost2004,
                ParameterSet::Gost2015 => KeyAlgorithm::Gost2015,
            },
        }
    }

    /// The digest this key signs with: what a CMS signer writes as digestAlgorithm and hashes the
    /// content with (SHA-256, or GOST 34.311-95 / Streebog-512 for GOST keys, as Kalkan does).
    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        match &self.key {
            Key::Rsa(_) | Key::EcdsaP256(_) => DigestAlgorithm::Sha256,
            Key::Gost(k) => DigestAlgorithm::of_gost(k.parameter_set()),
        }
    }

    /// Reads an unencrypted PKCS#8 key (as found inside a PKCS#12, the NCA's GOST keys included).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, PkiError> {
        let info = pkcs8::PrivateKeyInfo::from_der(der)
            .map_err(|e| PkiError::Malformed(format!("private key: {e}")))?;
        match info.algorithm.oid {
            RSA_ENCRYPTION => {
                let key = rsa::RsaPrivateKey::from_pkcs8_der(der)
                    .map_err(|e| PkiError::Malformed(format!("RSA key: {e}")))?;
                Self::new(Key::Rsa(Box::new(key)))
            }
            ID_EC_PUBLIC_KEY => {
                let key = p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|_| {
                    PkiError::UnsupportedAlgorithm("EC key on a curve other than P-256".into())
                })?;
                Self::new(Key::EcdsaP256(key))
            }
            oid if ParameterSet::from_key_oid(oid).is_some() => {
                let key = gost::SigningKey::from_pkcs8(&info).map_err(PkiError::from)?;
                Self::new(Key::Gost(Box::new(key)))
            }
            other => Err(PkiError::UnsupportedAlgorithm(format!(
                "private key algorithm {other}"
            ))),
        }
    }

    /// Unencrypted PKCS#8 (GOST keys in Kalkan's layout, see [`gost::SigningKey::to_pkcs8_der`]).
    pub fn to_pkcs8_der(&self) -> Result<pkcs8::SecretDocument, PkiError> {
        match &self.key {
            Key::Rsa(k) => k.to_pkcs8_der(),
            Key::EcdsaP256(k) => k.to_pkcs8_der(),
            Key::Gost(k) => return k.to_pkcs8_der().map_err(PkiError::from),
        }
        .map_err(|e| PkiError::Crypto(e.to_string()))
    }

    /// Encrypted PKCS#8 PEM that `openssl pkey -passin` also opens: PBES2 with PBKDF2-HMAC-SHA256 and
    /// AES-256-CBC. (The crate's default, scrypt at 32 MiB, is over OpenSSL's scrypt memory limit.)
    pub fn to_encrypted_pem(&self, passphrase: &[u8]) -> Result<String, PkiError> {
        /// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
        const ITERATIONS: u32 = 600_000;
        let doc = self.to_pkcs8_der()?;
        let info = pkcs8::PrivateKeyInfo::from_der(doc.as_bytes())
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut iv);
        let params =
            pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(ITERATIONS, &salt, &iv)
                .map_err(|e| PkiError::Crypto(e.to_string()))?;
        let encrypted = info
            .encrypt_with_params(params, passphrase)
            .map_err(|e| PkiError::Crypto(e.to_string()))?;
        Ok(encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .map_err(|e| PkiError::Crypto(e.to_string()))?
            .to_string())
    }

    pub fn from_encrypted_pem(pem: &str, passphrase: &[u8]) -> Result<Self, PkiError> {
        let (label, doc) = pkcs8::Document::from_pem(pem)
            .map_err(|e| PkiError::Malformed(format!("key file: {e}")))?;
        if label != "ENCRYPTED PRIVATE KEY" {
            return Err(PkiError::Malformed(format!(
                "key file: expected ENCRYPTED PRIVATE KEY, found {label}"
            )));
        }
        let encrypted = pkcs8::EncryptedPrivateKeyInfo::from_der(doc.as_bytes())
            .map_err(|e| PkiError::Malformed(format!("key file: {e}")))?;
        let plain = encrypted
            .decrypt(passphrase)
            .map_err(|_| PkiError::WrongPassword)?;
        Self::from_pkcs8_der(plain.as_bytes())
    }

    pub fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
        let der = match &self.key {
            Key::Rsa(k) => k.to_public_key().to_public_key_der(),
            Key::EcdsaP256(k) => k.verifying_key().to_public_key_der(),
            Key::Gost(k) => return k.public_key().to_spki().map_err(PkiError::from),
        }
        .map_err(|e| PkiError::Crypto(e.to_string()))?;
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes())
            .map_err(|e| PkiError::Crypto(e.to_string()))
    }

    /// The signatureAlgorithm this key writes: sha256WithRSAEncryption (NULL parameters, RFC 4055),
    /// ecdsa-with-SHA256 (absent parameters, RFC 5758), or Kalkan's GOST signature OID with NULL
    /// parameters (as in the NCA's certificates, CRLs and CMS).
    pub fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        match &self.key {
            Key::Rsa(_) => AlgorithmIdentifierOwned {
                oid: SHA_256_WITH_RSA_ENCRYPTION,
                parameters: Some(AnyRef::NULL.into()),
            },
            Key::EcdsaP256(_) => AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA_256,
                parameters: None,
            },
            Key::Gost(k) => AlgorithmIdentifierOwned {
                oid: k.parameter_set().signature_oid(),
                parameters: Some(AnyRef::NULL.into()),
            },
        }
    }

    /// Signs `message` with the key's digest (hashing it here): SHA-256 with PKCS#1 v1.5 for RSA,
    /// DER-encoded ECDSA; GOST 34.311-95 or Streebog-512 with GOST in Kalkan's r‖s little-endian layout.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        let failed = |_| PkiError::Crypto("signing failed".into());
        match (self.fast.as_deref(), &self.key) {
            (Some(FastSigner::Rsa(pair)), _) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    &ring::rand::SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(failed)?;
                Ok(signature)
            }
            (Some(FastSigner::Ecdsa(pair)), _) => Ok(pair
                .sign(&ring::rand::SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            (None, Key::Rsa(k)) => k
                .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
                .map_err(|e| PkiError::Crypto(e.to_string())),
            (None, Key::EcdsaP256(k)) => {
                use signature::hazmat::PrehashSigner;
                let sig: p256::ecdsa::Signature = k
                    .sign_prehash(&Sha256::digest(message))
                    .map_err(|e| PkiError::Crypto(e.to_string()))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            (None, Key::Gost(k)) => k.sign(message).map_err(PkiError::from),
        }
    }
}

impl From<gost::GostError> for PkiError {
    fn from(e: gost::GostError) -> Self {
        match e {
            gost::GostError::Malformed(m) => PkiError::Malformed(m),
            gost::GostError::Unsupported(m) => PkiError::UnsupportedAlgorithm(m),
            gost::GostError::Invalid => PkiError::Rejected(e.to_string()),
            gost::GostError::Failed(m) => PkiError::Crypto(m),
        }
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureFailure {
    /// Well formed, but not made by this key over this message.
    Invalid,
    /// An algorithm (or a key/algorithm pairing) this verifier does not know.
    Unsupported(String),
    /// The key or the signature value cannot be decoded.
    Malformed(String),
}

/// The digest algorithms the verifier accepts inside signatures (SHA-256 is what both Qyzmet and OpenSSL
/// write by default; SHA-384/512 are accepted because other tools write them; GOST 34.311-95 and
/// Streebog-512 are what Kalkan's GOST signers write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Sha256,
    Sha384,
    Sha512,
    /// GOST 34.311-95 (GOST R 34.11-94 with the test S-box), `1.2.398.3.10.1.3.1`.
    Gost34311,
    /// GOST R 34.11-2015 (Streebog) 512, `1.2.398.3.10.1.3.3`.
    Streebog512,
}

impl DigestAlgorithm {
    pub fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        use const_oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
        match oid {
            ID_SHA_256 => Some(DigestAlgorithm::Sha256),
            ID_SHA_384 => Some(DigestAlgorithm::Sha384),
            ID_SHA_512 => Some(DigestAlgorithm::Sha512),
            gost::GOST_34311_DIGEST => Some(DigestAlgorithm::Gost34311),
            gost::STREEBOG_512_DIGEST => Some(DigestAlgorithm::Streebog512),
            _ => None,
        }
    }

    pub fn oid(self) -> ObjectIdentifier {
        use const_oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
        match self {
            DigestAlgorithm::Sha256 => ID_SHA_256,
            DigestAlgorithm::Sha384 => ID_SHA_384,
            DigestAlgorithm::Sha512 => ID_SHA_512,
            DigestAlgorithm::Gost34311 => gost::GOST_34311_DIGEST,
            DigestAlgorithm::Streebog512 => gost::STREEBOG_512_DIGEST,
        }
    }

    /// The AlgorithmIdentifier a signer writes: the SHA-2 family without parameters (RFC 5754 §2),
    /// the GOST digests with NULL parameters, as Kalkan writes them.
    pub fn identifier(self) -> AlgorithmIdentifierOwned {
        let parameters = match self {
            DigestAlgorithm::Sha256 | DigestAlgorithm::Sha384 | DigestAlgorithm::Sha512 => None,
            DigestAlgorithm::Gost34311 | DigestAlgorithm::Streebog512 => Some(AnyRef::NULL.into()),
        };
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters,
        }
    }

    /// The digest a GOST parameter set signs.
    pub fn of_gost(set: ParameterSet) -> Self {
        match set {
            ParameterSet::Gost2004 => DigestAlgorithm::Gost34311,
            ParameterSet::Gost2015 => DigestAlgorithm::Streebog512,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
            DigestAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            DigestAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
            DigestAlgorithm::Gost34311 => gost::gost34311(data).to_vec(),
            DigestAlgorithm::Streebog512 => gost::streebog512(data).to_vec(),
        }
    }
}

/// Verifies `signature` over `message` with the key in `spki`, for the signature algorithm `algorithm`.
///
/// `digest_hint` is the digest when `algorithm` names only the key type (CMS writes plain `rsaEncryption`
/// or `id-ecPublicKey` beside a separate digestAlgorithm, and Kalkan's SDK a GOST key OID, FACTS.md §2.8).
pub fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    digest_hint: Option<DigestAlgorithm>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureFailure> {
    use const_oid::db::rfc5912::{
        ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512, SHA_384_WITH_RSA_ENCRYPTION,
        SHA_512_WITH_RSA_ENCRYPTION,
    };
    if let Some(set) = ParameterSet::from_signature_oid(algorithm.oid)
        .or_else(|| ParameterSet::from_key_oid(algorithm.oid))
    {
        return verify_gost(spki, set, algorithm.oid, digest_hint, message, signature);
    }
    let (family, digest) = match algorithm.oid {
        SHA_256_WITH_RSA_ENCRYPTION => (RSA_ENCRYPTION, Some(DigestAlgorithm::Sha256)),
        SHA_384_WITH_RSA_ENCRYPTION => (RSA_ENCRYPTION, Some(DigestAlgorithm::Sha384)),
        SHA_512_WITH_RSA_ENCRYPTION => (RSA_ENCRYPTION, Some(DigestAlgorithm::Sha512)),
        ECDSA_WITH_SHA_256 => (ID_EC_PUBLIC_KEY, Some(DigestAlgorithm::Sha256)),
        ECDSA_WITH_SHA_384 => (ID_EC_PUBLIC_KEY, Some(DigestAlgorithm::Sha384)),
        ECDSA_WITH_SHA_512 => (ID_EC_PUBLIC_KEY, Some(DigestAlgorithm::Sha512)),
        RSA_ENCRYPTION | ID_EC_PUBLIC_KEY => (algorithm.oid, digest_hint),
        other => {
            return Err(SignatureFailure::Unsupported(format!(
                "signature algorithm {other}"
            )));
        }
    };
    let digest = digest.ok_or_else(|| {
        SignatureFailure::Unsupported("signature algorithm without a digest".into())
    })?;
    if spki.algorithm.oid != family {
        return Err(SignatureFailure::Unsupported(format!(
            "a {} key cannot make a {} signature",
            spki.algorithm.oid, algorithm.oid
        )));
    }
    let key_bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| SignatureFailure::Malformed("public key bit string".into()))?;
    match fast_verify(spki, family, digest, key_bits, message, signature) {
        RingVerdict::Verified => return Ok(()),
        // ring takes this key and algorithm: its "no" is final. Asking the portable code again would
        // double the cost of every forged signature (issue 16).
        RingVerdict::Refused => return Err(SignatureFailure::Invalid),
        RingVerdict::Declined => {}
    }
    // ring does not take this key or algorithm: the portable code decides, and tells invalid from
    // malformed or unsupported.
    let hashed = digest.digest(message);
    match family {
        RSA_ENCRYPTION => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let key = rsa::RsaPublicKey::from_pkcs1_der(key_bits)
                .map_err(|e| SignatureFailure::Malformed(format!("RSA public key: {e}")))?;
            let scheme = match digest {
                DigestAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                DigestAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                DigestAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                DigestAlgorithm::Gost34311 | DigestAlgorithm::Streebog512 => {
                    return Err(SignatureFailure::Unsupported(
                        "RSA with a GOST digest".into(),
                    ));
                }
            };
            key.verify(scheme, &hashed, signature)
                .map_err(|_| SignatureFailure::Invalid)
        }
        _ => {
            use signature::hazmat::PrehashVerifier;
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            if curve != Some(SECP_256_R_1) {
                return Err(SignatureFailure::Unsupported(
                    "EC curve other than P-256".into(),
                ));
            }
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bits)
                .map_err(|_| SignatureFailure::Malformed("P-256 public key".into()))?;
            let sig = p256::ecdsa::Signature::from_der(signature)
                .map_err(|_| SignatureFailure::Invalid)?;
            key.verify_prehash(&hashed, &sig)
                .map_err(|_| SignatureFailure::Invalid)
        }
    }
}

/// A GOST signature: the signature OID names the curve and the digest; a key OID in its place (Kalkan's
/// CMS) names them too, and a CMS digestAlgorithm beside it must be that digest.
fn verify_gost(
    spki: &SubjectPublicKeyInfoOwned,
    set: ParameterSet,
    algorithm: ObjectIdentifier,
    digest_hint: Option<DigestAlgorithm>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureFailure> {
    let digest = DigestAlgorithm::of_gost(set);
    if let Some(hint) = digest_hint.filter(|hint| *hint != digest) {
        return Err(SignatureFailure::Unsupported(format!(
            "{algorithm} with digest {}",
            hint.oid()
        )));
    }
    if spki.algorithm.oid != set.key_oid() {
        return Err(SignatureFailure::Unsupported(format!(
            "a {} key cannot make a {algorithm} signature",
            spki.algorithm.oid
        )));
    }
    let key = gost::PublicKey::from_spki(spki).map_err(|e| match e {
        gost::GostError::Unsupported(m) => SignatureFailure::Unsupported(m),
        other => SignatureFailure::Malformed(other.to_string()),
    })?;
    key.verify_digest(&digest.digest(message), signature)
        .map_err(|e| match e {
            gost::GostError::Invalid => SignatureFailure::Invalid,
            gost::GostError::Unsupported(m) => SignatureFailure::Unsupported(m),
            other => SignatureFailure::Malformed(other.to_string()),
        })
}

/// What ring says of a signature.
enum RingVerdict {
    Verified,
    /// ring takes the key and the algorithm and the signature does not verify.
    Refused,
    /// ring does not take this key or algorithm (RSA under 2048 bits, another curve, …).
    Declined,
}

/// ring's verdict where it has the algorithm (RSA 2048–8192 bits with a public exponent from 3 below
/// 2^33, P-256 with SHA-256/384).
fn fast_verify(
    spki: &SubjectPublicKeyInfoOwned,
    family: ObjectIdentifier,
    digest: DigestAlgorithm,
    key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> RingVerdict {
    use ring::signature as rs;
    let algorithm: &dyn rs::VerificationAlgorithm = match (family, digest) {
        (RSA_ENCRYPTION, DigestAlgorithm::Sha256) => &rs::RSA_PKCS1_2048_8192_SHA256,
        (RSA_ENCRYPTION, DigestAlgorithm::Sha384) => &rs::RSA_PKCS1_2048_8192_SHA384,
        (RSA_ENCRYPTION, DigestAlgorithm::Sha512) => &rs::RSA_PKCS1_2048_8192_SHA512,
        (ID_EC_PUBLIC_KEY, DigestAlgorithm::Sha256) => &rs::ECDSA_P256_SHA256_ASN1,
        (ID_EC_PUBLIC_KEY, DigestAlgorithm::Sha384) => &rs::ECDSA_P256_SHA384_ASN1,
        _ => return RingVerdict::Declined,
    };
    let ring_takes_key = match family {
        RSA_ENCRYPTION => rsa_key_ring_takes(key),
        _ => {
            spki.algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                == Some(SECP_256_R_1)
        }
    };
    match rs::UnparsedPublicKey::new(algorithm, key).verify(message, signature) {
        Ok(()) => RingVerdict::Verified,
        Err(_) if ring_takes_key => RingVerdict::Refused,
        Err(_) => RingVerdict::Declined,
    }
}

/// Whether an RSAPublicKey (PKCS #1) is within what ring verifies: a modulus of 2048 to 8192 bits and
/// an odd public exponent from 3 below 2^33.
fn rsa_key_ring_takes(key: &[u8]) -> bool {
    let Ok(parsed) = rsa::pkcs1::RsaPublicKey::from_der(key) else {
        return false;
    };
    let significant =
        |bytes: &[u8]| -> Vec<u8> { bytes.iter().copied().skip_while(|b| *b == 0).collect() };
    let modulus = significant(parsed.modulus.as_bytes());
    let modulus_bits = modulus.first().map_or(0, |top| {
        (modulus.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    });
    let exponent = significant(parsed.public_exponent.as_bytes());
    let exponent_value = (exponent.len() <= 8).then(|| {
        exponent
            .iter()
            .fold(0u64, |value, byte| (value << 8) | u64::from(*byte))
    });
    (2048..=8192).contains(&modulus_bits)
        && exponent_value.is_some_and(|e| (3..(1 << 33)).contains(&e) && e % 2 == 1)
}

/// The SHA-1 of the subjectPublicKey bits: RFC 5280 §4.2.1.2 method (1), what OpenSSL writes as the key
/// identifier, and what OCSP's ResponderID byKey carries (RFC 6960 §4.2.1).
pub fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    use sha1::Sha1;
    Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
}

/// Maps a signature check to the crate's errors, naming what was signed.
pub(crate) fn signature_result(
    result: Result<(), SignatureFailure>,
    what: &str,
) -> Result<(), PkiError> {
    match result {
        Ok(()) => Ok(()),
        Err(SignatureFailure::Invalid) => Err(PkiError::Rejected(format!(
            "the signature on {what} does not verify"
        ))),
        Err(SignatureFailure::Unsupported(m)) => Err(PkiError::UnsupportedAlgorithm(m)),
        Err(SignatureFailure::Malformed(m)) => Err(PkiError::Malformed(format!("{what}: {m}"))),
    }
}

/// Wraps a signature value for the BIT STRING fields of certificates, CRLs and OCSP responses.
pub fn signature_bits(signature: &[u8]) -> Result<BitString, PkiError> {
    BitString::from_bytes(signature).map_err(|e| PkiError::Crypto(e.to_string()))
}

/// DER of any encodable value, with the error mapped.
pub fn to_der<T: Encode>(value: &T) -> Result<Vec<u8>, PkiError> {
    value
        .to_der()
        .map_err(|e| PkiError::Crypto(format!("DER encoding: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_algorithm_signs_and_verifies_and_detects_change() {
        for alg in KeyAlgorithm::ALL {
            let key = PrivateKey::generate(alg).unwrap();
            let spki = key.public_key_info().unwrap();
            let sig = key.sign(b"message").unwrap();
            let alg_id = key.signature_algorithm();
            assert_eq!(
                verify_signature(&spki, &alg_id, None, b"message", &sig),
                Ok(())
            );
            assert_eq!(
                verify_signature(&spki, &alg_id, None, b"messagE", &sig),
                Err(SignatureFailure::Invalid)
            );
        }
    }

    #[test]
    fn encrypted_key_round_trip_and_wrong_passphrase() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pem = key.to_encrypted_pem("құпия сөз".as_bytes()).unwrap();
        let back = PrivateKey::from_encrypted_pem(&pem, "құпия сөз".as_bytes()).unwrap();
        assert_eq!(
            back.public_key_info().unwrap(),
            key.public_key_info().unwrap()
        );
        assert!(matches!(
            PrivateKey::from_encrypted_pem(&pem, b"wrong"),
            Err(PkiError::WrongPassword)
        ));
    }

    #[test]
    fn a_key_of_one_family_cannot_verify_the_other() {
        let rsa = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let ec = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let sig = ec.sign(b"m").unwrap();
        let spki = rsa.public_key_info().unwrap();
        assert!(matches!(
            verify_signature(&spki, &ec.signature_algorithm(), None, b"m", &sig),
            Err(SignatureFailure::Unsupported(_))
        ));
    }
}
