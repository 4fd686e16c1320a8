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

/// A certificate decoded from its DER, with the DER of its signed part exactly as received (what its
/// signature covers: checking over these bytes needs no re-encoding).
pub(crate) struct Decoded {
    pub certificate: Certificate,
    pub tbs: Vec<u8>,
}

/// Decodes a certificate. A validity time in UTCTime before 1970 (RFC 5280 reads `50`–`69` as
/// 1950–1969) is outside what the DER library represents: such a time is read as 1970-01-01, which
/// judges every time after 1970 the same way (a notBefore in 1950 or in 1970 has passed; a notAfter
/// in 1960 or in 1970 is over). The signature is still checked over the bytes as received.
pub(crate) fn decode_certificate(der: &[u8]) -> Result<Decoded, PkiError> {
    use der::Decode;
    let malformed = |e: der::Error| PkiError::Malformed(format!("certificate: {e}"));
    let parts = crate::cms::raw_elements(der).map_err(malformed)?;
    let tbs = parts
        .first()
        .ok_or_else(|| PkiError::Malformed("certificate: empty".into()))?
        .to_vec();
    let certificate = match Certificate::from_der(der) {
        Ok(certificate) => certificate,
        Err(first) => {
            let Some(patched) = with_pre_1970_times_clamped(der) else {
                return Err(malformed(first));
            };
            Certificate::from_der(&patched).map_err(|_| malformed(first))?
        }
    };
    Ok(Decoded { certificate, tbs })
}

/// `der` with each validity UTCTime of the years 1950–1969 replaced by 1970-01-01T00:00:00Z (the same
/// length, so no length changes), or `None` when there is none.
fn with_pre_1970_times_clamped(der: &[u8]) -> Option<Vec<u8>> {
    let tbs = *crate::cms::raw_elements(der).ok()?.first()?;
    let fields = crate::cms::raw_elements(tbs).ok()?;
    // version [0] is optional: validity is the fourth field after it.
    let skip = usize::from(fields.first()?.first() == Some(&0xa0));
    let validity = fields.get(skip + 3)?;
    let mut patched = der.to_vec();
    let mut changed = false;
    for time in crate::cms::raw_elements(validity).ok()? {
        // UTCTime, 13 bytes: YYMMDDHHMMSSZ. The slices point into `der`: their offset is where to write.
        if time.len() == 15 && time[0] == 0x17 && time[1] == 13 && (b'5'..=b'6').contains(&time[2])
        {
            let at = (time.as_ptr() as usize).checked_sub(der.as_ptr() as usize)?;
            patched
                .get_mut(at + 2..at + 15)?
                .copy_from_slice(b"700101000000Z");
            changed = true;
        }
    }
    changed.then_some(patched)
}

/// Whether `issuer_key` made the signature of a certificate whose signed part is `tbs`.
pub(crate) fn signature_over(
    tbs: &[u8],
    cert: &Certificate,
    issuer_key: &spki::SubjectPublicKeyInfoOwned,
) -> Result<(), SignatureFailure> {
    let signature = cert
        .signature
        .as_bytes()
        .ok_or_else(|| SignatureFailure::Malformed("certificate signature bits".into()))?;
    verify_signature(issuer_key, &cert.signature_algorithm, None, tbs, signature)
}
