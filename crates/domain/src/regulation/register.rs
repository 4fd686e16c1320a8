//! The public register a service's result feeds (issue 20): which register, its fields and where
//! each is taken from, the step whose move writes the entry on each channel, the number the entry
//! gets, and, where the seed gives one, how an application amends an entry instead of adding one.
//! The engine writes the entry in the transaction of that move (`engine::registers_feed`); the
//! pages and the JSON API read it (`/registers`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Text;

/// The source name of a register field that takes the applicant category's label (003 Std-5's kind
/// of object) rather than a form value.
pub const CATEGORY_SOURCE: &str = "category";

/// A register the service's result feeds. Several services may feed one register: each declares it
/// with the same code and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// Stable code, lower-case letters, digits and `-`: the register's address `/registers/<code>`.
    pub code: String,
    pub name: Text,
    /// The step whose move produces the result, per channel: the entry is written when the step is
    /// done (a condition: when it holds), or when the application reaches it (an end of kind
    /// result). Every channel that can end with the result names one.
    pub writes: Vec<RegisterWrite>,
    /// The number the entry gets.
    pub number: EntryNumber,
    /// For `number = "sequence"`: the series, letters and digits; the number is
    /// `<series>-<year>-<n>`, counted per register and year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// What the entry shows, in order.
    #[serde(default)]
    pub fields: Vec<RegisterField>,
    /// When an application amends an existing entry instead of adding one (003 Std-5 Annexes 1–4:
    /// «мәліметтерді жаңалау», an update of an object's data under its number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amends: Option<Amendment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

/// The step of a channel whose move writes the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterWrite {
    pub channel: String,
    pub step: String,
}

/// Where an entry's number comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryNumber {
    /// The register's own sequence per year in its `series`, taken in the writing transaction.
    Sequence,
    /// The registration number the application was given by a step that records
    /// `registration_number` (the depositary's, the State Register's number).
    RegistrationNumber,
}

/// A field of the register's entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterField {
    /// Unique in the register.
    pub code: String,
    pub label: Text,
    /// The form fields the value is taken from, the first one the application has (a name the
    /// form gives per kind of recipient or category); `category` takes the applicant category's
    /// label.
    pub from: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// An application that amends the entry it names instead of adding one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    /// A choice field of the form …
    pub when: String,
    /// … whose value (the choice's index, from 0) asks for an amendment.
    pub choice: u32,
    /// The form field that names the entry's number.
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

impl Register {
    /// The step that writes the entry on `channel`, if that channel writes one.
    pub fn writing_step(&self, channel: &str) -> Option<&str> {
        self.writes
            .iter()
            .find(|w| w.channel == channel)
            .map(|w| w.step.as_str())
    }
}

/// Whether `code` is a register code: 1–40 lower-case ASCII letters, digits and `-`, starting with
/// a letter.
pub fn valid_code(code: &str) -> bool {
    (1..=40).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Every rule the register's declaration breaks: each name it uses exists (channels, steps, form
/// fields, choices), the writing steps produce the result, the number has its source.
pub(super) fn check(c: &mut super::check::Checker<'_>, r: &super::Regulation, register: &Register) {
    use super::{FieldType, Outcome, StepKind, StepRecord};
    if !valid_code(&register.code) {
        c.report(
            "register.code",
            "register.code.invalid",
            format!(
                "{:?} is not 1–40 lower-case letters, digits and '-'",
                register.code
            ),
        );
    }
    c.text("register.name", &register.name);
    for (i, write) in register.writes.iter().enumerate() {
        let at = format!("register.writes[{}]", write.channel);
        if register.writes[..i]
            .iter()
            .any(|w| w.channel == write.channel)
        {
            c.report(
                &at,
                "register.write.duplicate",
                "two writing steps for one channel",
            );
        }
        let Some(channel) = r.channel(&write.channel) else {
            c.report(
                format!("{at}.channel"),
                "register.write.channel.unknown",
                format!("no channel {:?}", write.channel),
            );
            continue;
        };
        match channel.steps.iter().find(|s| s.id == write.step) {
            None => c.report(
                format!("{at}.step"),
                "register.write.step.unknown",
                format!("no step {:?} in the channel", write.step),
            ),
            Some(step) if step.kind == StepKind::End && step.outcome != Some(Outcome::Result) => c
                .report(
                    format!("{at}.step"),
                    "register.write.step.refusal",
                    "an end that refuses produces no result to enter",
                ),
            Some(_) => {}
        }
        if register.number == EntryNumber::RegistrationNumber
            && !channel
                .steps
                .iter()
                .any(|s| s.records(StepRecord::RegistrationNumber))
        {
            c.report(
                "register.number",
                "register.number.unrecorded",
                format!(
                    "no step of the channel {:?} records the registration_number the entry takes",
                    write.channel
                ),
            );
        }
    }
    // Every channel that can end with the result writes the entry.
    for channel in &r.channels {
        let gives_result = channel
            .steps
            .iter()
            .any(|s| s.kind == StepKind::End && s.outcome == Some(Outcome::Result));
        if gives_result && register.writing_step(&channel.code).is_none() {
            c.report(
                "register.writes",
                "register.write.missing",
                format!(
                    "the channel {:?} gives the result but writes no entry",
                    channel.code
                ),
            );
        }
    }
    match (register.number, &register.series) {
        (EntryNumber::Sequence, None) => c.report(
            "register.series",
            "register.series.missing",
            "a register numbering its own sequence says its series",
        ),
        (EntryNumber::RegistrationNumber, Some(_)) => c.report(
            "register.series",
            "register.series.unused",
            "the entry takes the application's registration number: the series is the step's",
        ),
        (_, Some(series)) if series.is_empty() || !series.chars().all(char::is_alphanumeric) => c
            .report(
                "register.series",
                "register.series.invalid",
                format!("{series:?} is not a series of letters and digits"),
            ),
        _ => {}
    }
    if register.fields.is_empty() {
        c.report(
            "register.fields",
            "register.fields.empty",
            "a register shows at least one field",
        );
    }
    for (i, field) in register.fields.iter().enumerate() {
        let at = format!("register.fields[{}]", field.code);
        c.text(&format!("{at}.label"), &field.label);
        if register.fields[..i].iter().any(|f| f.code == field.code) {
            c.report(&at, "register.field.duplicate", "two fields have this code");
        }
        if field.from.is_empty() {
            c.report(
                format!("{at}.from"),
                "register.field.from.empty",
                "a field names the form field it is taken from",
            );
        }
        for source in &field.from {
            if source == CATEGORY_SOURCE && !r.categories.is_empty() {
                continue;
            }
            match r.form.iter().find(|f| &f.code == source) {
                None => c.report(
                    format!("{at}.from"),
                    "register.field.unknown",
                    format!("no form field {source:?} (nor applicant categories for \"category\")"),
                ),
                Some(f) if f.field_type == FieldType::Attachment => c.report(
                    format!("{at}.from"),
                    "register.field.attachment",
                    format!("{source:?} holds files, not a value an entry can show"),
                ),
                Some(_) => {}
            }
        }
    }
    if let Some(amends) = &register.amends {
        match r.form.iter().find(|f| f.code == amends.when) {
            Some(f) if f.field_type == FieldType::Choice => {
                if amends.choice as usize >= f.choices.len() {
                    c.report(
                        "register.amends.choice",
                        "register.amends.choice.unknown",
                        format!(
                            "the field {:?} has no choice {}",
                            amends.when, amends.choice
                        ),
                    );
                }
            }
            _ => c.report(
                "register.amends.when",
                "register.amends.field.unknown",
                format!("no choice field {:?} in the form", amends.when),
            ),
        }
        if !r.form.iter().any(|f| f.code == amends.number) {
            c.report(
                "register.amends.number",
                "register.amends.field.unknown",
                format!("no form field {:?}", amends.number),
            );
        }
    }
}
