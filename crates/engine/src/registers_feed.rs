//! The public registers the services' results feed (issue 20): when a move leaves the step a
//! regulation's `[register]` names for the channel along its success path (an action done, a
//! condition held), or reaches it when it is an end of kind result, the entry is noted with the
//! move ([`feed`]) and written in the move's transaction when it commits ([`write`]): the number
//! taken (the register's own sequence per year, or the application's registration number), or the
//! entry the application names amended. Not to be confused with `registers.rs`, the state
//! databases that issue documents.

use jiff::Timestamp;
use qyzmet_domain::application::Application;
use qyzmet_domain::regulation::register::CATEGORY_SOURCE;
use qyzmet_domain::regulation::{EntryNumber, FieldType, Register, Regulation};
use qyzmet_store::audit::OwnedEvent;
use qyzmet_store::register_entry::{Entry, amend_entry, has_entry, insert_entry};
use qyzmet_store::workflow::{InstanceRow, next_number};
use qyzmet_store::{StoreError, Tx};

/// An entry to write with the move's transaction.
pub(crate) struct Feed {
    pub(crate) instance: String,
    register: String,
    number: Number,
    regulation: String,
    version: String,
    fields: serde_json::Value,
    /// The number of the entry the application amends instead of adding one.
    amends: Option<String>,
    actor: String,
    at: String,
}

enum Number {
    /// The application's registration number.
    Given(String),
    /// The register's next number in `series` for `year`.
    Sequence { series: String, year: i16 },
}

/// The entry the move of `row` from the step `from` writes, if it writes one: `held` says the move
/// took the success path; `row` stands where the move brought it, with what the step recorded.
pub(crate) fn feed(
    regulation: &Regulation,
    row: &InstanceRow,
    (from, held): (&str, bool),
    actor: &str,
    (now, year): (Timestamp, i16),
) -> Result<Option<Feed>, StoreError> {
    let Some(register) = &regulation.register else {
        return Ok(None);
    };
    let Some(step) = register.writing_step(&row.channel) else {
        return Ok(None);
    };
    let left = step == from && held;
    let reached = step == row.step && row.outcome.as_deref() == Some("result");
    if !left && !reached {
        return Ok(None);
    }
    let application = Application::from_json(&row.data);
    let number = match register.number {
        EntryNumber::Sequence => Number::Sequence {
            series: register.series.clone().unwrap_or_default(),
            year,
        },
        EntryNumber::RegistrationNumber => Number::Given(
            application
                .recorded
                .registration_number
                .clone()
                .ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "application {} reached the step {step} that enters it in the register \
                         {:?} without a registration number [rule register.number.unrecorded]",
                        row.id, register.code
                    ))
                })?,
        ),
    };
    Ok(Some(Feed {
        instance: row.id.clone(),
        register: register.code.clone(),
        number,
        regulation: row.regulation.clone(),
        version: row.version.clone(),
        fields: fields(regulation, register, &application),
        amends: amended(register, &application),
        actor: actor.to_owned(),
        at: now.to_string(),
    }))
}

/// The entry's fields as stored: each with its label and the first value the application has.
fn fields(
    regulation: &Regulation,
    register: &Register,
    application: &Application,
) -> serde_json::Value {
    let mut shown = Vec::new();
    for field in &register.fields {
        let value = field.from.iter().find_map(|source| {
            if source == CATEGORY_SOURCE {
                let code = application.category.as_deref()?;
                let category = regulation.categories.iter().find(|c| c.code == code)?;
                return serde_json::to_value(&category.label).ok();
            }
            let value = application.value(source).filter(|v| !v.trim().is_empty())?;
            let form = regulation.form.iter().find(|f| &f.code == source);
            match form {
                Some(f) if f.field_type == FieldType::Choice => {
                    // A choice is kept as its label; several (a repeating choice) joined.
                    let labels: Vec<_> = value
                        .split(',')
                        .filter_map(|i| i.trim().parse::<usize>().ok())
                        .filter_map(|i| f.choices.get(i))
                        .collect();
                    match labels.as_slice() {
                        [one] => serde_json::to_value(one).ok(),
                        _ => Some(serde_json::Value::String(value.to_owned())),
                    }
                }
                _ => Some(serde_json::Value::String(value.to_owned())),
            }
        });
        if let Some(value) = value {
            shown.push(serde_json::json!({
                "code": field.code, "label": field.label, "value": value,
            }));
        }
    }
    serde_json::Value::Array(shown)
}

/// The entry the application asks to amend, where the register takes amendments and the form
/// asks for one with a number.
fn amended(register: &Register, application: &Application) -> Option<String> {
    let amends = register.amends.as_ref()?;
    let asked = application.value(&amends.when)? == amends.choice.to_string();
    let number = application.value(&amends.number)?.trim();
    (asked && !number.is_empty()).then(|| number.to_owned())
}

/// Writes the entries noted with the transaction's moves; the audit entries to commit with.
pub(crate) async fn write(tx: &mut Tx, feeds: &[Feed]) -> Result<Vec<OwnedEvent>, StoreError> {
    let mut events = Vec::new();
    for feed in feeds {
        if let Some(number) = &feed.amends {
            let at = (feed.at.as_str(), feed.actor.as_str());
            let key = (feed.register.as_str(), number.as_str());
            if let Some(event) = amend_entry(tx, key, &feed.instance, &feed.fields, at).await? {
                events.push(event);
                continue;
            }
            // Naming no entry of the register, the update is entered as a new object.
        }
        if has_entry(tx, &feed.register, &feed.instance).await? {
            continue;
        }
        let number = match &feed.number {
            Number::Given(number) => number.clone(),
            Number::Sequence { series, year } => {
                let key = format!("register:{}:{year}", feed.register);
                let n = next_number(tx, &key).await?;
                format!("{series}-{year}-{n}")
            }
        };
        let entry = Entry {
            id: uuid::Uuid::now_v7().to_string(),
            register: feed.register.clone(),
            number,
            application: feed.instance.clone(),
            regulation: feed.regulation.clone(),
            version: feed.version.clone(),
            fields: feed.fields.clone(),
            revision: 1,
            created_at: feed.at.clone(),
            amended_at: None,
            removed_at: None,
            document: None,
        };
        events.extend(insert_entry(tx, &entry, &feed.actor).await?);
    }
    Ok(events)
}
