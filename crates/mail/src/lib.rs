//! E-mail notifications: every notification the workflow engine writes (statuses to the applicant,
//! 000 §10; extensions; deadline warnings and escalations to staff) is mailed over SMTP to the
//! addresses of the accounts its addressee resolves to, in each account's language.
//!
//! Deliveries are rows in the platform's database (`mail_delivery`, one per notification and
//! address), so that a notification is mailed once per address across restarts and nodes; a failed
//! attempt is tried again with a growing delay, an addressee without an account is recorded as
//! undeliverable and never tried. [`Mailer::work`] runs beside the engine's worker.

pub mod compose;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::response::{Category, Severity};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use qyzmet_engine::Catalogue;
use qyzmet_store::mail::Delivery;
use qyzmet_store::{Store, StoreError};
use sha2::{Digest, Sha256};

pub use compose::{Composed, Lang, Notice, compose};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the SMTP URL {url} is not usable: {reason}")]
    Url { url: String, reason: String },
    #[error(
        "the sender address {0:?} is not an e-mail address (\"name@host\" or \"Name <name@host>\")"
    )]
    From(String),
    #[error("the base URL {0:?} must start with http:// or https://")]
    BaseUrl(String),
    #[error("the mailer must be created inside a Tokio runtime (its connection pool runs there)")]
    NoRuntime,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T, E = MailError> = std::result::Result<T, E>;

/// How long a claimed delivery stays away from other workers while this one sends it.
const LEASE: Duration = Duration::from_secs(5 * 60);
/// The longest an SMTP conversation step may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// The first retry delay; it doubles with each failed attempt up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_secs(60);
const MAX_DELAY: Duration = Duration::from_secs(6 * 3600);
/// Attempts after which a delivery is given up (about two days of retries).
pub const MAX_ATTEMPTS: i32 = 14;

/// The delay before the attempt after `attempts` failed ones: 1 min, 2, 4 … up to 6 h.
pub fn retry_delay(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_DELAY.saturating_mul(1u32 << doublings).min(MAX_DELAY)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Sends the platform's notification e-mails through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The URL without its password, for logs.
    server: String,
    from: Mailbox,
    base_url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// What an attempt came to.
enum Attempt {
    Sent,
    /// The message itself cannot be sent (a bad address, a mailbox the server refuses for good).
    Rejected(String),
    /// Worth trying again; `unreachable` when the server could not be spoken to at all, so the rest
    /// of the batch would fail the same way.
    Failed {
        error: String,
        unreachable: bool,
    },
}

impl Mailer {
    /// `smtp_url`: `smtp://host:port` (plain, no authentication: a local relay),
    /// `smtp://user:pass@host:port?tls=required` (STARTTLS) or `smtps://user:pass@host:port` (TLS
    /// from the start; user and password percent-encoded). `from`: the sender (`Name <addr>` or
    /// `addr`). `base_url`: the portal's address, for the links to applications. Call it inside a
    /// Tokio runtime: the connection pool's housekeeping task is spawned there.
    pub fn new(smtp_url: &str, from: &str, base_url: &str) -> Result<Mailer> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(MailError::NoRuntime);
        }
        let server = describe_url(smtp_url);
        let bad = |reason: String| MailError::Url {
            url: server.clone(),
            reason,
        };
        if !(smtp_url.starts_with("smtp://") || smtp_url.starts_with("smtps://")) {
            return Err(bad("it must start with smtp:// or smtps://".into()));
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| bad(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|_| MailError::From(from.to_owned()))?;
        let base_url = base_url.trim().trim_end_matches('/');
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(MailError::BaseUrl(base_url.to_owned()));
        }
        Ok(Mailer {
            transport,
            server,
            from,
            base_url: base_url.to_owned(),
        })
    }

    /// Queues the deliveries of new notifications, then sends up to `limit` deliveries due at `now`
    /// and records each outcome. Returns how many messages the server accepted.
    pub async fn deliver_due(
        &self,
        store: &Store,
        catalogue: &Catalogue,
        now: Timestamp,
        limit: i64,
    ) -> Result<usize> {
        let now_ms = now.as_millisecond();
        store.queue_mail(now_ms, limit).await?;
        let claimed = store.claim_mail(now_ms, millis(LEASE), limit).await?;
        let mut sent = 0;
        let mut batch = claimed.iter();
        while let Some(delivery) = batch.next() {
            match self.attempt(store, catalogue, delivery).await {
                Attempt::Sent => {
                    store
                        .mail_sent(&delivery.notification, &delivery.address, &now.to_string())
                        .await?;
                    sent += 1;
                }
                Attempt::Rejected(error) => {
                    tracing::warn!(notification = %delivery.notification, %error, "mail rejected");
                    store
                        .mail_failed(&delivery.notification, &delivery.address, &error, None)
                        .await?;
                }
                Attempt::Failed { error, unreachable } => {
                    let attempts = delivery.attempts + 1;
                    let retry_at = now_ms.saturating_add(millis(retry_delay(attempts)));
                    tracing::warn!(
                        notification = %delivery.notification, server = %self.server, attempts, %error,
                        "mail not sent"
                    );
                    let retry = (attempts < MAX_ATTEMPTS).then_some(retry_at);
                    store
                        .mail_failed(&delivery.notification, &delivery.address, &error, retry)
                        .await?;
                    if unreachable {
                        // The rest of the batch goes back untried, to the same time.
                        for rest in batch.by_ref() {
                            store
                                .mail_postpone(&rest.notification, &rest.address, retry_at)
                                .await?;
                        }
                    }
                }
            }
        }
        Ok(sent)
    }

    async fn attempt(&self, store: &Store, catalogue: &Catalogue, delivery: &Delivery) -> Attempt {
        let message = match self.message(store, catalogue, delivery).await {
            Ok(message) => message,
            Err(error) => return Attempt::Rejected(error),
        };
        match self.transport.send(message).await {
            Ok(_) => Attempt::Sent,
            Err(e) => {
                // 55x: the mailbox or the message is refused for good. Other permanent answers
                // (authentication, syntax) are the deployment's configuration: worth retrying once
                // it is fixed.
                let refused = e.status().is_some_and(|code| {
                    code.severity == Severity::PermanentNegativeCompletion
                        && code.category == Category::MailSystem
                });
                if refused {
                    Attempt::Rejected(e.to_string())
                } else {
                    Attempt::Failed {
                        unreachable: e.status().is_none(),
                        error: e.to_string(),
                    }
                }
            }
        }
    }

    /// The message of a delivery, composed in the account's language.
    async fn message(
        &self,
        store: &Store,
        catalogue: &Catalogue,
        delivery: &Delivery,
    ) -> std::result::Result<Message, String> {
        let loaded = match catalogue.version(store, &delivery.version).await {
            Ok(loaded) => Some(loaded),
            Err(e) => {
                tracing::warn!(version = %delivery.version, error = %e, "regulation of a mail");
                catalogue.get(&delivery.regulation)
            }
        };
        let staff = delivery.addressee.starts_with("role:");
        let link = format!(
            "{}/{}/applications/{}",
            self.base_url,
            if staff { "office" } else { "cabinet" },
            delivery.instance
        );
        let notice = Notice {
            kind: &delivery.kind,
            body: &delivery.body,
            application: &delivery.instance,
            channel: &delivery.channel,
            regulation_code: &delivery.regulation,
            staff,
        };
        let composed = compose(
            &notice,
            loaded.as_ref().map(|l| &l.regulation),
            Lang::parse(&delivery.lang),
            &link,
        );
        let to: Mailbox = delivery
            .address
            .parse()
            .map_err(|e| format!("the address {:?} is not valid: {e}", delivery.address))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(composed.subject)
            .message_id(Some(self.message_id(delivery)))
            .header(ContentType::TEXT_PLAIN)
            .body(composed.body)
            .map_err(|e| e.to_string())
    }

    /// The same Message-ID on every attempt of a delivery, so that a mail client shows a message
    /// that was sent twice (a node died before recording it) once.
    fn message_id(&self, delivery: &Delivery) -> String {
        let mut hash = Sha256::new();
        hash.update(delivery.notification.as_bytes());
        hash.update([0]);
        hash.update(delivery.address.as_bytes());
        let digest = hex::encode(hash.finalize());
        format!("<{}@{}>", &digest[..32], self.from.email.domain())
    }

    /// Delivers due mail until `stop` turns true; waits a little when there is nothing to send.
    pub async fn work(
        self,
        store: Store,
        catalogue: Arc<Catalogue>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        const BATCH: i64 = 50;
        while !*stop.borrow() {
            let sent = match self
                .deliver_due(&store, &catalogue, Timestamp::now(), BATCH)
                .await
            {
                Ok(sent) => sent,
                Err(e) => {
                    tracing::warn!(error = %e, "mail worker");
                    0
                }
            };
            if sent == 0 {
                let _ = tokio::time::timeout(Duration::from_secs(1), stop.changed()).await;
            }
        }
    }
}

/// The URL without its password.
fn describe_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_runtime_is_an_error_not_a_panic() {
        assert!(matches!(
            Mailer::new("smtp://127.0.0.1:2525", "a@b.kz", "http://x"),
            Err(MailError::NoRuntime)
        ));
    }

    #[tokio::test]
    async fn urls_are_checked_and_passwords_hidden() {
        assert!(Mailer::new("smtp://127.0.0.1:2525", "noreply@qyzmet.kz", "http://x").is_ok());
        assert!(
            Mailer::new(
                "smtps://user:p%40ss@mail.example.kz:465",
                "Qyzmet <noreply@qyzmet.kz>",
                "https://egov.example.kz/"
            )
            .is_ok()
        );
        let err = Mailer::new("http://x", "noreply@qyzmet.kz", "http://x").unwrap_err();
        assert!(err.to_string().contains("smtp://"), "{err}");
        assert!(matches!(
            Mailer::new("smtp://h:25", "not an address", "http://x"),
            Err(MailError::From(_))
        ));
        assert!(matches!(
            Mailer::new("smtp://h:25", "a@b.kz", "x"),
            Err(MailError::BaseUrl(_))
        ));
        assert_eq!(
            describe_url("smtps://user:secret@mail.kz:465"),
            "smtps://user:***@mail.kz:465"
        );
        let mailer = Mailer::new("smtps://u:secret@h:465", "a@b.kz", "http://x").unwrap();
        assert!(!format!("{mailer:?}").contains("secret"));
    }

    #[test]
    fn retries_back_off_to_six_hours() {
        assert_eq!(retry_delay(1), Duration::from_secs(60));
        assert_eq!(retry_delay(2), Duration::from_secs(120));
        assert_eq!(retry_delay(4), Duration::from_secs(480));
        assert_eq!(retry_delay(30), MAX_DELAY);
    }
}
