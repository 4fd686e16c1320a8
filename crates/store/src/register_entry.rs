//! Entries of the public registers the services' results feed (issue 20, migration 0013). The
//! engine writes an entry in the transaction of the move that produces the result
//! (`engine::registers_feed`); the writers here take that `&mut Tx` and give back the audit entry
//! of what they did for the transaction's commit. Anyone reads: a bounded search by register,
//! newest first, with a keyset cursor.

use sqlx::Row;

use crate::audit::OwnedEvent;
use crate::{Result, Store, Tx};

/// The most entries one page or API call gives.
pub const MAX_PAGE: i64 = 50;
/// The longest search text taken (in characters).
pub const MAX_QUERY: usize = 100;

/// An entry of a register as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// UUIDv7.
    pub id: String,
    pub register: String,
    pub number: String,
    pub application: String,
    pub regulation: String,
    pub version: String,
    /// A JSON array of `{code, label: {kk, ru, en}, value}`; the value a text or a
    /// `{kk, ru, en}` label.
    pub fields: serde_json::Value,
    pub revision: i64,
    pub created_at: String,
    pub amended_at: Option<String>,
    pub removed_at: Option<String>,
    /// The public id of the application's published signed answer (`/verify/<id>`), if it is
    /// published; filled by the reads.
    pub document: Option<String>,
}

/// The number and every value of the fields, lower-cased and joined: what a search matches.
pub fn search_text(number: &str, fields: &serde_json::Value) -> String {
    let mut parts = vec![number.to_lowercase()];
    for field in fields.as_array().into_iter().flatten() {
        match &field["value"] {
            serde_json::Value::String(text) => parts.push(text.to_lowercase()),
            serde_json::Value::Object(label) => parts.extend(
                label
                    .values()
                    .filter_map(|v| v.as_str())
                    .map(str::to_lowercase),
            ),
            _ => {}
        }
    }
    parts.join("\n")
}

/// Whether the application has an entry in the register (read in the caller's transaction).
pub async fn has_entry(
    conn: &mut sqlx::AnyConnection,
    register: &str,
    application: &str,
) -> Result<bool> {
    let found =
        sqlx::query("SELECT number FROM register_entry WHERE register = $1 AND application = $2")
            .bind(register)
            .bind(application)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Writes `entry` (its `search` computed here) in the move's transaction; `None` when the
/// application already has an entry in the register (a move repeated), and nothing is written.
pub async fn insert_entry(tx: &mut Tx, entry: &Entry, actor: &str) -> Result<Option<OwnedEvent>> {
    if has_entry(tx, &entry.register, &entry.application).await? {
        return Ok(None);
    }
    sqlx::query(
        "INSERT INTO register_entry (id, register, number, application, regulation, version, \
         fields, search, revision, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
    )
    .bind(&entry.id)
    .bind(&entry.register)
    .bind(&entry.number)
    .bind(&entry.application)
    .bind(&entry.regulation)
    .bind(&entry.version)
    .bind(entry.fields.to_string())
    .bind(search_text(&entry.number, &entry.fields))
    .bind(&entry.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(Some(OwnedEvent {
        actor: actor.to_owned(),
        action: "register.enter".into(),
        object_kind: "register_entry".into(),
        object_id: entry.id.clone(),
        details: serde_json::json!({
            "register": entry.register, "number": entry.number,
            "application": entry.application, "fields": entry.fields,
        }),
    }))
}

/// Amends the entry `number` of `register` (not removed) with the fields of the application
/// `by`, counting a revision; `None` when there is no such entry, and nothing is written.
pub async fn amend_entry(
    tx: &mut Tx,
    (register, number): (&str, &str),
    by: &str,
    fields: &serde_json::Value,
    (at, actor): (&str, &str),
) -> Result<Option<OwnedEvent>> {
    let found = sqlx::query(
        "SELECT id, fields, revision FROM register_entry \
         WHERE register = $1 AND number = $2 AND removed_at IS NULL",
    )
    .bind(register)
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    let id: String = found.try_get(0)?;
    let before: String = found.try_get(1)?;
    let revision: i64 = found.try_get::<i64, _>(2)? + 1;
    sqlx::query(
        "UPDATE register_entry SET fields = $1, search = $2, revision = $3, amended_at = $4 \
         WHERE id = $5",
    )
    .bind(fields.to_string())
    .bind(search_text(number, fields))
    .bind(revision)
    .bind(at)
    .bind(&id)
    .execute(&mut **tx)
    .await?;
    let before: serde_json::Value = serde_json::from_str(&before).unwrap_or_default();
    Ok(Some(OwnedEvent {
        actor: actor.to_owned(),
        action: "register.amend".into(),
        object_kind: "register_entry".into(),
        object_id: id,
        details: serde_json::json!({
            "register": register, "number": number, "application": by,
            "revision": revision, "before": before, "fields": fields,
        }),
    }))
}

const COLUMNS: &str = "e.id, e.register, e.number, e.application, e.regulation, e.version, \
     e.fields, e.revision, e.created_at, e.amended_at, e.removed_at, d.id";

fn entry_of(row: &sqlx::any::AnyRow) -> Result<Entry> {
    let fields: String = row.try_get(6)?;
    Ok(Entry {
        id: row.try_get(0)?,
        register: row.try_get(1)?,
        number: row.try_get(2)?,
        application: row.try_get(3)?,
        regulation: row.try_get(4)?,
        version: row.try_get(5)?,
        fields: serde_json::from_str(&fields)
            .map_err(|e| crate::StoreError::Corrupt(format!("register entry fields: {e}")))?,
        revision: row.try_get(7)?,
        created_at: row.try_get(8)?,
        amended_at: row.try_get(9)?,
        removed_at: row.try_get(10)?,
        document: row.try_get(11)?,
    })
}

/// `text` as a LIKE pattern matching it anywhere, its `%`, `_` and `\` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// Up to `limit` (at most [`MAX_PAGE`]) entries of `register`, newest first, whose number or
    /// values contain `query` (case-insensitive; at most [`MAX_QUERY`] characters are taken),
    /// older than the entry `after`; each with the public id of its application's published
    /// document in `document_field`, if any.
    pub async fn register_entries(
        &self,
        register: &str,
        query: &str,
        after: Option<&str>,
        limit: i64,
        document_field: &str,
    ) -> Result<Vec<Entry>> {
        let query: String = query.trim().chars().take(MAX_QUERY).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM register_entry e \
             LEFT JOIN public_document d ON d.instance = e.application AND d.field = $1 \
             WHERE e.register = $2 AND e.search LIKE $3 ESCAPE '\\' AND e.id < $4 \
             ORDER BY e.id DESC LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(document_field)
            .bind(register)
            .bind(contains_pattern(&query))
            // Every UUID sorts before "~".
            .bind(after.unwrap_or("~"))
            .bind(limit.clamp(1, MAX_PAGE))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(entry_of).collect()
    }

    /// The entry `number` of `register`, with its published document as above.
    pub async fn register_entry(
        &self,
        register: &str,
        number: &str,
        document_field: &str,
    ) -> Result<Option<Entry>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM register_entry e \
             LEFT JOIN public_document d ON d.instance = e.application AND d.field = $1 \
             WHERE e.register = $2 AND e.number = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(document_field)
            .bind(register)
            .bind(number)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(entry_of).transpose()
    }

    /// The entries the application `application` wrote or amended last, in any register.
    pub async fn register_entries_of(
        &self,
        application: &str,
        document_field: &str,
    ) -> Result<Vec<Entry>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM register_entry e \
             LEFT JOIN public_document d ON d.instance = e.application AND d.field = $1 \
             WHERE e.application = $2 ORDER BY e.register"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(document_field)
            .bind(application)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(entry_of).collect()
    }

    /// How many entries each register has that are not removed, by register code.
    pub async fn register_counts(&self) -> Result<std::collections::BTreeMap<String, i64>> {
        let rows = sqlx::query(
            "SELECT register, COUNT(*) FROM register_entry WHERE removed_at IS NULL \
             GROUP BY register",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_text_holds_the_number_and_every_value_lower_cased() {
        let fields = serde_json::json!([
            { "code": "name", "label": {"kk": "Атауы", "ru": "Название"}, "value": "ТАҢ Газеті" },
            { "code": "kind", "label": {"kk": "Түрі", "ru": "Вид"},
              "value": {"kk": "Деректер қоры", "ru": "База данных", "en": "Database"} },
        ]);
        let text = search_text("БАҚ-2026-7", &fields);
        for part in [
            "бақ-2026-7",
            "таң газеті",
            "база данных",
            "database",
            "деректер қоры",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn a_search_pattern_takes_wildcards_literally() {
        assert_eq!(contains_pattern("50%_А\\"), "%50\\%\\_а\\\\%");
    }
}
