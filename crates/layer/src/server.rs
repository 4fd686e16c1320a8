//! The socket: TLS (or plain, for pages served over http), the WebSocket handshake (refused with 403 to a
//! page of an origin not allowed), the greeting, then one answer per request frame, in order, for as long
//! as the page keeps the connection.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{StatusCode, header};

use crate::origin::AllowedOrigins;
use crate::protocol::Session;
use crate::{Agent, LayerError, VERSION};

/// How the agent's socket is protected.
#[derive(Clone)]
pub enum TlsConfig {
    /// `ws://`: for pages served over plain http (a browser refuses ws:// from an https page).
    Plain,
    /// `wss://`, what NCALayer speaks and pages expect by default.
    Tls(Arc<rustls::ServerConfig>),
}

impl TlsConfig {
    /// A server certificate chain and its private key, both PEM (PKCS#8, PKCS#1 or SEC1 key).
    pub fn from_pem(certificate_pem: &[u8], key_pem: &[u8]) -> Result<TlsConfig, LayerError> {
        let chain = CertificateDer::pem_slice_iter(certificate_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LayerError::Tls(format!("certificate PEM: {e}")))?;
        if chain.is_empty() {
            return Err(LayerError::Tls("no certificate in the PEM".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| LayerError::Tls(format!("key PEM: {e}")))?;
        // The provider is named here rather than installed process-wide: the binary may hold other TLS users.
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| LayerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| LayerError::Tls(e.to_string()))?;
        Ok(TlsConfig::Tls(Arc::new(config)))
    }

    /// The URL scheme pages connect with.
    pub fn scheme(&self) -> &'static str {
        match self {
            TlsConfig::Plain => "ws",
            TlsConfig::Tls(_) => "wss",
        }
    }
}

/// A self-signed certificate for the loopback names, made at start when no `--cert` is given. NCALayer's
/// installer puts its certificate in the system's trust store; this one the person accepts in the browser
/// once per start (or passes a lasting one with `--cert/--key`).
pub struct LocalCertificate {
    pub certificate_pem: String,
    pub key_pem: String,
    pub certificate_der: Vec<u8>,
}

impl LocalCertificate {
    /// Valid for 127.0.0.1 and localhost, with a fresh P-256 key.
    pub fn generate() -> Result<LocalCertificate, LayerError> {
        let tls = |e: rcgen::Error| LayerError::Tls(format!("self-signed certificate: {e}"));
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
                .map_err(tls)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Qyzmet layer (127.0.0.1)");
        let key = rcgen::KeyPair::generate().map_err(tls)?;
        let certificate = params.self_signed(&key).map_err(tls)?;
        Ok(LocalCertificate {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            certificate_der: certificate.der().to_vec(),
        })
    }

    /// The SHA-256 fingerprint as browsers show it (colon-separated upper-case hex), so the person can
    /// compare before accepting the certificate.
    pub fn fingerprint(&self) -> String {
        Sha256::digest(&self.certificate_der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    pub fn tls_config(&self) -> Result<TlsConfig, LayerError> {
        TlsConfig::from_pem(self.certificate_pem.as_bytes(), self.key_pem.as_bytes())
    }
}

/// A connection that has not finished TLS and the WebSocket handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// Serves connections from pages of the `allowed` origins until the listener fails; each connection runs
/// on its own task.
pub async fn serve(
    listener: TcpListener,
    agent: Agent,
    tls: TlsConfig,
    allowed: AllowedOrigins,
) -> std::io::Result<()> {
    let agent = Arc::new(agent);
    let gate = Arc::new(Gate {
        allowed,
        last_notice: Mutex::new(None),
    });
    let acceptor = match &tls {
        TlsConfig::Plain => None,
        TlsConfig::Tls(config) => Some(TlsAcceptor::from(config.clone())),
    };
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of descriptors and the like: the next accept may succeed, the agent stays up.
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let agent = agent.clone();
        let acceptor = acceptor.clone();
        let gate = gate.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, agent, acceptor, &gate).await {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
}

/// The origin check, and when the person was last told of a refused page.
struct Gate {
    allowed: AllowedOrigins,
    last_notice: Mutex<Option<Instant>>,
}

/// A page that retries in a loop must not fill the terminal where the person answers questions.
const NOTICE_INTERVAL: Duration = Duration::from_secs(10);

impl Gate {
    /// Tells the person (on the log) of a refused page, at most once per [`NOTICE_INTERVAL`]: a portal
    /// left off the allow-list shows up here.
    fn notice_refusal(&self, origin: Option<&str>) {
        let now = Instant::now();
        let mut last = self.last_notice.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|at| now.duration_since(at) >= NOTICE_INTERVAL) {
            *last = Some(now);
            tracing::info!(
                "refused a page of origin {origin:?}: not allowed (name it with --allow-origin if it is yours)"
            );
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn connection(
    stream: TcpStream,
    agent: Arc<Agent>,
    acceptor: Option<TlsAcceptor>,
    gate: &Gate,
) -> Result<(), String> {
    let mut origin: Option<String> = None;
    let handshake = async {
        let io: Box<dyn Io> = match acceptor {
            Some(acceptor) => Box::new(
                acceptor
                    .accept(stream)
                    .await
                    .map_err(|e| format!("TLS: {e}"))?,
            ),
            None => Box::new(stream),
        };
        // The Err type is tungstenite's Callback signature, not ours to shrink.
        #[allow(clippy::result_large_err)]
        let check_origin = |request: &Request, response: Response| {
            let header = request
                .headers()
                .get(header::ORIGIN)
                .and_then(|v| v.to_str().ok());
            if !gate.allowed.allows(header) {
                gate.notice_refusal(header);
                return Err(forbidden(header));
            }
            // Shown to the person with each question.
            origin = header.map(str::to_owned);
            Ok(response)
        };
        tokio_tungstenite::accept_hdr_async(io, check_origin)
            .await
            .map_err(|e| format!("WebSocket handshake: {e}"))
    };
    let mut socket = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
        .await
        .map_err(|_| "handshake timed out".to_owned())??;
    let greeting = serde_json::json!({"result": {"version": VERSION}}).to_string();
    socket
        .send(Message::text(greeting))
        .await
        .map_err(|e| e.to_string())?;
    let mut session = Session::default();
    while let Some(message) = socket.next().await {
        let text = match message.map_err(|e| e.to_string())? {
            Message::Text(text) => text.as_str().to_owned(),
            // Not what pages send, but answered like any other malformed request rather than dropped.
            Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Message::Close(_) => break,
            // Pings are answered by the WebSocket layer itself.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        };
        let reply = crate::protocol::answer(&agent, &mut session, &text, origin.as_deref()).await;
        socket
            .send(Message::text(reply))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The answer to a handshake from a page the agent does not serve. It names the origin for the person who
/// reads the browser's console, and nothing about the agent's keys.
fn forbidden(origin: Option<&str>) -> ErrorResponse {
    let body = match origin {
        Some(origin) => format!(
            "this agent does not serve pages of {origin:?}; its owner can allow them with --allow-origin\n"
        ),
        None => {
            "this agent serves only pages of allowed origins; the handshake named none\n".to_owned()
        }
    };
    let mut response = ErrorResponse::new(Some(body.clone()));
    *response.status_mut() = StatusCode::FORBIDDEN;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_LENGTH,
        header::HeaderValue::from(body.len()),
    );
    headers.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}
