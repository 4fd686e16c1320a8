//! For tests of this crate and of the CLI (feature `test-support`): key stores issued by a test CA in
//! NCA profiles, and a WebSocket client that trusts exactly the agent's certificate.

use std::sync::Arc;

use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME};
use futures_util::{SinkExt, StreamExt};
use jiff::{SignedDuration, Timestamp};
use qyzmet_domain::ids::Iin;
use qyzmet_pki::authority::{Authority, Endpoints, Issue, Profile};
use qyzmet_pki::crl::{Revocation, RevocationReason};
use qyzmet_pki::name::{Holder, simple_name};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::tsp::TimeStampAuthority;
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use x509_cert::Certificate;

/// A root and an NCA under it, a holder's signing and authentication key stores, and the CAs' current
/// (empty) CRLs, so that the verifier can judge revocation; besides, what the agent's key checks and
/// time-stamps are tested with.
pub struct TestKeys {
    pub root: Certificate,
    /// The issuing CA under the root (the holder's key stores carry it in their chain).
    pub nca: Certificate,
    pub crls: Vec<Vec<u8>>,
    pub signing: KeyStore,
    pub authentication: KeyStore,
    pub iin: Iin,
    /// The same holder's signing key, whose certificate expired a month ago (P-256 whatever the
    /// algorithm: it is checked, not compared).
    pub expired: KeyStore,
    /// The CAs' CRLs in which the NCA revoked `signing`.
    pub crls_revoking_signing: Vec<Vec<u8>>,
    /// A time-stamping authority under the NCA (P-256).
    pub tsa: TimeStampAuthority,
}

/// Issues [`TestKeys`] with `algorithm` keys (P-256 is fast; RSA-2048 what the NCA mostly issues).
pub fn test_keys(algorithm: KeyAlgorithm) -> TestKeys {
    let endpoints = Endpoints {
        base_url: "http://127.0.0.1:9".into(),
    };
    let now = Timestamp::now() - SignedDuration::from_hours(1);
    let key = || PrivateKey::generate(algorithm).expect("key");
    let root = Authority::create_root(
        "root",
        simple_name(&[
            (COMMON_NAME, "Qyzmet Layer Test Root"),
            (COUNTRY_NAME, "KZ"),
        ])
        .expect("name"),
        key(),
        &endpoints,
        now,
    )
    .expect("root");
    let nca = root
        .create_subordinate(
            "nca",
            simple_name(&[
                (COMMON_NAME, "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (TEST)"),
                (COUNTRY_NAME, "KZ"),
            ])
            .expect("name"),
            key(),
            &endpoints,
            now,
        )
        .expect("nca");
    let iin = (0..1000)
        .find_map(|k| Iin::parse(&format!("900101400{k:03}")).ok())
        .expect("an IIN");
    let holder = Holder {
        surname: "Төлеуов".into(),
        name: "Ерғали".into(),
        patronymic: Some("Серікұлы".into()),
        iin,
        organisation: None,
        email: None,
    };
    let issue = |key: &PrivateKey, subject, profile, not_before| {
        nca.issue(
            &Issue {
                subject,
                public_key: key.public_key_info().expect("public key"),
                profile,
                not_before,
            },
            &endpoints,
        )
        .expect("issue")
    };
    let store = |key: PrivateKey, profile: Profile, not_before| KeyStore {
        certificate: issue(
            &key,
            holder.subject().expect("subject"),
            profile,
            not_before,
        ),
        key,
        chain: nca.chain_from_here(),
    };
    let p256 = || PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let crl = |ca: &Authority, revoked: &[(Vec<u8>, Revocation)]| {
        qyzmet_pki::crl::issue(ca, revoked, 1, now, now + SignedDuration::from_hours(48))
            .expect("CRL")
    };
    let signing = store(key(), Profile::Signing { role: None }, now);
    let revocation = Revocation {
        at: now,
        reason: RevocationReason::KeyCompromise,
    };
    let revoking_signing = [(
        signing
            .certificate
            .tbs_certificate
            .serial_number
            .as_bytes()
            .to_vec(),
        revocation,
    )];
    let tsa_key = p256();
    let tsa_name =
        simple_name(&[(COMMON_NAME, "Qyzmet Layer Test TSA"), (COUNTRY_NAME, "KZ")]).expect("name");
    TestKeys {
        crls: vec![crl(&root, &[]), crl(&nca, &[])],
        crls_revoking_signing: vec![crl(&root, &[]), crl(&nca, &revoking_signing)],
        signing,
        authentication: store(key(), Profile::Authentication { role: None }, now),
        // The profile's lifetime is a year: issued 13 months ago, it expired a month ago.
        expired: store(
            p256(),
            Profile::Signing { role: None },
            now - SignedDuration::from_hours(24 * 395),
        ),
        tsa: TimeStampAuthority {
            certificate: issue(&tsa_key, tsa_name, Profile::TimeStamping, now),
            key: tsa_key,
            chain: nca.chain_from_here(),
            policy: const_oid::ObjectIdentifier::new_unwrap("1.2.398.3.3.2.6.1"),
        },
        nca: nca.certificate.clone(),
        root: root.certificate,
        iin,
    }
}

/// Serves `tsa` over HTTP on a free loopback port (RFC 3161 over HTTP: a POSTed request, the response
/// in the body); its URL. One request per connection, answered and closed; the task lives as long as
/// the test's runtime.
pub async fn serve_time_stamps(tsa: TimeStampAuthority) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let mut serial: u128 = 1;
        while let Ok((mut stream, _)) = listener.accept().await {
            serial += 1;
            let tsa = tsa.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut received = Vec::new();
                let mut buffer = [0u8; 4096];
                // Headers, then as many bytes as Content-Length says (a test client's request is small).
                let body = loop {
                    let Ok(n) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    received.extend_from_slice(&buffer[..n]);
                    let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .and_then(|value| value.trim().parse().ok())
                        .unwrap_or(0);
                    if received.len() >= end + 4 + length {
                        break received[end + 4..end + 4 + length].to_vec();
                    }
                };
                let response = qyzmet_pki::tsp::respond(&body, &tsa, serial, Timestamp::now());
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    response.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&response).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{address}/tsa")
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The origin of the page [`Client::connect`] plays; serve the agent with [`page_origins`] to let it in.
pub const PAGE_ORIGIN: &str = "https://portal.test";

/// The allow-list of an agent the test pages may speak to: [`PAGE_ORIGIN`] only.
pub fn page_origins() -> crate::AllowedOrigins {
    crate::AllowedOrigins::new(vec![
        crate::Origin::parse(PAGE_ORIGIN).expect("the test page's origin"),
    ])
}

/// A handshake the agent refused: its HTTP status and body.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: String,
}

/// A page's side of the socket.
pub struct Client {
    socket: WebSocketStream<Box<dyn Io>>,
    /// The first frame the agent sent.
    pub greeting: Value,
}

impl Client {
    /// Connects to `address` (`127.0.0.1:PORT`) as a page of [`PAGE_ORIGIN`]: over TLS trusting only
    /// `certificate_der` when given, plain otherwise; reads the greeting.
    pub async fn connect(address: &str, certificate_der: Option<&[u8]>) -> Client {
        Client::connect_from(address, certificate_der, Some(PAGE_ORIGIN))
            .await
            .unwrap_or_else(|refused| panic!("the agent refused the handshake: {refused:?}"))
    }

    /// As [`Client::connect`], with this `Origin` header (none when `None`); a refused handshake is an
    /// `Err` with the agent's answer, any other failure a panic.
    pub async fn connect_from(
        address: &str,
        certificate_der: Option<&[u8]>,
        origin: Option<&str>,
    ) -> Result<Client, Refused> {
        let tcp = TcpStream::connect(address)
            .await
            .expect("connect to the agent");
        let (io, url): (Box<dyn Io>, String) = match certificate_der {
            Some(der) => {
                let mut roots = rustls::RootCertStore::empty();
                roots
                    .add(CertificateDer::from(der.to_vec()))
                    .expect("the agent's certificate as a trust anchor");
                let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
                let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
                let name = ServerName::try_from(host.to_owned()).expect("server name");
                let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
                    .connect(name, tcp)
                    .await
                    .expect("TLS handshake with the agent");
                (Box::new(tls), format!("wss://{address}/"))
            }
            None => (Box::new(tcp), format!("ws://{address}/")),
        };
        let mut request = tokio_tungstenite::tungstenite::handshake::client::Request::builder()
            .uri(&url)
            .header("Host", address);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        let request = request
            .header("Connection", "Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header(
                "Sec-WebSocket-Key",
                tokio_tungstenite::tungstenite::handshake::client::generate_key(),
            )
            .body(())
            .expect("request");
        let mut socket = match tokio_tungstenite::client_async(request, io).await {
            Ok((socket, _)) => socket,
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                return Err(Refused {
                    status: response.status().as_u16(),
                    body: String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                        .into_owned(),
                });
            }
            Err(e) => panic!("WebSocket handshake: {e}"),
        };
        let greeting = next_json(&mut socket).await;
        Ok(Client { socket, greeting })
    }

    /// Sends one frame as is and reads the answer.
    pub async fn send_text(&mut self, text: &str) -> Value {
        self.socket
            .send(Message::text(text.to_owned()))
            .await
            .expect("send");
        next_json(&mut self.socket).await
    }

    pub async fn call(&mut self, request: Value) -> Value {
        self.send_text(&request.to_string()).await
    }
}

async fn next_json(socket: &mut WebSocketStream<Box<dyn Io>>) -> Value {
    loop {
        match socket.next().await.expect("a frame").expect("a frame") {
            Message::Text(text) => return serde_json::from_str(text.as_str()).expect("JSON"),
            Message::Close(frame) => panic!("the agent closed the connection: {frame:?}"),
            _ => continue,
        }
    }
}

/// Base64 as pages send data.
pub fn base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The DER CMS in a successful commonUtils answer (its `responseObject`, base64).
pub fn signature_of(answer: &Value) -> Vec<u8> {
    use base64::Engine;
    assert_eq!(answer["code"], "200", "{answer}");
    let text = answer["responseObject"].as_str().expect("a base64 CMS");
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}
