//! `qyzmet layer`: a local signing agent that speaks NCALayer's WebSocket protocol (REFERENCE.md, "NCALayer's
//! local WebSocket protocol") with keys from PKCS#12 files, so that the portal's pages sign the same way
//! whether the person runs the state's NCALayer or this agent.
//!
//! The agent listens on the loopback address (`wss://127.0.0.1:13579` by default), refuses the handshake of
//! a page whose origin is not allowed ([`AllowedOrigins`]: the portal's; HTTP 403), greets each connection
//! with its version and answers the requests pages send: `kz.gov.pki.knca.commonUtils` (`getActiveTokens`,
//! `getKeyInfo`, `createCAdESFromBase64`, `createCAdESFromBase64Hash`, `changeLocale`) and
//! `kz.gov.pki.knca.basics` `sign` with format `cms`. XML signing is answered with an error.
//!
//! **The private key never leaves the agent.** The PKCS#12 files are read once at start; what goes out over
//! the socket is the certificate and CMS SignedData made with the key ([`qyzmet_pki::cms`]), nothing else.
//! Before each signature (and before telling a page who the key belongs to) the agent asks the person at
//! its terminal ([`Confirm`]): the origin check keeps foreign sites out, but the person's consent, not the
//! connection, is what authorises a signature. **Nothing about the keys is said before consent**: a request
//! the loaded keys cannot serve (no key of that kind, another IIN or BIN, a missing extended key usage) is
//! put to the person too, and the page learns why only if they agree; declined, it gets the same
//! `action.canceled` as any refusal, so a page cannot probe whose keys the agent holds. Before consent a
//! page hears only the greeting and what depends on its own request (a malformed argument, an unknown
//! method, the storage this agent offers).
//!
//! A signature made here proves nothing to the platform by itself: the server still verifies the chain,
//! key usage, revocation and the IIN/BIN ([`qyzmet_pki::verify::Verifier`]), as it does for NCALayer's.

mod confirm;
mod keys;
mod origin;
mod protocol;
mod server;
mod signing;
#[cfg(feature = "test-support")]
pub mod testing;

pub use confirm::{Confirm, ConsentRequest, Subject};
pub use keys::{KeyType, key_info};
pub use origin::{AllowedOrigins, Origin, OriginError};
pub use server::{LocalCertificate, TlsConfig, serve};

use qyzmet_pki::pkcs12::KeyStore;

/// The version the greeting announces.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The only storage this agent offers: keys read from PKCS#12 files (NCALayer's name for a key file).
pub const STORAGE_PKCS12: &str = "PKCS12";

#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// A key store fits no purpose, or two fit the same one.
    #[error("{0}")]
    Keys(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error(transparent)]
    Pki(#[from] qyzmet_pki::PkiError),
}

/// The signing agent: the keys it holds, one per purpose, and how it asks for consent.
pub struct Agent {
    signing: Option<KeyStore>,
    authentication: Option<KeyStore>,
    confirm: Confirm,
    /// One question on the terminal at a time, whatever the number of connections.
    terminal: tokio::sync::Mutex<()>,
}

impl Agent {
    /// Sorts the key stores by what their certificates are for: a signing key (nonRepudiation or
    /// digitalSignature with emailProtection) answers `SIGNATURE`, an authentication key (clientAuth)
    /// `AUTHENTICATION`. A store fitting neither, or a second store for a purpose already taken, is an error:
    /// the agent must not guess which key the person meant.
    pub fn new(stores: Vec<KeyStore>, confirm: Confirm) -> Result<Agent, LayerError> {
        if stores.is_empty() {
            return Err(LayerError::Keys("no key store given".into()));
        }
        let mut signing = None;
        let mut authentication = None;
        for store in stores {
            let subject = qyzmet_pki::name::display(&store.certificate.tbs_certificate.subject);
            let fits_signing = KeyType::Signature.fits(&store.certificate);
            let fits_authentication = KeyType::Authentication.fits(&store.certificate);
            if !fits_signing && !fits_authentication {
                return Err(LayerError::Keys(format!(
                    "the certificate of {subject} is neither a signing nor an authentication certificate"
                )));
            }
            for (fits, slot, purpose) in [
                (fits_signing, &mut signing, KeyType::Signature),
                (
                    fits_authentication,
                    &mut authentication,
                    KeyType::Authentication,
                ),
            ] {
                if !fits {
                    continue;
                }
                if slot.is_some() {
                    return Err(LayerError::Keys(format!(
                        "two {} keys given (the second is {subject}); give one per purpose",
                        purpose.name()
                    )));
                }
                *slot = Some(store.clone());
            }
        }
        Ok(Agent {
            signing,
            authentication,
            confirm,
            terminal: tokio::sync::Mutex::new(()),
        })
    }

    /// The key for a purpose; with no purpose named, the signing key if there is one.
    pub fn key(&self, purpose: Option<KeyType>) -> Option<&KeyStore> {
        match purpose {
            Some(KeyType::Signature) => self.signing.as_ref(),
            Some(KeyType::Authentication) => self.authentication.as_ref(),
            None => self.signing.as_ref().or(self.authentication.as_ref()),
        }
    }

    /// Answers one request frame (JSON text) as the agent would on a socket; `origin` is the page's
    /// `Origin` header, shown to the person when asking. Never fails: every problem is an error answer.
    pub async fn answer(&self, request: &str, origin: Option<&str>) -> String {
        protocol::answer(self, request, origin).await
    }

    async fn consents(&self, request: &ConsentRequest<'_>) -> bool {
        match self.confirm {
            Confirm::Always => true,
            Confirm::Never => false,
            Confirm::Terminal => {
                let _one_at_a_time = self.terminal.lock().await;
                confirm::ask_on_terminal(request.describe()).await
            }
        }
    }
}
