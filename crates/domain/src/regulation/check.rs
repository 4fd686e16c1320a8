//! `regulation check`: every rule a regulation file breaks, each naming the file, the element and the rule.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;

use super::{
    Field, FieldType, GatewayCall, Recipient, Regulation, Step, StepKind, StepRecord, Text,
    UnitKind,
};

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// Path of the element, e.g. `channels[psc].steps[P9].next`.
    pub element: String,
    /// Stable rule key, e.g. `step.next.unknown`.
    pub rule: &'static str,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} [rule {}]",
            self.file, self.element, self.message, self.rule
        )
    }
}

pub(super) struct Checker<'a> {
    file: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    pub(super) fn report(
        &mut self,
        element: impl Into<String>,
        rule: &'static str,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            element: element.into(),
            rule,
            message: message.into(),
        });
    }

    pub(super) fn text(&mut self, element: &str, text: &Text) {
        for (language, value) in [("kk", &text.kk), ("ru", &text.ru)] {
            if value.trim().is_empty() {
                self.report(
                    format!("{element}.{language}"),
                    "label.language.missing",
                    format!("the label has no {language} text"),
                );
            }
        }
    }
}

/// Parses a regulation file and checks it; `Ok` only when no rule is broken.
pub fn check(file: &str, text: &str) -> Result<Regulation, Vec<Problem>> {
    let regulation = parse(file, text)?;
    let mut checker = Checker {
        file,
        problems: Vec::new(),
    };
    check_regulation(&mut checker, &regulation);
    if checker.problems.is_empty() {
        Ok(regulation)
    } else {
        Err(checker.problems)
    }
}

/// Reads a regulation in the format without judging it by today's rules: for a version an
/// application started on, which was checked when it was stored, and which a rule added since must
/// not make unreadable (an application keeps its version).
pub fn parse(file: &str, text: &str) -> Result<Regulation, Vec<Problem>> {
    match toml::from_str(text) {
        Ok(regulation) => Ok(regulation),
        Err(e) => {
            let element = e
                .span()
                .map(|span| {
                    let start = span.start.min(text.len());
                    let line = text[..start].matches('\n').count() + 1;
                    // The key the value belongs to, as the file writes it (`from_registry`).
                    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                    match text[line_start..start].split_once('=') {
                        Some((key, _)) if !key.trim().is_empty() => {
                            format!("line {line}: {}", key.trim())
                        }
                        _ => format!("line {line}"),
                    }
                })
                .unwrap_or_else(|| "document".to_owned());
            // A name outside one of the format's closed sets (a registry value, a recipient, …)
            // is its own rule: the file is well-formed TOML that names something nothing knows.
            let rule = if e.message().contains("unknown variant") {
                "name.unknown"
            } else {
                "toml.syntax"
            };
            Err(vec![Problem {
                file: file.to_owned(),
                element,
                rule,
                message: e.message().to_owned(),
            }])
        }
    }
}

fn check_regulation(c: &mut Checker<'_>, r: &Regulation) {
    c.text("name", &r.name);
    if !matches!(r.automation.as_str(), "full" | "partial" | "none") {
        c.report(
            "automation",
            "automation.unknown",
            format!("{:?} is not full, partial or none", r.automation),
        );
    }
    if r.providers.is_empty() {
        c.report(
            "providers",
            "providers.empty",
            "a service needs at least one provider",
        );
    }
    if r.recipients.is_empty() {
        c.report(
            "recipients",
            "recipients.empty",
            "a service needs at least one kind of recipient",
        );
    }
    check_categories(c, r);
    let units: HashMap<&str, UnitKind> =
        r.units.iter().map(|u| (u.code.as_str(), u.kind)).collect();
    for (i, unit) in r.units.iter().enumerate() {
        c.text(&format!("units[{}].label", unit.code), &unit.label);
        if r.units[..i].iter().any(|u| u.code == unit.code) {
            c.report(
                format!("units[{}]", unit.code),
                "unit.code.duplicate",
                "two units have this code",
            );
        }
    }
    if r.channels.is_empty() {
        c.report(
            "channels",
            "channels.empty",
            "a service needs at least one channel",
        );
    }
    for (i, channel) in r.channels.iter().enumerate() {
        let at = format!("channels[{}]", channel.code);
        if !matches!(channel.code.as_str(), "portal" | "psc" | "provider") {
            c.report(
                &at,
                "channel.code.unknown",
                format!("{:?} is not portal, psc or provider", channel.code),
            );
        }
        if r.channels[..i]
            .iter()
            .any(|other| other.code == channel.code)
        {
            c.report(&at, "channel.code.duplicate", "two channels have this code");
        }
        c.text(&format!("{at}.label"), &channel.label);
        if let Some(only_for) = &channel.only_for {
            c.text(&format!("{at}.only_for"), only_for);
        }
        for (j, document) in channel.documents.iter().enumerate() {
            c.text(&format!("{at}.documents[{j}].label"), &document.label);
        }
        for recipient in &channel.recipients {
            if !r.recipients.contains(recipient) {
                c.report(
                    format!("{at}.recipients"),
                    "channel.recipient.unknown",
                    format!("{recipient:?} is not a recipient of the service"),
                );
            }
        }
        check_steps(c, &at, &channel.steps, &units);
        for step in &channel.steps {
            check_numbering(c, &format!("{at}.steps[{}]", step.id), step, &r.recipients);
        }
    }
    check_reports(c, r);
    if let Some(register) = &r.register {
        super::register::check(c, r, register);
    }
    if r.portal_space_limit && r.channel("portal").is_none() {
        c.report(
            "portal_space_limit",
            "portal_space_limit.no_portal",
            "only applications made on the Portal are kept in the applicant's space there (000 §18.2)",
        );
    }
    for field in &r.form {
        check_field(c, "form", field);
    }
    for output in &r.outputs {
        let at = format!("outputs[{}]", output.code);
        c.text(&format!("{at}.label"), &output.label);
        for signer in &output.signed_by {
            if !units.contains_key(signer.as_str()) {
                c.report(
                    format!("{at}.signed_by"),
                    "output.signer.unknown",
                    format!("no unit {signer:?}"),
                );
            }
        }
        for field in &output.fields {
            check_field(c, &at, field);
        }
    }
    for channel in &r.channels {
        for step in channel.steps.iter().filter(|s| s.output.is_some()) {
            let at = format!("channels[{}].steps[{}].output", channel.code, step.id);
            let code = step.output.as_deref().unwrap_or_default();
            if !r.outputs.iter().any(|o| o.code == code) {
                c.report(&at, "step.output.unknown", format!("no output {code:?}"));
            }
            if !step.records(StepRecord::Answer) {
                c.report(
                    &at,
                    "step.output.no_answer",
                    "only a step that records the answer gives an output document",
                );
            }
        }
    }
    let statuses: BTreeSet<&str> = r.statuses.iter().map(|s| s.code.as_str()).collect();
    for status in &r.statuses {
        c.text(&format!("statuses[{}].label", status.code), &status.label);
    }
    for channel in &r.channels {
        for step in &channel.steps {
            if let Some(status) = &step.status
                && !statuses.contains(status.as_str())
            {
                c.report(
                    format!("channels[{}].steps[{}].status", channel.code, step.id),
                    "step.status.unknown",
                    format!("no status {status:?} among the regulation's statuses"),
                );
            }
        }
    }
    if let Some(complaints) = &r.complaints {
        c.text("complaints.first", &complaints.first);
        c.text("complaints.second", &complaints.second);
    }
    for (i, ground) in r.refusal_grounds.iter().enumerate() {
        c.text(&format!("refusal_grounds[{i}]"), ground);
    }
    for (i, question) in r.questionnaire.iter().enumerate() {
        c.text(&format!("questionnaire[{i}].label"), &question.label);
        for (j, answer) in question.answers.iter().enumerate() {
            c.text(&format!("questionnaire[{i}].answers[{j}]"), answer);
        }
    }
}

/// Categories are a closed set the fields and documents name: each a kind of one of the service's
/// recipients, served by channels the service has.
fn check_categories(c: &mut Checker<'_>, r: &Regulation) {
    for (i, category) in r.categories.iter().enumerate() {
        let at = format!("categories[{}]", category.code);
        c.text(&format!("{at}.label"), &category.label);
        if r.categories[..i].iter().any(|o| o.code == category.code) {
            c.report(
                &at,
                "category.code.duplicate",
                "two categories have this code",
            );
        }
        if !r.recipients.contains(&category.recipient) {
            c.report(
                format!("{at}.recipient"),
                "category.recipient.unknown",
                format!("{:?} is not a recipient of the service", category.recipient),
            );
        }
        for channel in &category.channels {
            if !r.recipients_of(channel).contains(&category.recipient)
                || r.channel(channel).is_none()
            {
                c.report(
                    format!("{at}.channels"),
                    "category.channel.unknown",
                    format!("no channel {channel:?} that serves the category's recipient"),
                );
            }
        }
    }
    let named =
        |at: String, recipients: &[Recipient], categories: &[String], c: &mut Checker<'_>| {
            for code in categories {
                match r.categories.iter().find(|k| &k.code == code) {
                    None => c.report(
                        &at,
                        "category.unknown",
                        format!("no category {code:?} among the regulation's categories"),
                    ),
                    Some(k) if !recipients.is_empty() && !recipients.contains(&k.recipient) => c
                        .report(
                            &at,
                            "category.recipient.excluded",
                            format!("the category {code:?} is of a recipient this item excludes"),
                        ),
                    Some(_) => {}
                }
            }
        };
    for field in &r.form {
        named(
            format!("form.fields[{}].categories", field.code),
            &field.recipients,
            &field.categories,
            c,
        );
    }
    for channel in &r.channels {
        for (j, document) in channel.documents.iter().enumerate() {
            let at = format!("channels[{}].documents[{j}].categories", channel.code);
            named(at, &document.recipients, &document.categories, c);
        }
    }
}

/// A report counts by statuses the regulation must have (the appeals report by those of 000 §10).
fn check_reports(c: &mut Checker<'_>, r: &Regulation) {
    for (i, report) in r.reports.iter().enumerate() {
        if r.reports[..i].contains(report) {
            c.report(
                format!("reports[{}]", report.code()),
                "report.duplicate",
                "the report is named twice",
            );
        }
        for status in report.statuses() {
            if !r.statuses.iter().any(|s| s.code == *status) {
                c.report(
                    format!("reports[{}]", report.code()),
                    "report.status.missing",
                    format!(
                        "the {} report counts by status {status:?}, which the regulation lacks",
                        report.code()
                    ),
                );
            }
        }
    }
}

/// A step that takes a registration number says its series for every recipient, and only such a
/// step has a numbering.
fn check_numbering(c: &mut Checker<'_>, here: &str, step: &Step, recipients: &[Recipient]) {
    let numbers = step.records(StepRecord::RegistrationNumber);
    if !numbers {
        if !step.numbering.is_empty() {
            c.report(
                format!("{here}.numbering"),
                "step.numbering.unused",
                "only a step that records registration_number numbers anything",
            );
        }
        return;
    }
    if step.numbering.is_empty() {
        c.report(
            format!("{here}.numbering"),
            "step.numbering.missing",
            "a step that records registration_number says the series of its register",
        );
        return;
    }
    for (i, series) in step.numbering.iter().enumerate() {
        let at = format!("{here}.numbering[{i}]");
        if series.series.is_empty() || !series.series.chars().all(char::is_alphanumeric) {
            c.report(
                format!("{at}.series"),
                "step.numbering.series.invalid",
                format!("{:?} is not a series of letters and digits", series.series),
            );
        }
        for recipient in &series.recipients {
            if !recipients.contains(recipient) {
                c.report(
                    format!("{at}.recipients"),
                    "step.numbering.recipient.unknown",
                    format!("the service is not for {:?}", recipient.code()),
                );
            }
        }
    }
    for recipient in recipients {
        match step
            .numbering
            .iter()
            .filter(|s| s.covers(*recipient))
            .count()
        {
            0 => c.report(
                format!("{here}.numbering"),
                "step.numbering.recipient.uncovered",
                format!("no series for {:?}", recipient.code()),
            ),
            1 => {}
            _ => c.report(
                format!("{here}.numbering"),
                "step.numbering.recipient.duplicate",
                format!("more than one series for {:?}", recipient.code()),
            ),
        }
    }
}

fn check_field(c: &mut Checker<'_>, parent: &str, field: &Field) {
    let at = format!("{parent}.fields[{}]", field.code);
    c.text(&format!("{at}.label"), &field.label);
    // A value is kept under its field's code beside the record's own parts (an attachment's
    // code keeps nothing: its files are kept apart).
    if parent == "form"
        && field.field_type != FieldType::Attachment
        && crate::application::RESERVED_KEYS.contains(&field.code.as_str())
    {
        c.report(
            format!("{at}.code"),
            "form.code.reserved",
            format!(
                "{:?} names a part of the application's record, not a form value",
                field.code
            ),
        );
    }
    if field.max_count == Some(0) {
        c.report(
            format!("{at}.max_count"),
            "field.max_count.zero",
            "a repeating field takes at least one value",
        );
    }
    if field.field_type == FieldType::Choice && field.choices.is_empty() {
        c.report(
            format!("{at}.choices"),
            "field.choices.missing",
            "a choice field needs its choices",
        );
    }
}

fn check_steps(c: &mut Checker<'_>, at: &str, steps: &[Step], units: &HashMap<&str, UnitKind>) {
    if steps.is_empty() {
        c.report(
            format!("{at}.steps"),
            "steps.empty",
            "a channel needs at least one step",
        );
        return;
    }
    let ids: HashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    for (i, step) in steps.iter().enumerate() {
        let here = format!("{at}.steps[{}]", step.id);
        if steps[..i].iter().any(|s| s.id == step.id) {
            c.report(&here, "step.id.duplicate", "two steps have this id");
        }
        c.text(&format!("{here}.label"), &step.label);
        let unit = units.get(step.unit.as_str()).copied();
        if step.kind != StepKind::End && unit.is_none() {
            c.report(
                format!("{here}.unit"),
                "step.unit.unknown",
                format!("no unit {:?} in the regulation", step.unit),
            );
        }
        if step.call.is_some() && unit.is_some_and(|u| u != UnitKind::System) {
            c.report(
                format!("{here}.call"),
                "step.call.not_system",
                "only a step of an information system calls the gateway",
            );
        }
        match (step.calls(GatewayCall::IssueDocument), step.document) {
            (true, None) => c.report(
                format!("{here}.document"),
                "step.document.missing",
                "a step that calls issue_document names the document issued",
            ),
            (false, Some(document)) => c.report(
                format!("{here}.document"),
                "step.document.not_issued",
                format!(
                    "{:?} is issued only by a step that calls issue_document",
                    document.code()
                ),
            ),
            _ => {}
        }
        if !step.records.is_empty() && unit.is_some_and(|u| u != UnitKind::Staff) {
            c.report(
                format!("{here}.records"),
                "step.records.not_staff",
                "only a step done by staff records anything",
            );
        }
        let target = |field: &str, next: &str, c: &mut Checker<'_>| {
            if !ids.contains_key(next) {
                c.report(
                    format!("{here}.{field}"),
                    "step.next.unknown",
                    format!("no step {next:?} in this channel"),
                );
            }
        };
        match step.kind {
            StepKind::Action => {
                match &step.next {
                    Some(next) => target("next", next, c),
                    None => c.report(
                        format!("{here}.next"),
                        "step.next.missing",
                        "an action must say which step follows (or lead to an end)",
                    ),
                }
                // The applicant's own steps have no provider time limit; every other action has one.
                if step.time_limit.is_none() && unit != Some(UnitKind::Applicant) {
                    c.report(
                        format!("{here}.time_limit"),
                        "action.time_limit.missing",
                        "an action of the provider needs a time limit",
                    );
                }
            }
            StepKind::Condition => {
                match &step.next {
                    Some(next) => target("next", next, c),
                    None => c.report(
                        format!("{here}.next"),
                        "step.next.missing",
                        "a condition needs the step that follows when it holds",
                    ),
                }
                match &step.on_failure {
                    Some(branch) => {
                        target("on_failure.next", &branch.next, c);
                        c.text(&format!("{here}.on_failure.message"), &branch.message);
                    }
                    None => c.report(
                        format!("{here}.on_failure"),
                        "condition.failure_branch.missing",
                        "a condition needs a failure branch with its message",
                    ),
                }
            }
            StepKind::End => {
                if step.outcome.is_none() {
                    c.report(
                        format!("{here}.outcome"),
                        "end.outcome.missing",
                        "an end says whether the service was given (result) or refused (refusal)",
                    );
                }
                if step.next.is_some() || step.on_failure.is_some() {
                    c.report(&here, "end.next.present", "an end has no next step");
                }
            }
        }
    }
    // Every step must be reachable from the first.
    let mut seen = vec![false; steps.len()];
    let mut queue = VecDeque::from([0usize]);
    while let Some(i) = queue.pop_front() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let step = &steps[i];
        for next in step
            .next
            .iter()
            .chain(step.on_failure.iter().map(|b| &b.next))
        {
            if let Some(&j) = ids.get(next.as_str()) {
                queue.push_back(j);
            }
        }
    }
    for (step, reached) in steps.iter().zip(seen) {
        if !reached {
            c.report(
                format!("{at}.steps[{}]", step.id),
                "step.unreachable",
                "no path from the first step leads here",
            );
        }
    }
}
