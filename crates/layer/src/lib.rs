//! `qyzmet layer`: a local signing agent that speaks NCALayer's WebSocket protocol (REFERENCE.md, "NCALayer's
//! local WebSocket protocol"; testdata/nca-test/FACTS.md §5) with keys from PKCS#12 files, so that pages
//! written for NCALayer sign the same way whether the person runs the state's NCALayer or this agent.
//!
//! The agent listens on the loopback address (`wss://127.0.0.1:13579` by default), refuses the handshake of
//! a page whose origin is not allowed ([`AllowedOrigins`]: the portal's; HTTP 403), greets each connection
//! with its version and answers the requests pages send:
//!
//! * `kz.gov.pki.knca.basics` `sign` (`basics.rs`): `format` `cms` (PEM-armoured, label `CMS`), `raw`
//!   (the bare signature value) or `xml` (always a list of signed documents); one document or a list; `signingParams` `decode`,
//!   `encapsulate`, `digested`, `tsaProfile`, `allowExpired`, `allowRevoked`, `outputCert`; `signerParams`
//!   `extKeyUsageOids`, `iin`, `bin`, `serialNumber`, `chain` choose the key; `locale` (`kk`, `ru`) is the
//!   language of the question put to the person. Declined: `{"body":{},"status":true}`; an error:
//!   `{"status":false,"code":"INVOCATION_ERROR","message":…,"details":…}`.
//! * `kz.gov.pki.knca.commonUtils` (`common_utils.rs`): `getActiveTokens`, `getKeyInfo`,
//!   `createCAdESFromBase64`, `createCMSSignatureFromBase64` (time-stamped when the agent has a TSA),
//!   `createCAdESFromBase64Hash`, `signXml`, `signXmls`, `changeLocale`, with NCALayer's answers and
//!   refusals (`action.canceled`, `argument type mismatch`).
//!
//! XML (`xml.rs`) is signed by the platform's XML signer ([`qyzmet_pki::xmldsig`]) in Kalkan's layout,
//! the whole document or the element signXml's XPath names; a malformed document is refused before
//! anyone is asked, in the words of NCALayer's parser (`org.xml.sax.SAXParseException; lineNumber: …`).
//!
//! **The private key never leaves the agent.** The PKCS#12 files are read once at start; what goes out over
//! the socket is the certificate and what the key signed ([`qyzmet_pki::cms`]), nothing else. Before each
//! signature (and before telling a page who the key belongs to) the agent asks the person at its terminal
//! ([`Confirm`]), once for all the documents of a request: the origin check keeps foreign sites out, but
//! the person's consent, not the connection, is what authorises a signature. **Nothing about the keys is
//! said before consent**: a request the loaded keys cannot serve (no key of that kind, another IIN, BIN or
//! serial number, a missing extended key usage, an expired key, a path to none of the CAs the page accepts)
//! is put to the person too, and the page learns why only if they agree; declined, it gets the same
//! refusal as any other, so a page cannot probe whose keys the agent holds. Before consent a page hears
//! only the greeting and what depends on its own request (a malformed argument, an unknown method, the
//! storage this agent offers, whether it has a time-stamping authority).
//!
//! A signature made here proves nothing to the platform by itself: the server still verifies the chain,
//! key usage, revocation and the IIN/BIN ([`qyzmet_pki::verify::Verifier`]), as it does for NCALayer's.

mod basics;
mod common_utils;
mod confirm;
mod generation;
mod keys;
mod origin;
mod protocol;
mod server;
mod signing;
#[cfg(feature = "test-support")]
pub mod testing;
mod xml;

pub use confirm::{Confirm, ConsentRequest, Locale, Subject};
pub use generation::{KeyPurpose, MAX_PENDING, MODULE_KEYS};
pub use keys::{KeyType, key_info};
pub use origin::{AllowedOrigins, Origin, OriginError};
pub use server::{LocalCertificate, TlsConfig, serve};

use std::path::PathBuf;
use std::sync::Arc;

use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::revocation::RevocationSource;
use x509_cert::Certificate;

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

/// The signing agent: the keys it holds, one per purpose, how it asks for consent, and what it checks
/// keys against and stamps signatures with.
pub struct Agent {
    signing: Option<KeyStore>,
    authentication: Option<KeyStore>,
    confirm: Confirm,
    /// One question on the terminal at a time, whatever the number of connections.
    terminal: tokio::sync::Mutex<()>,
    /// What basics' `signerParams.chain: null` means ([`Agent::with_roots`]).
    roots: Vec<Certificate>,
    /// Judges whether a key is revoked ([`Agent::with_revocation`]).
    revocation: Option<Arc<dyn RevocationSource>>,
    /// The RFC 3161 TSA for `tsaProfile` ([`Agent::with_time_stamp_authority`]).
    tsa: Option<String>,
    /// Where `kz.gov.pki.qyzmet.keys` keeps generated keys and writes key stores
    /// ([`Agent::with_key_directory`]).
    key_directory: Option<generation::KeyDirectory>,
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
            roots: Vec::new(),
            revocation: None,
            tsa: None,
            key_directory: None,
        })
    }

    /// The CA certificates a key must chain to when a page's basics request leaves `signerParams.chain`
    /// null (NCALayer: the current NCA certificates). The NCA's key files carry no CA certificate (FACTS
    /// §3), so give the intermediate CAs as well as the roots; the self-issued ones are the anchors. With
    /// none given, `chain: null` builds no path.
    pub fn with_roots(mut self, roots: Vec<Certificate>) -> Agent {
        self.roots = roots;
        self
    }

    /// Where the agent learns whether a key is revoked when it builds a key's path: a key found revoked
    /// is not offered unless the page sends `allowRevoked`. Without one, revocation is not judged here
    /// (the platform's verifier judges it anyway).
    pub fn with_revocation(mut self, revocation: Arc<dyn RevocationSource>) -> Agent {
        self.revocation = Some(revocation);
        self
    }

    /// The RFC 3161 time-stamping authority (its URL, e.g. `http://127.0.0.1:8080/pki/tsa`) whose token
    /// basics adds for `tsaProfile: {}` and `createCMSSignatureFromBase64` always. Without one, a request
    /// for a time-stamp is refused saying so.
    pub fn with_time_stamp_authority(mut self, url: impl Into<String>) -> Agent {
        self.tsa = Some(url.into());
        self
    }

    /// The directory where `generateRequest` keeps a new key (encrypted with `password`, the key stores'
    /// password) until `installCertificate` writes it with its certificate into a new PKCS#12 there. Without
    /// one, both methods are refused saying so.
    pub fn with_key_directory(
        mut self,
        path: impl Into<PathBuf>,
        password: impl Into<String>,
    ) -> Agent {
        self.key_directory = Some(generation::KeyDirectory {
            path: path.into(),
            password: password.into(),
        });
        self
    }

    /// The key for a purpose; with no purpose named, the signing key if there is one.
    pub fn key(&self, purpose: Option<KeyType>) -> Option<&KeyStore> {
        match purpose {
            Some(KeyType::Signature) => self.signing.as_ref(),
            Some(KeyType::Authentication) => self.authentication.as_ref(),
            None => self.signing.as_ref().or(self.authentication.as_ref()),
        }
    }

    /// Answers one request frame (JSON text) as the agent would on a new socket; `origin` is the page's
    /// `Origin` header, shown to the person when asking. Never fails: every problem is an error answer.
    pub async fn answer(&self, request: &str, origin: Option<&str>) -> String {
        protocol::answer(self, &mut protocol::Session::default(), request, origin).await
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
