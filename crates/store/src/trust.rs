//! What a deployment trusts beyond its own CAs (issue 18): external roots as anchors, intermediate CA
//! certificates that paths are built through, and the CRLs of external CAs the operator supplies. Plain
//! records: the pki crate parses and judges the certificates, the CLI decides what goes in; every change
//! is on the audit record.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::Event;
use crate::{Result, Store, StoreError, Tx, now_text};

/// How a trusted certificate is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustRole {
    /// A trust anchor: a path that ends in it is trusted.
    Anchor,
    /// An intermediate CA certificate: a candidate issuer, itself checked up to an anchor.
    Intermediate,
}

impl TrustRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TrustRole::Anchor => "anchor",
            TrustRole::Intermediate => "intermediate",
        }
    }

    fn parse(text: &str) -> Result<TrustRole> {
        match text {
            "anchor" => Ok(TrustRole::Anchor),
            "intermediate" => Ok(TrustRole::Intermediate),
            other => Err(StoreError::Corrupt(format!("pki_trust.role: {other}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCertificate {
    /// SHA-256 of the DER, lower-case hex.
    pub fingerprint: String,
    pub role: TrustRole,
    /// For an anchor: intermediate CAs under it need no known revocation status.
    pub ca_revocation_optional: bool,
    pub subject: String,
    pub not_after: String,
    pub certificate_der: Vec<u8>,
    pub added_by: String,
    pub added_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCrl {
    /// SHA-256 of the DER, lower-case hex.
    pub fingerprint: String,
    pub issuer: String,
    pub this_update: String,
    pub next_update: Option<String>,
    pub crl_der: Vec<u8>,
    pub added_by: String,
    pub added_at: String,
}

/// What an addition did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    New,
    /// The same DER was there already (in the same role): nothing written.
    AlreadyThere,
}

/// Trusted certificates and CRLs kept at most: a store larger than this is a misconfiguration, and every
/// node loads the whole of it at start.
pub const MAX_TRUSTED: i64 = 1_000;

fn decode(text: &str, what: &str) -> Result<Vec<u8>> {
    B64.decode(text)
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn certificate_from_row(row: &AnyRow) -> Result<TrustedCertificate> {
    let role: String = row.try_get("role")?;
    let der: String = row.try_get("certificate")?;
    Ok(TrustedCertificate {
        fingerprint: row.try_get("fingerprint")?,
        role: TrustRole::parse(&role)?,
        ca_revocation_optional: row.try_get::<i64, _>("ca_revocation_optional")? != 0,
        subject: row.try_get("subject")?,
        not_after: row.try_get("not_after")?,
        certificate_der: decode(&der, "pki_trust.certificate")?,
        added_by: row.try_get("added_by")?,
        added_at: row.try_get("added_at")?,
    })
}

/// Refuses an addition to a table of the trust store that holds [`MAX_TRUSTED`] rows already (the
/// transaction, dropped by the caller's `?`, rolls back).
async fn within_limit(tx: &mut Tx, count: &'static str, field: &str) -> Result<()> {
    let rows: i64 = sqlx::query(count).fetch_one(&mut **tx).await?.try_get(0)?;
    if rows >= MAX_TRUSTED {
        return Err(StoreError::Invalid(format!(
            "{field}: the trust store holds {MAX_TRUSTED} of these, its limit"
        )));
    }
    Ok(())
}

impl Store {
    /// Adds a certificate to the trust store, audited; the same certificate again in the same role is
    /// [`Added::AlreadyThere`], in another role an error naming the role it has.
    pub async fn add_trusted(&self, record: &TrustedCertificate, actor: &str) -> Result<Added> {
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT role FROM pki_trust WHERE fingerprint = $1")
            .bind(&record.fingerprint)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            tx.rollback().await?;
            let role: String = row.try_get("role")?;
            return if role == record.role.as_str() {
                Ok(Added::AlreadyThere)
            } else {
                Err(StoreError::Invalid(format!(
                    "certificate: already trusted as {role}; remove it first"
                )))
            };
        }
        within_limit(&mut tx, "SELECT COUNT(*) FROM pki_trust", "certificate").await?;
        sqlx::query(
            "INSERT INTO pki_trust (fingerprint, role, ca_revocation_optional, subject, not_after, certificate, added_by, added_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&record.fingerprint)
        .bind(record.role.as_str())
        .bind(i64::from(record.ca_revocation_optional))
        .bind(&record.subject)
        .bind(&record.not_after)
        .bind(B64.encode(&record.certificate_der))
        .bind(actor)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit(&[Event::new(actor, "pki.trust.add", "pki_trust", &record.fingerprint)
            .with_details(serde_json::json!({
                "role": record.role.as_str(), "subject": record.subject, "not_after": record.not_after,
                "ca_revocation_optional": record.ca_revocation_optional,
            }))])
            .await?;
        Ok(Added::New)
    }

    /// Removes the trusted certificate or CRL whose fingerprint starts with `prefix` (at least 8 hex
    /// digits, and exactly one match), audited; returns what was removed.
    pub async fn remove_trusted(&self, prefix: &str, actor: &str) -> Result<String> {
        let prefix = prefix.to_ascii_lowercase();
        if prefix.len() < 8 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(
                "fingerprint: at least 8 hexadecimal digits of the SHA-256 `qyzmet trust list` shows"
                    .into(),
            ));
        }
        let pattern = format!("{prefix}%");
        let mut tx = self.begin_write().await?;
        let mut found = Vec::new();
        let tables = [
            (
                "pki_trust",
                "SELECT fingerprint, subject FROM pki_trust WHERE fingerprint LIKE $1 LIMIT 2",
                "DELETE FROM pki_trust WHERE fingerprint = $1",
            ),
            (
                "pki_trust_crl",
                "SELECT fingerprint, issuer FROM pki_trust_crl WHERE fingerprint LIKE $1 LIMIT 2",
                "DELETE FROM pki_trust_crl WHERE fingerprint = $1",
            ),
        ];
        for (table, select, delete) in tables {
            let rows = sqlx::query(select)
                .bind(&pattern)
                .fetch_all(&mut *tx)
                .await?;
            for row in rows {
                let fingerprint: String = row.try_get(0)?;
                let name: String = row.try_get(1)?;
                found.push((table, delete, fingerprint, name));
            }
        }
        let [(table, delete, fingerprint, name)] = found.as_slice() else {
            tx.rollback().await?;
            return Err(StoreError::Invalid(if found.is_empty() {
                format!("fingerprint: nothing trusted starts with {prefix}")
            } else {
                format!("fingerprint: {prefix} names more than one entry; give more digits")
            }));
        };
        sqlx::query(*delete)
            .bind(fingerprint)
            .execute(&mut *tx)
            .await?;
        tx.commit(&[Event::new(actor, "pki.trust.remove", table, fingerprint)
            .with_details(serde_json::json!({ "name": name }))])
            .await?;
        Ok(name.clone())
    }

    /// Every trusted certificate, anchors first.
    pub async fn trusted(&self) -> Result<Vec<TrustedCertificate>> {
        let rows =
            sqlx::query("SELECT * FROM pki_trust ORDER BY role, subject, fingerprint LIMIT $1")
                .bind(MAX_TRUSTED)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(certificate_from_row).collect()
    }

    /// Adds an external CA's CRL, audited; the same CRL again is [`Added::AlreadyThere`]. An older CRL
    /// of the same issuer stays until removed: the verifier uses the newest that applies.
    pub async fn add_trusted_crl(&self, record: &TrustedCrl, actor: &str) -> Result<Added> {
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT 1 FROM pki_trust_crl WHERE fingerprint = $1")
            .bind(&record.fingerprint)
            .fetch_optional(&mut *tx)
            .await?;
        if existing.is_some() {
            tx.rollback().await?;
            return Ok(Added::AlreadyThere);
        }
        within_limit(&mut tx, "SELECT COUNT(*) FROM pki_trust_crl", "crl").await?;
        sqlx::query(
            "INSERT INTO pki_trust_crl (fingerprint, issuer, this_update, next_update, crl, added_by, added_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&record.fingerprint)
        .bind(&record.issuer)
        .bind(&record.this_update)
        .bind(record.next_update.as_deref())
        .bind(B64.encode(&record.crl_der))
        .bind(actor)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit(&[Event::new(
            actor,
            "pki.trust.add_crl",
            "pki_trust_crl",
            &record.fingerprint,
        )
        .with_details(serde_json::json!({
            "issuer": record.issuer, "this_update": record.this_update,
            "next_update": record.next_update,
        }))])
        .await?;
        Ok(Added::New)
    }

    /// Every CRL the operator supplied.
    pub async fn trusted_crls(&self) -> Result<Vec<TrustedCrl>> {
        let rows = sqlx::query(
            "SELECT * FROM pki_trust_crl ORDER BY issuer, this_update, fingerprint LIMIT $1",
        )
        .bind(MAX_TRUSTED)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let der: String = row.try_get("crl")?;
                Ok(TrustedCrl {
                    fingerprint: row.try_get("fingerprint")?,
                    issuer: row.try_get("issuer")?,
                    this_update: row.try_get("this_update")?,
                    next_update: row.try_get("next_update")?,
                    crl_der: decode(&der, "pki_trust_crl.crl")?,
                    added_by: row.try_get("added_by")?,
                    added_at: row.try_get("added_at")?,
                })
            })
            .collect()
    }

    /// Lets nodes follow caIssuers addresses on `host` (lower-case DNS name), audited.
    pub async fn add_issuer_host(&self, host: &str, actor: &str) -> Result<Added> {
        let host = host.to_ascii_lowercase();
        let valid = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !valid {
            return Err(StoreError::Invalid(format!(
                "host: {host:?} is not a DNS name (letters, digits, dots and hyphens)"
            )));
        }
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT 1 FROM pki_trust_host WHERE host = $1")
            .bind(&host)
            .fetch_optional(&mut *tx)
            .await?;
        if existing.is_some() {
            tx.rollback().await?;
            return Ok(Added::AlreadyThere);
        }
        within_limit(&mut tx, "SELECT COUNT(*) FROM pki_trust_host", "host").await?;
        sqlx::query("INSERT INTO pki_trust_host (host, added_by, added_at) VALUES ($1, $2, $3)")
            .bind(&host)
            .bind(actor)
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
        tx.commit(&[Event::new(
            actor,
            "pki.trust.add_host",
            "pki_trust_host",
            &host,
        )])
        .await?;
        Ok(Added::New)
    }

    /// Stops nodes following caIssuers addresses on `host`, audited; false when it was not there.
    pub async fn remove_issuer_host(&self, host: &str, actor: &str) -> Result<bool> {
        let host = host.to_ascii_lowercase();
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM pki_trust_host WHERE host = $1")
            .bind(&host)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit(&[Event::new(
            actor,
            "pki.trust.remove_host",
            "pki_trust_host",
            &host,
        )])
        .await?;
        Ok(true)
    }

    /// The hosts whose caIssuers addresses nodes may follow.
    pub async fn issuer_hosts(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT host FROM pki_trust_host ORDER BY host LIMIT $1")
            .bind(MAX_TRUSTED)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<String, _>(0)?))
            .collect()
    }
}
