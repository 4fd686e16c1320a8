//! The registries' CSV format, both ways: `qyzmet registry import` reads it, the synthetic
//! generator writes it. An import is all or nothing: every row is checked (fields, duplicates in
//! the file, clashes with the registry, references to persons) before anything is written, and
//! every bad row is reported with its line number.

use std::collections::HashMap;
use std::io::{Read, Write};

use jiff::civil::Date;
use qyzmet_domain::ids::{Bin, Iin, TaxpayerId};
use qyzmet_domain::registry::{LegalEntity, Person, PowerOfAttorney};
use qyzmet_domain::validation::FieldError;
use serde::Serialize;

use crate::audit::Event;
use crate::registry::{insert_entity, insert_person, insert_power};
use crate::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryKind {
    Persons,
    Entities,
    Powers,
}

impl RegistryKind {
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            RegistryKind::Persons => &[
                "iin",
                "surname",
                "given_name",
                "patronymic",
                "address",
                "region",
            ],
            RegistryKind::Entities => &[
                "bin",
                "name_kk",
                "name_ru",
                "legal_form",
                "registered_on",
                "head_iin",
                "address",
                "region",
            ],
            RegistryKind::Powers => &[
                "number",
                "principal",
                "attorney_iin",
                "notary",
                "issued_on",
                "valid_until",
                "scope",
                "revoked",
            ],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RegistryKind::Persons => "persons",
            RegistryKind::Entities => "entities",
            RegistryKind::Powers => "powers",
        }
    }
}

impl std::str::FromStr for RegistryKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "persons" => Ok(RegistryKind::Persons),
            "entities" => Ok(RegistryKind::Entities),
            "powers" => Ok(RegistryKind::Powers),
            other => Err(format!(
                "kind must be persons, entities or powers, not {other:?}"
            )),
        }
    }
}

/// One bad row (or the header, line 1): the line, the column and the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub rule: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.rule)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} bad row(s); nothing was imported", .0.len())]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Store(e.into())
    }
}

/// The parsed rows of one file.
#[derive(Debug, Clone)]
pub enum Records {
    Persons(Vec<(u64, Person)>),
    Entities(Vec<(u64, LegalEntity)>),
    Powers(Vec<(u64, PowerOfAttorney)>),
}

impl Records {
    pub fn kind(&self) -> RegistryKind {
        match self {
            Records::Persons(_) => RegistryKind::Persons,
            Records::Entities(_) => RegistryKind::Entities,
            Records::Powers(_) => RegistryKind::Powers,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        match self {
            Records::Persons(r) => r.len(),
            Records::Entities(r) => r.len(),
            Records::Powers(r) => r.len(),
        }
    }
}

struct Row<'r> {
    line: u64,
    record: &'r csv::StringRecord,
    index: &'r HashMap<&'static str, usize>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> &str {
        self.index
            .get(column)
            .and_then(|&i| self.record.get(i))
            .unwrap_or("")
            .trim()
    }
    fn id<T>(
        &self,
        column: &str,
        parse: fn(&str) -> Result<T, qyzmet_domain::ids::IdError>,
    ) -> Result<T, FieldError> {
        parse(self.get(column)).map_err(|e| FieldError::new(column, e.to_string()))
    }
    fn optional_iin(&self, column: &str) -> Result<Option<Iin>, FieldError> {
        match self.get(column) {
            "" => Ok(None),
            _ => self.id(column, Iin::parse).map(Some),
        }
    }
    fn date(&self, column: &str) -> Result<Date, FieldError> {
        self.get(column).parse().map_err(|_| {
            FieldError::new(
                column,
                format!("must be a date YYYY-MM-DD (got {:?})", self.get(column)),
            )
        })
    }
}

/// Parses a whole file; returns every bad row, not just the first.
pub fn parse(kind: RegistryKind, input: impl Read) -> Result<Records, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let header_error = |rule: String| {
        vec![RowError {
            line: 1,
            field: "header".into(),
            rule,
        }]
    };
    let headers = reader
        .headers()
        .map_err(|e| header_error(e.to_string()))?
        .clone();
    let mut index = HashMap::new();
    for &column in kind.columns() {
        match headers.iter().position(|h| h.trim() == column) {
            Some(i) => {
                index.insert(column, i);
            }
            None => {
                return Err(header_error(format!(
                    "column {column:?} is missing; {} files have the columns {}",
                    kind.as_str(),
                    kind.columns().join(",")
                )));
            }
        }
    }
    let mut errors = Vec::new();
    let mut records = match kind {
        RegistryKind::Persons => Records::Persons(Vec::new()),
        RegistryKind::Entities => Records::Entities(Vec::new()),
        RegistryKind::Powers => Records::Powers(Vec::new()),
    };
    let mut keys: HashMap<String, u64> = HashMap::new();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    field: "row".into(),
                    rule: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let row = Row {
            line,
            record: &record,
            index: &index,
        };
        let parsed = match &mut records {
            Records::Persons(out) => parse_person(&row).map(|p| {
                let key = p.iin.to_string();
                out.push((line, p));
                key
            }),
            Records::Entities(out) => parse_entity(&row).map(|e| {
                let key = e.bin.to_string();
                out.push((line, e));
                key
            }),
            Records::Powers(out) => parse_power(&row).map(|p| {
                let key = p.number.clone();
                out.push((line, p));
                key
            }),
        };
        match parsed {
            Ok(key) => {
                if let Some(first) = keys.insert(key, line) {
                    errors.push(RowError {
                        line,
                        field: kind.columns()[0].into(),
                        rule: format!("duplicates line {first}"),
                    });
                }
            }
            Err(e) => errors.push(RowError {
                line: row.line,
                field: e.field,
                rule: e.rule,
            }),
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

fn parse_person(row: &Row) -> Result<Person, FieldError> {
    let patronymic = row.get("patronymic");
    Person::new(
        row.id("iin", Iin::parse)?,
        row.get("surname"),
        row.get("given_name"),
        Some(patronymic).filter(|p| !p.is_empty()),
        row.get("address"),
        row.get("region"),
    )
}

fn parse_entity(row: &Row) -> Result<LegalEntity, FieldError> {
    LegalEntity::new(
        row.id("bin", Bin::parse)?,
        row.get("name_kk"),
        row.get("name_ru"),
        row.get("legal_form"),
        row.date("registered_on")?,
        row.optional_iin("head_iin")?,
        row.get("address"),
        row.get("region"),
    )
}

fn parse_power(row: &Row) -> Result<PowerOfAttorney, FieldError> {
    let revoked = match row.get("revoked") {
        "" | "0" | "false" => false,
        "1" | "true" => true,
        other => {
            return Err(FieldError::new(
                "revoked",
                format!("must be 0/1 or false/true (got {other:?})"),
            ));
        }
    };
    PowerOfAttorney::new(
        row.get("number"),
        row.id("principal", TaxpayerId::parse)?,
        row.id("attorney_iin", Iin::parse)?,
        row.get("notary"),
        row.date("issued_on")?,
        row.date("valid_until")?,
        row.get("scope")
            .split(';')
            .map(|s| s.trim().to_owned())
            .collect(),
        revoked,
    )
}

/// Writes records in the format [`parse`] reads.
pub fn write(records: &Records, output: impl Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(output);
    let text = |d: Date| d.to_string();
    match records {
        Records::Persons(rows) => {
            w.write_record(RegistryKind::Persons.columns())?;
            for (_, p) in rows {
                w.write_record([
                    p.iin.to_string(),
                    p.surname.clone(),
                    p.given_name.clone(),
                    p.patronymic.clone().unwrap_or_default(),
                    p.address.clone(),
                    p.region.clone(),
                ])?;
            }
        }
        Records::Entities(rows) => {
            w.write_record(RegistryKind::Entities.columns())?;
            for (_, e) in rows {
                w.write_record([
                    e.bin.to_string(),
                    e.name_kk.clone(),
                    e.name_ru.clone(),
                    e.legal_form.clone(),
                    text(e.registered_on),
                    e.head_iin.map(|i| i.to_string()).unwrap_or_default(),
                    e.address.clone(),
                    e.region.clone(),
                ])?;
            }
        }
        Records::Powers(rows) => {
            w.write_record(RegistryKind::Powers.columns())?;
            for (_, p) in rows {
                w.write_record([
                    p.number.clone(),
                    p.principal.to_string(),
                    p.attorney.to_string(),
                    p.notary.clone(),
                    text(p.issued_on),
                    text(p.valid_until),
                    p.scope.join(";"),
                    u8::from(p.revoked).to_string(),
                ])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

const PERSON_EXISTS: &str = "SELECT 1 FROM person WHERE iin = $1";
const ENTITY_EXISTS: &str = "SELECT 1 FROM legal_entity WHERE bin = $1";
const POWER_EXISTS: &str = "SELECT 1 FROM power_of_attorney WHERE number = $1";

impl Store {
    /// Imports parsed records in one transaction with one audit entry, after checking them
    /// against the registry: a key already there, or a person referred to who is in neither the
    /// registry nor this file, rejects the whole import.
    pub async fn import(
        &self,
        records: &Records,
        actor: &str,
        source: &str,
    ) -> Result<usize, ImportError> {
        let mut tx = self.begin_write().await?;
        let mut errors = Vec::new();
        let mut check = async |sql: &'static str, key: String| -> Result<bool, sqlx::Error> {
            Ok(sqlx::query(sql)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?
                .is_some())
        };
        match records {
            Records::Persons(rows) => {
                for (line, p) in rows {
                    if check(PERSON_EXISTS, p.iin.to_string()).await? {
                        errors.push(RowError {
                            line: *line,
                            field: "iin".into(),
                            rule: "is already in the individuals registry".into(),
                        });
                    }
                }
            }
            Records::Entities(rows) => {
                for (line, e) in rows {
                    if check(ENTITY_EXISTS, e.bin.to_string()).await? {
                        errors.push(RowError {
                            line: *line,
                            field: "bin".into(),
                            rule: "is already in the legal entities registry".into(),
                        });
                    }
                    if let Some(head) = e.head_iin
                        && !check(PERSON_EXISTS, head.to_string()).await?
                    {
                        errors.push(RowError {
                            line: *line,
                            field: "head_iin".into(),
                            rule: "no person with this IIN in the individuals registry".into(),
                        });
                    }
                }
            }
            Records::Powers(rows) => {
                for (line, p) in rows {
                    if check(POWER_EXISTS, p.number.clone()).await? {
                        errors.push(RowError {
                            line: *line,
                            field: "number".into(),
                            rule: "is already in the powers of attorney registry".into(),
                        });
                    }
                    if !check(PERSON_EXISTS, p.attorney.to_string()).await? {
                        errors.push(RowError {
                            line: *line,
                            field: "attorney_iin".into(),
                            rule: "no person with this IIN in the individuals registry".into(),
                        });
                    }
                }
            }
        }
        if !errors.is_empty() {
            tx.rollback().await?;
            return Err(ImportError::Rows(errors));
        }
        match records {
            Records::Persons(rows) => {
                for (_, p) in rows {
                    insert_person(&mut tx, p).await?;
                }
            }
            Records::Entities(rows) => {
                for (_, e) in rows {
                    insert_entity(&mut tx, e).await?;
                }
            }
            Records::Powers(rows) => {
                for (_, p) in rows {
                    insert_power(&mut tx, p).await?;
                }
            }
        }
        tx.commit(&[Event {
            actor,
            action: "registry.import",
            object_kind: records.kind().as_str(),
            object_id: source,
            details: serde_json::json!({ "rows": records.len() }),
        }])
        .await?;
        Ok(records.len())
    }
}
