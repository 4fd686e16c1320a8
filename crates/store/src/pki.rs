//! The certification authorities' tables: authorities, the certificate register, published CRLs.
//! Plain records in, plain records out: the cryptography is the pki crate's, the orchestration the ca
//! crate's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{Event, OwnedEvent};
use crate::{Result, Store, StoreError, Tx, now_text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityRecord {
    pub code: String,
    pub role: String,
    pub parent: Option<String>,
    pub certificate_der: Vec<u8>,
    pub key_pem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateRecord {
    pub serial: String,
    pub issuer: String,
    pub profile: String,
    pub subject: String,
    pub iin: Option<String>,
    pub bin: Option<String>,
    pub not_before: String,
    pub not_after: String,
    #[serde(skip)]
    pub certificate_der: Vec<u8>,
    pub issued_at: String,
    pub revoked_at: Option<String>,
    pub revocation_reason: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlRecord {
    pub issuer: String,
    pub number: i64,
    pub this_update: String,
    pub next_update: String,
    pub crl_der: Vec<u8>,
}

/// Filters of the register search; all given ones must match.
#[derive(Debug, Clone, Default)]
pub struct CertificateQuery {
    pub iin: Option<String>,
    pub bin: Option<String>,
    pub serial: Option<String>,
    pub issuer: Option<String>,
    /// `Some(true)`: only revoked; `Some(false)`: only not revoked.
    pub revoked: Option<bool>,
}

fn decode(text: &str, what: &str) -> Result<Vec<u8>> {
    B64.decode(text)
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn certificate_from_row(row: &AnyRow) -> Result<CertificateRecord> {
    let der: String = row.try_get("certificate")?;
    Ok(CertificateRecord {
        serial: row.try_get("serial")?,
        issuer: row.try_get("issuer")?,
        profile: row.try_get("profile")?,
        subject: row.try_get("subject")?,
        iin: row.try_get("iin")?,
        bin: row.try_get("bin")?,
        not_before: row.try_get("not_before")?,
        not_after: row.try_get("not_after")?,
        certificate_der: decode(&der, "pki_certificate.certificate")?,
        issued_at: row.try_get("issued_at")?,
        revoked_at: row.try_get("revoked_at")?,
        revocation_reason: row.try_get("revocation_reason")?,
    })
}

/// Records a new authority inside the caller's transaction; returns its audit event.
pub async fn insert_authority(
    tx: &mut Tx,
    record: &AuthorityRecord,
    actor: &str,
) -> Result<OwnedEvent> {
    sqlx::query(
        "INSERT INTO pki_authority (code, role, parent, certificate, key_pem, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&record.code)
    .bind(&record.role)
    .bind(record.parent.as_deref())
    .bind(B64.encode(&record.certificate_der))
    .bind(&record.key_pem)
    .bind(now_text())
    .execute(&mut **tx)
    .await?;
    Ok(OwnedEvent::from(Event {
        actor,
        action: "pki.authority.create",
        object_kind: "pki_authority",
        object_id: &record.code,
        details: serde_json::json!({ "role": record.role, "parent": record.parent }),
    }))
}

/// Records an issued certificate inside the caller's transaction; returns its audit event.
pub async fn insert_certificate(
    tx: &mut Tx,
    record: &CertificateRecord,
    actor: &str,
) -> Result<OwnedEvent> {
    sqlx::query(
        "INSERT INTO pki_certificate (serial, issuer, profile, subject, iin, bin, not_before, not_after, certificate, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&record.serial)
    .bind(&record.issuer)
    .bind(&record.profile)
    .bind(&record.subject)
    .bind(record.iin.as_deref())
    .bind(record.bin.as_deref())
    .bind(&record.not_before)
    .bind(&record.not_after)
    .bind(B64.encode(&record.certificate_der))
    .bind(&record.issued_at)
    .execute(&mut **tx)
    .await?;
    Ok(OwnedEvent::from(Event {
        actor,
        action: "pki.certificate.issue",
        object_kind: "pki_certificate",
        object_id: &record.serial,
        details: serde_json::json!({
            "issuer": record.issuer, "profile": record.profile, "subject": record.subject,
            "iin": record.iin, "bin": record.bin, "not_after": record.not_after,
        }),
    }))
}

/// Marks a certificate revoked inside the caller's transaction; returns the register's record and
/// the audit event. Revoking twice is refused: the first revocation's time and reason stand (RFC
/// 5280 §5.3: a revocation is final, except certificateHold).
pub async fn mark_revoked(
    tx: &mut Tx,
    serial: &str,
    at: &str,
    reason: i64,
    actor: &str,
) -> Result<(CertificateRecord, OwnedEvent)> {
    let updated = sqlx::query(
        "UPDATE pki_certificate SET revoked_at = $1, revocation_reason = $2 WHERE serial = $3 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(reason)
    .bind(serial)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let row = sqlx::query("SELECT * FROM pki_certificate WHERE serial = $1")
        .bind(serial)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| {
            StoreError::Invalid(format!("serial: no certificate {serial} in the register"))
        })?;
    let record = certificate_from_row(&row)?;
    if updated == 0 {
        return Err(StoreError::Invalid(format!(
            "serial: certificate {serial} was already revoked at {}",
            record.revoked_at.as_deref().unwrap_or("?")
        )));
    }
    let event = OwnedEvent::from(Event {
        actor,
        action: "pki.certificate.revoke",
        object_kind: "pki_certificate",
        object_id: serial,
        details: serde_json::json!({ "at": at, "reason": reason, "issuer": record.issuer }),
    });
    Ok((record, event))
}

/// Records a published CRL inside the caller's transaction; returns its audit event.
pub async fn insert_crl(tx: &mut Tx, record: &CrlRecord, actor: &str) -> Result<OwnedEvent> {
    sqlx::query("INSERT INTO pki_crl (issuer, number, this_update, next_update, crl) VALUES ($1, $2, $3, $4, $5)")
        .bind(&record.issuer)
        .bind(record.number)
        .bind(&record.this_update)
        .bind(&record.next_update)
        .bind(B64.encode(&record.crl_der))
        .execute(&mut **tx)
        .await?;
    Ok(OwnedEvent::from(Event {
        actor,
        action: "pki.crl.publish",
        object_kind: "pki_crl",
        object_id: &format!("{}#{}", record.issuer, record.number),
        details: serde_json::json!({ "this_update": record.this_update, "next_update": record.next_update }),
    }))
}

/// The next CRL number of an issuer, read inside the transaction that will publish it.
pub async fn next_crl_number(tx: &mut Tx, issuer: &str) -> Result<i64> {
    let row = sqlx::query("SELECT COALESCE(MAX(number), 0) + 1 FROM pki_crl WHERE issuer = $1")
        .bind(issuer)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// The revoked certificates of an issuer, for a CRL, read inside the publishing transaction.
pub async fn revoked_by(tx: &mut Tx, issuer: &str) -> Result<Vec<CertificateRecord>> {
    let rows = sqlx::query("SELECT * FROM pki_certificate WHERE issuer = $1 AND revoked_at IS NOT NULL ORDER BY serial")
        .bind(issuer)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(certificate_from_row).collect()
}

/// The answer the CA signer gave a request id before, if any (its journal, read in the answering
/// transaction so that two nodes retrying the same move cannot both be answered anew).
pub async fn ca_request_answer(tx: &mut Tx, id: &str) -> Result<Option<(String, String)>> {
    let row = sqlx::query("SELECT action, answer FROM ca_request WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(row) => Some((row.try_get(0)?, row.try_get(1)?)),
        None => None,
    })
}

/// Journals the CA signer's answer to a request, in the transaction of what it did.
pub async fn record_ca_request(
    tx: &mut Tx,
    id: &str,
    actor: &str,
    action: &str,
    answer: &str,
) -> Result<OwnedEvent> {
    sqlx::query(
        "INSERT INTO ca_request (id, actor, action, answer, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(actor)
    .bind(action)
    .bind(answer)
    .bind(now_text())
    .execute(&mut **tx)
    .await?;
    Ok(OwnedEvent::from(Event {
        actor,
        action: "pki.signer.request",
        object_kind: "ca_request",
        object_id: id,
        details: serde_json::json!({ "action": action }),
    }))
}

impl Store {
    /// Whether a person holds a staff role in an organisation of the given kind (the CA signer's
    /// check that a request's signer is a registration-centre operator).
    pub async fn holds_role(&self, iin: &str, role: &str, organisation_kind: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 FROM staff s JOIN organisation o ON o.code = s.organisation \
             WHERE s.iin = $1 AND s.role = $2 AND o.kind = $3 LIMIT 1",
        )
        .bind(iin)
        .bind(role)
        .bind(organisation_kind)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// The newest CRL number of every issuer, by issuer: what tells a node that a CRL was published.
    pub async fn crl_numbers(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT issuer, MAX(number) FROM pki_crl GROUP BY issuer ORDER BY issuer")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// The newest CRL of every issuer this deployment publishes (DER): what the CA signer judges
    /// its callers' certificates against, without the network.
    pub async fn latest_crls(&self) -> Result<Vec<Vec<u8>>> {
        let rows = sqlx::query(
            "SELECT c.crl FROM pki_crl c WHERE c.number = \
             (SELECT MAX(n.number) FROM pki_crl n WHERE n.issuer = c.issuer)",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| decode(&row.try_get::<String, _>(0)?, "pki_crl.crl"))
            .collect()
    }

    pub async fn authorities(&self) -> Result<Vec<AuthorityRecord>> {
        let rows = sqlx::query("SELECT code, role, parent, certificate, key_pem FROM pki_authority ORDER BY created_at, code")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let der: String = row.try_get("certificate")?;
                Ok(AuthorityRecord {
                    code: row.try_get("code")?,
                    role: row.try_get("role")?,
                    parent: row.try_get("parent")?,
                    certificate_der: decode(&der, "pki_authority.certificate")?,
                    key_pem: row.try_get("key_pem")?,
                })
            })
            .collect()
    }

    pub async fn certificates(
        &self,
        query: &CertificateQuery,
        limit: i64,
    ) -> Result<Vec<CertificateRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM pki_certificate WHERE ($1 IS NULL OR iin = $1) AND ($2 IS NULL OR bin = $2) \
             AND ($3 IS NULL OR serial = $3) AND ($4 IS NULL OR issuer = $4) \
             AND ($5 IS NULL OR ($5 = 1 AND revoked_at IS NOT NULL) OR ($5 = 0 AND revoked_at IS NULL)) \
             ORDER BY issued_at DESC, serial LIMIT $6",
        )
        .bind(query.iin.as_deref())
        .bind(query.bin.as_deref())
        .bind(query.serial.as_deref().map(str::to_uppercase))
        .bind(query.issuer.as_deref())
        .bind(query.revoked.map(i64::from))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(certificate_from_row).collect()
    }

    pub async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>> {
        let query = CertificateQuery {
            serial: Some(serial.to_owned()),
            ..Default::default()
        };
        Ok(self.certificates(&query, 1).await?.into_iter().next())
    }

    /// The newest CRL an issuer published.
    pub async fn latest_crl(&self, issuer: &str) -> Result<Option<CrlRecord>> {
        let row = sqlx::query(
            "SELECT issuer, number, this_update, next_update, crl FROM pki_crl WHERE issuer = $1 ORDER BY number DESC LIMIT 1",
        )
        .bind(issuer)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            let der: String = row.try_get("crl")?;
            Ok(CrlRecord {
                issuer: row.try_get("issuer")?,
                number: row.try_get("number")?,
                this_update: row.try_get("this_update")?,
                next_update: row.try_get("next_update")?,
                crl_der: decode(&der, "pki_crl.crl")?,
            })
        })
        .transpose()
    }

    /// A fresh time-stamp serial (committed at once: a serial handed out is never reused).
    pub async fn next_tsa_serial(&self) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE pki_counter SET value = value + 1 WHERE name = 'tsa_serial' RETURNING value",
        )
        .fetch_one(&mut *tx)
        .await?;
        let value: i64 = row.try_get(0)?;
        // A counter, not a record: the token it numbers is the record.
        tx.commit_unaudited().await?;
        Ok(value)
    }
}
