//! Regulation files uploaded by an administrator and the version of each service that new
//! applications start on (migration 0014). The active version lives in the database because
//! several stateless nodes share it: a node reads [`Store::activation_serial`] (one primary-key
//! row) and only when it changed [`Store::activations`] (one row per service).

use sqlx::Row;

use crate::audit::Event;
use crate::workflow::put_regulation;
use crate::{Result, Store, StoreError, Tx};

/// An uploaded file as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: String,
    pub code: String,
    pub version: String,
    pub text: String,
    /// How many rules the file broke when it was uploaded.
    pub problems: i64,
    pub uploaded_by: String,
    pub uploaded_ms: i64,
}

/// The version of a service that new applications start on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub code: String,
    pub version: String,
    pub activated_by: String,
    pub activated_ms: i64,
    pub serial: i64,
}

/// A version of a service recorded in the database (`regulation_version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    pub version: String,
    pub loaded_at: String,
}

/// The most versions or uploads of one service a listing returns.
pub const LISTED: i64 = 50;

/// Records an uploaded file; the caller commits with the upload's audit entry.
pub async fn insert_upload(tx: &mut Tx, upload: &Upload) -> Result<()> {
    sqlx::query(
        "INSERT INTO regulation_upload (id, code, version, text, problems, uploaded_by, uploaded_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&upload.id)
    .bind(&upload.code)
    .bind(&upload.version)
    .bind(&upload.text)
    .bind(upload.problems)
    .bind(&upload.uploaded_by)
    .bind(upload.uploaded_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Makes `version` (its text recorded if it is not yet) the one new applications of `code` start
/// on, and raises the counter every node watches; returns the counter's new value.
pub async fn activate(
    tx: &mut Tx,
    code: &str,
    version: &str,
    text: &str,
    by: &str,
    at_ms: i64,
) -> Result<i64> {
    put_regulation(tx, code, version, text).await?;
    let serial: i64 = sqlx::query(
        "INSERT INTO regulation_activation_counter (id, serial) VALUES (1, 1) \
         ON CONFLICT (id) DO UPDATE SET serial = regulation_activation_counter.serial + 1 \
         RETURNING serial",
    )
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    sqlx::query(
        "INSERT INTO regulation_activation (code, version, activated_by, activated_ms, serial) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET version = excluded.version, \
         activated_by = excluded.activated_by, activated_ms = excluded.activated_ms, \
         serial = excluded.serial",
    )
    .bind(code)
    .bind(version)
    .bind(by)
    .bind(at_ms)
    .bind(serial)
    .execute(&mut **tx)
    .await?;
    Ok(serial)
}

fn upload_from_row(row: &sqlx::any::AnyRow) -> Result<Upload> {
    Ok(Upload {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        version: row.try_get("version")?,
        text: row.try_get("text")?,
        problems: row.try_get("problems")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded_ms: row.try_get("uploaded_ms")?,
    })
}

impl Store {
    /// Records an uploaded regulation file with its audit entry (who uploaded which text for which
    /// service, and how many rules it broke).
    pub async fn save_regulation_upload(&self, upload: &Upload) -> Result<()> {
        let mut tx = self.begin_write().await?;
        insert_upload(&mut tx, upload).await?;
        tx.commit(&[Event::new(
            &upload.uploaded_by,
            "regulation.upload",
            "regulation_upload",
            &upload.id,
        )
        .with_details(serde_json::json!({
            "code": upload.code, "version": upload.version, "problems": upload.problems,
            "bytes": upload.text.len(),
        }))])
        .await?;
        Ok(())
    }

    /// Activates a version of a service with its audit entry; the caller has checked the text.
    pub async fn activate_regulation(
        &self,
        code: &str,
        version: &str,
        text: &str,
        by: &str,
        at_ms: i64,
    ) -> Result<i64> {
        if code.is_empty() || version.len() != 64 {
            return Err(StoreError::Invalid(
                "regulation activation: a code and a SHA-256 version are required".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let serial = activate(&mut tx, code, version, text, by, at_ms).await?;
        tx.commit(&[
            Event::new(by, "regulation.activate", "regulation_version", version)
                .with_details(serde_json::json!({ "code": code, "serial": serial })),
        ])
        .await?;
        Ok(serial)
    }

    /// The activation counter: 0 before the first activation.
    pub async fn activation_serial(&self) -> Result<i64> {
        let row = sqlx::query("SELECT serial FROM regulation_activation_counter WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(0))
    }

    /// Every service's activation (one row per service that has one).
    pub async fn activations(&self) -> Result<Vec<Activation>> {
        let rows = sqlx::query(
            "SELECT code, version, activated_by, activated_ms, serial FROM regulation_activation \
             ORDER BY code LIMIT 10000",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Activation {
                    code: r.try_get(0)?,
                    version: r.try_get(1)?,
                    activated_by: r.try_get(2)?,
                    activated_ms: r.try_get(3)?,
                    serial: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The versions of a service recorded in the database, newest first (at most [`LISTED`]).
    pub async fn regulation_versions(&self, code: &str) -> Result<Vec<StoredVersion>> {
        let rows = sqlx::query(
            "SELECT version, loaded_at FROM regulation_version WHERE code = $1 \
             ORDER BY loaded_at DESC, version LIMIT $2",
        )
        .bind(code)
        .bind(LISTED)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredVersion {
                    version: r.try_get(0)?,
                    loaded_at: r.try_get(1)?,
                })
            })
            .collect()
    }

    /// The uploads for a service, newest first (at most [`LISTED`]).
    pub async fn regulation_uploads(&self, code: &str) -> Result<Vec<Upload>> {
        let rows = sqlx::query(
            "SELECT id, code, version, text, problems, uploaded_by, uploaded_ms \
             FROM regulation_upload WHERE code = $1 ORDER BY uploaded_ms DESC, id LIMIT $2",
        )
        .bind(code)
        .bind(LISTED)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(upload_from_row).collect()
    }

    pub async fn regulation_upload(&self, id: &str) -> Result<Option<Upload>> {
        let row = sqlx::query(
            "SELECT id, code, version, text, problems, uploaded_by, uploaded_ms \
             FROM regulation_upload WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(upload_from_row).transpose()
    }
}
