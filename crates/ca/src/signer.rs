//! The CA signer (issue 20): the one process that holds the certification authorities' unlocked keys.
//! Web nodes and the engine never do; they ask the signer over a local socket, and every request is
//! a CMS SignedData whose encapsulated content is an [`Envelope`], signed either by the engine's own
//! key (a certificate the signer is configured with) or by a registration-centre operator (a staff
//! member with the `ca_operator` role in a certification authority, by the IIN of the certificate).
//! The socket's file permissions are the channel's authentication; the signature is the request's.
//!
//! What a caller may ask:
//! - the engine, only for an application that is at a step calling the CA: issue the certificate a
//!   PKCS#10 request of its form asks for (the subject is the applicant as the individuals' register
//!   knows them, never the request's own subject; the request's signature proves the key), or revoke
//!   a certificate the application names and whose holder is the applicant (003 Std-1 §6, Annexes
//!   9–12). A compromised web node can therefore have nothing issued that no application asked for.
//! - an operator: issue for a PKCS#10 and a holder, revoke with a reason, publish a CRL.
//!
//! A request older or newer than [`MAX_SKEW_MS`] is refused; its id is journalled with the answer in
//! the transaction of the action (`ca_request`), so a retried request gets the same answer and no
//! second certificate. A refusal is audited too (`pki.signer.refused`).
//!
//! Frames on the socket: a 4-byte big-endian length, then the bytes (the request's CMS DER; the
//! answer's JSON [`Reply`]), at most [`MAX_FRAME`] bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use der::Encode;
use jiff::Timestamp;
use qyzmet_domain::application::Application;
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_domain::regulation::GatewayCall;
use qyzmet_domain::regulation::parse as parse_regulation;
use qyzmet_domain::workflow;
use qyzmet_pki::authority::{CertificationRequest, Issue, Profile, serial_hex, validity_of};
use qyzmet_pki::crl::RevocationReason;
use qyzmet_pki::name::{Holder, Identity, Organisation};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::verify::Expectation;
use qyzmet_store::audit::{Event, OwnedEvent, events};
use qyzmet_store::pki as register;
use qyzmet_store::registry::person_of;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use x509_cert::Certificate;

use crate::trust::TrustSet;
use crate::{Authorities, CaError, Service, code};

/// The largest request or answer on the socket.
pub const MAX_FRAME: usize = 256 * 1024;
/// How far a request's time may be from the signer's clock.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;
/// How long a caller waits for the signer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The forms' fields whose PKCS#10 requests the CA answers, and the profile of each.
pub const REQUEST_FIELDS: [&str; 3] = [
    "signature_public_key",
    "authentication_public_key",
    "pkcs10_request",
];
/// The forms' fields that name the certificates to revoke (003 Std-1 Annexes 9–12).
pub const SERIAL_FIELDS: [&str; 2] = ["serial_numbers", "entity_serial_numbers"];

/// What a caller asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    /// The engine: issue for the PKCS#10 request in the application's form field.
    IssueForApplication {
        application: String,
        request_field: String,
    },
    /// The engine: revoke a certificate the application names.
    RevokeForApplication { application: String, serial: String },
    /// An operator: issue for a PKCS#10 request (base64 DER) to a holder the registry knows.
    Issue {
        ca: String,
        profile: String,
        csr: String,
        holder_iin: String,
    },
    /// An operator: revoke with an RFC 5280 reason code.
    Revoke { serial: String, reason: u8 },
    /// An operator: publish a fresh CRL of a CA.
    PublishCrl { ca: String },
}

impl Command {
    pub fn action(&self) -> &'static str {
        match self {
            Command::IssueForApplication { .. } => "issue_for_application",
            Command::RevokeForApplication { .. } => "revoke_for_application",
            Command::Issue { .. } => "issue",
            Command::Revoke { .. } => "revoke",
            Command::PublishCrl { .. } => "publish_crl",
        }
    }

    fn is_for_application(&self) -> bool {
        matches!(
            self,
            Command::IssueForApplication { .. } | Command::RevokeForApplication { .. }
        )
    }
}

/// The signed content of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The caller's id of the request: the same id is answered the same.
    pub id: String,
    pub at: Timestamp,
    pub command: Command,
}

/// Why the signer refused, by a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Not a CMS with an envelope, or too large.
    Malformed,
    /// The CMS signature or its certificate failed the verifier.
    Signature,
    /// The signer is neither the engine nor a registration-centre operator, or the engine asked
    /// for what only an operator may.
    NotAuthorised,
    /// The request's time is too far from the signer's clock.
    Stale,
    /// The id was answered before for another action.
    Replayed,
    /// The application does not ask for this (no such application, not at a CA step, the request
    /// or the serial is not its own).
    Application,
    /// The command cannot be done (unknown CA or profile, a malformed PKCS#10, no such certificate).
    Invalid,
    /// The signer failed (its database); the caller may retry.
    Unavailable,
}

/// The signer's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Reply {
    Issued {
        serial: String,
        profile: String,
        /// DER in base64.
        certificate: String,
        not_after: String,
    },
    Revoked {
        serial: String,
        crl_number: i64,
    },
    Published {
        ca: String,
        crl_number: i64,
    },
    Refused {
        code: Refusal,
        detail: String,
    },
}

impl Reply {
    fn refused(code: Refusal, detail: impl Into<String>) -> Reply {
        Reply::Refused {
            code,
            detail: detail.into(),
        }
    }
}

/// Who signed a request the signer accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    Engine,
    Operator(String),
}

impl Caller {
    fn actor(&self) -> String {
        match self {
            Caller::Engine => "system:engine".into(),
            Caller::Operator(iin) => format!("ca_operator:{iin}"),
        }
    }
}

/// The signer: the unlocked CAs, their register, and the engine's certificates it accepts.
pub struct Signer {
    service: Service,
    authorities: Authorities,
    engine: Vec<Certificate>,
}

impl Signer {
    pub fn new(service: Service, authorities: Authorities, engine: Vec<Certificate>) -> Signer {
        Signer {
            service,
            authorities,
            engine,
        }
    }

    /// Answers every connection of `listener` until the process ends.
    pub async fn serve(self: Arc<Self>, listener: UnixListener) -> std::io::Result<()> {
        loop {
            let (stream, _) = listener.accept().await?;
            let signer = self.clone();
            tokio::spawn(async move {
                let _ = signer.connection(stream).await;
            });
        }
    }

    async fn connection(&self, mut stream: UnixStream) -> std::io::Result<()> {
        while let Some(request) = read_frame(&mut stream).await? {
            let reply = self.answer(&request, Timestamp::now()).await;
            let bytes = serde_json::to_vec(&reply).map_err(std::io::Error::other)?;
            write_frame(&mut stream, &bytes).await?;
        }
        Ok(())
    }

    /// Judges and does one request; a refusal is audited.
    pub async fn answer(&self, request: &[u8], now: Timestamp) -> Reply {
        let (caller, envelope) = match self.authorise(request, now).await {
            Ok(accepted) => accepted,
            Err(reply) => {
                self.audit_refusal(&reply, None, request).await;
                return reply;
            }
        };
        let reply = match self.execute(&caller, &envelope, now).await {
            Ok(reply) => reply,
            Err(
                CaError::Invalid(detail)
                | CaError::Store(qyzmet_store::StoreError::Invalid(detail)),
            ) => Reply::refused(Refusal::Invalid, detail),
            Err(e) => Reply::refused(Refusal::Unavailable, e.to_string()),
        };
        if matches!(reply, Reply::Refused { .. }) {
            self.audit_refusal(&reply, Some((&caller, &envelope)), request)
                .await;
        }
        reply
    }

    async fn authorise(&self, request: &[u8], now: Timestamp) -> Result<(Caller, Envelope), Reply> {
        let unavailable = |e: CaError| Reply::refused(Refusal::Unavailable, e.to_string());
        let mut trust = TrustSet::load(&self.service.store)
            .await
            .map_err(unavailable)?;
        trust.crls.extend(
            self.service
                .store
                .latest_crls()
                .await
                .map_err(|e| unavailable(e.into()))?,
        );
        let verifier = trust
            .verifier()
            .ok_or_else(|| Reply::refused(Refusal::Unavailable, "no trust anchor"))?;
        let report = verifier.verify(request, None, &Expectation::default(), now);
        if !report.valid {
            let codes: Vec<&str> = report.codes().iter().map(|c| c.as_str()).collect();
            return Err(Reply::refused(Refusal::Signature, codes.join(",")));
        }
        let content = qyzmet_pki::cms::parse(request)
            .ok()
            .and_then(|cms| cms.content)
            .ok_or_else(|| Reply::refused(Refusal::Malformed, "no encapsulated request"))?;
        let envelope: Envelope = serde_json::from_slice(&content)
            .map_err(|e| Reply::refused(Refusal::Malformed, e.to_string()))?;
        let signer = report.signers.first();
        let summary = signer.and_then(|s| s.certificate.as_ref());
        let is_engine = summary.is_some_and(|summary| {
            self.engine
                .iter()
                .any(|c| serial_hex(&c.tbs_certificate.serial_number) == summary.serial)
        });
        let caller = if is_engine {
            Caller::Engine
        } else {
            let iin = signer
                .and_then(|s| s.signer.as_ref())
                .and_then(|identity| identity.iin)
                .map(|iin| iin.to_string());
            match iin {
                Some(iin)
                    if self
                        .service
                        .store
                        .holds_role(&iin, "ca_operator", "certification_authority")
                        .await
                        .map_err(|e| unavailable(e.into()))? =>
                {
                    Caller::Operator(iin)
                }
                _ => {
                    return Err(Reply::refused(
                        Refusal::NotAuthorised,
                        summary.map_or_else(String::new, |s| s.subject.clone()),
                    ));
                }
            }
        };
        if caller == Caller::Engine && !envelope.command.is_for_application() {
            return Err(Reply::refused(
                Refusal::NotAuthorised,
                "the engine asks only for applications",
            ));
        }
        let skew = (now.as_millisecond() - envelope.at.as_millisecond()).abs();
        if skew > MAX_SKEW_MS {
            return Err(Reply::refused(Refusal::Stale, envelope.at.to_string()));
        }
        Ok((caller, envelope))
    }

    async fn execute(
        &self,
        caller: &Caller,
        envelope: &Envelope,
        now: Timestamp,
    ) -> Result<Reply, CaError> {
        let actor = caller.actor();
        let action = envelope.command.action();
        let planned = match self.plan(&envelope.command, now).await? {
            Ok(planned) => planned,
            Err(refusal) => return Ok(refusal),
        };
        let mut tx = self.service.store.begin_write().await?;
        if let Some((done, answer)) = register::ca_request_answer(&mut tx, &envelope.id).await? {
            tx.rollback().await?;
            return Ok(match done == action {
                true => serde_json::from_str(&answer)
                    .map_err(|e| CaError::Invalid(format!("ca_request.answer: {e}")))?,
                false => Reply::refused(Refusal::Replayed, envelope.id.clone()),
            });
        }
        let mut audit = Vec::new();
        let reply = match planned {
            Planned::Issue { ca, issue } => {
                let certificate = self
                    .service
                    .issue_in(&mut tx, &mut audit, &self.authorities, &ca, &issue, &actor)
                    .await?;
                let (_, not_after) = validity_of(&certificate);
                Reply::Issued {
                    serial: serial_hex(&certificate.tbs_certificate.serial_number),
                    profile: issue.profile.code().into(),
                    certificate: B64.encode(
                        certificate
                            .to_der()
                            .map_err(|e| qyzmet_pki::PkiError::Crypto(e.to_string()))?,
                    ),
                    not_after: not_after.to_string(),
                }
            }
            Planned::Revoke { serial, reason } => {
                let (_, crl) = self
                    .service
                    .revoke_in(
                        &mut tx,
                        &mut audit,
                        &self.authorities,
                        &serial,
                        reason,
                        now,
                        &actor,
                    )
                    .await?;
                Reply::Revoked {
                    serial,
                    crl_number: crl.number,
                }
            }
            Planned::Publish { ca } => {
                let authority = self.authorities.ca(&ca)?;
                let crl = crate::publish_crl_in(&mut tx, &mut audit, authority, &actor).await?;
                Reply::Published {
                    ca,
                    crl_number: crl.number,
                }
            }
        };
        let answer = serde_json::to_string(&reply)
            .map_err(|e| CaError::Invalid(format!("the answer: {e}")))?;
        audit.push(
            register::record_ca_request(&mut tx, &envelope.id, &actor, action, &answer).await?,
        );
        tx.commit(&events(&audit)).await?;
        Ok(reply)
    }

    /// What a command comes to, judged before the transaction: the certificate to issue, the
    /// serial to revoke, the CRL to publish; or the refusal.
    async fn plan(
        &self,
        command: &Command,
        now: Timestamp,
    ) -> Result<Result<Planned, Reply>, CaError> {
        let invalid = |detail: String| Ok(Err(Reply::refused(Refusal::Invalid, detail)));
        match command {
            Command::IssueForApplication {
                application,
                request_field,
            } => {
                let (applicant, data) = match self
                    .application_at(application, GatewayCall::IssueCertificate)
                    .await?
                {
                    Ok(found) => found,
                    Err(reply) => return Ok(Err(reply)),
                };
                let Some(csr) = data
                    .form
                    .get(request_field)
                    .filter(|_| REQUEST_FIELDS.contains(&request_field.as_str()))
                else {
                    return Ok(Err(Reply::refused(
                        Refusal::Application,
                        format!("{request_field}: no request in the application"),
                    )));
                };
                // A legal entity's certificate goes to the employee who signed its application,
                // with the entity's BIN (003 Std-1 Annex 4), as the verified signature says.
                let (holder_iin, organisation) = match Bin::parse(&applicant) {
                    Ok(bin) => match entity_holder(&data, bin) {
                        Some(signer) => signer,
                        None => {
                            return Ok(Err(Reply::refused(
                                Refusal::Application,
                                format!("{application}: no signature of an employee of {bin}"),
                            )));
                        }
                    },
                    Err(_) => (applicant.clone(), None),
                };
                self.issue_plan(
                    code::NCA,
                    profile_of_field(request_field),
                    csr,
                    (&holder_iin, organisation),
                    now,
                )
                .await
            }
            Command::RevokeForApplication {
                application,
                serial,
            } => {
                let (applicant, data) = match self
                    .application_at(application, GatewayCall::RevokeCertificate)
                    .await?
                {
                    Ok(found) => found,
                    Err(reply) => return Ok(Err(reply)),
                };
                let serial = serial.trim().to_uppercase();
                if !serials_named(&data).contains(&serial) {
                    return Ok(Err(Reply::refused(
                        Refusal::Application,
                        format!("{serial}: not named by the application"),
                    )));
                }
                let Some(record) = self.service.store.certificate(&serial).await? else {
                    return invalid(format!("{serial}: no such certificate"));
                };
                let holder_field = data.form.get("holder_iin").cloned();
                let holders = [Some(applicant.clone()), holder_field];
                let holder_matches = holders.iter().flatten().any(|who| {
                    record.iin.as_deref() == Some(who.as_str())
                        || record.bin.as_deref() == Some(who.as_str())
                });
                if record.revoked_at.is_some() {
                    // Already in the CRL: what the application asks for holds.
                    let crl_number = match self.service.store.latest_crl(&record.issuer).await? {
                        Some(crl) => crl.number,
                        None => 0,
                    };
                    return Ok(Err(Reply::Revoked { serial, crl_number }));
                }
                if !holder_matches {
                    return Ok(Err(Reply::refused(
                        Refusal::Application,
                        format!("{serial}: not the applicant's certificate"),
                    )));
                }
                Ok(Ok(Planned::Revoke {
                    serial,
                    // 003 Std-1 Annexes 9–12 give the reason in words; RFC 5280's code is unspecified.
                    reason: RevocationReason::Unspecified,
                }))
            }
            Command::Issue {
                ca,
                profile,
                csr,
                holder_iin,
            } => {
                let profile = match profile.as_str() {
                    "signing" => "signature_public_key",
                    "authentication" => "authentication_public_key",
                    "tls" => "pkcs10_request",
                    other => {
                        return invalid(format!(
                            "profile {other:?}: signing, authentication or tls"
                        ));
                    }
                };
                if self.authorities.ca(ca).is_err() || ca == code::ROOT {
                    return invalid(format!("ca {ca:?}: nca or gov"));
                }
                self.issue_plan(ca, profile_of_field(profile), csr, (holder_iin, None), now)
                    .await
            }
            Command::Revoke { serial, reason } => {
                let Some(reason) = RevocationReason::ALL
                    .into_iter()
                    .find(|r| r.code() == *reason)
                else {
                    return invalid(format!("reason {reason}: an RFC 5280 reason code"));
                };
                Ok(Ok(Planned::Revoke {
                    serial: serial.trim().to_uppercase(),
                    reason,
                }))
            }
            Command::PublishCrl { ca } => match self.authorities.ca(ca) {
                Ok(_) => Ok(Ok(Planned::Publish { ca: ca.clone() })),
                Err(e) => invalid(e.to_string()),
            },
        }
    }

    async fn issue_plan(
        &self,
        ca: &str,
        profile: fn(Vec<String>) -> Profile,
        csr: &str,
        (holder_iin, organisation): (&str, Option<Organisation>),
        now: Timestamp,
    ) -> Result<Result<Planned, Reply>, CaError> {
        let invalid = |detail: String| Ok(Err(Reply::refused(Refusal::Invalid, detail)));
        let bytes = match B64.decode(csr.split_whitespace().collect::<String>()) {
            Ok(bytes) => bytes,
            Err(_) => csr.as_bytes().to_vec(),
        };
        let request = match CertificationRequest::parse(&bytes) {
            Ok(request) => request,
            Err(e) => return invalid(e.to_string()),
        };
        let Ok(iin) = Iin::parse(holder_iin) else {
            return invalid(format!("{holder_iin}: not an IIN"));
        };
        let mut conn = self
            .service
            .store
            .pool()
            .acquire()
            .await
            .map_err(qyzmet_store::StoreError::from)?;
        let Some(person) = person_of(&mut conn, iin).await? else {
            return invalid(format!("{holder_iin}: not in the individuals' register"));
        };
        let holder = Holder {
            surname: person.surname.clone(),
            name: person.given_name.clone(),
            patronymic: person.patronymic.clone(),
            iin,
            organisation,
            email: None,
        };
        Ok(Ok(Planned::Issue {
            ca: ca.to_owned(),
            issue: Issue {
                subject: holder.subject()?,
                public_key: request.public_key,
                profile: profile(request.dns_names),
                not_before: now,
            },
        }))
    }

    /// The application's applicant and data when it stands at a step calling `call`.
    async fn application_at(
        &self,
        id: &str,
        call: GatewayCall,
    ) -> Result<Result<(String, Application), Reply>, CaError> {
        let refuse = |detail: String| Ok(Err(Reply::refused(Refusal::Application, detail)));
        let Some(instance) = self.service.store.instance(id).await? else {
            return refuse(format!("{id}: no such application"));
        };
        if instance.closed_ms.is_some() {
            return refuse(format!("{id}: closed"));
        }
        let Some(text) = self
            .service
            .store
            .regulation_text(&instance.version)
            .await?
        else {
            return refuse(format!("{id}: its regulation version is unknown"));
        };
        let regulation = parse_regulation(&instance.regulation, &text).map_err(|_| {
            CaError::Invalid(format!("regulation {} does not parse", instance.version))
        })?;
        let at_call = workflow::channel(&regulation, &instance.channel)
            .and_then(|channel| workflow::step(channel, &instance.step))
            .is_ok_and(|step| step.call == Some(call));
        if !at_call {
            return refuse(format!("{id}: not at a step that calls {}", call.as_str()));
        }
        Ok(Ok((
            instance.applicant.clone(),
            Application::from_json(&instance.data),
        )))
    }

    async fn audit_refusal(
        &self,
        reply: &Reply,
        accepted: Option<(&Caller, &Envelope)>,
        request: &[u8],
    ) {
        let Reply::Refused { code, detail } = reply else {
            return;
        };
        let actor = accepted.map_or_else(|| "unauthenticated".to_owned(), |(c, _)| c.actor());
        let id = accepted.map_or_else(String::new, |(_, e)| e.id.clone());
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(request));
        let event = OwnedEvent::from(Event {
            actor: &actor,
            action: "pki.signer.refused",
            object_kind: "ca_request",
            object_id: &id,
            details: serde_json::json!({ "code": code, "detail": detail, "request_sha256": digest }),
        });
        if let Ok(tx) = self.service.store.begin_write().await {
            let _ = tx.commit(&[event.as_event()]).await;
        }
    }
}

enum Planned {
    Issue {
        ca: String,
        issue: Issue,
    },
    Revoke {
        serial: String,
        reason: RevocationReason,
    },
    Publish {
        ca: String,
    },
}

fn profile_of_field(field: &str) -> fn(Vec<String>) -> Profile {
    match field {
        "authentication_public_key" => |_| Profile::Authentication { role: None },
        "pkcs10_request" => |dns_names| Profile::Tls { dns_names },
        _ => |_| Profile::Signing { role: None },
    }
}

/// The employee of `bin` the certificate goes to: at a counter, the one whose identity document
/// the operator checked (the form's `iin`, the registry's, with the entity's name cut to X.520's 64
/// characters); on the portal, the one who signed the application, by
/// the certificates its signature carries (verified at submission and by the EDS check step).
fn entity_holder(application: &Application, bin: Bin) -> Option<(String, Option<Organisation>)> {
    if application.counter.consent.is_some() {
        let iin = application.form.get("iin")?;
        let name = application
            .form
            .get("organisation_name")
            .map(|name| name.chars().take(64).collect())
            .unwrap_or_else(|| bin.to_string());
        return Some((iin.clone(), Some(Organisation { name, bin })));
    }
    let signed = application.signed.as_ref()?;
    let cms = qyzmet_pki::cms::parse(&B64.decode(&signed.signature).ok()?).ok()?;
    cms.certificates.iter().find_map(|der| {
        let certificate = <Certificate as der::Decode>::from_der(der).ok()?;
        let identity = Identity::of(&certificate.tbs_certificate.subject);
        let organisation = identity.organisation.filter(|o| o.bin == bin)?;
        Some((identity.iin?.to_string(), Some(organisation)))
    })
}

/// The serial numbers an application names, upper-case hex.
pub fn serials_named(application: &Application) -> Vec<String> {
    SERIAL_FIELDS
        .iter()
        .filter_map(|field| application.form.get(*field))
        .flat_map(|text| {
            text.split(|c: char| !c.is_ascii_hexdigit())
                .filter(|s| !s.is_empty())
                .map(str::to_uppercase)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A caller of the signer: the socket and the key its requests are signed with.
#[derive(Clone)]
pub struct Client {
    socket: PathBuf,
    key: Arc<KeyStore>,
}

/// Why a call reached no answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the CA signer at {0}: {1}")]
    Io(String, std::io::Error),
    #[error("the CA signer did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the CA signer's answer: {0}")]
    Answer(String),
    #[error(transparent)]
    Pki(#[from] qyzmet_pki::PkiError),
}

impl Client {
    pub fn new(socket: impl Into<PathBuf>, key: Arc<KeyStore>) -> Client {
        Client {
            socket: socket.into(),
            key,
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Signs and sends a command under `id`.
    pub async fn send(&self, id: &str, command: Command) -> Result<Reply, CallError> {
        let now = Timestamp::now();
        let envelope = Envelope {
            id: id.to_owned(),
            at: now,
            command,
        };
        let content =
            serde_json::to_vec(&envelope).map_err(|e| CallError::Answer(e.to_string()))?;
        let cms = qyzmet_pki::cms::sign(&content, &self.key, false, now)?;
        forward(&self.socket, &cms).await
    }
}

/// Sends a request signed elsewhere (an operator's, signed in the browser) and reads the answer.
pub async fn forward(socket: &Path, request: &[u8]) -> Result<Reply, CallError> {
    let call = async {
        let io = |e| CallError::Io(socket.display().to_string(), e);
        let mut stream = UnixStream::connect(socket).await.map_err(io)?;
        write_frame(&mut stream, request).await.map_err(io)?;
        let answer = read_frame(&mut stream)
            .await
            .map_err(io)?
            .ok_or_else(|| CallError::Answer("the connection closed".into()))?;
        serde_json::from_slice(&answer).map_err(|e| CallError::Answer(e.to_string()))
    };
    tokio::time::timeout(CALL_TIMEOUT, call)
        .await
        .map_err(|_| CallError::Timeout(CALL_TIMEOUT))?
}

async fn read_frame(stream: &mut UnixStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut length = [0u8; 4];
    match stream.read_exact(&mut length).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let length = u32::from_be_bytes(length) as usize;
    if length > MAX_FRAME {
        return Err(std::io::Error::other(format!(
            "a frame of {length} bytes (at most {MAX_FRAME})"
        )));
    }
    let mut bytes = vec![0u8; length];
    stream.read_exact(&mut bytes).await?;
    Ok(Some(bytes))
}

async fn write_frame(stream: &mut UnixStream, bytes: &[u8]) -> std::io::Result<()> {
    if bytes.len() > MAX_FRAME {
        return Err(std::io::Error::other("the frame is too large"));
    }
    stream
        .write_all(&(bytes.len() as u32).to_be_bytes())
        .await?;
    stream.write_all(bytes).await?;
    stream.flush().await
}
