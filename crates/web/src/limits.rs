//! What a client may make this node do: rate limits on anonymous writes (kiosk tickets,
//! time-stamps, look-ups of published documents) and the bounds on signature verification (how
//! many run at once, per client and in all, for how long, and stopped when nobody waits for them).
//!
//! The state is in this process's memory: a deployment of several nodes limits per node, so a
//! client spreading requests over `n` nodes gets `n` times the rate. That is a bound still (the
//! nodes are few and known), and it needs no shared table written on every anonymous request —
//! which is the write these limits exist to bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::AppState;
use crate::api::UserLang;
use crate::i18n::{Lang, t};

/// Token buckets by key (a client address, a branch, a document and an address): each key holds
/// at most `burst` tokens and gains one every `every`; a request takes one or waits. At most
/// `max_keys` buckets are kept: a full bucket is the same as none and goes first, then the one
/// used longest ago (a client that floods the map with fresh addresses only resets others'
/// buckets, never raises its own rate).
pub struct RateLimiter {
    burst: f64,
    every: Duration,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(burst: u32, every: Duration, max_keys: usize) -> RateLimiter {
        RateLimiter {
            burst: f64::from(burst.max(1)),
            every: every.max(Duration::from_millis(1)),
            max_keys: max_keys.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The tokens a bucket last left with `tokens` at `at` holds at `now`.
    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let gained = now.duration_since(bucket.at).as_secs_f64() / self.every.as_secs_f64();
        (bucket.tokens + gained).min(self.burst)
    }

    /// Takes a token of `key`; when there is none, how long until there is.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        if !buckets.contains_key(key) && buckets.len() >= self.max_keys {
            buckets.retain(|_, b| self.refilled(*b, now) < self.burst);
            if buckets.len() >= self.max_keys
                && let Some(oldest) = buckets
                    .iter()
                    .min_by_key(|(_, b)| b.at)
                    .map(|(k, _)| k.clone())
            {
                buckets.remove(&oldest);
            }
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let tokens = self.refilled(*bucket, now);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            Err(self.every.mul_f64(1.0 - tokens))
        }
    }
}

/// A poisoned lock only means another request panicked while holding it; the map is still a map.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The key of a client address for limits: an IPv6 client gets a whole /64 from its provider, so
/// the /64 is one client; an IPv4 address is one. Anything else (no peer: a test calling the
/// router) is kept as written.
pub fn address_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

/// `429 Too Many Requests` with `Retry-After` (whole seconds, at least 1) and the reason in the
/// person's language: a page, the API's JSON error, or plain text on the PKI's protocol endpoints.
pub fn too_many(lang: Lang, path: &str, retry_after: Duration) -> Response {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let message = t(lang, "error.rate_limited");
    let mut response = if path.starts_with("/api/") {
        (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(serde_json::json!({
                "error": { "field": "request", "rule": "rate_limited", "message": message }
            })),
        )
            .into_response()
    } else if path.starts_with("/pki/") {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "too many requests from this address; try again later",
        )
            .into_response()
    } else {
        (
            StatusCode::TOO_MANY_REQUESTS,
            crate::pages::message_page(lang, &message),
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// The limits of one node. Each is a budget per key over a window; see [`Limits::default`] for
/// the figures and why.
pub struct Limits {
    /// Tickets from one address (a branch's terminal is one address: a busy branch issues a
    /// ticket every few seconds, not several a second).
    pub tickets_per_address: RateLimiter,
    /// Tickets of one branch, whoever asks.
    pub tickets_per_branch: RateLimiter,
    /// Kiosk form tokens already spent: one ticket per form.
    pub spent_kiosk_forms: RateLimiter,
    /// Time-stamps per address (each takes a serial and an ECDSA or RSA signature).
    pub time_stamps_per_address: RateLimiter,
    /// Uploads to `/verify` per address (each verifies a CMS anyone made).
    pub uploads_per_address: RateLimiter,
    /// A look-up is recorded in the audit log once per document and address per hour: a reader
    /// who reloads the page is one reader, and a script cannot grow the log at its speed.
    pub look_ups_recorded: RateLimiter,
    pub verifications: Arc<VerificationGate>,
}

impl Default for Limits {
    fn default() -> Self {
        const KEYS: usize = 50_000;
        let minute = Duration::from_secs(60);
        Limits {
            tickets_per_address: RateLimiter::new(20, Duration::from_secs(6), KEYS),
            tickets_per_branch: RateLimiter::new(60, Duration::from_secs(2), KEYS),
            spent_kiosk_forms: RateLimiter::new(1, Duration::from_secs(12 * 3600), KEYS),
            time_stamps_per_address: RateLimiter::new(60, Duration::from_millis(500), KEYS),
            uploads_per_address: RateLimiter::new(30, minute / 30, KEYS),
            look_ups_recorded: RateLimiter::new(1, Duration::from_secs(3600), KEYS),
            // Two of a client's verifications run at once; up to 64 of its requests wait their
            // turn (an information system or a PSC behind one address submits on many
            // connections), each within its deadline. Every verification's work is bounded by
            // the pki budget, so a full queue is a bounded amount of CPU, not a starvation.
            verifications: Arc::new(VerificationGate::new(
                2,
                64,
                std::thread::available_parallelism()
                    .map(|n| n.get() * 2)
                    .unwrap_or(4),
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Verification

/// Bounds signature verifications, which cost CPU on a blocking thread: per client at most
/// `per_client` run at once and `per_client_queued` run or wait; on the node at most `global`
/// run at once (the rest wait their turn, first come first served, within their deadline).
pub struct VerificationGate {
    per_client: usize,
    per_client_queued: usize,
    global: Arc<Semaphore>,
    clients: Mutex<HashMap<String, ClientSlots>>,
}

struct ClientSlots {
    running: Arc<Semaphore>,
    queued: usize,
}

/// Why a verification did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The client has as many verifications running and waiting as it may.
    Busy,
    /// Its turn did not come before its deadline.
    Overloaded,
}

/// The right to run one verification; holds the client's and the node's slots until dropped
/// (by the blocking thread, when the work really ends).
pub struct Admitted {
    _global: OwnedSemaphorePermit,
    _client: OwnedSemaphorePermit,
    _queued: Queued,
}

/// A client's place among its running and waiting verifications.
struct Queued {
    gate: Arc<VerificationGate>,
    client: String,
}

impl Drop for Queued {
    fn drop(&mut self) {
        let mut clients = lock(&self.gate.clients);
        if let Some(slots) = clients.get_mut(&self.client) {
            slots.queued = slots.queued.saturating_sub(1);
            if slots.queued == 0 {
                clients.remove(&self.client);
            }
        }
    }
}

impl VerificationGate {
    pub fn new(per_client: usize, per_client_queued: usize, global: usize) -> VerificationGate {
        VerificationGate {
            per_client: per_client.max(1),
            per_client_queued: per_client_queued.max(per_client).max(1),
            global: Arc::new(Semaphore::new(global.max(1))),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a turn for `client` until `deadline`.
    pub async fn admit(
        self: &Arc<Self>,
        client: &str,
        deadline: Instant,
    ) -> Result<Admitted, Refused> {
        let running = {
            let mut clients = lock(&self.clients);
            let slots = clients.entry(client.to_owned()).or_insert(ClientSlots {
                running: Arc::new(Semaphore::new(self.per_client)),
                queued: 0,
            });
            if slots.queued >= self.per_client_queued {
                return Err(Refused::Busy);
            }
            slots.queued += 1;
            slots.running.clone()
        };
        let queued = Queued {
            gate: self.clone(),
            client: client.to_owned(),
        };
        let turn = async {
            let client = running.acquire_owned().await;
            let global = self.global.clone().acquire_owned().await;
            client.ok().zip(global.ok())
        };
        match tokio::time::timeout_at(deadline.into(), turn).await {
            Ok(Some((client, global))) => Ok(Admitted {
                _global: global,
                _client: client,
                _queued: queued,
            }),
            _ => Err(Refused::Overloaded),
        }
    }

    /// Verifications running or waiting now, of every client.
    pub fn queued(&self) -> usize {
        lock(&self.clients).values().map(|s| s.queued).sum()
    }
}

/// Sets a verification's cancel flag when dropped: held by the request's future, so dropping the
/// future (hyper does when the client closes the connection; the request timeout does) stops the
/// work it started at the verifier's next check of its budget.
pub struct CancelOnDrop(pub Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Who asks, for the verifications a request runs: the handlers call `verify_blocking` with the
/// CMS alone, and the request's client and deadline travel with the request's task instead of
/// through every handler's arguments.
#[derive(Clone)]
pub struct RequestContext {
    /// The node's limits; none outside a request.
    pub limits: Option<Arc<Limits>>,
    pub client: String,
    pub deadline: Instant,
    /// Set when a verification was refused for load: the response becomes a 429.
    refused: Arc<Mutex<Option<Refused>>>,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

impl RequestContext {
    /// The context of the request this task serves; a call outside one (a test calling a handler
    /// directly, a background job) is a client of its own with the default budget.
    pub fn current(budget: Duration) -> RequestContext {
        REQUEST
            .try_with(Clone::clone)
            .unwrap_or_else(|_| RequestContext {
                limits: None,
                client: String::new(),
                deadline: Instant::now() + budget,
                refused: Arc::default(),
            })
    }

    /// The client of the request this task serves (empty outside one).
    pub fn client() -> String {
        REQUEST.try_with(|c| c.client.clone()).unwrap_or_default()
    }

    pub fn refuse(&self, why: Refused) {
        *lock(&self.refused) = Some(why);
    }
}

/// The middleware that opens a request's context: its client (as throttling sees it) and its
/// deadline (the request timeout). A handler whose verification was refused for load answers
/// 429 with `Retry-After`, whatever it rendered.
pub async fn request_context(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let client = address_key(&crate::session::client_address(
        &state,
        request.headers(),
        peer,
    ));
    let path = request.uri().path().to_owned();
    let context = RequestContext {
        limits: Some(state.limits.clone()),
        client,
        deadline: Instant::now() + state.settings.verification_budget,
        refused: Arc::default(),
    };
    let refused = context.refused.clone();
    let response = REQUEST.scope(context, next.run(request)).await;
    if lock(&refused).is_some() {
        return too_many(lang, &path, Duration::from_secs(1));
    }
    response
}

/// The whole request within `request_timeout`, or `408` with the reason in the person's
/// language. Dropping the handler's future cancels the verification it waits for.
pub async fn request_timeout(
    State(state): State<AppState>,
    UserLang(lang): UserLang,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(state.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close")],
            crate::pages::message_page(lang, &t(lang, "error.timeout")),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_says_when_it_refills() {
        let limiter = RateLimiter::new(2, Duration::from_secs(10), 10);
        assert!(limiter.take("a").is_ok());
        assert!(limiter.take("a").is_ok());
        let wait = limiter.take("a").err().unwrap_or_default();
        assert!(
            wait > Duration::from_secs(9) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        // Another key has its own bucket.
        assert!(limiter.take("b").is_ok());
    }

    #[test]
    fn the_map_stays_bounded_and_keeps_busy_buckets_first() {
        let limiter = RateLimiter::new(1, Duration::from_secs(3600), 3);
        assert!(limiter.take("busy").is_ok());
        for i in 0..100 {
            let _ = limiter.take(&format!("fresh-{i}"));
            assert!(lock(&limiter.buckets).len() <= 3);
        }
        // Evicted only as the oldest; a single-use token can come back only under such a flood.
        let limiter = RateLimiter::new(1, Duration::from_secs(3600), 3);
        assert!(limiter.take("spent").is_ok());
        assert!(limiter.take("other").is_ok());
        assert!(limiter.take("spent").is_err());
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        assert_eq!(address_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");
        assert_eq!(address_key("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(address_key("10.0.0.1"), "10.0.0.1");
    }

    #[tokio::test]
    async fn a_client_runs_two_and_queues_four_and_the_node_bounds_all() {
        let gate = Arc::new(VerificationGate::new(2, 4, 3));
        let later = Instant::now() + Duration::from_secs(5);
        let soon = Instant::now() + Duration::from_millis(50);
        let first = gate.admit("a", later).await;
        let second = gate.admit("a", later).await;
        assert!(first.is_ok() && second.is_ok());
        // A third of the same client waits for one of its two slots.
        assert_eq!(gate.admit("a", soon).await.err(), Some(Refused::Overloaded));
        // Another client gets the node's third slot, and a fourth client waits.
        let other = gate.admit("b", later).await;
        assert!(other.is_ok());
        assert_eq!(gate.admit("c", soon).await.err(), Some(Refused::Overloaded));
        drop(other);
        assert!(gate.admit("c", later).await.is_ok());
        // Bounded queue per client: two running and two waiting, the fifth refused at once.
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move {
                    gate.admit("a", Instant::now() + Duration::from_millis(300))
                        .await
                        .is_ok()
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(gate.admit("a", later).await.err(), Some(Refused::Busy));
        drop((first, second));
        for w in waiting {
            assert!(w.await.unwrap_or(false));
        }
        assert_eq!(gate.queued(), 0, "nothing left behind");
    }
}
