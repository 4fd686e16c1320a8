//! CMS SignedData made with a key store: over a document through the platform's one builder
//! ([`qyzmet_pki::cms::sign`]), and over a hash the page computed.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerInfos};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode, Encode};
use jiff::Timestamp;
use qyzmet_pki::PkiError;
use qyzmet_pki::cms::{ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use qyzmet_pki::pkcs12::KeyStore;

/// A SignedData over `document`, with the document inside (`attach`) or not.
pub(crate) fn sign_document(
    document: &[u8],
    store: &KeyStore,
    attach: bool,
) -> Result<Vec<u8>, PkiError> {
    qyzmet_pki::cms::sign(document, store, !attach, Timestamp::now())
}

/// A detached SignedData whose message-digest attribute is `digest`, the SHA-256 of a document the agent
/// never sees (`createCAdESFromBase64Hash`, basics `digested`): it verifies against that document exactly
/// like one made over it.
///
/// The platform's builder hashes the content itself, so this takes its output for an empty document, puts
/// the given digest in place of the empty one and signs the signed attributes again. Every other field is
/// the builder's; the first signature is thrown away (one more signing operation per request).
pub(crate) fn sign_digest(digest: &[u8; 32], store: &KeyStore) -> Result<Vec<u8>, PkiError> {
    let malformed = |e: der::Error| PkiError::Crypto(format!("CMS: {e}"));
    let template = qyzmet_pki::cms::sign(&[], store, true, Timestamp::now())?;
    let info = ContentInfo::from_der(&template).map_err(malformed)?;
    let mut signed_data: SignedData = info.content.decode_as().map_err(malformed)?;
    let mut signers = signed_data.signer_infos.0.into_vec();
    let [signer] = signers.as_mut_slice() else {
        return Err(PkiError::Crypto(
            "CMS: the builder wrote other than one signer".into(),
        ));
    };
    let mut attributes = signer
        .signed_attrs
        .take()
        .ok_or_else(|| PkiError::Crypto("CMS: the builder wrote no signed attributes".into()))?
        .into_vec();
    let message_digest = attributes
        .iter_mut()
        .find(|a| a.oid == ID_MESSAGE_DIGEST)
        .ok_or_else(|| PkiError::Crypto("CMS: no message-digest attribute".into()))?;
    let value = OctetString::new(digest.to_vec()).map_err(malformed)?;
    message_digest.values = SetOfVec::try_from(vec![Any::encode_from(&value).map_err(malformed)?])
        .map_err(malformed)?;
    let attributes = SetOfVec::try_from(attributes).map_err(malformed)?;
    // As the builder does: the signature covers the attributes' DER as a SET OF (RFC 5652 §5.4).
    let signature = store.key.sign(&attributes.to_der().map_err(malformed)?)?;
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
