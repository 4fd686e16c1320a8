//! What the agent makes with a key: CMS SignedData over a document through the platform's one builder
//! ([`qyzmet_pki::cms`]), over a hash the page computed, a bare signature value (basics `raw`), and the
//! signature time-stamp a CMS may carry. Nothing here depends on the key's algorithm: the builder and
//! [`qyzmet_pki::PrivateKey`] choose digest and signature for the key.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerInfos};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode, Encode};
use jiff::Timestamp;
use qyzmet_pki::PkiError;
use qyzmet_pki::cms::{ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, Packaging, SignerParts};
use qyzmet_pki::pkcs12::KeyStore;
use x509_cert::Certificate;

/// The lengths of the digests an NCA key signs with: SHA-256, GOST 34.311-95 and Streebog-256 (32 bytes),
/// Streebog-512 (64). A hash of another length fits no key, which a page can be told before anyone is
/// asked; whether it fits the chosen key is known only after.
pub(crate) const DIGEST_LENGTHS: [usize; 2] = [32, 64];

/// A SignedData over `document`, with the document inside (`attach`) or not.
pub(crate) fn cms(document: &[u8], store: &KeyStore, attach: bool) -> Result<Vec<u8>, PkiError> {
    qyzmet_pki::cms::sign(document, store, !attach, Timestamp::now())
}

/// Why a hash cannot be signed with the chosen key.
#[derive(Debug)]
pub(crate) enum DigestError {
    /// The hash is not as long as the key's digest algorithm makes them.
    Length {
        given: usize,
        wanted: usize,
    },
    Pki(PkiError),
}

impl std::fmt::Display for DigestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DigestError::Length { given, wanted } => write!(
                f,
                "the hash has {given} bytes, but the key's digest algorithm makes {wanted}-byte hashes"
            ),
            DigestError::Pki(e) => write!(f, "signing failed: {e}"),
        }
    }
}

/// A detached SignedData whose message-digest attribute is `digest`, the hash of a document the agent
/// never sees (`createCAdESFromBase64Hash`, basics `digested`): it verifies against that document exactly
/// like one made over it.
///
/// The platform's builder hashes the content itself, so this takes its output for an empty document, puts
/// the given digest in place of the empty one and signs the signed attributes again. Every other field is
/// the builder's, the digest algorithm included, so the hash must be as long as the one it replaces; the
/// first signature is thrown away (one more signing operation per request).
pub(crate) fn cms_over_digest(digest: &[u8], store: &KeyStore) -> Result<Vec<u8>, DigestError> {
    let malformed = |e: der::Error| DigestError::Pki(PkiError::Crypto(format!("CMS: {e}")));
    let builder = |message: &str| DigestError::Pki(PkiError::Crypto(format!("CMS: {message}")));
    let template =
        qyzmet_pki::cms::sign(&[], store, true, Timestamp::now()).map_err(DigestError::Pki)?;
    let info = ContentInfo::from_der(&template).map_err(malformed)?;
    let mut signed_data: SignedData = info.content.decode_as().map_err(malformed)?;
    let mut signers = signed_data.signer_infos.0.into_vec();
    let [signer] = signers.as_mut_slice() else {
        return Err(builder("the builder wrote other than one signer"));
    };
    let mut attributes = signer
        .signed_attrs
        .take()
        .ok_or_else(|| builder("the builder wrote no signed attributes"))?
        .into_vec();
    let message_digest = attributes
        .iter_mut()
        .find(|a| a.oid == ID_MESSAGE_DIGEST)
        .ok_or_else(|| builder("no message-digest attribute"))?;
    let empty: OctetString = message_digest
        .values
        .get(0)
        .ok_or_else(|| builder("an empty message-digest attribute"))?
        .decode_as()
        .map_err(malformed)?;
    let wanted = empty.as_bytes().len();
    if digest.len() != wanted {
        return Err(DigestError::Length {
            given: digest.len(),
            wanted,
        });
    }
    let value = OctetString::new(digest.to_vec()).map_err(malformed)?;
    message_digest.values = SetOfVec::try_from(vec![Any::encode_from(&value).map_err(malformed)?])
        .map_err(malformed)?;
    let attributes = SetOfVec::try_from(attributes).map_err(malformed)?;
    // As the builder does: the signature covers the attributes' DER as a SET OF (RFC 5652 §5.4).
    let signature = store
        .key
        .sign(&attributes.to_der().map_err(malformed)?)
        .map_err(DigestError::Pki)?;
    signer.signature = OctetString::new(signature).map_err(malformed)?;
    signer.signed_attrs = Some(attributes);
    signed_data.signer_infos = SignerInfos::try_from(signers).map_err(malformed)?;
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(malformed)?,
    }
    .to_der()
    .map_err(malformed)
}

/// The bare signature value over `document` (basics `raw`): what the key's signature algorithm makes of
/// the document's bytes, hashing included.
pub(crate) fn raw(document: &[u8], store: &KeyStore) -> Result<Vec<u8>, PkiError> {
    store.key.sign(document)
}

/// A SignedData over nothing, carrying the key's chain and `certificates`, for the verifier to build the
/// key's path with (see `keys::judge_path`); never sent anywhere.
pub(crate) fn probe(
    store: &KeyStore,
    certificates: &[Certificate],
    now: Timestamp,
) -> Result<Vec<u8>, PkiError> {
    let chain: Vec<Certificate> = store.chain.iter().chain(certificates).cloned().collect();
    let signer = SignerParts {
        key: &store.key,
        certificate: &store.certificate,
        chain: &chain,
    };
    let packaging = Packaging {
        detached: false,
        certificates: true,
    };
    qyzmet_pki::cms::sign_content(ID_DATA, &[], &signer, packaging, now)?
        .to_der()
        .map_err(|e| PkiError::Crypto(format!("CMS: {e}")))
}

/// `cms` with a signature time-stamp (RFC 3161 Appendix A) from the TSA at `url`: asked over HTTP on a
/// blocking thread, since the TSA may take seconds (the client's timeout bounds it).
pub(crate) async fn time_stamped(cms: Vec<u8>, url: &str) -> Result<Vec<u8>, PkiError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let digest = qyzmet_pki::cms::signature_value_digest(&cms)?;
        let token = qyzmet_pki::fetch::time_stamp(&url, &digest)?;
        qyzmet_pki::cms::add_signature_time_stamp(&cms, &token)
    })
    .await
    .map_err(|e| PkiError::Crypto(format!("time-stamp: {e}")))?
}

/// A CMS as basics answers it: PEM with the label `CMS` (FACTS §5.1, recorded).
pub(crate) fn cms_pem(der: &[u8]) -> Result<String, PkiError> {
    der::pem::encode_string("CMS", der::pem::LineEnding::LF, der)
        .map_err(|e| PkiError::Crypto(format!("PEM: {e}")))
}
