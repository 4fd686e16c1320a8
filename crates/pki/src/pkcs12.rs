//! PKCS#12 key stores: how a holder receives a generated key, and how `qyzmet sign` and `qyzmet layer` read
//! one (NCALayer's "PKCS12" storage). Written with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an
//! HMAC-SHA256 MAC, OpenSSL 3's defaults, so `openssl pkcs12` opens them.

use der::{Decode, Encode};
use x509_cert::Certificate;

use crate::PkiError;
use crate::algorithm::PrivateKey;

/// A private key with its certificate and the chain above it (leaf first).
#[derive(Debug, Clone)]
pub struct KeyStore {
    pub key: PrivateKey,
    pub certificate: Certificate,
    pub chain: Vec<Certificate>,
}

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

    /// Reads the first key with its chain. A wrong password is [`PkiError::WrongPassword`].
    pub fn from_pkcs12(bytes: &[u8], password: &str) -> Result<KeyStore, PkiError> {
        let store = p12_keystore::KeyStore::from_pkcs12(bytes, password).map_err(|e| match e {
            p12_keystore::error::Error::MacError(_) => PkiError::WrongPassword,
            other => PkiError::Malformed(format!("PKCS#12: {other}")),
        })?;
        let (_, entry) = store
            .private_key_chain()
            .ok_or_else(|| PkiError::Malformed("PKCS#12: no private key inside".into()))?;
        let key = PrivateKey::from_pkcs8_der(entry.key())?;
        let mut certificates = entry
            .chain()
            .iter()
            .map(|c| {
                Certificate::from_der(c.as_der())
                    .map_err(|e| PkiError::Malformed(format!("PKCS#12 certificate: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // The leaf is the certificate whose key is ours, wherever the writer put it.
        let ours = key.public_key_info()?;
        let position = certificates
            .iter()
            .position(|c| c.tbs_certificate.subject_public_key_info == ours)
            .ok_or_else(|| {
                PkiError::Malformed("PKCS#12: no certificate for the private key".into())
            })?;
        let certificate = certificates.remove(position);
        Ok(KeyStore {
            key,
            certificate,
            chain: certificates,
        })
    }
}
