//! The deployment's calendar rules, kept in the database so that every node counts deadlines
//! alike and an administrator's change (a new decree) is on the audit record.

use qyzmet_domain::calendar::{Calendar, CalendarRules, KAZAKHSTAN_RULES};
use sqlx::Row;

use crate::audit::Event;
use crate::{Result, Store, StoreError, now_text};

impl Store {
    /// Replaces the rules document after checking that it builds a calendar.
    pub async fn save_calendar_rules(&self, document: &str, actor: &str) -> Result<Calendar> {
        let calendar = CalendarRules::from_toml(document)
            .and_then(|rules| Calendar::new(&rules))
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO calendar_rules (id, document, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
        )
        .bind(document)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        let (first, last) = calendar.years();
        tx.commit(&[Event {
                actor,
                action: "calendar.rules.save",
                object_kind: "calendar",
                object_id: "rules",
                details: serde_json::json!({ "first_year": first, "last_year": last, "bytes": document.len() }),
            }]).await?;
        Ok(calendar)
    }

    /// The stored rules document, if one was saved.
    pub async fn calendar_rules(&self) -> Result<Option<String>> {
        let row = sqlx::query("SELECT document FROM calendar_rules WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// The deployment's calendar: the stored rules, or the built-in Kazakh ones.
    pub async fn calendar(&self) -> Result<Calendar> {
        match self.calendar_rules().await? {
            Some(document) => CalendarRules::from_toml(&document)
                .and_then(|rules| Calendar::new(&rules))
                .map_err(|e| StoreError::Corrupt(e.to_string())),
            None => Ok(Calendar::kazakhstan()),
        }
    }

    /// Appends a decree's rules (`block`, a TOML fragment) to the deployment's document — the
    /// built-in one while none was saved — and saves the result if it builds a calendar, with the
    /// audit entry citing `act`, in one transaction. A change saved by someone else since the
    /// document was read is not overwritten: the import is refused and may be retried.
    pub async fn import_calendar_decree(
        &self,
        block: &str,
        act: &str,
        actor: &str,
    ) -> Result<Calendar> {
        let mut tx = self.begin_write().await?;
        let before: Option<String> =
            sqlx::query("SELECT document FROM calendar_rules WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        let base = before.as_deref().unwrap_or(KAZAKHSTAN_RULES);
        let document = format!("{}\n{block}", base.trim_end());
        if document.len() > MAX_RULES {
            return Err(StoreError::Invalid(format!(
                "calendar rules: the document may be at most {MAX_RULES} bytes"
            )));
        }
        let calendar = CalendarRules::from_toml(&document)
            .and_then(|rules| Calendar::new(&rules))
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let saved = sqlx::query(
            "INSERT INTO calendar_rules (id, document, updated_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at \
             WHERE calendar_rules.document = $3",
        )
        .bind(&document)
        .bind(now_text())
        .bind(base)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if saved != 1 {
            return Err(StoreError::Invalid(
                "calendar rules: changed by someone else meanwhile; try again".into(),
            ));
        }
        let (first, last) = calendar.years();
        tx.commit(&[Event {
            actor,
            action: "calendar.decree.import",
            object_kind: "calendar",
            object_id: "rules",
            details: serde_json::json!({
                "act": act, "rules": block, "first_year": first, "last_year": last,
            }),
        }])
        .await?;
        Ok(calendar)
    }
}

/// The largest calendar rules document kept.
pub const MAX_RULES: usize = 1024 * 1024;
