//! Reading certificates: their extensions, and whether one was signed by another. Shared by the
//! verifier, the OCSP and TSA checks and the revocation fetcher.

use const_oid::AssociatedOid;
use der::{DecodeOwned, Encode};
use x509_cert::Certificate;

use crate::PkiError;
use crate::algorithm::{SignatureFailure, verify_signature};

/// The extension of type `T` in `cert` and its critical flag; an undecodable one is an error, a repeated
/// one too (RFC 5280 §4.2).
pub(crate) fn extension_of<T: DecodeOwned + AssociatedOid>(
    cert: &Certificate,
) -> Result<Option<(T, bool)>, PkiError> {
    let mut found = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == T::OID);
    let Some(extension) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(PkiError::Malformed(format!(
            "certificate repeats extension {}",
            T::OID
        )));
    }
    let value = T::from_der(extension.extn_value.as_bytes())
        .map_err(|e| PkiError::Malformed(format!("certificate extension {}: {e}", T::OID)))?;
    Ok(Some((value, extension.critical)))
}

/// The extension's value when it is present once and decodes; `None` otherwise (for checks that treat a
/// broken extension as an absent one and let another check fail).
pub(crate) fn extension<T: DecodeOwned + AssociatedOid>(cert: &Certificate) -> Option<T> {
    extension_of(cert).ok().flatten().map(|(value, _)| value)
}

/// Whether `issuer`'s key made `cert`'s signature. The signed part is re-encoded: for a certificate that
/// decoded as DER the bytes are the same.
pub(crate) fn signature_by(
    cert: &Certificate,
    issuer: &Certificate,
) -> Result<(), SignatureFailure> {
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|e| SignatureFailure::Malformed(e.to_string()))?;
    let signature = cert
        .signature
        .as_bytes()
        .ok_or_else(|| SignatureFailure::Malformed("certificate signature bits".into()))?;
    verify_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        &cert.signature_algorithm,
        None,
        &tbs,
        signature,
    )
}

/// Whether `cert` names `issuer` as its issuer and its signature checks with `issuer`'s key.
pub(crate) fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    cert.tbs_certificate.issuer == issuer.tbs_certificate.subject
        && signature_by(cert, issuer).is_ok()
}
