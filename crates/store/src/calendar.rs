//! The deployment's calendar rules, kept in the database so that every node counts deadlines
//! alike and an administrator's change (a new decree) is on the audit record.

use qyzmet_domain::calendar::{Calendar, CalendarRules};
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
}
