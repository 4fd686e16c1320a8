use super::*;

/// The regulations shipped with the platform (compiled in: the domain does no I/O).
const ARCHIVAL_REFERENCE: &str =
    include_str!("../../../../regulations/archival-reference-regional.toml");

fn problems(text: &str) -> Vec<Problem> {
    check("test.toml", text).err().unwrap_or_default()
}

/// The queue wait and the counter limits of a channel, in minutes.
fn queue_and_counter(r: &Regulation, channel: &str) -> (Option<u32>, Vec<u32>) {
    let channel = r.channel(channel).unwrap();
    (
        channel.queue_wait.as_ref().map(|l| l.amount),
        channel
            .counter_time
            .iter()
            .map(|c| c.limit.amount)
            .collect(),
    )
}

fn rules(text: &str) -> Vec<&'static str> {
    problems(text).iter().map(|p| p.rule).collect()
}

#[test]
fn the_shipped_regulation_passes_its_check() {
    let regulation =
        check("archival-reference-regional.toml", ARCHIVAL_REFERENCE).unwrap_or_else(|problems| {
            panic!(
                "{}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
    assert_eq!(regulation.code, "archival-reference-regional");
}

#[test]
fn archival_reference_numbers_are_the_seeds() {
    let r = check("f", ARCHIVAL_REFERENCE).unwrap();
    // 004 §7.14, §8.13: fifteen calendar days; Annex 3: up to 30, exceptionally up to 6 months.
    assert_eq!(
        (r.term.base.amount, r.term.base.unit),
        (15, TimeUnit::CalendarDays)
    );
    let extensions: Vec<_> = r
        .term
        .extensions
        .iter()
        .map(|e| (e.up_to.amount, e.up_to.unit))
        .collect();
    assert_eq!(
        extensions,
        [(30, TimeUnit::CalendarDays), (6, TimeUnit::Months)]
    );
    let portal = r.channel("portal").unwrap();
    let step = |id: &str| portal.steps.iter().find(|s| s.id == id).unwrap();
    let processing = step("P10").time_limit.as_ref().unwrap();
    assert_eq!(
        (processing.base.amount, processing.base.unit),
        (15, TimeUnit::CalendarDays)
    );
    // Every information-system action of Annex 3 Table 3: not more than 5 minutes.
    for id in ["P1", "P4", "P6", "C1", "P9", "A3", "P12", "R1"] {
        let limit = &step(id).time_limit.as_ref().unwrap().base;
        assert_eq!(
            (limit.amount, limit.unit, limit.at_least),
            (5, TimeUnit::Minutes, false),
            "{id}"
        );
    }
    // Annex 6 sets no length (seed 000's 255 characters are its appeal's content only, 000 Annex
    // 1 row 9); Annex 5: two questions of three answers.
    assert!(
        r.form
            .iter()
            .filter(|f| f.field_type == FieldType::Text)
            .all(|f| f.max_length.is_none())
    );
    assert_eq!(
        r.questionnaire
            .iter()
            .map(|q| q.answers.len())
            .collect::<Vec<_>>(),
        [3, 3]
    );
    // Refusals end the process with a message; both outcomes are reachable.
    let outcomes: Vec<_> = portal.steps.iter().filter_map(|s| s.outcome).collect();
    assert!(outcomes.contains(&Outcome::Result) && outcomes.contains(&Outcome::Refusal));
}

#[test]
fn every_channel_of_seed_004_has_its_counter_and_processing_terms() {
    let r = check("f", ARCHIVAL_REFERENCE).unwrap();
    assert_eq!(
        r.channels
            .iter()
            .map(|c| c.code.as_str())
            .collect::<Vec<_>>(),
        ["portal", "psc", "provider"]
    );
    for channel in &r.channels {
        let step = |id: &str| channel.steps.iter().find(|s| s.id == id).unwrap();
        // Intake at a counter: not more than 15 minutes (Annex 3 T1.1 #1, T2.1 #1).
        if channel.code != "portal" {
            let intake = &step("P1").time_limit.as_ref().unwrap().base;
            assert_eq!(
                (intake.amount, intake.unit),
                (15, TimeUnit::Minutes),
                "{}",
                channel.code
            );
        }
        // Processing at the archive: 15 calendar days, extensible to 30 and 6 months (§6.14, §7.14, §8.13).
        let processing = channel
            .steps
            .iter()
            .find(|s| s.status.as_deref() == Some("in_progress"))
            .and_then(|s| s.time_limit.as_ref())
            .unwrap();
        assert_eq!(
            (processing.base.amount, processing.base.unit),
            (15, TimeUnit::CalendarDays),
            "{}",
            channel.code
        );
        assert_eq!(processing.extensions.len(), 2, "{}", channel.code);
        // Both outcomes exist on every channel, and every refusal is reached through a message.
        let outcomes: Vec<_> = channel.steps.iter().filter_map(|s| s.outcome).collect();
        assert!(
            outcomes.contains(&Outcome::Result) && outcomes.contains(&Outcome::Refusal),
            "{}",
            channel.code
        );
    }
}

#[test]
fn each_rule_is_named_with_the_element() {
    let broken = ARCHIVAL_REFERENCE.replacen("next = \"P12\"", "next = \"P99\"", 1);
    let found = problems(&broken);
    let unknown = found
        .iter()
        .find(|p| p.rule == "step.next.unknown")
        .expect("unknown next is reported");
    assert_eq!(unknown.element, "channels[portal].steps[P11].next");
    assert!(
        unknown
            .to_string()
            .starts_with("test.toml: channels[portal].steps[P11].next: no step \"P99\"")
    );
    // P12 and what follows it are now unreachable.
    assert!(
        found
            .iter()
            .any(|p| p.rule == "step.unreachable" && p.element == "channels[portal].steps[P12]")
    );

    let no_failure = ARCHIVAL_REFERENCE.replacen(
        "on_failure = { next = \"P2\"",
        "on_failure_removed = { next = \"P2\"",
        1,
    );
    // An unknown key is a syntax-level error naming the line.
    let syntax = problems(&no_failure);
    assert_eq!(syntax[0].rule, "toml.syntax");
    assert!(syntax[0].element.starts_with("line "), "{syntax:?}");

    let text = ARCHIVAL_REFERENCE.replacen(
        "next = \"P3\"\non_failure = { next = \"P2\", message = { kk = \"Тұтынушының деректеріндегі қателерге байланысты қызмет көрсетуден бас тартылды\", ru = \"Отказ в услуге в связи с ошибками в данных потребителя\", en = \"Refused: errors in the applicant's data\" } }\n",
        "next = \"P3\"\n",
        1,
    );
    assert!(
        rules(&text).contains(&"condition.failure_branch.missing"),
        "{:?}",
        rules(&text)
    );

    let text = ARCHIVAL_REFERENCE.replacen(
        "time_limit = { base = { amount = 5, unit = \"minutes\", source = \"004 Annex 3 T3.1 #2\" } }\n",
        "",
        1,
    );
    let found = problems(&text);
    assert!(
        found.iter().any(|p| p.rule == "action.time_limit.missing"
            && p.element == "channels[portal].steps[P9].time_limit"),
        "{found:?}"
    );

    // An unknown field type, call, record or step kind is refused when the file is read (see
    // `an_unknown_*` below).
    let text = ARCHIVAL_REFERENCE.replacen("type = \"date\"", "type = \"datetime\"", 1);
    assert_eq!(rules(&text), ["name.unknown"]);

    let text = ARCHIVAL_REFERENCE.replacen("kk = \"Мұрағаттық анықтамалар беру\"", "kk = \"\"", 1);
    let found = problems(&text);
    assert!(
        found
            .iter()
            .any(|p| p.rule == "label.language.missing" && p.element == "name.kk"),
        "{found:?}"
    );

    let text = ARCHIVAL_REFERENCE.replacen("unit = \"gateway\"", "unit = \"courier\"", 1);
    assert!(rules(&text).contains(&"step.unit.unknown"));

    let text = ARCHIVAL_REFERENCE.replacen("status = \"completed\"", "status = \"done\"", 1);
    assert!(rules(&text).contains(&"step.status.unknown"));

    let text = ARCHIVAL_REFERENCE.replacen("call = \"deliver\"", "call = \"fax\"", 1);
    assert_eq!(rules(&text), ["name.unknown"]);
    // A person does not call the gateway: an archive employee's step with a call is refused.
    let text = ARCHIVAL_REFERENCE.replacen(
        "unit = \"archive\"\n",
        "unit = \"archive\"\ncall = \"notify\"\n",
        1,
    );
    assert!(rules(&text).contains(&"step.call.not_system"));
}

#[test]
fn the_schema_describes_the_format() {
    let schema = Regulation::json_schema();
    let properties = &schema["properties"];
    for key in [
        "code", "name", "term", "units", "channels", "form", "outputs", "statuses",
    ] {
        assert!(properties.get(key).is_some(), "schema lacks {key}");
    }
}

#[test]
fn the_portal_channel_exports_to_bpmn_with_its_gateways_ends_and_timers() {
    let r = check("f", ARCHIVAL_REFERENCE).unwrap();
    let portal = r.channel("portal").unwrap();
    let xml = bpmn(&r, portal, "ru");
    let count = |needle: &str| xml.matches(needle).count();
    let conditions = portal
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Condition)
        .count();
    let ends = portal
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::End)
        .count();
    let timed_actions = portal
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Action && s.time_limit.is_some())
        .count();
    assert_eq!(count("<bpmn:exclusiveGateway "), conditions);
    assert_eq!(count("<bpmn:endEvent "), ends);
    assert_eq!(count("<bpmn:boundaryEvent "), timed_actions);
    assert_eq!(
        count("<bpmn:timeDuration>P15D</bpmn:timeDuration>"),
        1,
        "the archive's 15 calendar days"
    );
    // Every node has a shape and every flow an edge (diagram interchange for bpmn-js).
    assert_eq!(count("<bpmn:sequenceFlow "), count("<bpmndi:BPMNEdge "));
    // Failure flows carry the message the applicant sees; text is escaped.
    assert!(xml.contains(
        "name=\"Отказ в услуге в связи с неподтверждением подлинности ЭЦП потребителя\""
    ));
    assert!(xml.contains("&quot;") || !xml.contains("name=\"\"\""));
    assert!(xml.contains("«электронного правительства»"));
}

const NCA_CERTIFICATES: &str = include_str!("../../../../regulations/nca-certificates.toml");

#[test]
fn nca_certificate_numbers_are_the_seeds() {
    let r = check("nca-certificates.toml", NCA_CERTIFICATES).unwrap_or_else(|problems| {
        panic!(
            "{}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    // 003 Std-1 §4.1: 2 working days; §4.2: a repeat request on the portal, 1 working day.
    assert_eq!(
        (r.term.base.amount, r.term.base.unit),
        (2, TimeUnit::WorkingDays)
    );
    let portal = r.channel("portal").unwrap();
    let repeat = &portal.term.as_ref().unwrap().base;
    assert_eq!((repeat.amount, repeat.unit), (1, TimeUnit::WorkingDays));
    assert!(portal.only_for.is_some());
    // Queue 20 minutes; counter 15 minutes for individuals, 20 for legal entities (§4.1 ¶3–¶4).
    for code in ["provider", "psc"] {
        let channel = r.channel(code).unwrap();
        let queue = channel.queue_wait.as_ref().unwrap();
        assert_eq!(
            (queue.amount, queue.unit),
            (20, TimeUnit::Minutes),
            "{code}"
        );
        let counter: Vec<_> = channel
            .counter_time
            .iter()
            .map(|c| (c.recipients.clone(), c.limit.amount))
            .collect();
        assert_eq!(
            counter,
            [
                (vec![Recipient::Individual], 15),
                (vec![Recipient::LegalEntity], 20)
            ],
            "{code}"
        );
        let issuing = channel
            .steps
            .iter()
            .find(|s| s.status.as_deref() == Some("issued"))
            .unwrap();
        let limit = &issuing.time_limit.as_ref().unwrap().base;
        assert_eq!(
            (limit.amount, limit.unit),
            (2, TimeUnit::WorkingDays),
            "{code}"
        );
    }
    // Complaints: the head of the provider in 5 working days, the quality body in 15 (§11).
    let complaints = r.complaints.as_ref().unwrap();
    assert_eq!(
        (complaints.first_term.amount, complaints.first_term.unit),
        (5, TimeUnit::WorkingDays)
    );
    assert_eq!(
        (complaints.second_term.amount, complaints.second_term.unit),
        (15, TimeUnit::WorkingDays)
    );
}

#[test]
fn kkm_conclusion_and_accreditation_numbers_are_the_seeds() {
    let kkm = check(
        "kkm",
        include_str!("../../../../regulations/kkm-conclusion.toml"),
    )
    .unwrap();
    // 003 Std-2 §4: 30 calendar days; queue 15 minutes; service 15 minutes.
    assert_eq!(
        (kkm.term.base.amount, kkm.term.base.unit),
        (30, TimeUnit::CalendarDays)
    );
    assert_eq!(queue_and_counter(&kkm, "provider"), (Some(15), vec![15]));

    let ca = check(
        "ca",
        include_str!("../../../../regulations/ca-accreditation.toml"),
    )
    .unwrap();
    // 003 Std-3 §4: 30 calendar days, + 30 for a second visit with a reasoned letter within 3 working days.
    assert_eq!(
        (ca.term.base.amount, ca.term.base.unit),
        (30, TimeUnit::CalendarDays)
    );
    let extension = &ca.term.extensions[0];
    assert_eq!(
        (extension.up_to.amount, extension.up_to.unit),
        (60, TimeUnit::CalendarDays)
    );
    let notice = extension.notice_within.as_ref().unwrap();
    assert_eq!((notice.amount, notice.unit), (3, TimeUnit::WorkingDays));
    assert_eq!(queue_and_counter(&ca, "provider"), (Some(20), vec![20]));
    assert_eq!(ca.channels.len(), 1, "Std-3 §3: the provider's office only");
}

#[test]
fn deposit_and_state_register_numbers_are_the_seeds() {
    let deposit = check(
        "deposit",
        include_str!("../../../../regulations/deposit.toml"),
    )
    .unwrap();
    // 003 Std-4 §4: 20 working days; queue and service 20 minutes.
    assert_eq!(
        (deposit.term.base.amount, deposit.term.base.unit),
        (20, TimeUnit::WorkingDays)
    );
    let register = check(
        "register",
        include_str!("../../../../regulations/state-register.toml"),
    )
    .unwrap();
    // 003 Std-5 §4: 43 working days; four kinds of object (annexes 1–4), each a category of every
    // recipient with its own form.
    assert_eq!(
        (register.term.base.amount, register.term.base.unit),
        (43, TimeUnit::WorkingDays)
    );
    for recipient in Recipient::ALL {
        assert_eq!(
            register.categories_of("provider", recipient).len(),
            4,
            "{recipient:?}"
        );
    }
    for r in [&deposit, &register] {
        assert_eq!(
            queue_and_counter(r, "provider"),
            (Some(20), vec![20]),
            "{}",
            r.code
        );
        let complaints = r.complaints.as_ref().unwrap();
        assert_eq!(
            (complaints.first_term.amount, complaints.second_term.amount),
            (5, 15),
            "{}",
            r.code
        );
    }
}

#[test]
fn nca_revocation_takes_six_serial_numbers_within_two_working_days() {
    let r = check(
        "revocation",
        include_str!("../../../../regulations/nca-certificate-revocation.toml"),
    )
    .unwrap();
    assert_eq!(
        (r.term.base.amount, r.term.base.unit),
        (2, TimeUnit::WorkingDays)
    );
    let serials = r.form.iter().find(|f| f.code == "serial_numbers").unwrap();
    assert_eq!(serials.max_count, Some(6), "003 Std-1 annex 9: six lines");
    assert!(
        r.channel("portal").is_none(),
        "003 Std-1 §3: revocation is not a portal service"
    );
    let text = include_str!("../../../../regulations/nca-certificate-revocation.toml").replacen(
        "max_count = 6",
        "max_count = 0",
        1,
    );
    assert!(rules(&text).contains(&"field.max_count.zero"));
}

#[test]
fn complaints_are_considered_in_five_then_fifteen_working_days() {
    let r = check(
        "complaint",
        include_str!("../../../../regulations/complaint.toml"),
    )
    .unwrap();
    // 003 §3.3 C6 and C9.
    assert_eq!(
        (r.term.base.amount, r.term.base.unit),
        (5, TimeUnit::WorkingDays)
    );
    let route = r.complaints.as_ref().unwrap();
    assert_eq!(
        (route.second_term.amount, route.second_term.unit),
        (15, TimeUnit::WorkingDays)
    );
    // The portal shows delivery, registration, execution and the answer (003 Std-2 §10 ¶4).
    let portal = r.channel("portal").unwrap();
    let shown: Vec<_> = portal
        .steps
        .iter()
        .filter_map(|s| s.status.as_deref())
        .collect();
    assert_eq!(
        shown,
        ["delivered", "registered", "in_execution", "answered"]
    );
}

#[test]
fn appeal_cards_follow_annexes_1_and_2() {
    let r = check(
        "appeal",
        include_str!("../../../../regulations/appeal.toml"),
    )
    .unwrap();
    let fields_for = |recipient: Recipient| -> Vec<&str> {
        r.form
            .iter()
            .filter(|f| f.recipients.is_empty() || f.recipients.contains(&recipient))
            .map(|f| f.code.as_str())
            .collect()
    };
    // Annex 1: ten rows; Annex 2: twelve.
    assert_eq!(fields_for(Recipient::Individual).len(), 10);
    assert_eq!(fields_for(Recipient::LegalEntity).len(), 12);
    // The content is at most 255 characters (Annex 1 row 9, Annex 2 row 11).
    let content = r.form.iter().find(|f| f.code == "content").unwrap();
    assert_eq!((content.max_length, content.required), (Some(255), true));
    // Every notification of §10 is a status some step sets.
    let portal = r.channel("portal").unwrap();
    for status in &r.statuses {
        assert!(
            portal
                .steps
                .iter()
                .any(|s| s.status.as_deref() == Some(status.code.as_str())),
            "{}",
            status.code
        );
    }
    // The answer is signed by the clerk and the head (§9.5).
    assert_eq!(r.outputs[0].signed_by, ["clerk", "head"]);
}

const APPEAL: &str = include_str!("../../../../regulations/appeal.toml");
const REAL_ESTATE: &str =
    include_str!("../../../../regulations/real-estate-presence-certificate.toml");

/// The problems of a file named `broken.toml`.
fn problems_of(text: &str) -> Vec<Problem> {
    check("broken.toml", text).err().unwrap_or_default()
}

/// The one problem under `rule`, shown with its file, element and rule.
fn one(found: &[Problem], rule: &str) -> String {
    let matching: Vec<String> = found
        .iter()
        .filter(|p| p.rule == rule)
        .map(ToString::to_string)
        .collect();
    assert_eq!(matching.len(), 1, "{rule} in {found:?}");
    matching[0].clone()
}

#[test]
fn the_appeal_is_reported_kept_in_the_portal_space_and_numbered_per_author() {
    let r = check("appeal.toml", APPEAL).unwrap();
    assert!(r.counted_in(StatisticalReport::Appeals));
    assert!(r.counts_against_quota());
    let registration = r
        .channel("portal")
        .unwrap()
        .steps
        .iter()
        .find(|s| s.records(StepRecord::RegistrationNumber))
        .unwrap();
    assert_eq!(registration.numbering_series("individual"), Some("ЖТ"));
    assert_eq!(registration.numbering_series("legal_entity"), Some("ЗТ"));
    assert_eq!(registration.numbering_series("representative"), None);
    assert_eq!(registration.numbering_series("nobody"), None);
    // A service outside the report and the quota says neither.
    let other = check("f", ARCHIVAL_REFERENCE).unwrap();
    assert!(!other.counted_in(StatisticalReport::Appeals) && !other.counts_against_quota());
}

#[test]
fn the_registers_issue_the_document_the_step_names() {
    let r = check("real-estate-presence-certificate.toml", REAL_ESTATE).unwrap();
    let issuing: Vec<_> = r.channels[0]
        .steps
        .iter()
        .filter(|s| s.calls(GatewayCall::IssueDocument))
        .map(|s| s.document)
        .collect();
    assert_eq!(issuing, [Some(DocumentTemplate::RealEstateCertificate)]);
}

#[test]
fn an_unknown_report_or_document_is_refused_naming_the_file_line_and_key() {
    for (text, key, value) in [
        (
            APPEAL.replacen("reports = [\"appeals\"]", "reports = [\"cases\"]", 1),
            "reports",
            "cases",
        ),
        (
            REAL_ESTATE.replacen(
                "document = \"real_estate_certificate\"",
                "document = \"real_estate_extract\"",
                1,
            ),
            "document",
            "real_estate_extract",
        ),
        (
            APPEAL.replacen(
                "portal_space_limit = true",
                "portal_space_limit = \"yes\"",
                1,
            ),
            "portal_space_limit",
            "",
        ),
    ] {
        let found = problems_of(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        let line = text
            .lines()
            .position(|l| l.starts_with(&format!("{key} = ")))
            .unwrap()
            + 1;
        let shown = found[0].to_string();
        assert!(
            shown.starts_with(&format!("broken.toml: line {line}")),
            "{shown}"
        );
        assert!(found[0].message.contains(value), "{shown}");
        assert!(
            ["name.unknown", "toml.syntax"].contains(&found[0].rule),
            "{shown}"
        );
    }
}

#[test]
fn each_new_element_breaks_its_own_rule() {
    // A series is letters and digits only.
    let text = APPEAL.replacen("series = \"ЖТ\"", "series = \"Ж-Т\"", 1);
    assert_eq!(
        one(&problems_of(&text), "step.numbering.series.invalid"),
        "broken.toml: channels[portal].steps[2.2].numbering[0].series: \"Ж-Т\" is not a series of letters and digits [rule step.numbering.series.invalid]"
    );
    // A series for a recipient the service is not for.
    let text = APPEAL.replacen(
        "{ recipients = [\"legal_entity\"], series = \"ЗТ\"",
        "{ recipients = [\"legal_entity\", \"representative\"], series = \"ЗТ\"",
        1,
    );
    assert!(
        one(&problems_of(&text), "step.numbering.recipient.unknown")
            .starts_with("broken.toml: channels[portal].steps[2.2].numbering[1].recipients: ")
    );
    // A recipient without a series, or with two.
    let text = APPEAL.replacen(
        "recipients = [\"legal_entity\"], series = \"ЗТ\"",
        "recipients = [\"individual\"], series = \"ЗТ\"",
        1,
    );
    let found = problems_of(&text);
    assert!(one(&found, "step.numbering.recipient.uncovered").contains("\"legal_entity\""));
    assert!(one(&found, "step.numbering.recipient.duplicate").contains("\"individual\""));
    // A registration number needs its series; a series needs a registration number.
    let numbering_start = APPEAL.find("numbering = [").unwrap();
    let numbering_end = numbering_start + APPEAL[numbering_start..].find("]\n").unwrap() + 2;
    let without = format!("{}{}", &APPEAL[..numbering_start], &APPEAL[numbering_end..]);
    assert_eq!(
        one(&problems_of(&without), "step.numbering.missing"),
        "broken.toml: channels[portal].steps[2.2].numbering: a step that records registration_number says the series of its register [rule step.numbering.missing]"
    );
    let text = APPEAL.replacen(
        "records = [\"registration_number\"]\n",
        "records = [\"comment\"]\n",
        1,
    );
    assert!(
        one(&problems_of(&text), "step.numbering.unused")
            .starts_with("broken.toml: channels[portal].steps[2.2].numbering: ")
    );
    // An issue_document step names its document; no other step does.
    let text = REAL_ESTATE.replacen("document = \"real_estate_certificate\"\n", "", 1);
    assert_eq!(
        one(&problems_of(&text), "step.document.missing"),
        "broken.toml: channels[psc].steps[C2].document: a step that calls issue_document names the document issued [rule step.document.missing]"
    );
    let text = REAL_ESTATE.replacen(
        "call = \"eds_check\"\n",
        "call = \"eds_check\"\ndocument = \"legal_entity_record\"\n",
        1,
    );
    assert!(
        one(&problems_of(&text), "step.document.not_issued")
            .starts_with("broken.toml: channels[psc].steps[C3].document: ")
    );
    // The appeals report counts by the statuses of 000 §10.
    let text = APPEAL.replacen("code = \"redirected\"", "code = \"forwarded\"", 1);
    let found = problems_of(&text);
    assert!(
        found.iter().any(|p| p.to_string()
            == "broken.toml: reports[appeals]: the appeals report counts by status \"redirected\", which the regulation lacks [rule report.status.missing]"),
        "{found:?}"
    );
    let text = APPEAL.replacen(
        "reports = [\"appeals\"]",
        "reports = [\"appeals\", \"appeals\"]",
        1,
    );
    assert!(
        one(&problems_of(&text), "report.duplicate").starts_with("broken.toml: reports[appeals]: ")
    );
    // The Portal's space holds only what was made on the Portal.
    let text = ARCHIVAL_REFERENCE.replacen(
        "automation = ",
        "portal_space_limit = true\nautomation = ",
        1,
    );
    assert!(
        problems_of(&text).is_empty(),
        "the archival reference has a portal channel"
    );
    let text = REAL_ESTATE.replacen(
        "automation = ",
        "portal_space_limit = true\nautomation = ",
        1,
    );
    assert_eq!(
        one(&problems_of(&text), "portal_space_limit.no_portal"),
        "broken.toml: portal_space_limit: only applications made on the Portal are kept in the applicant's space there (000 §18.2) [rule portal_space_limit.no_portal]"
    );
}

/// The one problem of a file where `from` was replaced by `to`: refused when read, naming the file,
/// the line and key, the rule `name.unknown`, the unknown name and the names the format knows.
fn refused_name(text: &str, from: &str, to: &str, key: &str, known: &str) {
    assert!(text.contains(from), "{from}");
    let start = text.find(from).unwrap();
    let line = text[..start].matches('\n').count() + 1;
    let broken = text.replacen(from, to, 1);
    let found = problems_of(&broken);
    assert_eq!(found.len(), 1, "{found:?}");
    let problem = &found[0];
    assert_eq!(problem.file, "broken.toml");
    assert_eq!(problem.element, format!("line {line}: {key}"), "{problem}");
    assert_eq!(problem.rule, "name.unknown", "{problem}");
    let unknown = to.split('"').nth(1).unwrap();
    assert!(problem.message.contains(unknown), "{problem}");
    assert!(problem.message.contains(known), "{problem}");
}

#[test]
fn an_unknown_step_kind_is_refused_naming_file_element_and_rule() {
    refused_name(
        ARCHIVAL_REFERENCE,
        "kind = \"condition\"",
        "kind = \"decision\"",
        "kind",
        "condition",
    );
    for kind in [StepKind::Action, StepKind::Condition, StepKind::End] {
        let name = serde_json::to_value(kind).unwrap();
        assert_eq!(serde_json::from_value::<StepKind>(name).unwrap(), kind);
    }
}

#[test]
fn an_unknown_gateway_call_is_refused_naming_file_element_and_rule() {
    refused_name(
        ARCHIVAL_REFERENCE,
        "call = \"deliver\"",
        "call = \"fax\"",
        "call",
        "status_sync",
    );
    for call in GatewayCall::ALL {
        let name = serde_json::to_value(call).unwrap();
        assert_eq!(name, call.as_str());
        assert_eq!(serde_json::from_value::<GatewayCall>(name).unwrap(), call);
    }
}

#[test]
fn an_unknown_step_record_is_refused_naming_file_element_and_rule() {
    refused_name(
        APPEAL,
        "records = [\"registration_number\"]",
        "records = [\"registration_no\"]",
        "records",
        "registration_number",
    );
    let names: std::collections::BTreeSet<_> = StepRecord::ALL
        .iter()
        .map(|r| serde_json::to_value(r).unwrap().to_string())
        .collect();
    assert_eq!(names.len(), StepRecord::ALL.len());
}

#[test]
fn an_unknown_field_type_is_refused_naming_file_element_and_rule() {
    refused_name(
        ARCHIVAL_REFERENCE,
        "type = \"date\"",
        "type = \"datetime\"",
        "type",
        "long_text",
    );
    let names: std::collections::BTreeSet<_> = FieldType::ALL
        .iter()
        .map(|t| serde_json::to_value(t).unwrap().to_string())
        .collect();
    assert_eq!(names.len(), FieldType::ALL.len());
}

/// A small regulation with two categories of individual, a field and a document for one of them.
fn with_categories(extra: &str) -> String {
    let categories = r#"
[[categories]]
code = "resident"
recipient = "individual"
label = { kk = "Резидент", ru = "Резидент" }

[[categories]]
code = "non_resident"
recipient = "individual"
label = { kk = "Бейрезидент", ru = "Нерезидент" }
channels = ["provider"]
"#;
    let text =
        ARCHIVAL_REFERENCE.replacen("\n[[units]]", &format!("{categories}{extra}\n[[units]]"), 1);
    assert_ne!(text, ARCHIVAL_REFERENCE);
    text
}

#[test]
fn categories_choose_the_form_and_the_channels_that_serve_them() {
    let r = check("regional.toml", &with_categories("")).unwrap();
    let codes = |channel: &str| -> Vec<&str> {
        r.categories_of(channel, Recipient::Individual)
            .iter()
            .map(|c| c.code.as_str())
            .collect()
    };
    assert_eq!(codes("provider"), ["resident", "non_resident"]);
    assert_eq!(codes("portal"), ["resident"]);
    assert!(r.categories_of("portal", Recipient::LegalEntity).is_empty());
    // A category the channel does not serve is refused, naming the field.
    let typed = form::category_of(&r, "portal", Recipient::Individual, Some("non_resident"));
    assert_eq!(typed.unwrap_err().field, form::CATEGORY);
    assert!(form::category_of(&r, "portal", Recipient::Individual, None).is_err());
    assert_eq!(
        form::category_of(&r, "portal", Recipient::Individual, Some("resident")).unwrap(),
        Some("resident")
    );
    // A recipient without categories needs none.
    assert_eq!(
        form::category_of(&r, "portal", Recipient::LegalEntity, Some("x")).unwrap(),
        None
    );
}

#[test]
fn a_category_nothing_declares_is_refused_naming_element_and_rule() {
    let text = with_categories("").replacen(
        "code = \"purpose\"",
        "code = \"purpose\"\ncategories = [\"tourist\"]",
        1,
    );
    let problems = check("regional.toml", &text).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.rule == "category.unknown" && p.element.contains("purpose")),
        "{problems:?}"
    );
    let doubled = with_categories(
        "\n[[categories]]\ncode = \"resident\"\nrecipient = \"individual\"\nlabel = { kk = \"А\", ru = \"Б\" }\nchannels = [\"fax\"]\n",
    );
    let problems = check("regional.toml", &doubled).unwrap_err();
    for rule in ["category.code.duplicate", "category.channel.unknown"] {
        assert!(
            problems.iter().any(|p| p.rule == rule),
            "{rule}: {problems:?}"
        );
    }
}

#[test]
fn a_step_output_must_be_an_output_of_the_regulation_and_a_recorded_answer() {
    let unknown = ARCHIVAL_REFERENCE.replacen(
        "output = \"archival_reference\"",
        "output = \"certificate\"",
        1,
    );
    assert_ne!(unknown, ARCHIVAL_REFERENCE);
    let problems = check("regional.toml", &unknown).unwrap_err();
    assert!(
        problems.iter().any(|p| p.rule == "step.output.unknown"),
        "{problems:?}"
    );
    let no_answer = ARCHIVAL_REFERENCE.replacen(
        "records = [\"answer\", \"answer_signature\"]\noutput",
        "records = [\"comment\"]\noutput",
        1,
    );
    assert_ne!(no_answer, ARCHIVAL_REFERENCE);
    let problems = check("regional.toml", &no_answer).unwrap_err();
    assert!(
        problems.iter().any(|p| p.rule == "step.output.no_answer"),
        "{problems:?}"
    );
}
