//! The portal's and the back office's tables (migration 0004): accounts, sessions, sign-in throttling
//! and challenges, drafts, attachments, the questionnaire, and the lists people work from. Rows in
//! and out; who may see what is decided by the web layer before it calls here, and every change is
//! audited in its own transaction — but the sign-in bookkeeping that is not business state
//! (challenges, throttle counters, an identity code's tries), whose outcome is audited instead.

use sqlx::Row;

use crate::audit::{Event, OwnedEvent};
use crate::workflow::{
    InstanceRow, NotificationRow, instance_columns, instance_from_row, notification_from_row,
};
use crate::{Result, Store, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub iin: String,
    /// The legal entity this person acts for on the portal, if any.
    pub bin: Option<String>,
    pub email: String,
    pub password_hash: Option<String>,
    pub lang: String,
    pub created_at: String,
    /// How the account proved that it is the IIN's person; `None`: unproven, it sees no
    /// application of the IIN.
    pub proven_by: Option<Proof>,
}

/// How an account proved its IIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The person's authentication key signed a live challenge.
    Certificate,
    /// A one-time code a PSC operator handed over after checking the identity document.
    PscCode,
    /// Created by the deployment's operator for a known person (the demo's people).
    Operator,
}

impl Proof {
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Certificate => "certificate",
            Proof::PscCode => "psc_code",
            Proof::Operator => "operator",
        }
    }

    pub fn parse(text: &str) -> Option<Proof> {
        [Proof::Certificate, Proof::PscCode, Proof::Operator]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

/// What proving an IIN does to the account that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proving<'a> {
    /// The proof came from whoever may not hold the account's password (a certificate sign-in, a
    /// registration with a certificate or a PSC code): an unproven account is taken over — its
    /// password, e-mail and entity are replaced by these and every session of it ends.
    TakeOver {
        email: &'a str,
        password_hash: Option<&'a str>,
        bin: Option<&'a str>,
    },
    /// The person signed in to the account (with its password) proves it: they keep their
    /// credentials, and the account's other sessions end.
    Holder { session_sha256: &'a str },
}

/// A sign-in attempt taken against the throttle, before the password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead: the attempt is counted (released again on success).
    Taken,
    /// Refused without a check; the key may try again at this moment (epoch milliseconds).
    Wait { until_ms: i64 },
}

/// The throttle's rules: `free` attempts per window, then each further one only after a backoff
/// that doubles from `backoff_ms` up to `max_backoff_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub free: i64,
    pub backoff_ms: i64,
    pub max_backoff_ms: i64,
    pub window_ms: i64,
}

impl Backoff {
    /// The wait after the `attempts`-th attempt of a window.
    pub fn wait_after(&self, attempts: i64) -> i64 {
        if attempts < self.free {
            return 0;
        }
        let doublings = u32::try_from((attempts - self.free).min(40)).unwrap_or(40);
        self.backoff_ms
            .saturating_mul(1_i64.checked_shl(doublings).unwrap_or(i64::MAX))
            .min(self.max_backoff_ms)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub iin: String,
    pub realm: String,
    pub organisation: Option<String>,
    pub csrf: String,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: String,
    pub owner: String,
    pub regulation: String,
    pub channel: String,
    pub data: String,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: String,
    pub owner: String,
    pub draft: Option<String>,
    pub instance: Option<String>,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    /// Base64 of the file.
    pub content: String,
}

/// Why an account cannot be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRefusal {
    /// The IIN has an account, and this registration does not take it over: it proves nothing,
    /// or the account is proven already.
    Exists,
    /// The one-time code it carried is no longer there (used, burnt or replaced meanwhile).
    CodeGone,
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    /// An unproven account of the IIN was taken over by the proven registration.
    TookOver,
}

/// What proving an existing account did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proved {
    /// The holder proved their own account.
    Proven,
    /// An unproven account was taken over; its sessions ended.
    TookOver,
    /// It was proven already: nothing changed.
    AlreadyProven,
    NoAccount,
    /// The one-time code is no longer there (used, burnt or replaced meanwhile).
    CodeGone,
}

fn event<'a>(actor: &'a str, action: &'a str, kind: &'a str, id: &'a str) -> Event<'a> {
    Event {
        actor,
        action,
        object_kind: kind,
        object_id: id,
        details: serde_json::Value::Null,
    }
}

const ACCOUNT_COLUMNS: &str = "iin, bin, email, password_hash, lang, created_at, proven_by";

/// Rows of sign-in bookkeeping swept per write: enough to keep pace with what one write adds, so
/// no request pays for a backlog.
const SWEEP_ROWS: i64 = 64;

fn account_from_row(r: &sqlx::any::AnyRow) -> Result<Account> {
    let proven_by: Option<String> = r.try_get(6)?;
    Ok(Account {
        iin: r.try_get(0)?,
        bin: r.try_get(1)?,
        email: r.try_get(2)?,
        password_hash: r.try_get(3)?,
        lang: r.try_get(4)?,
        created_at: r.try_get(5)?,
        proven_by: proven_by.as_deref().and_then(Proof::parse),
    })
}

/// Uses up the IIN's one-time identity code whose hash is `code_hash`: false when it is gone.
async fn consume_code(tx: &mut Tx, iin: &str, code_hash: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM identity_code WHERE iin = $1 AND code_hash = $2")
        .bind(iin)
        .bind(code_hash)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every session of `iin` except `keep` (a token hash); how many ended.
async fn close_sessions(tx: &mut Tx, iin: &str, keep: &str) -> Result<u64> {
    let done = sqlx::query("DELETE FROM web_session WHERE iin = $1 AND token_sha256 <> $2")
        .bind(iin)
        .bind(keep)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// Takes an unproven account over for whoever proved its IIN: new credentials, every session
/// ended; returns the audit event, with the proof, for the caller's commit.
async fn take_over(
    tx: &mut Tx,
    iin: &str,
    proof: Proof,
    email: &str,
    password_hash: Option<&str>,
    bin: Option<&str>,
) -> Result<OwnedEvent> {
    sqlx::query(
        "UPDATE account SET email = $1, password_hash = $2, bin = $3, proven_by = $4, \
         proven_at = $5 WHERE iin = $6",
    )
    .bind(email)
    .bind(password_hash)
    .bind(bin)
    .bind(proof.as_str())
    .bind(crate::now_text())
    .bind(iin)
    .execute(&mut **tx)
    .await?;
    let closed = close_sessions(tx, iin, "").await?;
    let actor = format!("person:{iin}");
    Ok(OwnedEvent::from(Event {
        details: serde_json::json!({
            "proof": proof.as_str(), "sessions_closed": closed, "bin": bin,
            "credentials": "replaced",
        }),
        ..event(&actor, "account.take_over", "account", iin)
    }))
}

impl Store {
    /// Creates an account. When the IIN has one, a proven registration takes an unproven account
    /// over (its credentials replaced, its sessions ended); anything else is refused as existing.
    /// `code_hash` is the one-time identity code the registration proved the IIN with, used up in
    /// the same transaction.
    pub async fn create_account(
        &self,
        account: &Account,
        code_hash: Option<&str>,
    ) -> Result<std::result::Result<Created, AccountRefusal>> {
        let mut tx = self.begin_write().await?;
        if let Some(code_hash) = code_hash
            && !consume_code(&mut tx, &account.iin, code_hash).await?
        {
            return Ok(Err(AccountRefusal::CodeGone));
        }
        let existing: Option<Option<String>> =
            sqlx::query("SELECT proven_by FROM account WHERE iin = $1")
                .bind(&account.iin)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        match (existing, account.proven_by) {
            (None, _) => {}
            (Some(None), Some(proof)) => {
                let audit = take_over(
                    &mut tx,
                    &account.iin,
                    proof,
                    &account.email,
                    account.password_hash.as_deref(),
                    account.bin.as_deref(),
                )
                .await?;
                tx.commit(&[audit.as_event()]).await?;
                return Ok(Ok(Created::TookOver));
            }
            (Some(_), _) => return Ok(Err(AccountRefusal::Exists)),
        }
        sqlx::query(
            "INSERT INTO account (iin, bin, email, password_hash, lang, created_at, proven_by, proven_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&account.iin)
        .bind(&account.bin)
        .bind(&account.email)
        .bind(&account.password_hash)
        .bind(&account.lang)
        .bind(&account.created_at)
        .bind(account.proven_by.map(Proof::as_str))
        .bind(account.proven_by.map(|_| crate::now_text()))
        .execute(&mut *tx)
        .await?;
        let actor = format!("person:{}", account.iin);
        tx.commit(&[Event {
            details: serde_json::json!({
                "bin": account.bin, "email": account.email,
                "proven_by": account.proven_by.map(Proof::as_str),
            }),
            ..event(&actor, "account.create", "account", &account.iin)
        }])
        .await?;
        Ok(Ok(Created::New))
    }

    pub async fn account(&self, iin: &str) -> Result<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE iin = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(iin)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    /// Records that the IIN's account is the person's, proven by `proof` (`code_hash`: the
    /// one-time identity code used, in the same transaction). See [`Proving`] for what happens to
    /// an unproven account; a proven one is left as it is.
    pub async fn prove_account(
        &self,
        iin: &str,
        proof: Proof,
        proving: Proving<'_>,
        code_hash: Option<&str>,
    ) -> Result<Proved> {
        let mut tx = self.begin_write().await?;
        let existing: Option<Option<String>> =
            sqlx::query("SELECT proven_by FROM account WHERE iin = $1")
                .bind(iin)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        match existing {
            None => return Ok(Proved::NoAccount),
            Some(Some(_)) => return Ok(Proved::AlreadyProven),
            Some(None) => {}
        }
        if let Some(code_hash) = code_hash
            && !consume_code(&mut tx, iin, code_hash).await?
        {
            return Ok(Proved::CodeGone);
        }
        let (outcome, audit) = match proving {
            Proving::TakeOver {
                email,
                password_hash,
                bin,
            } => (
                Proved::TookOver,
                take_over(&mut tx, iin, proof, email, password_hash, bin).await?,
            ),
            Proving::Holder { session_sha256 } => {
                sqlx::query("UPDATE account SET proven_by = $1, proven_at = $2 WHERE iin = $3")
                    .bind(proof.as_str())
                    .bind(crate::now_text())
                    .bind(iin)
                    .execute(&mut *tx)
                    .await?;
                let closed = close_sessions(&mut tx, iin, session_sha256).await?;
                let actor = format!("person:{iin}");
                let proved = Event {
                    details: serde_json::json!({
                        "proof": proof.as_str(), "sessions_closed": closed,
                    }),
                    ..event(&actor, "account.prove", "account", iin)
                };
                (Proved::Proven, OwnedEvent::from(proved))
            }
        };
        tx.commit(&[audit.as_event()]).await?;
        Ok(outcome)
    }

    /// Changes the legal entity an account acts for (`None`: the person only), audited with why.
    pub async fn set_account_entity(&self, iin: &str, bin: Option<&str>, why: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE account SET bin = $1 WHERE iin = $2")
            .bind(bin)
            .bind(iin)
            .execute(&mut *tx)
            .await?;
        let actor = format!("person:{iin}");
        tx.commit(&[Event {
            details: serde_json::json!({ "bin": bin, "why": why }),
            ..event(&actor, "account.entity", "account", iin)
        }])
        .await?;
        Ok(())
    }

    /// The proven account's new e-mail and password (a `None` hash keeps the old one), audited. A
    /// new password ends every other session of the account (whoever knew the old one is signed
    /// out), keeping `current_session`.
    pub async fn set_credentials(
        &self,
        iin: &str,
        email: &str,
        password_hash: Option<&str>,
        current_session: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE account SET email = $1, password_hash = COALESCE($2, password_hash) \
             WHERE iin = $3",
        )
        .bind(email)
        .bind(password_hash)
        .bind(iin)
        .execute(&mut *tx)
        .await?;
        if password_hash.is_some() {
            sqlx::query("DELETE FROM web_session WHERE iin = $1 AND token_sha256 <> $2")
                .bind(iin)
                .bind(current_session)
                .execute(&mut *tx)
                .await?;
        }
        let actor = format!("person:{iin}");
        tx.commit(&[Event {
            details: serde_json::json!({
                "email": email, "password_changed": password_hash.is_some(),
            }),
            ..event(&actor, "account.credentials", "account", iin)
        }])
        .await?;
        Ok(())
    }

    /// Opens a session (the token's hash is the key) and records the sign-in.
    pub async fn open_session(
        &self,
        token_sha256: &str,
        session: &SessionRow,
        now_ms: i64,
        how: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO web_session (token_sha256, iin, realm, organisation, csrf, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token_sha256)
        .bind(&session.iin)
        .bind(&session.realm)
        .bind(&session.organisation)
        .bind(&session.csrf)
        .bind(now_ms)
        .bind(session.expires_ms)
        .execute(&mut *tx)
        .await?;
        // Expired sessions go as new ones come, so the table holds only live ones.
        sqlx::query("DELETE FROM web_session WHERE expires_ms < $1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        let actor = format!("person:{}", session.iin);
        tx.commit(&[Event {
            details: serde_json::json!({
                "realm": session.realm, "organisation": session.organisation, "how": how,
            }),
            ..event(&actor, "session.open", "account", &session.iin)
        }])
        .await?;
        Ok(())
    }

    /// The live session of a token hash.
    pub async fn session(&self, token_sha256: &str, now_ms: i64) -> Result<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT iin, realm, organisation, csrf, expires_ms FROM web_session \
             WHERE token_sha256 = $1 AND expires_ms > $2",
        )
        .bind(token_sha256)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// The live session of a token hash and whether its account is proven, in one query (every
    /// portal page asks this first). A portal session's `organisation` is the BIN of the legal
    /// entity it acts for, set only when the sign-in re-checked the person's authority.
    pub async fn session_with_proof(
        &self,
        token_sha256: &str,
        now_ms: i64,
    ) -> Result<Option<(SessionRow, bool)>> {
        let row = sqlx::query(
            "SELECT s.iin, s.realm, s.organisation, s.csrf, s.expires_ms, a.proven_by \
             FROM web_session s JOIN account a ON a.iin = s.iin \
             WHERE s.token_sha256 = $1 AND s.expires_ms > $2",
        )
        .bind(token_sha256)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(|r| {
                let proven: Option<String> = r.try_get(5)?;
                Ok((session_from_row(r)?, proven.is_some()))
            })
            .transpose()
    }

    pub async fn close_session(&self, token_sha256: &str, iin: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM web_session WHERE token_sha256 = $1")
            .bind(token_sha256)
            .execute(&mut *tx)
            .await?;
        let actor = format!("person:{iin}");
        tx.commit(&[event(&actor, "session.close", "account", iin)])
            .await?;
        Ok(())
    }

    /// Takes one attempt against every key, atomically and before anything is checked: each key
    /// counts its attempts in its window and, past its free ones, sets the moment the next may come.
    /// When any key must still wait, nothing is counted and the latest such moment is returned. So
    /// however many requests arrive at once, at most the free attempts (then one per backoff) get
    /// through to the check.
    pub async fn take_attempt(&self, keys: &[(&str, Backoff)], now_ms: i64) -> Result<Attempt> {
        let mut tx = self.begin_write().await?;
        let mut wait_until = None::<i64>;
        for (key, rule) in keys {
            let taken = sqlx::query(
                "INSERT INTO login_throttle (key, failures, window_start_ms, next_allowed_ms) \
                 VALUES ($1, 1, $2, 0) \
                 ON CONFLICT (key) DO UPDATE SET \
                 failures = CASE WHEN login_throttle.window_start_ms < $3 THEN 1 ELSE login_throttle.failures + 1 END, \
                 window_start_ms = CASE WHEN login_throttle.window_start_ms < $3 THEN $2 ELSE login_throttle.window_start_ms END \
                 WHERE login_throttle.next_allowed_ms <= $2 \
                 RETURNING failures",
            )
            .bind(*key)
            .bind(now_ms)
            .bind(now_ms - rule.window_ms)
            .fetch_optional(&mut *tx)
            .await?;
            match taken {
                Some(row) => {
                    let attempts = i64::from(row.try_get::<i32, _>(0)?);
                    let wait = rule.wait_after(attempts);
                    if wait > 0 {
                        sqlx::query(
                            "UPDATE login_throttle SET next_allowed_ms = $1 WHERE key = $2",
                        )
                        .bind(now_ms + wait)
                        .bind(*key)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                None => {
                    let until: i64 =
                        sqlx::query("SELECT next_allowed_ms FROM login_throttle WHERE key = $1")
                            .bind(*key)
                            .fetch_one(&mut *tx)
                            .await?
                            .try_get(0)?;
                    wait_until = Some(wait_until.unwrap_or(until).max(until));
                }
            }
        }
        if let Some(until_ms) = wait_until {
            // Dropping the transaction rolls back the counts taken for the other keys.
            return Ok(Attempt::Wait { until_ms });
        }
        // Keys whose window ended long ago go, a few per attempt.
        let longest = keys.iter().map(|(_, r)| r.window_ms).max().unwrap_or(0);
        sqlx::query(
            "DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle \
             WHERE window_start_ms < $1 AND next_allowed_ms < $2 LIMIT $3)",
        )
        .bind(now_ms - 2 * longest)
        .bind(now_ms)
        .bind(SWEEP_ROWS)
        .execute(&mut *tx)
        .await?;
        tx.commit_unaudited().await?;
        Ok(Attempt::Taken)
    }

    /// A successful sign-in gives its attempt back: the pair's count and backoff go, and each
    /// shared key's count (the address's, the IIN's) drops by the one taken.
    pub async fn release_attempt(&self, pair_key: &str, shared_keys: &[&str]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(pair_key)
            .execute(&mut *tx)
            .await?;
        for key in shared_keys {
            sqlx::query(
                "UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0",
            )
            .bind(*key)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit_unaudited().await?;
        Ok(())
    }

    /// Audits a refused sign-in of `subject` (the IIN tried).
    pub async fn record_login_failure(&self, subject: &str, how: &str) -> Result<()> {
        let tx = self.begin_write().await?;
        tx.commit(&[Event {
            details: serde_json::json!({ "how": how }),
            ..event("anonymous", "session.refused", "login", subject)
        }])
        .await?;
        Ok(())
    }

    /// Stores a one-time sign-in challenge, unless `address_key` has taken `max` in the window
    /// (then false and nothing is written). Expired challenges go, a bounded few per insert.
    pub async fn insert_challenge(
        &self,
        nonce: &str,
        now_ms: i64,
        expires_ms: i64,
        address_key: &str,
        max: i64,
        window_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let taken: i32 = sqlx::query(
            "INSERT INTO login_throttle (key, failures, window_start_ms, next_allowed_ms) \
             VALUES ($1, 1, $2, 0) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_throttle.window_start_ms < $3 THEN 1 ELSE login_throttle.failures + 1 END, \
             window_start_ms = CASE WHEN login_throttle.window_start_ms < $3 THEN $2 ELSE login_throttle.window_start_ms END \
             RETURNING failures",
        )
        .bind(address_key)
        .bind(now_ms)
        .bind(now_ms - window_ms)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if i64::from(taken) > max {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM login_challenge WHERE nonce IN (SELECT nonce FROM login_challenge \
             WHERE expires_ms <= $1 LIMIT $2)",
        )
        .bind(now_ms)
        .bind(SWEEP_ROWS)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO login_challenge (nonce, expires_ms) VALUES ($1, $2)")
            .bind(nonce)
            .bind(expires_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit_unaudited().await?;
        Ok(true)
    }

    /// Consumes a challenge: true once, if it was issued and has not expired.
    pub async fn take_challenge(&self, nonce: &str, now_ms: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM login_challenge WHERE nonce = $1 AND expires_ms > $2")
            .bind(nonce)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        tx.commit_unaudited().await?;
        Ok(true)
    }

    /// The live challenges (for tests and the operator's look at the table).
    pub async fn challenge_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM login_challenge")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    /// A PSC operator hands `iin` a one-time identity code (its argon2id hash is kept): it replaces
    /// any earlier code of the person, and the issuance is audited with the operator and branch.
    pub async fn issue_identity_code(
        &self,
        iin: &str,
        code_hash: &str,
        operator: &str,
        office: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM identity_code WHERE iin = $1 OR iin IN (SELECT iin FROM identity_code \
             WHERE expires_ms <= $2 LIMIT $3)",
        )
        .bind(iin)
        .bind(now_ms)
        .bind(SWEEP_ROWS)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO identity_code (iin, code_hash, issued_by, office, issued_ms, expires_ms, tries) \
             VALUES ($1, $2, $3, $4, $5, $6, 0)",
        )
        .bind(iin)
        .bind(code_hash)
        .bind(operator)
        .bind(office)
        .bind(now_ms)
        .bind(expires_ms)
        .execute(&mut *tx)
        .await?;
        let actor = format!("staff:{office}:{operator}");
        tx.commit(&[Event {
            details: serde_json::json!({
                "office": office, "operator": operator, "expires_ms": expires_ms,
                "identity_document": "checked",
            }),
            ..event(&actor, "identity_code.issue", "person", iin)
        }])
        .await?;
        Ok(())
    }

    /// Takes one try of the IIN's live identity code, before it is checked, and gives the hash to
    /// check against; `None` when there is no live code or its `max_tries` are spent (burnt).
    pub async fn take_code_try(
        &self,
        iin: &str,
        now_ms: i64,
        max_tries: i64,
    ) -> Result<Option<String>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE identity_code SET tries = tries + 1 \
             WHERE iin = $1 AND tries < $2 AND expires_ms > $3 RETURNING code_hash",
        )
        .bind(iin)
        .bind(max_tries)
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit_unaudited().await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Saves a draft (new or replacing the owner's own).
    pub async fn save_draft(&self, draft: &Draft) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let owner: Option<String> = sqlx::query("SELECT owner FROM draft WHERE id = $1")
            .bind(&draft.id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match owner {
            Some(owner) if owner != draft.owner => {
                return Err(StoreError::Invalid(format!(
                    "draft {} is not {}'s",
                    draft.id, draft.owner
                )));
            }
            Some(_) => {
                sqlx::query("UPDATE draft SET data = $1, updated_ms = $2 WHERE id = $3")
                    .bind(&draft.data)
                    .bind(draft.updated_ms)
                    .bind(&draft.id)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO draft (id, owner, regulation, channel, data, updated_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&draft.id)
                .bind(&draft.owner)
                .bind(&draft.regulation)
                .bind(&draft.channel)
                .bind(&draft.data)
                .bind(draft.updated_ms)
                .execute(&mut *tx)
                .await?;
            }
        }
        let actor = format!("applicant:{}", draft.owner);
        tx.commit(&[event(&actor, "draft.save", "draft", &draft.id)])
            .await?;
        Ok(())
    }

    /// The owner's draft of that id.
    pub async fn draft(&self, id: &str, owner: &str) -> Result<Option<Draft>> {
        let row = sqlx::query(
            "SELECT id, owner, regulation, channel, data, updated_ms FROM draft \
             WHERE id = $1 AND owner = $2",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| draft_from_row(&r)).transpose()
    }

    pub async fn drafts(&self, owner: &str) -> Result<Vec<Draft>> {
        let rows = sqlx::query(
            "SELECT id, owner, regulation, channel, data, updated_ms FROM draft \
             WHERE owner = $1 ORDER BY updated_ms DESC",
        )
        .bind(owner)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(draft_from_row).collect()
    }

    /// Stores an attachment of the owner's draft.
    pub async fn insert_attachment(&self, attachment: &Attachment, now_ms: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO attachment (id, owner, draft, instance, name, media_type, size, sha256, content, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&attachment.id)
        .bind(&attachment.owner)
        .bind(&attachment.draft)
        .bind(&attachment.instance)
        .bind(&attachment.name)
        .bind(&attachment.media_type)
        .bind(attachment.size)
        .bind(&attachment.sha256)
        .bind(&attachment.content)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let actor = format!("applicant:{}", attachment.owner);
        tx.commit(&[Event {
            details: serde_json::json!({
                "name": attachment.name, "size": attachment.size, "sha256": attachment.sha256,
            }),
            ..event(&actor, "attachment.add", "attachment", &attachment.id)
        }])
        .await?;
        Ok(())
    }

    /// Attachments of a draft (without their content).
    pub async fn draft_attachments(&self, draft: &str, owner: &str) -> Result<Vec<Attachment>> {
        self.attachments_where("draft = $1 AND owner = $2", &[draft, owner])
            .await
    }

    /// Attachments of a submitted application (without their content).
    pub async fn instance_attachments(&self, instance: &str) -> Result<Vec<Attachment>> {
        self.attachments_where("instance = $1", &[instance]).await
    }

    async fn attachments_where(&self, condition: &str, binds: &[&str]) -> Result<Vec<Attachment>> {
        let sql = format!(
            "SELECT id, owner, draft, instance, name, media_type, size, sha256, '' FROM attachment \
             WHERE {condition} ORDER BY created_ms, id"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = query.bind(*bind);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(attachment_from_row).collect()
    }

    /// One attachment with its content.
    pub async fn attachment(&self, id: &str) -> Result<Option<Attachment>> {
        let row = sqlx::query(
            "SELECT id, owner, draft, instance, name, media_type, size, sha256, content \
             FROM attachment WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(attachment_from_row).transpose()
    }

    /// An applicant's newest applications (at most `limit`), without those the author deleted.
    pub async fn applications_of(&self, applicant: &str, limit: i64) -> Result<Vec<InstanceRow>> {
        let sql = format!(
            "SELECT {} FROM workflow_instance WHERE applicant = $1 AND hidden_by_author = 0 \
             ORDER BY started_ms DESC, id DESC LIMIT $2",
            instance_columns("")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(applicant)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(instance_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The applicant's own application of that id, unless the author deleted it.
    pub async fn application_of(&self, id: &str, applicant: &str) -> Result<Option<InstanceRow>> {
        let sql = format!(
            "SELECT {} FROM workflow_instance WHERE id = $1 AND applicant = $2 AND hidden_by_author = 0",
            instance_columns("")
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(applicant)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(instance_from_row).transpose()?)
    }

    /// The space an applicant's kept appeals take (000 §18.2): their data and attachments.
    pub async fn quota_used(&self, applicant: &str, regulation: &str) -> Result<i64> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(LENGTH(i.data)), 0) AS BIGINT), \
             CAST(COALESCE((SELECT SUM(a.size) FROM attachment a JOIN workflow_instance j ON a.instance = j.id \
               WHERE j.applicant = $1 AND j.regulation = $2 AND j.hidden_by_author = 0), 0) AS BIGINT) \
             FROM workflow_instance i WHERE i.applicant = $1 AND i.regulation = $2 AND i.hidden_by_author = 0",
        )
        .bind(applicant)
        .bind(regulation)
        .fetch_one(self.pool())
        .await?;
        let data: i64 = row.try_get(0)?;
        let files: i64 = row.try_get(1)?;
        Ok(data + files)
    }

    /// The author deletes a finished application from their cabinet (000 §18.2: only the author).
    /// False when it is not theirs or still open.
    pub async fn hide_application(&self, id: &str, applicant: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE workflow_instance SET hidden_by_author = 1 \
             WHERE id = $1 AND applicant = $2 AND closed_ms IS NOT NULL AND hidden_by_author = 0",
        )
        .bind(id)
        .bind(applicant)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let actor = format!("applicant:{applicant}");
        tx.commit(&[event(&actor, "application.delete", "instance", id)])
            .await?;
        Ok(true)
    }

    /// A provider's open applications, soonest step deadline first.
    pub async fn worklist(&self, provider: &str, limit: i64) -> Result<Vec<InstanceRow>> {
        let sql = format!(
            "SELECT {} FROM workflow_instance WHERE provider = $1 AND closed_ms IS NULL \
             ORDER BY step_due_ms, started_ms LIMIT $2",
            instance_columns("")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(provider)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(instance_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The applications a PSC branch's counter took from `from_ms` (inclusive) to `to_ms`
    /// (exclusive), latest first: its journal of incoming applications (002 Annex 3) and the
    /// requests it follows (004 processes 11 and 14).
    pub async fn counter_applications(
        &self,
        office: &str,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<InstanceRow>> {
        let sql = format!(
            "SELECT {} FROM workflow_instance WHERE office = $1 AND started_ms >= $2 \
             AND started_ms < $3 ORDER BY started_ms DESC LIMIT $4",
            instance_columns("")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(office)
            .bind(from_ms)
            .bind(to_ms)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(instance_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// A provider's finished applications, latest first.
    pub async fn archive(&self, provider: &str, limit: i64) -> Result<Vec<InstanceRow>> {
        let sql = format!(
            "SELECT {} FROM workflow_instance WHERE provider = $1 AND closed_ms IS NOT NULL \
             ORDER BY closed_ms DESC LIMIT $2",
            instance_columns("")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(provider)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(instance_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Notifications to an addressee (an IIN, a BIN or a `role:` address), newest first.
    pub async fn notifications_to(
        &self,
        addressee: &str,
        limit: i64,
    ) -> Result<Vec<NotificationRow>> {
        let rows = sqlx::query(
            "SELECT id, instance, addressee, kind, body, at FROM notification \
             WHERE addressee = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(addressee)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(notification_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Records the applicant's questionnaire answers (001 Annex 3), once per application.
    pub async fn answer_questionnaire(
        &self,
        instance: &str,
        applicant: &str,
        quality: i32,
        information: i32,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO questionnaire (instance, quality, information, at) \
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM questionnaire WHERE instance = $1)",
        )
        .bind(instance)
        .bind(quality)
        .bind(information)
        .bind(crate::now_text())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let actor = format!("applicant:{applicant}");
        tx.commit(&[Event {
            details: serde_json::json!({ "quality": quality, "information": information }),
            ..event(&actor, "questionnaire.answer", "instance", instance)
        }])
        .await?;
        Ok(true)
    }

    /// The questionnaire answers of an application, if given.
    pub async fn questionnaire(&self, instance: &str) -> Result<Option<(i32, i32)>> {
        let row = sqlx::query("SELECT quality, information FROM questionnaire WHERE instance = $1")
            .bind(instance)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }
}

/// In the submission's transaction: the draft's attachments go to the application and the draft
/// is deleted. False when the draft is not there (already submitted, or not the owner's), and then
/// the caller rolls back: one draft, one application.
pub async fn settle_draft(tx: &mut Tx, draft: &str, owner: &str, instance: &str) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM draft WHERE id = $1 AND owner = $2")
        .bind(draft)
        .bind(owner)
        .execute(&mut **tx)
        .await?;
    if deleted.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE attachment SET instance = $1, draft = NULL WHERE draft = $2 AND owner = $3",
    )
    .bind(instance)
    .bind(draft)
    .bind(owner)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// In an application's opening transaction: files taken with it (a counter's scans of the
/// applicant's documents) become its attachments, owned by the applicant.
pub async fn insert_attachments(
    tx: &mut Tx,
    instance: &str,
    attachments: &[Attachment],
    now_ms: i64,
) -> Result<()> {
    for attachment in attachments {
        sqlx::query(
            "INSERT INTO attachment (id, owner, draft, instance, name, media_type, size, sha256, content, created_ms) \
             VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&attachment.id)
        .bind(&attachment.owner)
        .bind(instance)
        .bind(&attachment.name)
        .bind(&attachment.media_type)
        .bind(attachment.size)
        .bind(&attachment.sha256)
        .bind(&attachment.content)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A session from `SELECT iin, realm, organisation, csrf, expires_ms, …`.
fn session_from_row(r: &sqlx::any::AnyRow) -> Result<SessionRow> {
    Ok(SessionRow {
        iin: r.try_get(0)?,
        realm: r.try_get(1)?,
        organisation: r.try_get(2)?,
        csrf: r.try_get(3)?,
        expires_ms: r.try_get(4)?,
    })
}

fn draft_from_row(r: &sqlx::any::AnyRow) -> Result<Draft> {
    Ok(Draft {
        id: r.try_get(0)?,
        owner: r.try_get(1)?,
        regulation: r.try_get(2)?,
        channel: r.try_get(3)?,
        data: r.try_get(4)?,
        updated_ms: r.try_get(5)?,
    })
}

fn attachment_from_row(r: &sqlx::any::AnyRow) -> Result<Attachment> {
    Ok(Attachment {
        id: r.try_get(0)?,
        owner: r.try_get(1)?,
        draft: r.try_get(2)?,
        instance: r.try_get(3)?,
        name: r.try_get(4)?,
        media_type: r.try_get(5)?,
        size: r.try_get(6)?,
        sha256: r.try_get(7)?,
        content: r.try_get(8)?,
    })
}

/// A signed document published for verification by anyone who has its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicDocument {
    pub id: String,
    pub instance: String,
    pub field: String,
    pub created_at: String,
}

impl Store {
    /// Publishes the CMS under `field` of an application with the new id `id`, once: a second call
    /// gives the id already published.
    pub async fn publish_document(
        &self,
        id: &str,
        instance: &str,
        field: &str,
        actor: &str,
    ) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let existing =
            sqlx::query("SELECT id FROM public_document WHERE instance = $1 AND field = $2")
                .bind(instance)
                .bind(field)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = existing {
            return Ok(row.try_get(0)?);
        }
        sqlx::query(
            "INSERT INTO public_document (id, instance, field, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(instance)
        .bind(field)
        .bind(crate::now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit(&[Event {
            details: serde_json::json!({ "instance": instance, "field": field }),
            ..event(actor, "document.publish", "public_document", id)
        }])
        .await?;
        Ok(id.to_owned())
    }

    /// The published document of that id, if any; the look-up is recorded when `record` (who
    /// verified what is part of the record, OpenCRVS's lesson in REFERENCE.md; the caller
    /// records a reader once an hour, not each reload).
    pub async fn verify_public_document(
        &self,
        id: &str,
        record: bool,
    ) -> Result<Option<PublicDocument>> {
        let row = sqlx::query(
            "SELECT id, instance, field, created_at FROM public_document WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let found = PublicDocument {
            id: row.try_get(0)?,
            instance: row.try_get(1)?,
            field: row.try_get(2)?,
            created_at: row.try_get(3)?,
        };
        if !record {
            return Ok(Some(found));
        }
        let tx = self.begin_write().await?;
        tx.commit(&[event("anonymous", "document.verify", "public_document", id)])
            .await?;
        Ok(Some(found))
    }
}

impl Store {
    /// The id under which an application's CMS in `field` is published, if it is.
    pub async fn published_id(&self, instance: &str, field: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT id FROM public_document WHERE instance = $1 AND field = $2")
            .bind(instance)
            .bind(field)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }
}

impl Store {
    /// Records that a paper copy of a published document was printed, by whom (002: who printed
    /// which copy and when is part of the record).
    pub async fn record_print(&self, public_id: &str, actor: &str) -> Result<()> {
        let tx = self.begin_write().await?;
        tx.commit(&[event(actor, "document.print", "public_document", public_id)])
            .await?;
        Ok(())
    }
}
