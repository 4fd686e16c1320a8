//! Qyzmet's public key infrastructure: the certification authorities of seed 003 (the NCA for citizens and
//! businesses, the state bodies' CA for officials), their certificates, revocation lists, OCSP answers and
//! time-stamps, and the verifier that judges every signature the platform receives (seed 001 condition C3,
//! seed 000 §9).
//!
//! This crate is cryptography and ASN.1 only: it stores nothing and serves nothing. The store crate keeps
//! the register, the web crate answers HTTP, the CLI reads files; the one piece of network code here is the
//! revocation fetcher ([`fetch`]) that the verifier uses to follow a certificate's CRL and OCSP addresses.

pub mod algorithm;
pub mod authority;
pub mod ber;
pub mod cms;
pub mod crl;
pub mod fetch;
pub mod gost;
pub mod name;
pub mod name_compare;
pub mod ocsp;
pub mod path;
pub mod pkcs10;
pub mod pkcs12;
pub mod report;
pub mod revocation;
pub mod time;
pub mod tsp;
pub mod verify;
mod x509;
pub mod xmldsig;

pub use algorithm::{KeyAlgorithm, PrivateKey};

/// Errors of the PKI operations (not of verification, which gives a [`report`] instead of failing).
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    #[error("wrong password or passphrase")]
    WrongPassword,
    #[error("rejected: {0}")]
    Rejected(String),
    /// Well formed and correctly signed, but by a key that does not chain to a trusted anchor.
    #[error("untrusted: {0}")]
    Untrusted(String),
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
    /// The input is larger than the platform judges (more signers than it checks, say): refused before
    /// the work, so no input buys unbounded CPU.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
}

/// Accepts DER, or PEM with the given label (files from OpenSSL come either way).
pub fn pem_or_der(bytes: &[u8], label: &str) -> Result<Vec<u8>, PkiError> {
    let text = bytes.trim_ascii_start();
    if text.starts_with(b"-----BEGIN") {
        let (found, der) =
            der::pem::decode_vec(text).map_err(|e| PkiError::Malformed(format!("PEM: {e}")))?;
        if found != label {
            return Err(PkiError::Malformed(format!(
                "PEM: expected {label}, found {found}"
            )));
        }
        Ok(der)
    } else {
        Ok(bytes.to_vec())
    }
}

/// Every certificate in a PEM bundle (or the one certificate of a DER file).
pub fn certificates_from_pem(bytes: &[u8]) -> Result<Vec<x509_cert::Certificate>, PkiError> {
    use der::Decode;
    if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return x509_cert::Certificate::from_der(bytes)
            .map(|c| vec![c])
            .map_err(|e| PkiError::Malformed(format!("certificate: {e}")));
    }
    x509_cert::Certificate::load_pem_chain(bytes)
        .map_err(|e| PkiError::Malformed(format!("PEM certificates: {e}")))
}

/// The certificates (DER each) of a file as CAs publish them: one DER certificate, a PEM bundle, or a
/// certs-only CMS (".p7c"/".p7b", RFC 5280 §4.2.2.1), DER or PEM.
pub fn certificates_in(bytes: &[u8]) -> Result<Vec<Vec<u8>>, PkiError> {
    use der::{Decode, Encode};
    let text = bytes.trim_ascii_start();
    if text.starts_with(b"-----BEGIN CERTIFICATE") {
        return certificates_from_pem(text)?
            .iter()
            .map(|c| c.to_der().map_err(|e| PkiError::Malformed(e.to_string())))
            .collect();
    }
    let der = if text.starts_with(b"-----BEGIN") {
        der::pem::decode_vec(text)
            .map_err(|e| PkiError::Malformed(format!("PEM: {e}")))?
            .1
    } else {
        bytes.to_vec()
    };
    if x509_cert::Certificate::from_der(&der).is_ok() {
        return Ok(vec![der]);
    }
    let info = ::cms::content_info::ContentInfo::from_der(&der)
        .map_err(|e| PkiError::Malformed(format!("neither a certificate nor a CMS: {e}")))?;
    let signed = info
        .content
        .decode_as::<::cms::signed_data::SignedData>()
        .map_err(|e| PkiError::Malformed(format!("CMS: {e}")))?;
    Ok(signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            ::cms::cert::CertificateChoices::Certificate(c) => c.to_der().ok(),
            _ => None,
        })
        .collect())
}
