//! PKCS#12 key stores: how a holder receives a generated key, and how `qyzmet sign` and `qyzmet layer` read
//! one (NCALayer's "PKCS12" storage).
//!
//! Written with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an HMAC-SHA256 MAC, OpenSSL 3's defaults, so
//! `openssl pkcs12` opens them.
//!
//! Read here, not by the writer's crate, because the NCA's files (KalkanCrypt's) are BER with indefinite
//! lengths in every layer, and the MAC covers the authenticated safe's BER as written: each layer is
//! normalised ([`crate::ber`]) only after the bytes the MAC covers are taken. Read: MAC with HMAC-SHA-1 or
//! SHA-2 and the PKCS#12 KDF (RFC 7292 Appendix B); bags encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC,
//! pbeWithSHAAnd40BitRC2-CBC, pbeWithSHAAnd128BitRC2-CBC (RFC 7292 Appendix C) or PBES2 with PBKDF2 (RFC
//! 8018). Work is bounded: the file's size, the safes and bags in it, and the iterations of every key
//! derivation and of all of them together.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockSizeUser, KeyIvInit};
use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode, Reader, Sequence, SliceReader, Tag, TagNumber, Tagged};
use hmac::Mac;
use pkcs12::kdf::{Pkcs12KeyType, derive_key_bmp};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::AlgorithmIdentifierRef;
use x509_cert::Certificate;
use zeroize::Zeroizing;

use crate::PkiError;
use crate::algorithm::PrivateKey;
use crate::ber;

/// A private key with its certificate and the chain above it (leaf first).
#[derive(Debug, Clone)]
pub struct KeyStore {
    pub key: PrivateKey,
    pub certificate: Certificate,
    pub chain: Vec<Certificate>,
}

/// The largest key store read: a key with a chain of CA certificates is a few kilobytes.
pub const MAX_SIZE: usize = 1 << 20;
/// Iterations of one key derivation. KalkanCrypt writes 1024, OpenSSL 3 2048, cautious tools some hundred
/// thousand; beyond this a file is a way to spend the reader's CPU.
pub const MAX_ITERATIONS: u64 = 10_000_000;
/// Iterations of all of a file's key derivations together: the MAC's and two encrypted items' (key and IV
/// each) at the cap above.
pub const MAX_TOTAL_ITERATIONS: u64 = 5 * MAX_ITERATIONS;
/// ContentInfos in the authenticated safe (a file has one or two: the key's and the certificates').
pub const MAX_SAFES: usize = 8;
/// Safe bags over all safes: a key, its certificate and a CA chain.
pub const MAX_BAGS: usize = 32;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
const PKCS8_SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
const PBE_SHA1_3DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
const PBE_SHA1_RC2_128: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.5");
const PBE_SHA1_RC2_40: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.6");
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA_384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA_512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

impl KeyStore {
    pub fn to_pkcs12(&self, password: &str, alias: &str) -> Result<Vec<u8>, PkiError> {
        let key = self.key.to_pkcs8_der()?;
        let certs = std::iter::once(&self.certificate)
            .chain(self.chain.iter())
            .map(|c| {
                let der = c.to_der().map_err(|e| PkiError::Crypto(e.to_string()))?;
                p12_keystore::Certificate::from_der(&der)
                    .map_err(|e| PkiError::Crypto(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let local_key_id = crate::algorithm::key_identifier(
            &self.certificate.tbs_certificate.subject_public_key_info,
        );
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry(
            alias,
            p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(
                key.as_bytes(),
                local_key_id,
                certs,
            )),
        );
        store
            .writer(password)
            .write()
            .map_err(|e| PkiError::Crypto(format!("PKCS#12: {e}")))
    }

    /// Reads the first key, its certificate (the one with the key's public key) and the chain above it
    /// as far as the file carries it. A wrong password is [`PkiError::WrongPassword`].
    pub fn from_pkcs12(bytes: &[u8], password: &str) -> Result<KeyStore, PkiError> {
        let Contents {
            keys,
            mut certificates,
        } = open(bytes, password)?;
        let first = keys
            .first()
            .ok_or_else(|| PkiError::Malformed("PKCS#12: no private key inside".into()))?;
        let key = PrivateKey::from_pkcs8_der(first)?;
        // The leaf is the certificate whose key is ours, wherever the writer put it.
        let ours = key.public_key_info()?;
        let position = certificates
            .iter()
            .position(|c| {
                let theirs = &c.tbs_certificate.subject_public_key_info;
                theirs.algorithm.oid == ours.algorithm.oid
                    && theirs.subject_public_key == ours.subject_public_key
            })
            .ok_or_else(|| {
                PkiError::Malformed("PKCS#12: no certificate for the private key".into())
            })?;
        let certificate = certificates.remove(position);
        let chain = chain_above(&certificate, certificates);
        Ok(KeyStore {
            key,
            certificate,
            chain,
        })
    }
}

/// The certificates above `leaf`, each the issuer (by name) of the one before, until a self-issued one or
/// none is found. Each certificate is taken once, so the walk ends; the file's other certificates are
/// left out.
fn chain_above(leaf: &Certificate, mut others: Vec<Certificate>) -> Vec<Certificate> {
    let mut chain: Vec<Certificate> = Vec::new();
    loop {
        let below = chain.last().unwrap_or(leaf);
        if below.tbs_certificate.issuer == below.tbs_certificate.subject {
            return chain;
        }
        let issuer = &below.tbs_certificate.issuer;
        let Some(position) = others
            .iter()
            .position(|c| &c.tbs_certificate.subject == issuer)
        else {
            return chain;
        };
        chain.push(others.remove(position));
    }
}

/// What a PKCS#12 file holds, decrypted: each private key's PKCS#8 PrivateKeyInfo (DER) and each X.509
/// certificate, in file order.
pub(crate) struct Contents {
    pub(crate) keys: Vec<Zeroizing<Vec<u8>>>,
    pub(crate) certificates: Vec<Certificate>,
}

/// PFX (RFC 7292 §4).
#[derive(Sequence)]
struct Pfx<'a> {
    version: u8,
    auth_safe: ContentInfo<'a>,
    #[asn1(optional = "true")]
    mac_data: Option<MacData<'a>>,
}

/// ContentInfo (RFC 2315 §7): the content is OPTIONAL there.
#[derive(Sequence)]
struct ContentInfo<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    content: Option<AnyRef<'a>>,
}

/// MacData (RFC 7292 §4); the iteration count is read as u64 so that an absurd one is refused by name.
#[derive(Sequence)]
struct MacData<'a> {
    mac: DigestInfo<'a>,
    mac_salt: OctetStringRef<'a>,
    #[asn1(default = "one")]
    iterations: u64,
}

fn one() -> u64 {
    1
}

#[derive(Sequence)]
struct DigestInfo<'a> {
    algorithm: AlgorithmIdentifierRef<'a>,
    digest: OctetStringRef<'a>,
}

/// EncryptedData (RFC 5652 §8). encryptedContent is `[0] IMPLICIT OCTET STRING`, which BER writers
/// (KalkanCrypt) send constructed: kept as any element and joined by [`implicit_octets`].
#[derive(Sequence)]
struct EncryptedData<'a> {
    version: u8,
    content_info: EncryptedContentInfo<'a>,
    #[asn1(optional = "true")]
    unprotected_attributes: Option<AnyRef<'a>>,
}

#[derive(Sequence)]
struct EncryptedContentInfo<'a> {
    content_type: ObjectIdentifier,
    algorithm: AlgorithmIdentifierRef<'a>,
    #[asn1(optional = "true")]
    encrypted_content: Option<AnyRef<'a>>,
}

/// SafeBag (RFC 7292 §4.2); attributes (friendlyName, localKeyId) are not needed: the key finds its
/// certificate by its public key.
#[derive(Sequence)]
struct SafeBag<'a> {
    bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    value: AnyRef<'a>,
    #[asn1(optional = "true")]
    attributes: Option<AnyRef<'a>>,
}

/// EncryptedPrivateKeyInfo (RFC 5208 §6).
#[derive(Sequence)]
struct EncryptedPrivateKeyInfo<'a> {
    algorithm: AlgorithmIdentifierRef<'a>,
    data: OctetStringRef<'a>,
}

/// CertBag (RFC 7292 §4.2.3).
#[derive(Sequence)]
struct CertBag<'a> {
    cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    value: OctetStringRef<'a>,
}

/// pkcs-12PbeParams (RFC 7292 Appendix C).
#[derive(Sequence)]
struct PbeParams<'a> {
    salt: OctetStringRef<'a>,
    iterations: u64,
}

fn malformed(what: &str) -> impl Fn(der::Error) -> PkiError + '_ {
    move |e| PkiError::Malformed(format!("PKCS#12 {what}: {e}"))
}

/// The iterations a file may still spend on key derivations.
struct Budget {
    left: u64,
}

impl Budget {
    /// Takes `derivations` derivations of `iterations` each, or refuses naming `what`.
    fn spend(&mut self, iterations: u64, derivations: u64, what: &str) -> Result<i32, PkiError> {
        if iterations == 0 {
            return Err(PkiError::Malformed(format!(
                "PKCS#12 {what}: an iteration count of 0"
            )));
        }
        if iterations > MAX_ITERATIONS {
            return Err(PkiError::LimitExceeded(format!(
                "PKCS#12 {what}: {iterations} iterations, at most {MAX_ITERATIONS} are accepted"
            )));
        }
        let cost = iterations * derivations;
        self.left = self.left.checked_sub(cost).ok_or_else(|| {
            PkiError::LimitExceeded(format!(
                "PKCS#12: key derivations of more than {MAX_TOTAL_ITERATIONS} iterations in all"
            ))
        })?;
        i32::try_from(iterations).map_err(|_| {
            PkiError::LimitExceeded(format!("PKCS#12 {what}: {iterations} iterations"))
        })
    }
}

/// The password as RFC 7292 B.1 wants it: BMPString (UTF-16BE) with two zero octets at the end.
fn bmp_password(password: &str) -> Result<der::asn1::BmpString, PkiError> {
    der::asn1::BmpString::from_utf8(password).map_err(|_| {
        PkiError::Rejected(
            "PKCS#12: the password has a character outside Unicode's Basic Multilingual Plane, which RFC 7292 B.1 cannot encode"
                .into(),
        )
    })
}

/// Decrypts and parses a PKCS#12 file (DER or BER). The MAC, when present, is checked first: a mismatch
/// is [`PkiError::WrongPassword`].
pub(crate) fn open(bytes: &[u8], password: &str) -> Result<Contents, PkiError> {
    if bytes.len() > MAX_SIZE {
        return Err(PkiError::LimitExceeded(format!(
            "PKCS#12: {} bytes, at most {MAX_SIZE} are accepted",
            bytes.len()
        )));
    }
    let mut budget = Budget {
        left: MAX_TOTAL_ITERATIONS,
    };
    let normalised = ber::normalize(bytes)?;
    let pfx = Pfx::from_der(&normalised).map_err(malformed("PFX"))?;
    if pfx.version != 3 {
        return Err(PkiError::Malformed(format!(
            "PKCS#12 PFX: version {}, not 3",
            pfx.version
        )));
    }
    if pfx.auth_safe.content_type != ID_DATA {
        // Public-key integrity mode (signedData) is not what any key store we meet uses.
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "PKCS#12 authSafe of content type {}",
            pfx.auth_safe.content_type
        )));
    }
    // The MAC covers these octets: the authenticated safe as its writer encoded it, BER or not.
    let auth_safe = data_octets(pfx.auth_safe.content, "authSafe")?;
    let mac_checked = match &pfx.mac_data {
        Some(mac_data) => {
            check_mac(mac_data, password, auth_safe, &mut budget)?;
            true
        }
        None => false,
    };
    let auth_safe = ber::normalize(auth_safe)?;
    let safes = sequence_elements(&auth_safe, "AuthenticatedSafe", MAX_SAFES)?;
    let mut contents = Contents {
        keys: Vec::new(),
        certificates: Vec::new(),
    };
    let mut bags_left = MAX_BAGS;
    for safe in safes {
        let safe: ContentInfo<'_> = safe.decode_as().map_err(malformed("ContentInfo"))?;
        let safe_contents: Zeroizing<Vec<u8>> = match safe.content_type {
            ID_DATA => Zeroizing::new(data_octets(safe.content, "safe")?.to_vec()),
            ID_ENCRYPTED_DATA => {
                let content = safe.content.ok_or_else(|| {
                    PkiError::Malformed("PKCS#12 EncryptedData: no content".into())
                })?;
                let encrypted: EncryptedData<'_> =
                    content.decode_as().map_err(malformed("EncryptedData"))?;
                let info = encrypted.content_info;
                if info.content_type != ID_DATA {
                    return Err(PkiError::Malformed(format!(
                        "PKCS#12 EncryptedData: content type {}, not data",
                        info.content_type
                    )));
                }
                match info.encrypted_content {
                    Some(octets) => {
                        let octets = implicit_octets(octets)?;
                        let what = "EncryptedData";
                        decrypt(&info.algorithm, &octets, password, &mut budget, what)
                            .map_err(|e| after_mac(e, mac_checked, what))?
                    }
                    None => continue,
                }
            }
            other => {
                // envelopedData (public-key privacy mode) needs a private key we do not have.
                return Err(PkiError::UnsupportedAlgorithm(format!(
                    "PKCS#12 safe of content type {other}"
                )));
            }
        };
        let safe_contents = ber::normalize(&safe_contents)?;
        let bags = sequence_elements(&safe_contents, "SafeContents", bags_left)?;
        bags_left -= bags.len();
        for bag in bags {
            let bag: SafeBag<'_> = bag.decode_as().map_err(malformed("SafeBag"))?;
            match bag.bag_id {
                KEY_BAG => contents.keys.push(Zeroizing::new(
                    ber::normalize(&bag.value.to_der().map_err(malformed("keyBag"))?)?.into_owned(),
                )),
                PKCS8_SHROUDED_KEY_BAG => {
                    let shrouded: EncryptedPrivateKeyInfo<'_> = bag
                        .value
                        .decode_as()
                        .map_err(malformed("pkcs8ShroudedKeyBag"))?;
                    let what = "pkcs8ShroudedKeyBag";
                    let key = decrypt(
                        &shrouded.algorithm,
                        shrouded.data.as_bytes(),
                        password,
                        &mut budget,
                        what,
                    )
                    .map_err(|e| after_mac(e, mac_checked, what))?;
                    contents
                        .keys
                        .push(Zeroizing::new(ber::normalize(&key)?.into_owned()));
                }
                CERT_BAG => {
                    let cert: CertBag<'_> = bag.value.decode_as().map_err(malformed("certBag"))?;
                    // Other certificate types (SDSI) carry nothing a signer can use.
                    if cert.cert_id == X509_CERTIFICATE {
                        contents.certificates.push(
                            Certificate::from_der(cert.value.as_bytes())
                                .map_err(malformed("certificate"))?,
                        );
                    }
                }
                // CRL, secret and nested safe-contents bags hold nothing a signer reads.
                _ => {}
            }
        }
    }
    Ok(contents)
}

/// A decryption's failure once the MAC has vouched for the password: a bad padding is then a broken file,
/// not a wrong password.
fn after_mac(error: PkiError, mac_checked: bool, what: &str) -> PkiError {
    match error {
        PkiError::WrongPassword if mac_checked => PkiError::Malformed(format!(
            "PKCS#12 {what}: decryption failed (bad padding) with the password the MAC accepted"
        )),
        other => other,
    }
}

/// The octets of an id-data content (`[0] EXPLICIT OCTET STRING`, joined already by the normaliser).
fn data_octets<'a>(content: Option<AnyRef<'a>>, what: &str) -> Result<&'a [u8], PkiError> {
    let content =
        content.ok_or_else(|| PkiError::Malformed(format!("PKCS#12 {what}: no content")))?;
    content
        .decode_as::<OctetStringRef<'a>>()
        .map(|o| o.as_bytes())
        .map_err(malformed(what))
}

/// The elements of a SEQUENCE OF (a whole DER element), refused past `max` before any is decoded.
fn sequence_elements<'a>(
    der: &'a [u8],
    what: &str,
    max: usize,
) -> Result<Vec<AnyRef<'a>>, PkiError> {
    let outer = AnyRef::from_der(der).map_err(malformed(what))?;
    if outer.tag() != Tag::Sequence {
        return Err(PkiError::Malformed(format!(
            "PKCS#12 {what}: tagged {}, not SEQUENCE",
            outer.tag()
        )));
    }
    let mut reader = SliceReader::new(outer.value()).map_err(malformed(what))?;
    let mut elements = Vec::new();
    while !reader.is_finished() {
        if elements.len() == max {
            return Err(PkiError::LimitExceeded(format!(
                "PKCS#12 {what}: more than {max} elements"
            )));
        }
        elements.push(reader.decode().map_err(malformed(what))?);
    }
    Ok(elements)
}

/// The octets of `[0] IMPLICIT OCTET STRING`, primitive or (BER) constructed of OCTET STRING segments.
fn implicit_octets(element: AnyRef<'_>) -> Result<Vec<u8>, PkiError> {
    match element.tag() {
        Tag::ContextSpecific {
            constructed: false,
            number: TagNumber::N0,
        } => Ok(element.value().to_vec()),
        Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N0,
        } => {
            let mut reader =
                SliceReader::new(element.value()).map_err(malformed("encryptedContent"))?;
            let mut octets = Vec::with_capacity(element.value().len());
            while !reader.is_finished() {
                let segment: OctetStringRef<'_> = reader
                    .decode()
                    .map_err(malformed("encryptedContent segment"))?;
                octets.extend_from_slice(segment.as_bytes());
            }
            Ok(octets)
        }
        other => Err(PkiError::Malformed(format!(
            "PKCS#12 encryptedContent: tagged {other}, not [0]"
        ))),
    }
}

fn check_mac(
    mac_data: &MacData<'_>,
    password: &str,
    data: &[u8],
    budget: &mut Budget,
) -> Result<(), PkiError> {
    // The digest's parameters are NULL or absent (RFC 5754 §2); nothing else may ride outside the MAC.
    if mac_data
        .mac
        .algorithm
        .parameters
        .is_some_and(|p| p.tag() != Tag::Null || !p.value().is_empty())
    {
        return Err(PkiError::Malformed(
            "PKCS#12 MacData: digest algorithm parameters other than NULL".into(),
        ));
    }
    let iterations = budget.spend(mac_data.iterations, 1, "MacData")?;
    let password = bmp_password(password)?;
    let salt = mac_data.mac_salt.as_bytes();
    let expected = mac_data.mac.digest.as_bytes();
    let matches = match mac_data.mac.algorithm.oid {
        SHA_1 => hmac_matches::<Sha1>(password, salt, iterations, data, expected),
        SHA_256 => hmac_matches::<Sha256>(password, salt, iterations, data, expected),
        SHA_384 => hmac_matches::<Sha384>(password, salt, iterations, data, expected),
        SHA_512 => hmac_matches::<Sha512>(password, salt, iterations, data, expected),
        other => {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "PKCS#12 MAC digest {other}"
            )));
        }
    };
    if matches {
        Ok(())
    } else {
        Err(PkiError::WrongPassword)
    }
}

/// HMAC with a key of the digest's size derived by the PKCS#12 KDF (RFC 7292 B.2, B.4), compared in
/// constant time.
fn hmac_matches<D>(
    password: der::asn1::BmpString,
    salt: &[u8],
    iterations: i32,
    data: &[u8],
    expected: &[u8],
) -> bool
where
    D: Digest + sha2::digest::FixedOutputReset + sha2::digest::core_api::BlockSizeUser,
{
    let key = Zeroizing::new(derive_key_bmp::<D>(
        password,
        salt,
        Pkcs12KeyType::Mac,
        iterations,
        <D as Digest>::output_size(),
    ));
    let Ok(mut mac) = hmac::SimpleHmac::<D>::new_from_slice(&key) else {
        return false;
    };
    mac.update(data);
    mac.verify_slice(expected).is_ok()
}

/// Decrypts a bag or safe. A padding failure is [`PkiError::WrongPassword`] (the caller says otherwise
/// when the MAC has vouched for the password).
fn decrypt(
    algorithm: &AlgorithmIdentifierRef<'_>,
    data: &[u8],
    password: &str,
    budget: &mut Budget,
    what: &str,
) -> Result<Zeroizing<Vec<u8>>, PkiError> {
    let cipher = match algorithm.oid {
        PBE_SHA1_3DES => Pkcs12Cipher::TripleDes,
        PBE_SHA1_RC2_128 => Pkcs12Cipher::Rc2 { key_len: 16 },
        PBE_SHA1_RC2_40 => Pkcs12Cipher::Rc2 { key_len: 5 },
        PBES2 => return decrypt_pbes2(algorithm, data, password, budget, what),
        other => {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "PKCS#12 {what}: encryption {other}"
            )));
        }
    };
    let params: PbeParams<'_> = algorithm
        .parameters
        .ok_or_else(|| PkiError::Malformed(format!("PKCS#12 {what}: no PBE parameters")))?
        .decode_as()
        .map_err(malformed("PBE parameters"))?;
    // Key and IV: two derivations.
    let iterations = budget.spend(params.iterations, 2, what)?;
    let password = bmp_password(password)?;
    let salt = params.salt.as_bytes();
    let derive = |kind: Pkcs12KeyType, len: usize| {
        Zeroizing::new(derive_key_bmp::<Sha1>(
            password.clone(),
            salt,
            kind,
            iterations,
            len,
        ))
    };
    let iv = derive(Pkcs12KeyType::Iv, 8);
    match cipher {
        Pkcs12Cipher::TripleDes => {
            let key = derive(Pkcs12KeyType::EncryptionKey, 24);
            cbc_decrypt::<des::TdesEde3>(&key, &iv, data, what)
        }
        Pkcs12Cipher::Rc2 { key_len } => {
            // RC2's effective key bits are the key's length (RFC 7292 C: 40 or 128), which is what
            // `new_from_slice` sets.
            let key = derive(Pkcs12KeyType::EncryptionKey, key_len);
            cbc_decrypt::<rc2::Rc2>(&key, &iv, data, what)
        }
    }
}

enum Pkcs12Cipher {
    TripleDes,
    Rc2 { key_len: usize },
}

fn cbc_decrypt<C>(
    key: &[u8],
    iv: &[u8],
    data: &[u8],
    what: &str,
) -> Result<Zeroizing<Vec<u8>>, PkiError>
where
    C: cbc::cipher::BlockCipher + cbc::cipher::BlockDecrypt + cbc::cipher::KeyInit,
{
    if !data
        .len()
        .is_multiple_of(<C as BlockSizeUser>::block_size())
    {
        return Err(PkiError::Malformed(format!(
            "PKCS#12 {what}: {} encrypted octets, not whole blocks",
            data.len()
        )));
    }
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|e| PkiError::Crypto(format!("PKCS#12 {what}: {e}")))?;
    decryptor
        .decrypt_padded_vec_mut::<Pkcs7>(data)
        .map(Zeroizing::new)
        .map_err(|_| PkiError::WrongPassword)
}

/// PBES2 (RFC 8018 §6.2) as the writer's crate and OpenSSL 3 write it; PBKDF2 only (scrypt's memory is
/// another budget), the password as UTF-8 octets as OpenSSL passes it.
fn decrypt_pbes2(
    algorithm: &AlgorithmIdentifierRef<'_>,
    data: &[u8],
    password: &str,
    budget: &mut Budget,
    what: &str,
) -> Result<Zeroizing<Vec<u8>>, PkiError> {
    let parameters = algorithm
        .parameters
        .ok_or_else(|| PkiError::Malformed(format!("PKCS#12 {what}: no PBES2 parameters")))?;
    let parameters = pkcs8::pkcs5::pbes2::Parameters::try_from(parameters)
        .map_err(malformed("PBES2 parameters"))?;
    let pkcs8::pkcs5::pbes2::Kdf::Pbkdf2(kdf) = &parameters.kdf else {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "PKCS#12 {what}: PBES2 key derivation {}",
            parameters.kdf.oid()
        )));
    };
    budget.spend(u64::from(kdf.iteration_count), 1, what)?;
    match parameters.decrypt(password.as_bytes(), data) {
        Ok(plain) => Ok(Zeroizing::new(plain)),
        Err(pkcs8::pkcs5::Error::DecryptFailed) => Err(PkiError::WrongPassword),
        Err(e) => Err(PkiError::UnsupportedAlgorithm(format!(
            "PKCS#12 {what}: PBES2: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const NCA_P12: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/nca-test/p12");
    const GOST_2015_512_KEY: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.2");

    fn nca_files() -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(NCA_P12)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "p12"))
            .collect();
        files.sort();
        files
    }

    /// The certificate OpenSSL 3 finds in the file (`pkcs12 -legacy -nokeys`), as DER.
    fn openssl_certificate(path: &std::path::Path) -> Vec<u8> {
        let out = std::process::Command::new("openssl")
            .args([
                "pkcs12",
                "-legacy",
                "-nokeys",
                "-passin",
                "pass:Qwerty12",
                "-in",
            ])
            .arg(path)
            .output()
            .expect("openssl is installed (.ci/run installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pem = String::from_utf8(out.stdout).unwrap();
        let begin = pem.find("-----BEGIN CERTIFICATE-----").unwrap();
        der::pem::decode_vec(&pem.as_bytes()[begin..]).unwrap().1
    }

    #[test]
    fn the_nca_files_open_to_their_gost_key_and_the_certificate_openssl_sees() {
        let files = nca_files();
        assert_eq!(files.len(), 12);
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            // Kalkan's files are BER inside: the normaliser has work in the authenticated safe.
            assert!(bytes.windows(4).any(|w| w == [0x30, 0x80, 0x30, 0x80]));
            let contents = open(&bytes, "Qwerty12").unwrap();
            assert_eq!(contents.keys.len(), 1, "{}", path.display());
            assert_eq!(contents.certificates.len(), 1, "{}", path.display());
            assert_eq!(
                contents.certificates[0].to_der().unwrap(),
                openssl_certificate(&path),
                "{}",
                path.display()
            );
            let key = pkcs8::PrivateKeyInfo::from_der(&contents.keys[0]).unwrap();
            assert_eq!(key.algorithm.oid, GOST_2015_512_KEY, "{}", path.display());
        }
    }

    #[test]
    fn a_wrong_password_is_refused_by_the_mac() {
        let bytes = std::fs::read(format!("{NCA_P12}/legal_valid_head.p12")).unwrap();
        for wrong in ["Qwerty13", "qwerty12", "", "Qwerty12 "] {
            assert!(
                matches!(open(&bytes, wrong), Err(PkiError::WrongPassword)),
                "{wrong:?}"
            );
        }
    }

    /// The NCA file with its MacData's iteration count replaced.
    fn with_mac_iterations(iterations: u64) -> Vec<u8> {
        let bytes = std::fs::read(format!("{NCA_P12}/legal_valid_head.p12")).unwrap();
        let mut pfx = Pfx::from_der(&bytes).unwrap();
        if let Some(mac) = pfx.mac_data.as_mut() {
            mac.iterations = iterations;
        }
        pfx.to_der().unwrap()
    }

    #[test]
    fn iterations_are_capped_with_a_clear_error() {
        let message = match open(&with_mac_iterations(MAX_ITERATIONS + 1), "Qwerty12") {
            Err(PkiError::LimitExceeded(message)) => message,
            other => panic!("{:?}", other.map(|_| ())),
        };
        assert!(message.contains("MacData"), "{message}");
        assert!(message.contains("10000001 iterations"), "{message}");
        assert!(matches!(
            open(&with_mac_iterations(0), "Qwerty12"),
            Err(PkiError::Malformed(_))
        ));
        // An accepted count other than the one the MAC was made with: the MAC fails, nothing else.
        assert!(matches!(
            open(&with_mac_iterations(1023), "Qwerty12"),
            Err(PkiError::WrongPassword)
        ));
    }

    #[test]
    fn the_work_of_all_derivations_together_is_capped() {
        let mut budget = Budget {
            left: MAX_TOTAL_ITERATIONS,
        };
        for _ in 0..2 {
            budget.spend(MAX_ITERATIONS, 2, "bag").unwrap();
        }
        budget.spend(MAX_ITERATIONS, 1, "MAC").unwrap();
        assert!(matches!(
            budget.spend(1, 1, "one more"),
            Err(PkiError::LimitExceeded(_))
        ));
    }

    /// A PFX without a MAC whose one plain safe holds `count` copies of the NCA file's certificate bag.
    fn with_certificate_bags(count: usize) -> Vec<u8> {
        let bytes = std::fs::read(format!("{NCA_P12}/legal_valid_head.p12")).unwrap();
        let certificate = open(&bytes, "Qwerty12").unwrap().certificates[0]
            .to_der()
            .unwrap();
        let cert_bag = CertBag {
            cert_id: X509_CERTIFICATE,
            value: OctetStringRef::new(&certificate).unwrap(),
        }
        .to_der()
        .unwrap();
        let bag = SafeBag {
            bag_id: CERT_BAG,
            value: AnyRef::from_der(&cert_bag).unwrap(),
            attributes: None,
        }
        .to_der()
        .unwrap();
        let bags: Vec<AnyRef<'_>> = (0..count)
            .map(|_| AnyRef::from_der(&bag).unwrap())
            .collect();
        let safe_contents = bags.to_der().unwrap();
        let octets = OctetStringRef::new(&safe_contents)
            .unwrap()
            .to_der()
            .unwrap();
        let safe = ContentInfo {
            content_type: ID_DATA,
            content: Some(AnyRef::from_der(&octets).unwrap()),
        }
        .to_der()
        .unwrap();
        let auth_safe = vec![AnyRef::from_der(&safe).unwrap()].to_der().unwrap();
        let auth_octets = OctetStringRef::new(&auth_safe).unwrap().to_der().unwrap();
        Pfx {
            version: 3,
            auth_safe: ContentInfo {
                content_type: ID_DATA,
                content: Some(AnyRef::from_der(&auth_octets).unwrap()),
            },
            mac_data: None,
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn bags_are_counted_before_they_are_decoded() {
        let contents = open(&with_certificate_bags(MAX_BAGS), "").unwrap();
        assert_eq!(contents.certificates.len(), MAX_BAGS);
        assert!(matches!(
            open(&with_certificate_bags(MAX_BAGS + 1), ""),
            Err(PkiError::LimitExceeded(message)) if message.contains("SafeContents")
        ));
    }

    #[test]
    fn oversized_files_are_refused_before_any_work() {
        assert!(matches!(
            open(&vec![0; MAX_SIZE + 1], "x"),
            Err(PkiError::LimitExceeded(_))
        ));
    }
}
