//! GOST 34.310-2004 and GOST R 34.10-2015 (512-bit) signatures exactly as Kazakhstan's NCA writes them
//! with KalkanCrypt (testdata/nca-test/FACTS.md §1–§3).
//!
//! Why the curve arithmetic is written here. RustCrypto has the hashes (`gost94` with the test S-box
//! for GOST 34.311-95, `streebog`), and they are used, but it has no GOST R 34.10 signature crate; its
//! generic curve code (`primeorder`/`elliptic-curve`) needs a field-element type implementing the
//! `ff` traits for each curve, which exists for neither the 256-bit CryptoPro-A field nor the 512-bit
//! TC26 one. ring and OpenSSL 3 have no GOST at all. And Kalkan's conventions are its own: public
//! key X‖Y and signature r‖s with every half little-endian (the byte reversal of RFC 4491/9215's
//! s‖r), e read little-endian from the digest, private keys as `OCTET STRING{OCTET STRING}` (2015) or
//! `OCTET STRING{INTEGER}` (2004). So the group law is written here: `field` (GF(p) for the two
//! pseudo-Mersenne primes, constant time), `point` (the group law, constant-time ladder, interleaved
//! wNAF), `params` (the two curves' constants), `signature` (the scheme over integers, mod q on
//! crypto-bigint's constant-time Montgomery residues); this module only reads and writes Kalkan's
//! bytes. The base field is not crypto-bigint's residue because its generic Montgomery
//! multiplication made a 512-bit verification 2–3 times slower (`field`'s comment has the figures).
//!
//! Constant time where secrets are involved: key generation and the nonce point k·G use complete
//! formulas and a fixed-window ladder with table scans (`point::mul_ct`) over the constant-time field;
//! the scalar arithmetic mod q is crypto-bigint's. Verification handles public data only and is
//! variable time (interleaved wNAF with a precomputed table of G, a binary-Euclid inverse of e).
//!
//! 64-bit targets only (the limbs are `u64` and crypto-bigint's `U256` is four of its words).
//!
//! Every public point is checked (coordinates below p, on the curve; infinity has no encoding), every
//! signature half must lie in [1, q − 1]. Both curves have cofactor 1, so a point on the curve is in
//! the group of order q.

mod field;
mod params;
mod point;
mod signature;

use const_oid::ObjectIdentifier;
use crypto_bigint::modular::constant_mod::ResidueParams;
use crypto_bigint::{Uint, Word};
use der::asn1::{AnyRef, BitString, OctetString, OctetStringRef, UintRef};
use der::{Decode, Encode, Sequence, Tag, Tagged};
use sha2::Digest;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use zeroize::{Zeroize, Zeroizing};

use params::{CryptoProA, Tc26A512};
use point::{Affine, Curve, Fe, Scalar};

/// GOST 34.310-2004 public key (SPKI algorithm of every 2004-generation certificate).
pub const GOST_2004_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.1");
/// The 2004 curve parameter set (= CryptoPro-A), first SPKI parameter.
pub const GOST_2004_CURVE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.1.1");
/// The 2004 hash parameter set (GOST 34.311-95, test S-box), second SPKI parameter.
pub const GOST_2004_HASH_PARAMETERS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.1.1.0");
/// GOST 34.311-95 with GOST 34.310-2004: certificates, CRLs, OCSP, CMS.
pub const GOST_2004_SIGNATURE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.2");
/// GOST 34.311-95 digest (CMS digestAlgorithm).
pub const GOST_34311_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.1");
/// GOST R 34.10-2015 512-bit public key.
pub const GOST_2015_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.2");
/// The 2015-512 curve parameter set (= TC26 512 paramSetA), first SPKI parameter.
pub const GOST_2015_CURVE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.2.1");
/// GOST R 34.11-2015 (Streebog) 512: CMS digestAlgorithm, and the second SPKI parameter of 512 keys.
pub const STREEBOG_512_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.3");
/// GOST 34.11-2015 (512) with GOST 34.10-2015 (512).
pub const GOST_2015_SIGNATURE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.3.2");

/// Why a GOST operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GostError {
    /// The bytes do not encode what the field needs (named in the message).
    #[error("{0}")]
    Malformed(String),
    /// Parameters this implementation does not have (another curve or hash parameter set).
    #[error("{0}")]
    Unsupported(String),
    /// A well-formed signature that this key did not make over this digest.
    #[error("the GOST signature does not verify")]
    Invalid,
    /// The random generator gave no usable nonce.
    #[error("GOST signing failed: {0}")]
    Failed(String),
}

/// The two algorithms Kalkan signs with: the curve, the hash and their identifiers go together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParameterSet {
    /// GOST 34.310-2004 on CryptoPro-A with GOST 34.311-95 (test S-box): 256-bit.
    Gost2004,
    /// GOST R 34.10-2015 on TC26 512 paramSetA with Streebog-512: 512-bit.
    Gost2015,
}

impl ParameterSet {
    pub const ALL: [ParameterSet; 2] = [ParameterSet::Gost2004, ParameterSet::Gost2015];

    pub fn key_oid(self) -> ObjectIdentifier {
        match self {
            ParameterSet::Gost2004 => GOST_2004_KEY,
            ParameterSet::Gost2015 => GOST_2015_KEY,
        }
    }

    pub fn curve_oid(self) -> ObjectIdentifier {
        match self {
            ParameterSet::Gost2004 => GOST_2004_CURVE,
            ParameterSet::Gost2015 => GOST_2015_CURVE,
        }
    }

    /// The second key parameter: the hash parameter set (2004) or the digest (2015).
    pub fn hash_parameters_oid(self) -> ObjectIdentifier {
        match self {
            ParameterSet::Gost2004 => GOST_2004_HASH_PARAMETERS,
            ParameterSet::Gost2015 => STREEBOG_512_DIGEST,
        }
    }

    pub fn signature_oid(self) -> ObjectIdentifier {
        match self {
            ParameterSet::Gost2004 => GOST_2004_SIGNATURE,
            ParameterSet::Gost2015 => GOST_2015_SIGNATURE,
        }
    }

    pub fn digest_oid(self) -> ObjectIdentifier {
        match self {
            ParameterSet::Gost2004 => GOST_34311_DIGEST,
            ParameterSet::Gost2015 => STREEBOG_512_DIGEST,
        }
    }

    pub fn from_key_oid(oid: ObjectIdentifier) -> Option<Self> {
        Self::ALL.into_iter().find(|set| set.key_oid() == oid)
    }

    pub fn from_signature_oid(oid: ObjectIdentifier) -> Option<Self> {
        Self::ALL.into_iter().find(|set| set.signature_oid() == oid)
    }

    /// Bytes of one coordinate, of one signature half, of the digest: 32 or 64.
    pub fn size(self) -> usize {
        match self {
            ParameterSet::Gost2004 => 32,
            ParameterSet::Gost2015 => 64,
        }
    }

    /// The digest this algorithm signs: GOST 34.311-95 or Streebog-512.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            ParameterSet::Gost2004 => gost34311(data).to_vec(),
            ParameterSet::Gost2015 => streebog512(data).to_vec(),
        }
    }

    /// The SPKI (and PKCS#8) algorithm: the key OID with the curve and hash parameter OIDs.
    pub fn key_algorithm(self) -> Result<AlgorithmIdentifierOwned, GostError> {
        let parameters = KeyParameters {
            curve: self.curve_oid(),
            hash: self.hash_parameters_oid(),
        };
        Ok(AlgorithmIdentifierOwned {
            oid: self.key_oid(),
            parameters: Some(der::Any::encode_from(&parameters).map_err(encoding)?),
        })
    }

    /// Checks the key parameters beside this set's key OID. Absent parameters mean this set's own (the
    /// key OID names one curve and one hash in Kalkan's world); others are refused, since another
    /// curve or S-box would compute a different result.
    fn check_parameters(self, parameters: Option<AnyRef<'_>>) -> Result<(), GostError> {
        let Some(parameters) = parameters else {
            return Ok(());
        };
        let found: KeyParameters = parameters.decode_as().map_err(|e| {
            GostError::Malformed(format!("GOST key parameters (curve, hash OIDs): {e}"))
        })?;
        if found.curve != self.curve_oid() || found.hash != self.hash_parameters_oid() {
            return Err(GostError::Unsupported(format!(
                "GOST key parameters {} / {} (known with {}: {} / {})",
                found.curve,
                found.hash,
                self.key_oid(),
                self.curve_oid(),
                self.hash_parameters_oid()
            )));
        }
        Ok(())
    }
}

/// GOST 34.311-95 (the GOST R 34.11-94 algorithm with the "test" S-box, zero IV): Kalkan's 2004 digest.
pub fn gost34311(data: &[u8]) -> [u8; 32] {
    gost94::Gost94Test::digest(data).into()
}

/// Streebog-512 (GOST R 34.11-2012/2015): Kalkan's 2015 digest.
pub fn streebog512(data: &[u8]) -> [u8; 64] {
    streebog::Streebog512::digest(data).into()
}

/// The two OIDs after a GOST key OID (SPKI and PKCS#8): curve, then hash parameters.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct KeyParameters {
    curve: ObjectIdentifier,
    hash: ObjectIdentifier,
}

fn encoding(e: der::Error) -> GostError {
    GostError::Failed(format!("DER encoding: {e}"))
}

const WORD_BYTES: usize = Word::BITS as usize / 8;

/// The little-endian integer of exactly `L` words of bytes.
fn uint_from_le<const L: usize>(bytes: &[u8]) -> Option<Uint<L>> {
    if bytes.len() != L * WORD_BYTES {
        return None;
    }
    let mut words = [0 as Word; L];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(WORD_BYTES)) {
        *word = Word::from_le_bytes(chunk.try_into().ok()?);
    }
    Some(Uint::from_words(words))
}

fn uint_to_le<const L: usize>(value: &Uint<L>) -> Vec<u8> {
    value
        .as_words()
        .iter()
        .flat_map(|word| word.to_le_bytes())
        .collect()
}

fn point_from_le<C: Curve<L>, const L: usize>(xy: &[u8]) -> Result<Affine<C, L>, GostError> {
    let size = L * WORD_BYTES;
    if xy.len() != 2 * size {
        return Err(GostError::Malformed(format!(
            "GOST public key: {} bytes, expected {} (X‖Y)",
            xy.len(),
            2 * size
        )));
    }
    let (x, y) = xy.split_at(size);
    let p = Fe::<C, L>::MODULUS;
    let (Some(x), Some(y)) = (uint_from_le::<L>(x), uint_from_le::<L>(y)) else {
        return Err(GostError::Malformed("GOST public key: coordinates".into()));
    };
    if x >= p || y >= p {
        return Err(GostError::Malformed(
            "GOST public key: a coordinate is not below the field modulus".into(),
        ));
    }
    let point = Affine {
        x: Fe::<C, L>::new(&x),
        y: Fe::<C, L>::new(&y),
    };
    if !point.is_on_curve() {
        return Err(GostError::Malformed(
            "GOST public key: the point is not on the curve".into(),
        ));
    }
    Ok(point)
}

fn point_to_le<C: Curve<L>, const L: usize>(point: &Affine<C, L>) -> Vec<u8> {
    let mut out = uint_to_le(&point.x.to_uint());
    out.extend(uint_to_le(&point.y.to_uint()));
    out
}

fn verify_le<C: Curve<L>, const L: usize>(
    public: &Affine<C, L>,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), GostError> {
    let size = L * WORD_BYTES;
    let Some(e) = uint_from_le::<L>(digest) else {
        return Err(GostError::Malformed(format!(
            "GOST digest: {} bytes, expected {size}",
            digest.len()
        )));
    };
    // A signature of another length is not this algorithm's: invalid, as a P-256 signature that is
    // not DER is (algorithm::verify_signature).
    if signature.len() != 2 * size {
        return Err(GostError::Invalid);
    }
    let (r, s) = signature.split_at(size);
    let (Some(r), Some(s)) = (uint_from_le::<L>(r), uint_from_le::<L>(s)) else {
        return Err(GostError::Invalid);
    };
    match signature::verify(public, &e, &r, &s) {
        true => Ok(()),
        false => Err(GostError::Invalid),
    }
}

fn sign_le<C: Curve<L>, const L: usize>(
    secret: &Scalar<C, L>,
    digest: &[u8],
) -> Result<Vec<u8>, GostError> {
    let e = uint_from_le::<L>(digest).ok_or_else(|| {
        GostError::Malformed(format!(
            "GOST digest: {} bytes, expected {}",
            digest.len(),
            L * WORD_BYTES
        ))
    })?;
    let (r, s) = signature::sign::<C, L>(secret, &e)
        .ok_or_else(|| GostError::Failed("no usable random nonce".into()))?;
    let mut out = uint_to_le(&r);
    out.extend(uint_to_le(&s));
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Gost2004(Affine<CryptoProA, 4>),
    Gost2015(Affine<Tc26A512, 8>),
}

/// A checked GOST public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(Point);

impl PublicKey {
    /// From X‖Y, each coordinate little-endian (the content of the SPKI's OCTET STRING).
    pub fn from_xy_le(set: ParameterSet, xy: &[u8]) -> Result<Self, GostError> {
        Ok(PublicKey(match set {
            ParameterSet::Gost2004 => Point::Gost2004(point_from_le(xy)?),
            ParameterSet::Gost2015 => Point::Gost2015(point_from_le(xy)?),
        }))
    }

    /// From a SubjectPublicKeyInfo: a GOST key OID, its parameters, and a BIT STRING holding a DER
    /// OCTET STRING of X‖Y.
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, GostError> {
        let set = ParameterSet::from_key_oid(spki.algorithm.oid).ok_or_else(|| {
            GostError::Unsupported(format!("{} is not a GOST key", spki.algorithm.oid))
        })?;
        set.check_parameters(spki.algorithm.parameters.as_ref().map(AnyRef::from))?;
        let bits = spki.subject_public_key.as_bytes().ok_or_else(|| {
            GostError::Malformed("GOST public key: bit string with unused bits".into())
        })?;
        let xy = OctetStringRef::from_der(bits).map_err(|e| {
            GostError::Malformed(format!("GOST public key: OCTET STRING of X‖Y: {e}"))
        })?;
        Self::from_xy_le(set, xy.as_bytes())
    }

    pub fn parameter_set(&self) -> ParameterSet {
        match self.0 {
            Point::Gost2004(_) => ParameterSet::Gost2004,
            Point::Gost2015(_) => ParameterSet::Gost2015,
        }
    }

    /// X‖Y, each little-endian.
    pub fn to_xy_le(&self) -> Vec<u8> {
        match &self.0 {
            Point::Gost2004(p) => point_to_le(p),
            Point::Gost2015(p) => point_to_le(p),
        }
    }

    /// The SubjectPublicKeyInfo as Kalkan writes it.
    pub fn to_spki(&self) -> Result<SubjectPublicKeyInfoOwned, GostError> {
        let octets = OctetString::new(self.to_xy_le())
            .and_then(|o| o.to_der())
            .map_err(encoding)?;
        Ok(SubjectPublicKeyInfoOwned {
            algorithm: self.parameter_set().key_algorithm()?,
            subject_public_key: BitString::from_bytes(&octets).map_err(encoding)?,
        })
    }

    /// Checks `signature` (r‖s, each half little-endian) over `digest` (the hash output, read as a
    /// little-endian integer).
    pub fn verify_digest(&self, digest: &[u8], signature: &[u8]) -> Result<(), GostError> {
        match &self.0 {
            Point::Gost2004(p) => verify_le(p, digest, signature),
            Point::Gost2015(p) => verify_le(p, digest, signature),
        }
    }

    /// Hashes `message` with the key's digest and checks `signature` over it.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), GostError> {
        self.verify_digest(&self.parameter_set().digest(message), signature)
    }
}

#[derive(Clone)]
enum Secret {
    Gost2004(Scalar<CryptoProA, 4>),
    Gost2015(Scalar<Tc26A512, 8>),
}

impl Drop for Secret {
    fn drop(&mut self) {
        match self {
            Secret::Gost2004(d) => d.zeroize(),
            Secret::Gost2015(d) => d.zeroize(),
        }
    }
}

/// A GOST private key with its public key. The scalar is wiped when the key is dropped.
#[derive(Clone)]
pub struct SigningKey {
    secret: Secret,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "gost::SigningKey({:?})", self.parameter_set())
    }
}

fn public_of<C: Curve<L>, const L: usize>(d: &Scalar<C, L>) -> Result<Affine<C, L>, GostError> {
    point::mul_ct(&C::G, &d.retrieve())
        .to_affine()
        .ok_or_else(|| GostError::Malformed("GOST private key: zero scalar".into()))
}

/// d from `size` big-endian bytes (leading zeros allowed, any fewer bytes too), checked 0 < d < q.
fn scalar_from_be<C: Curve<L>, const L: usize>(be: &[u8]) -> Result<Scalar<C, L>, GostError> {
    let size = L * WORD_BYTES;
    let significant = be
        .iter()
        .position(|b| *b != 0)
        .map_or(&[][..], |i| &be[i..]);
    if significant.is_empty() || significant.len() > size {
        return Err(GostError::Malformed(format!(
            "GOST private key: the scalar must be 1 to {size} bytes and not zero"
        )));
    }
    let mut le = Zeroizing::new(vec![0u8; size]);
    for (slot, byte) in le.iter_mut().zip(significant.iter().rev()) {
        *slot = *byte;
    }
    let mut d = uint_from_le::<L>(&le)
        .ok_or_else(|| GostError::Malformed("GOST private key: scalar".into()))?;
    let in_range = d < <C::Q as ResidueParams<L>>::MODULUS;
    let scalar = Scalar::<C, L>::new(&d);
    d.zeroize();
    if !in_range {
        return Err(GostError::Malformed(
            "GOST private key: the scalar is not below the group order".into(),
        ));
    }
    Ok(scalar)
}

impl SigningKey {
    /// A new key: d uniform in [1, q − 1] from the operating system's generator.
    pub fn generate(set: ParameterSet) -> Result<Self, GostError> {
        let failed = || GostError::Failed("no usable random scalar".into());
        match set {
            ParameterSet::Gost2004 => {
                let d = signature::random_scalar::<CryptoProA, 4>().ok_or_else(failed)?;
                Self::from_parts(Secret::Gost2004(d))
            }
            ParameterSet::Gost2015 => {
                let d = signature::random_scalar::<Tc26A512, 8>().ok_or_else(failed)?;
                Self::from_parts(Secret::Gost2015(d))
            }
        }
    }

    fn from_parts(secret: Secret) -> Result<Self, GostError> {
        let public = match &secret {
            Secret::Gost2004(d) => PublicKey(Point::Gost2004(public_of::<CryptoProA, 4>(d)?)),
            Secret::Gost2015(d) => PublicKey(Point::Gost2015(public_of::<Tc26A512, 8>(d)?)),
        };
        Ok(SigningKey { secret, public })
    }

    /// From the big-endian scalar (the INTEGER of a 2004 key).
    pub fn from_scalar_be(set: ParameterSet, be: &[u8]) -> Result<Self, GostError> {
        Self::from_parts(match set {
            ParameterSet::Gost2004 => Secret::Gost2004(scalar_from_be::<CryptoProA, 4>(be)?),
            ParameterSet::Gost2015 => Secret::Gost2015(scalar_from_be::<Tc26A512, 8>(be)?),
        })
    }

    /// From the little-endian scalar (the inner OCTET STRING of a 2015 key).
    pub fn from_scalar_le(set: ParameterSet, le: &[u8]) -> Result<Self, GostError> {
        let be = Zeroizing::new(le.iter().rev().copied().collect::<Vec<u8>>());
        Self::from_scalar_be(set, &be)
    }

    /// The scalar, `size()` bytes little-endian.
    pub fn scalar_le(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match &self.secret {
            Secret::Gost2004(d) => uint_to_le(&d.retrieve()),
            Secret::Gost2015(d) => uint_to_le(&d.retrieve()),
        })
    }

    pub fn parameter_set(&self) -> ParameterSet {
        self.public.parameter_set()
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs a digest of `size()` bytes: r‖s, each half little-endian.
    pub fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, GostError> {
        match &self.secret {
            Secret::Gost2004(d) => sign_le::<CryptoProA, 4>(d, digest),
            Secret::Gost2015(d) => sign_le::<Tc26A512, 8>(d, digest),
        }
    }

    /// Hashes `message` with the key's digest and signs it.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, GostError> {
        self.sign_digest(&self.parameter_set().digest(message))
    }

    /// PKCS#8 as Kalkan writes it: the key OID with its two parameter OIDs, and as privateKey
    /// `OCTET STRING{OCTET STRING(64)}` little-endian (2015) or `OCTET STRING{INTEGER}` (2004).
    pub fn to_pkcs8_der(&self) -> Result<pkcs8::SecretDocument, GostError> {
        let scalar = self.scalar_le();
        let inner = Zeroizing::new(match self.parameter_set() {
            ParameterSet::Gost2015 => OctetStringRef::new(&scalar)
                .and_then(|o| o.to_der())
                .map_err(encoding)?,
            ParameterSet::Gost2004 => {
                let be = Zeroizing::new(scalar.iter().rev().copied().collect::<Vec<u8>>());
                UintRef::new(&be)
                    .and_then(|i| i.to_der())
                    .map_err(encoding)?
            }
        });
        let parameters = KeyParameters {
            curve: self.parameter_set().curve_oid(),
            hash: self.parameter_set().hash_parameters_oid(),
        }
        .to_der()
        .map_err(encoding)?;
        let info = pkcs8::PrivateKeyInfo {
            algorithm: spki::AlgorithmIdentifierRef {
                oid: self.parameter_set().key_oid(),
                parameters: Some(AnyRef::from_der(&parameters).map_err(encoding)?),
            },
            private_key: &inner,
            public_key: None,
        };
        pkcs8::SecretDocument::encode_msg(&info).map_err(encoding)
    }

    /// Reads a PKCS#8 GOST key: Kalkan's forms, and either form for either curve (the tags tell them
    /// apart: an OCTET STRING is little-endian, an INTEGER big-endian). The optional public key of
    /// PKCS#8 v2 is not read: the public key is computed from the scalar.
    pub fn from_pkcs8(info: &pkcs8::PrivateKeyInfo<'_>) -> Result<Self, GostError> {
        let set = ParameterSet::from_key_oid(info.algorithm.oid).ok_or_else(|| {
            GostError::Unsupported(format!("{} is not a GOST key", info.algorithm.oid))
        })?;
        set.check_parameters(info.algorithm.parameters)?;
        let inner = AnyRef::from_der(info.private_key)
            .map_err(|e| GostError::Malformed(format!("GOST private key: {e}")))?;
        match inner.tag() {
            Tag::OctetString => Self::from_scalar_le(set, inner.value()),
            Tag::Integer => {
                let integer: UintRef<'_> = inner
                    .decode_as()
                    .map_err(|e| GostError::Malformed(format!("GOST private key INTEGER: {e}")))?;
                Self::from_scalar_be(set, integer.as_bytes())
            }
            other => Err(GostError::Malformed(format!(
                "GOST private key: {other} where an OCTET STRING or INTEGER belongs"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
