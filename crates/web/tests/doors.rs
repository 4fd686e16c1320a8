//! Every door proven, generated from the regulations (issue 17, item 5), on SQLite and on
//! PostgreSQL. For every regulation of the compiled-in catalogue × every channel × every recipient
//! the regulation allows, the application is made the way a person makes it, through the HTTP
//! routes of the web crate:
//!
//! - the **portal** (a `portal` channel): the applicant signs in, opens the service's form, fills
//!   every field a person types (a field the registry fills, `from_registry`, is never typed: the
//!   browser sends what the page shows), saves the draft and attaches a file for every attachment
//!   field, goes to signing, pays where the channel checks a payment, signs the exact bytes the
//!   sign page shows with their own key (the pki crate's CMS builder, as the signing agent does)
//!   and submits;
//! - the **machine API** (a `portal` channel): `POST /api/services/{code}/applications` with a
//!   CMS made by the `openssl cms -sign` command line from the person's key and certificate
//!   exported as PEM; the providers come from `/api/regulations`;
//! - the **PSC counter** (a `psc` channel): an operator of the branch looks the person up (the
//!   entity with its head; the representative with the notarial power of attorney), keeps what
//!   the registries filled, types the rest, ticks every document, scans, records the consent and
//!   accepts;
//! - the **provider's front office** (a `provider` channel, `/front`): the provider's clerk does
//!   the same at the provider's own desk, choosing the applicant category where the regulation
//!   tells them apart (the first the channel serves for the recipient).
//!
//! After the engine's system steps have run, each application must stand where its
//! channel's success path puts the first staff step nobody has done yet (or at its end, when the
//! path has no staff step), with no failure branch taken. Then, for every service and door channel,
//! one of those applications is taken to its final result by the staff: each step's act on the
//! application's card (`/office/applications/{id}/act`), done by the member of the provider or of
//! the PSC branch whose role does the step's unit, with what the step records (the executor, the
//! resolution, the answer, the EDS over the answer or over the request, a comment), the condition
//! held, until the application is closed with the result.
//!
//! The test prints what it walked and fails listing every combination that could not be walked,
//! with the page's error text.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use jiff::Timestamp;
use qyzmet_ca::{Service, code};
use qyzmet_domain::directory::{Role, StaffMember};
use qyzmet_domain::ids::{Bin, Iin, Sex, TaxpayerId};
use qyzmet_domain::registry::{Person, PowerOfAttorney};
use qyzmet_domain::regulation::form::fields_for;
use qyzmet_domain::regulation::{
    Applying, Channel, Field, FieldType, GatewayCall, Recipient, Regulation, Step, StepRecord,
    units_for_role,
};
use qyzmet_domain::workflow::{Actor, Position, position};
use qyzmet_pki::authority::{Endpoints, Profile};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_store::Store;
use qyzmet_store::workflow::InstanceRow;
use support::{Client, PSC_BRANCH, Page, Platform, Who, attribute, unescape};

/// The passphrase `support::Platform` protects the CAs' keys with.
const CA_PASSPHRASE: &[u8] = b"passphrase";
/// The window of the counter the applicants are served at.
const WINDOW: &str = "3";
/// How many staff acts one application may take to its result before the walk calls it a loop.
const MAX_ACTS: usize = 30;
/// A scanned page.
const SCAN: &[u8] = b"%PDF-1.4\n% a scanned page\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Door {
    Portal,
    Api,
    Counter,
    FrontOffice,
}

impl Door {
    fn name(self) -> &'static str {
        match self {
            Door::Portal => "portal",
            Door::Api => "API",
            Door::Counter => "counter",
            Door::FrontOffice => "front office",
        }
    }

    /// The doors a channel has today.
    fn of(channel: &str) -> &'static [Door] {
        match channel {
            "portal" => &[Door::Portal, Door::Api],
            "psc" => &[Door::Counter],
            "provider" => &[Door::FrontOffice],
            _ => &[],
        }
    }
}

/// Who applies as a kind of recipient: the person at the door and what the application names.
struct Party<'a> {
    recipient: Recipient,
    /// The applicant category, where the regulation tells them apart on the channel walked.
    category: Option<String>,
    /// The person who signs in, signs, or stands at the counter (an entity's head, an attorney).
    person: &'a Who,
    /// The application's applicant: the IIN, or the BIN of an entity.
    applicant: String,
    /// For an entity: its BIN.
    bin: Option<String>,
    /// For a representative: the notarial power of attorney's number and the principal's IIN or BIN.
    power: Option<(String, TaxpayerId)>,
}

/// A member of staff who acts in the result walks.
struct Member {
    iin: String,
    role: Role,
    signing: KeyStore,
}

struct World {
    platform: Platform,
    /// Staff by organisation and role.
    staff: HashMap<(String, Role), Member>,
    /// The representative of an individual (alice's attorney) and of the legal entity.
    attorney_of_person: (String, TaxpayerId),
    attorney_of_entity: (String, TaxpayerId),
    /// Where the PEM files of the API's signers are written.
    files: tempfile::TempDir,
    today: String,
}

impl World {
    async fn new(store: &Store) -> World {
        let platform = Platform::new(store).await;
        let today = Timestamp::now()
            .to_zoned_datetime(platform.state.calendar.time_zone().clone())
            .date();
        // The entity's head applies on the portal for its BIN (her certificates carry it).
        support::account(store, &platform.dana.iin, Some(&platform.bin)).await;

        // Notarial powers of attorney (БНАЖ): bob acts for alice, erlan for the entity.
        let bin = Bin::parse(&platform.bin).unwrap();
        let alice = Iin::parse(&platform.alice.iin).unwrap();
        let powers = [
            ("ДОВ-ЕСІК-1", TaxpayerId::Iin(alice), &platform.bob),
            ("ДОВ-ЕСІК-2", TaxpayerId::Bin(bin), &platform.erlan),
        ];
        let mut tx = store.begin_write().await.unwrap();
        for (number, principal, attorney) in &powers {
            let power = PowerOfAttorney::new(
                number,
                *principal,
                Iin::parse(&attorney.iin).unwrap(),
                "Қызылорда қаласының нотариусы",
                today.yesterday().unwrap(),
                today.checked_add(jiff::Span::new().days(30)).unwrap(),
                vec!["*".into()],
                false,
            )
            .unwrap();
            qyzmet_store::registry::insert_power(&mut tx, &power)
                .await
                .unwrap();
        }
        support::commit_seed(tx, "powers").await;

        let staff = Self::staff(store, &platform).await;
        World {
            attorney_of_person: (powers[0].0.to_owned(), powers[0].1),
            attorney_of_entity: (powers[1].0.to_owned(), powers[1].1),
            platform,
            staff,
            files: tempfile::tempdir().unwrap(),
            today: today.to_string(),
        }
    }

    /// A clerk, an executor and a head in every organisation that provides a service of the
    /// catalogue (the platform's own National Archive and Ministry staff where they exist), each
    /// with a signing key of the state bodies' CA and an account; and the PSC branch's operator.
    async fn staff(store: &Store, platform: &Platform) -> HashMap<(String, Role), Member> {
        let mut staff = HashMap::new();
        let known = [
            (support::ARCHIVE, Role::Clerk, &platform.clerk),
            (support::ARCHIVE, Role::Executor, &platform.executor),
            (support::ARCHIVE, Role::Head, &platform.head),
            (support::MINISTRY, Role::Clerk, &platform.ministry_clerk),
            (PSC_BRANCH, Role::PscOperator, &platform.psc_operator),
        ];
        for (organisation, role, who) in known {
            staff.insert(
                (organisation.to_owned(), role),
                Member {
                    iin: who.iin.clone(),
                    role,
                    signing: who.signing.clone(),
                },
            );
        }
        let providers: BTreeSet<String> = platform
            .state
            .catalogue
            .all()
            .flat_map(|l| l.regulation.providers.clone())
            .collect();
        let service = Service {
            store: store.clone(),
            endpoints: Endpoints {
                base_url: "http://127.0.0.1:9".into(),
            },
        };
        let authorities = service.load(CA_PASSPHRASE).await.unwrap();
        let mut members = Vec::new();
        let mut tx = store.begin_write().await.unwrap();
        // Serials whose IIN has no valid check digit are skipped, as the registry does.
        let mut serials = (100..).filter_map(|serial| {
            Iin::compose(jiff::civil::date(1979, 9, 3), Sex::Male, serial).map(|iin| (serial, iin))
        });
        for organisation in &providers {
            for role in [Role::Clerk, Role::Executor, Role::Head] {
                if staff.contains_key(&(organisation.clone(), role)) {
                    continue;
                }
                let (serial, iin) = serials.next().unwrap();
                let surname = format!("Қызметкеров{serial}");
                let person =
                    Person::new(iin, &surname, "Асхат", None, "Қызылорда", "kyzylorda").unwrap();
                qyzmet_store::registry::insert_person(&mut tx, &person)
                    .await
                    .unwrap();
                members.push((organisation.clone(), role, iin, surname));
            }
        }
        support::commit_seed(tx, "staff").await;
        let appointed: Vec<StaffMember> = members
            .iter()
            .map(|(organisation, role, iin, _)| support::appointment(*iin, organisation, *role))
            .collect();
        support::appoint(store, &appointed).await;
        for (organisation, role, iin, surname) in members {
            let signing = support::issue(
                &service,
                &authorities,
                code::GOV,
                &support::holder(&surname, "Асхат", iin, None),
                Profile::Signing { role: None },
            )
            .await;
            support::account(store, &iin.to_string(), None).await;
            staff.insert(
                (organisation, role),
                Member {
                    iin: iin.to_string(),
                    role,
                    signing,
                },
            );
        }
        staff
    }

    /// Who applies as `recipient` for `regulation`: alice; the entity through its head dana; a
    /// representative with a notarial power of attorney (of alice where the service is for
    /// individuals, else of the entity).
    fn party(&self, regulation: &Regulation, channel: &str, recipient: Recipient) -> Party<'_> {
        let p = &self.platform;
        let category = regulation
            .categories_of(channel, recipient)
            .first()
            .map(|c| c.code.clone());
        match recipient {
            Recipient::Individual => Party {
                recipient,
                category,
                person: &p.alice,
                applicant: p.alice.iin.clone(),
                bin: None,
                power: None,
            },
            Recipient::LegalEntity => Party {
                recipient,
                category,
                person: &p.dana,
                applicant: p.bin.clone(),
                bin: Some(p.bin.clone()),
                power: None,
            },
            Recipient::Representative => {
                let (person, power) = if regulation.recipients.contains(&Recipient::Individual) {
                    (&p.bob, &self.attorney_of_person)
                } else {
                    (&p.erlan, &self.attorney_of_entity)
                };
                Party {
                    recipient,
                    category,
                    person,
                    applicant: person.iin.clone(),
                    bin: None,
                    power: Some(power.clone()),
                }
            }
        }
    }
}

// --- Reading pages ---------------------------------------------------------------------------------

/// A form field as a page shows it.
struct Shown {
    readonly: bool,
    value: String,
    /// For a select: the values offered (the empty choice left out).
    options: Vec<String>,
}

/// The element `field-<code>` of a form generated from the regulation.
fn shown(page: &Page, code: &str) -> Option<Shown> {
    let text = page.text();
    let at = text.find(&format!("id=\"field-{code}\""))?;
    let open = text[..at].rfind('<')?;
    let close = at + text[at..].find('>')?;
    let tag = &text[open..=close];
    let name: String = tag[1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let rest = &text[close + 1..];
    let (value, options) = match name.as_str() {
        "textarea" => (
            unescape(&rest[..rest.find("</textarea>").unwrap_or(0)]),
            Vec::new(),
        ),
        "select" => {
            let inner = &rest[..rest.find("</select>").unwrap_or(0)];
            let mut value = String::new();
            let mut options = Vec::new();
            for option in inner.split("<option").skip(1) {
                let tag = &option[..option.find('>').unwrap_or(option.len())];
                let Some(v) = attribute(tag, "value") else {
                    continue;
                };
                if tag.contains(" selected") {
                    value = v.clone();
                }
                if !v.is_empty() {
                    options.push(v);
                }
            }
            (value, options)
        }
        _ => (attribute(tag, "value").unwrap_or_default(), Vec::new()),
    };
    Some(Shown {
        readonly: tag.contains(" readonly"),
        value,
        options,
    })
}

/// The values of the checkboxes named `name` on a page.
fn checkboxes(page: &Page, name: &str) -> Vec<String> {
    let text = page.text();
    text.split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            (tag.contains("type=\"checkbox\"") && attribute(tag, "name").as_deref() == Some(name))
                .then(|| attribute(tag, "value"))
                .flatten()
        })
        .collect()
}

/// The options of the select with this id.
fn options(page: &Page, id: &str) -> Vec<String> {
    let text = page.text();
    let Some(at) = text.find(&format!("id=\"{id}\"")) else {
        return Vec::new();
    };
    let rest = &text[at..];
    let inner = &rest[..rest.find("</select>").unwrap_or(0)];
    inner
        .split("<option")
        .skip(1)
        .filter_map(|o| attribute(&o[..o.find('>').unwrap_or(o.len())], "value"))
        .filter(|v| !v.is_empty())
        .collect()
}

/// What a page says is wrong: its alerts (`role="alert"`, with the element's id, e.g.
/// `error-full_name`), or a JSON error, or the start of its text.
fn reason(page: &Page) -> String {
    let text = page.text();
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(error) = json.get("error")
    {
        return format!(
            "{} {}: {} ({}: {})",
            page.status,
            error["field"].as_str().unwrap_or_default(),
            error["message"].as_str().unwrap_or_default(),
            error["rule"].as_str().unwrap_or_default(),
            error["detail"].as_str().unwrap_or_default(),
        );
    }
    let mut alerts = Vec::new();
    for (at, _) in text.match_indices("role=\"alert\"") {
        let Some(open) = text[..at].rfind('<') else {
            continue;
        };
        let Some(close) = text[at..].find('>').map(|c| at + c) else {
            continue;
        };
        let inner = &text[close + 1..];
        let words = unescape(inner[..inner.find('<').unwrap_or(inner.len())].trim());
        if words.is_empty() {
            continue;
        }
        match attribute(&text[open..close], "id") {
            Some(id) => alerts.push(format!("{id}: {words}")),
            None => alerts.push(words),
        }
    }
    if alerts.is_empty() {
        let mut plain = String::new();
        let mut in_tag = false;
        for c in text.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    plain.push(' ');
                }
                c if !in_tag => plain.push(c),
                _ => {}
            }
        }
        let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
        alerts.push(plain.chars().take(240).collect());
    }
    format!("{} {}", page.status, alerts.join("; "))
}

// --- Filling a form --------------------------------------------------------------------------------

/// What a person types into an empty field of this type (choices and organisations from the
/// options offered).
/// The forms' fields that carry a PKCS#10 request (003 Std-1 Annexes 1, 3, 4, 6–8).
const KEY_REQUEST_FIELDS: [&str; 3] = [
    "signature_public_key",
    "authentication_public_key",
    "pkcs10_request",
];

fn typed(world: &World, party: &Party<'_>, field: &Field, offered: &[String]) -> String {
    let code = field.code.as_str();
    let principal = party.power.as_ref().map(|(_, p)| p);
    let value = match field.field_type {
        FieldType::Date => world.today.clone(),
        FieldType::Iin => match principal {
            Some(TaxpayerId::Iin(iin))
                if code.contains("principal") || code.contains("recipient") =>
            {
                iin.to_string()
            }
            _ => party.person.iin.clone(),
        },
        FieldType::Bin => match principal {
            Some(TaxpayerId::Bin(bin)) => bin.to_string(),
            _ => world.platform.bin.clone(),
        },
        FieldType::Email => format!("{}@mail.kz", party.person.iin),
        FieldType::Phone => "+7 (701) 555-12-34".into(),
        FieldType::Number => "1".into(),
        FieldType::Choice | FieldType::Organisation => {
            offered.first().cloned().unwrap_or_else(|| "0".into())
        }
        // A key pair made as the person's agent would, its PKCS#10 signed with the new key.
        FieldType::LongText if KEY_REQUEST_FIELDS.contains(&code) => {
            let key =
                qyzmet_pki::PrivateKey::generate(qyzmet_pki::KeyAlgorithm::EcdsaP256).unwrap();
            let subject = qyzmet_ca::authority_name("Өтініш беруші").unwrap();
            let dns = if code == "pkcs10_request" {
                vec!["example.kz".to_owned()]
            } else {
                vec![]
            };
            base64::engine::general_purpose::STANDARD
                .encode(qyzmet_pki::pkcs10::build(&key, subject, &dns).unwrap())
        }
        FieldType::LongText => "Мұрағаттық анықтама беруіңізді сұраймын.".into(),
        _ if code.contains("power_of_attorney") => party
            .power
            .as_ref()
            .map(|(number, _)| number.clone())
            .unwrap_or_default(),
        // The person's own authentication certificate (the walks sign with the signing one).
        _ if code.contains("serial") => qyzmet_pki::authority::serial_hex(
            &party.person.auth.certificate.tbs_certificate.serial_number,
        ),
        _ => format!("{}: {}", field.label.kk, party.person.surname),
    };
    match field.max_length {
        Some(max) => value.chars().take(max as usize).collect(),
        None => value,
    }
}

/// The form's pairs as a person sends them from `page`: a field the page shows read-only is sent
/// as shown (the registry's value, never typed), a pre-filled one is kept, an empty one is typed.
fn fill(
    world: &World,
    party: &Party<'_>,
    regulation: &Regulation,
    page: &Page,
) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for field in fields_for(regulation, party.applying()) {
        if field.field_type == FieldType::Attachment {
            continue;
        }
        let Some(shown) = shown(page, &field.code) else {
            return Err(format!("the form does not show the field {}", field.code));
        };
        if field.from_registry.is_some() && !shown.readonly {
            return Err(format!(
                "the registry's field {} ({:?}) is not read-only",
                field.code, field.from_registry
            ));
        }
        let value = if shown.readonly || !shown.value.is_empty() {
            shown.value
        } else {
            typed(world, party, field, &shown.options)
        };
        pairs.push((field.code.clone(), value));
    }
    Ok(pairs)
}

impl Party<'_> {
    fn applying(&self) -> Applying<'_> {
        Applying {
            recipient: self.recipient,
            category: self.category.as_deref(),
        }
    }
}

fn attachment_fields<'r>(regulation: &'r Regulation, party: &Party<'_>) -> Vec<&'r Field> {
    fields_for(regulation, party.applying())
        .into_iter()
        .filter(|f| f.field_type == FieldType::Attachment)
        .collect()
}

// --- The doors -------------------------------------------------------------------------------------

/// The portal: form, draft and attachments, payment, the sign page's document signed with the
/// person's key, submission. Returns the application's id.
async fn through_portal(
    world: &World,
    client: &mut Client,
    regulation: &Regulation,
    party: &Party<'_>,
) -> Result<String, String> {
    let code = &regulation.code;
    let apply = format!("/services/{code}/apply");
    // The category is chosen above the form first (the form follows it).
    let first = match &party.category {
        Some(category) => format!("{apply}?category={category}"),
        None => apply.clone(),
    };
    let form = client.get(&first).await;
    if form.status != StatusCode::OK {
        return Err(format!("the form page: {}", reason(&form)));
    }
    let mut pairs = fill(world, party, regulation, &form)?;
    pairs.insert(0, ("csrf".into(), form.csrf()));
    if let Some(category) = &party.category {
        pairs.push(("category".into(), category.clone()));
    }
    let attachments = attachment_fields(regulation, party);
    if !attachments.is_empty() {
        // Saved first: files are attached to a draft.
        let mut save = pairs.clone();
        save.push(("action".into(), "save".into()));
        let saved = client.post_pairs(&apply, &save).await;
        if saved.status != StatusCode::SEE_OTHER {
            return Err(format!("saving the draft: {}", reason(&saved)));
        }
        let draft = saved
            .location()
            .split("draft=")
            .nth(1)
            .and_then(|rest| rest.split('&').next())
            .unwrap_or_default()
            .to_owned();
        for field in &attachments {
            let page = client.get(&format!("{apply}?draft={draft}")).await;
            let attached = client
                .post_file(
                    &format!("/drafts/{draft}/attachments"),
                    &[("csrf", &page.csrf())],
                    ("file", &format!("{}.pdf", field.code), SCAN),
                )
                .await;
            if attached.status != StatusCode::SEE_OTHER {
                return Err(format!("attaching {}: {}", field.code, reason(&attached)));
            }
        }
        pairs.push(("draft".into(), draft));
    }
    pairs.push(("action".into(), "prepare".into()));
    let prepared = client.post_pairs(&apply, &pairs).await;
    if prepared.status != StatusCode::SEE_OTHER || !prepared.location().ends_with("/sign") {
        return Err(format!("check and go to signing: {}", reason(&prepared)));
    }
    let sign_path = prepared.location();
    let mut sign_page = client.get(&sign_path).await;
    if sign_page.status != StatusCode::OK {
        return Err(format!("the sign page: {}", reason(&sign_page)));
    }
    if sign_page.text().contains("id=\"payment\"") {
        let pay_path = sign_path.replace("/sign", "/pay");
        // The fee is fixed by the regulation (a hidden field), else the person types an amount.
        let amount = sign_page
            .tag_with("name=\"amount\"")
            .and_then(|tag| attribute(&tag, "value"))
            .unwrap_or_else(|| "1000".into());
        let paid = client
            .post(
                &pay_path,
                &[("csrf", &sign_page.csrf()), ("amount", &amount)],
            )
            .await;
        if paid.status != StatusCode::SEE_OTHER {
            return Err(format!("paying: {}", reason(&paid)));
        }
        sign_page = client.get(&sign_path).await;
    }
    let Some(encoded) = sign_page.attribute_after("data-document=", "data-document") else {
        return Err(format!(
            "the sign page has no document: {}",
            reason(&sign_page)
        ));
    };
    let document = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("the sign page's document is not base64: {e}"))?;
    let signed: serde_json::Value = serde_json::from_slice(&document)
        .map_err(|e| format!("the signed document is not JSON: {e}"))?;
    let recipient = signed["recipient"].as_str().unwrap_or_default();
    if recipient != party.recipient.code() {
        return Err(format!(
            "the portal has no form for the recipient {}: the sign page's document says {recipient:?}",
            party.recipient.code()
        ));
    }
    let submit_path = sign_page
        .tag_attribute("sign-form", "action")
        .ok_or_else(|| format!("the sign page has no signing form: {}", reason(&sign_page)))?;
    let submitted = client
        .post(
            &submit_path,
            &[
                ("csrf", &sign_page.csrf()),
                ("cms", &support::sign(&document, &party.person.signing)),
            ],
        )
        .await;
    if submitted.status != StatusCode::SEE_OTHER {
        return Err(format!("submitting: {}", reason(&submitted)));
    }
    let location = submitted.location();
    location
        .strip_prefix("/cabinet/applications/")
        .and_then(|rest| rest.split('?').next())
        .map(str::to_owned)
        .ok_or_else(|| format!("submitting led to {location}"))
}

fn pem(label: &str, der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).unwrap());
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

/// The person's key and certificates as OpenSSL reads them: (key, certificate, chain) paths.
fn pem_files(dir: &Path, keys: &KeyStore, name: &str) -> (String, String, String) {
    let path = |file: &str| dir.join(format!("{name}.{file}")).display().to_string();
    let key = keys.key.to_pkcs8_der().unwrap();
    std::fs::write(path("key.pem"), pem("PRIVATE KEY", key.as_bytes())).unwrap();
    let certificate = qyzmet_pki::algorithm::to_der(&keys.certificate).unwrap();
    std::fs::write(path("cert.pem"), pem("CERTIFICATE", &certificate)).unwrap();
    let chain: String = keys
        .chain
        .iter()
        .map(|c| pem("CERTIFICATE", &qyzmet_pki::algorithm::to_der(c).unwrap()))
        .collect();
    std::fs::write(path("chain.pem"), chain).unwrap();
    (path("key.pem"), path("cert.pem"), path("chain.pem"))
}

/// `openssl cms -sign` over `document` with the person's PEM files: the DER CMS, the document
/// inside.
fn openssl_sign(dir: &Path, keys: &KeyStore, name: &str, document: &[u8]) -> Vec<u8> {
    let (key, certificate, chain) = pem_files(dir, keys, name);
    let input = dir.join(format!("{name}.json"));
    let output = dir.join(format!("{name}.p7s"));
    std::fs::write(&input, document).unwrap();
    let out = Command::new("openssl")
        .args(["cms", "-sign", "-binary", "-nodetach", "-md", "sha256"])
        .arg("-in")
        .arg(&input)
        .args(["-signer", &certificate, "-inkey", &key, "-certfile", &chain])
        .args(["-outform", "DER", "-out"])
        .arg(&output)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl cms -sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(output).unwrap()
}

/// The machine door: the application document signed by `openssl cms -sign`, posted to the API.
async fn through_api(
    world: &World,
    catalogue: &serde_json::Value,
    regulation: &Regulation,
    party: &Party<'_>,
) -> Result<String, String> {
    let code = &regulation.code;
    let providers: Vec<String> = catalogue
        .as_array()
        .and_then(|all| all.iter().find(|r| r["code"] == code.as_str()))
        .and_then(|r| r["providers"].as_array())
        .map(|p| {
            p.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut form = serde_json::Map::new();
    if let Some(category) = &party.category {
        form.insert("category".into(), category.clone().into());
    }
    for field in fields_for(regulation, party.applying()) {
        // Attachments have no place in the API's document; the registry fills its fields.
        if field.field_type == FieldType::Attachment || field.from_registry.is_some() {
            continue;
        }
        let offered: Vec<String> = match field.field_type {
            FieldType::Organisation => providers.clone(),
            _ => (0..field.choices.len()).map(|i| i.to_string()).collect(),
        };
        form.insert(
            field.code.clone(),
            typed(world, party, field, &offered).into(),
        );
    }
    let request_id = uuid::Uuid::now_v7().to_string();
    let mut document = serde_json::json!({
        "service": code,
        "channel": "portal",
        "recipient": party.recipient.code(),
        "applicant": party.applicant,
        "request_id": request_id,
        "form": form,
    });
    // A paid service (the channel checks the payment): the client pays first and sends the
    // payment gateway's receipt with the application.
    let paid = regulation
        .channel("portal")
        .is_some_and(|c| c.steps.iter().any(|s| s.calls(GatewayCall::PaymentCheck)));
    if paid {
        document["payment"] = serde_json::json!({
            "id": format!("PAY-{}", uuid::Uuid::now_v7().simple()),
            "status": "paid",
            "amount": regulation.fee.unwrap_or(1000),
            "at": Timestamp::now().to_string(),
            "bank": "simulated",
        });
    }
    let name = format!("{code}-{}", party.recipient.code());
    let cms = openssl_sign(
        world.files.path(),
        &party.person.signing,
        &name,
        document.to_string().as_bytes(),
    );
    let answer = world
        .platform
        .client()
        .send(
            Request::post(format!("/api/services/{code}/applications"))
                .header(header::CONTENT_TYPE, "application/pkcs7-mime"),
            Body::from(cms),
        )
        .await;
    if answer.status != StatusCode::CREATED {
        return Err(format!(
            "POST /api/services/{code}/applications: {}",
            reason(&answer)
        ));
    }
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    json["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("the API answered without an id: {}", answer.text()))
}

/// A desk (`/psc`, the PSC counter; `/front`, the provider's front office): look-up, the form as
/// the registries filled it and the rest typed, every document ticked, scans, consent, accept.
/// Returns the application's id.
async fn at_the_counter(
    world: &World,
    (operator, desk): (&mut Client, &str),
    regulation: &Regulation,
    party: &Party<'_>,
) -> Result<String, String> {
    let code = &regulation.code;
    let lookup = [
        ("recipient", party.recipient.code().to_owned()),
        ("category", party.category.clone().unwrap_or_default()),
        ("lookup_iin", party.person.iin.clone()),
        ("lookup_bin", party.bin.clone().unwrap_or_default()),
        (
            "lookup_poa",
            party
                .power
                .as_ref()
                .map(|(n, _)| n.clone())
                .unwrap_or_default(),
        ),
    ];
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("recipient", &lookup[0].1)
        .append_pair("category", &lookup[1].1)
        .append_pair("iin", &lookup[2].1)
        .append_pair("bin", &lookup[3].1)
        .append_pair("poa", &lookup[4].1)
        .append_pair("window", WINDOW)
        .finish();
    let page = operator.get(&format!("{desk}/intake/{code}?{query}")).await;
    if page.status != StatusCode::OK || page.by_id("found-name").is_none() {
        return Err(format!("the look-up: {}", reason(&page)));
    }
    let mut fields = vec![("csrf".to_owned(), page.csrf())];
    fields.extend(lookup.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    fields.push(("ticket".into(), String::new()));
    fields.push(("window".into(), WINDOW.into()));
    fields.extend(fill(world, party, regulation, &page)?);
    let documents = checkboxes(&page, "document");
    fields.extend(documents.into_iter().map(|d| ("document".to_owned(), d)));
    fields.push(("consent".into(), "1".into()));
    let mut scans = vec![("application.pdf".to_owned(), SCAN.to_vec())];
    for field in attachment_fields(regulation, party) {
        scans.push((format!("{}.pdf", field.code), SCAN.to_vec()));
    }
    let files: Vec<(&str, &str, &[u8])> = scans
        .iter()
        .map(|(name, bytes)| ("scan", name.as_str(), bytes.as_slice()))
        .collect();
    let (content_type, body) = support::multipart(&fields, &files);
    let accepted = operator
        .send(
            Request::post(format!("{desk}/intake/{code}"))
                .header(header::CONTENT_TYPE, content_type),
            Body::from(body),
        )
        .await;
    if accepted.status != StatusCode::SEE_OTHER {
        return Err(format!("accepting at the counter: {}", reason(&accepted)));
    }
    let location = accepted.location();
    if location.ends_with("/refusal") {
        let sheet = operator.get(&location).await;
        return Err(format!("refused at the counter: {}", reason(&sheet)));
    }
    location
        .strip_prefix(&format!("{desk}/applications/"))
        .or_else(|| location.strip_prefix("/office/applications/"))
        .and_then(|rest| rest.split('/').next())
        .map(str::to_owned)
        .ok_or_else(|| format!("accepting led to {location}"))
}

// --- Where an application stands -------------------------------------------------------------------

/// The steps of the application that were done and held (condition passed or action done).
async fn done_steps(store: &Store, id: &str) -> BTreeSet<String> {
    store
        .audit_of("instance", id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record.action == "workflow.move")
        .filter_map(|e| {
            let details: serde_json::Value = serde_json::from_str(&e.record.details).ok()?;
            (details["holds"] == true).then(|| details["from"].as_str().map(str::to_owned))?
        })
        .collect()
}

/// Where the channel's success path stops for an application whose `done` steps are done: the
/// first staff step not done, or the path's end.
fn expected_stop<'a>(
    regulation: &Regulation,
    channel: &'a Channel,
    done: &BTreeSet<String>,
) -> Option<&'a Step> {
    let mut step = channel.steps.first()?;
    for _ in 0..=channel.steps.len() {
        match position(regulation, channel, &step.id).ok()? {
            Position::Ended { .. } => return Some(step),
            Position::Waiting {
                actor: Actor::Staff,
                ..
            } if !done.contains(&step.id) => return Some(step),
            Position::Waiting { .. } => {}
        }
        let next = step.next.as_deref()?;
        step = channel.steps.iter().find(|s| s.id == next)?;
    }
    None
}

/// Why the application took a failure branch: its message and the gateway's refusals.
async fn failure_of(store: &Store, row: &InstanceRow) -> String {
    let refusals: Vec<String> = store
        .messages(&row.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|m| !m.answer_ok)
        .map(|m| format!("{} {}: {}", m.step, m.service, m.answer))
        .collect();
    let message = row
        .message
        .as_deref()
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .and_then(|m| m["en"].as_str().or(m["ru"].as_str()).map(str::to_owned))
        .unwrap_or_default();
    format!("{message} [{}]", refusals.join("; "))
}

/// The application exists as the door said and stands at its channel's first staff step (or at
/// the end of its success path when that has none); returns the step.
async fn check_arrival(
    world: &World,
    regulation: &Regulation,
    channel: &Channel,
    party: &Party<'_>,
    id: &str,
) -> Result<String, String> {
    let store = &world.platform.state.store;
    let Some(row) = store.instance(id).await.unwrap() else {
        return Err(format!("no application {id}"));
    };
    let expect = [
        ("service", row.regulation.as_str(), regulation.code.as_str()),
        ("channel", row.channel.as_str(), channel.code.as_str()),
        ("recipient", row.recipient.as_str(), party.recipient.code()),
        (
            "applicant",
            row.applicant.as_str(),
            party.applicant.as_str(),
        ),
    ];
    for (what, is, should) in expect {
        if is != should {
            return Err(format!(
                "the application's {what} is {is:?}, not {should:?}"
            ));
        }
    }
    if row.message.is_some() {
        return Err(format!(
            "took a failure branch, at {}: {}",
            row.step,
            failure_of(store, &row).await
        ));
    }
    let done = done_steps(store, id).await;
    let Some(stop) = expected_stop(regulation, channel, &done) else {
        return Err("the channel's success path has no end".into());
    };
    if row.step != stop.id {
        return Err(format!(
            "stands at {}, not at the first staff step {}",
            row.step, stop.id
        ));
    }
    match position(regulation, channel, &row.step) {
        Ok(Position::Ended { .. }) if row.closed_ms.is_some() => Ok(row.step),
        Ok(Position::Waiting {
            actor: Actor::Staff,
            ..
        }) if row.closed_ms.is_none() => Ok(row.step),
        other => Err(format!("at {}: {other:?}", row.step)),
    }
}

// --- To the result ---------------------------------------------------------------------------------

/// The member of staff who does `step` of the application: the PSC branch's operator for the
/// PSC's units of an application the counter took; else the provider's clerk, executor or head,
/// whichever role does the unit (a unit named after a post is that post's).
fn member_for<'a>(
    world: &'a World,
    regulation: &Regulation,
    row: &InstanceRow,
    step: &Step,
) -> Result<&'a Member, String> {
    let unit = step.unit.as_str();
    if let Some(office) = &row.office
        && units_for_role(regulation, Role::PscOperator.as_str()).contains(&unit)
    {
        return world
            .staff
            .get(&(office.clone(), Role::PscOperator))
            .ok_or_else(|| format!("no operator at {office}"));
    }
    [Role::Clerk, Role::Executor, Role::Head]
        .into_iter()
        .filter(|role| units_for_role(regulation, role.as_str()).contains(&unit))
        .find_map(|role| world.staff.get(&(row.provider.clone(), role)))
        .ok_or_else(|| format!("nobody of {} does the unit {unit}", row.provider))
}

impl Member {
    /// The member as the sign-in helper knows a person.
    fn who(&self) -> Who {
        Who {
            iin: self.iin.clone(),
            surname: String::new(),
            given_name: String::new(),
            signing: self.signing.clone(),
            auth: self.signing.clone(),
        }
    }
}

/// One staff act on the card, as the member's browser does it: what the step records, the
/// condition held.
/// What the member types into the fields of the step's output document (`output.<code>`).
fn output_pairs(regulation: &Regulation, step: &Step) -> Vec<(String, String)> {
    let Some(output) = step
        .output
        .as_deref()
        .and_then(|code| regulation.outputs.iter().find(|o| o.code == code))
    else {
        return Vec::new();
    };
    output
        .fields
        .iter()
        .filter(|f| f.field_type != FieldType::Attachment)
        .map(|f| {
            let value = match f.field_type {
                FieldType::Date => "2026-12-01".to_owned(),
                FieldType::Number => "1".to_owned(),
                FieldType::Choice => "0".to_owned(),
                _ => format!("{}: тексерілді", f.label.kk),
            };
            (format!("output.{}", f.code), value)
        })
        .collect()
}

async fn act(
    member: &Member,
    client: &mut Client,
    (regulation, id): (&Regulation, &str),
    step: &Step,
) -> Result<(), String> {
    let card_path = format!("/office/applications/{id}");
    let card = client.get(&card_path).await;
    if card.status != StatusCode::OK {
        return Err(format!("the card: {}", reason(&card)));
    }
    if !card.text().contains("id=\"act-form\"") {
        return Err(format!(
            "the card offers the {} no act at {}",
            member.role.as_str(),
            step.id
        ));
    }
    let csrf = card.csrf();
    let has = |record: StepRecord| step.records(record);
    let mut fields = vec![
        ("csrf".to_owned(), csrf.clone()),
        ("step".to_owned(), step.id.clone()),
        ("holds".to_owned(), "1".to_owned()),
    ];
    if has(StepRecord::Executor) {
        let Some(executor) = options(&card, "executor-select").into_iter().next() else {
            return Err(format!("no executor offered at {}", step.id));
        };
        fields.push(("executor".into(), executor));
    }
    if has(StepRecord::Resolution) {
        fields.push(("resolution".into(), "Қарап, жауап дайындаңыз.".into()));
    }
    let answer = "Сұратылған мәліметтер қоса беріліп отыр.";
    if has(StepRecord::Answer) {
        fields.push(("answer".into(), answer.into()));
    }
    if has(StepRecord::Comment) {
        fields.push(("comment".into(), "Құжаттар тексерілді.".into()));
    }
    let output = output_pairs(regulation, step);
    fields.extend(output.iter().cloned());
    if has(StepRecord::AnswerSignature) || has(StepRecord::RequestSignature) {
        let document = if has(StepRecord::AnswerSignature) && has(StepRecord::Answer) {
            // The answer typed in this step is part of what is signed: the page asks for it.
            let mut asked = vec![
                ("csrf".to_owned(), csrf.clone()),
                ("answer".to_owned(), answer.to_owned()),
            ];
            asked.extend(output);
            let asked = client
                .post_pairs(&format!("{card_path}/document"), &asked)
                .await;
            let json: serde_json::Value = serde_json::from_slice(&asked.body)
                .map_err(|_| format!("the answer document: {}", reason(&asked)))?;
            base64::engine::general_purpose::STANDARD
                .decode(json["document"].as_str().unwrap_or_default())
                .unwrap_or_default()
        } else {
            support::document_of(&card)
        };
        fields.push(("cms".into(), support::sign(&document, &member.signing)));
    }
    let done = client
        .post_pairs(&format!("{card_path}/act"), &fields)
        .await;
    if done.status != StatusCode::SEE_OTHER {
        return Err(format!("the act at {}: {}", step.id, reason(&done)));
    }
    Ok(())
}

/// Takes the application to its end with the staff's acts; the end must be the result. Returns
/// the acts done and the end.
async fn to_the_result(
    world: &World,
    clients: &mut HashMap<String, Client>,
    id: &str,
) -> Result<Vec<String>, String> {
    let store = &world.platform.state.store;
    let mut visits: BTreeMap<String, usize> = BTreeMap::new();
    let mut acts = Vec::new();
    for _ in 0..MAX_ACTS {
        world.platform.settle().await;
        let row = store.instance(id).await.unwrap().unwrap();
        let loaded = world.platform.state.catalogue.get(&row.regulation).unwrap();
        let regulation = &loaded.regulation;
        let channel = regulation.channel(&row.channel).unwrap();
        if row.closed_ms.is_some() {
            return match row.outcome.as_deref() {
                Some("result") => {
                    acts.push(row.step.clone());
                    Ok(acts)
                }
                other => Err(format!(
                    "ended at {} with {other:?}: {}",
                    row.step,
                    failure_of(store, &row).await
                )),
            };
        }
        let visited = visits.entry(row.step.clone()).or_default();
        *visited += 1;
        if *visited > 2 {
            return Err(format!(
                "goes round a loop through {}: {}",
                row.step,
                failure_of(store, &row).await
            ));
        }
        let step = match position(regulation, channel, &row.step) {
            Ok(Position::Waiting {
                step,
                actor: Actor::Staff,
            }) => step,
            other => return Err(format!("waits at {} for {other:?}", row.step)),
        };
        let member = member_for(world, regulation, &row, step)?;
        if !clients.contains_key(&member.iin) {
            let client = world
                .platform
                .signed_in(&member.who(), "/office/login")
                .await;
            clients.insert(member.iin.clone(), client);
        }
        let client = clients.get_mut(&member.iin).unwrap();
        act(member, client, (regulation, id), step).await?;
        acts.push(format!("{} by the {}", step.id, member.role.as_str()));
    }
    Err(format!("not closed after {MAX_ACTS} acts"))
}

// --- The walk --------------------------------------------------------------------------------------

/// A result walk: the acts done and the end reached, or why the application did not get there.
type Taken = Result<Vec<String>, String>;

struct Walk {
    service: String,
    channel: String,
    recipient: Recipient,
    door: Door,
    outcome: Result<String, String>,
    /// Where the application stood once the system steps had run.
    arrived: String,
}

impl Walk {
    fn name(&self) -> String {
        format!(
            "{}/{}/{} via the {}",
            self.service,
            self.channel,
            self.recipient.code(),
            self.door.name()
        )
    }
}

async fn every_door_of_every_regulation(store: &Store) {
    let world = World::new(store).await;
    let platform = &world.platform;
    let mut regulations: Vec<_> = platform.state.catalogue.all().cloned().collect();
    regulations.sort_by(|a, b| a.regulation.code.cmp(&b.regulation.code));
    let catalogue: serde_json::Value = {
        let page = platform.client().get("/api/regulations").await;
        serde_json::from_slice(&page.body).unwrap()
    };
    let mut operator = platform
        .signed_in(&platform.psc_operator, "/office/login")
        .await;
    let mut applicants: HashMap<String, Client> = HashMap::new();
    let mut clerks: HashMap<String, Client> = HashMap::new();

    let mut walks = Vec::new();
    let mut without_door = Vec::new();
    for loaded in &regulations {
        let regulation = &loaded.regulation;
        for channel in &regulation.channels {
            let doors = Door::of(&channel.code);
            if doors.is_empty() {
                without_door.push(format!("{}/{}", regulation.code, channel.code));
                continue;
            }
            for &recipient in regulation.recipients_of(&channel.code) {
                let party = world.party(regulation, &channel.code, recipient);
                for &door in doors {
                    let outcome = match door {
                        Door::Portal => {
                            if !applicants.contains_key(&party.person.iin) {
                                let client = platform.signed_in(party.person, "/login").await;
                                applicants.insert(party.person.iin.clone(), client);
                            }
                            let client = applicants.get_mut(&party.person.iin).unwrap();
                            through_portal(&world, client, regulation, &party).await
                        }
                        Door::Api => through_api(&world, &catalogue, regulation, &party).await,
                        Door::Counter => {
                            let desk = (&mut operator, "/psc");
                            at_the_counter(&world, desk, regulation, &party).await
                        }
                        Door::FrontOffice => {
                            // The provider's clerk at its own desk.
                            let provider =
                                regulation.providers.first().cloned().unwrap_or_default();
                            let Some(clerk) = world.staff.get(&(provider.clone(), Role::Clerk))
                            else {
                                panic!("no clerk of {provider}");
                            };
                            if !clerks.contains_key(&provider) {
                                let who = clerk.who();
                                let client = platform.signed_in(&who, "/office/login").await;
                                clerks.insert(provider.clone(), client);
                            }
                            let client = clerks.get_mut(&provider).unwrap();
                            at_the_counter(&world, (client, "/front"), regulation, &party).await
                        }
                    };
                    walks.push(Walk {
                        service: regulation.code.clone(),
                        channel: channel.code.clone(),
                        recipient,
                        door,
                        outcome,
                        arrived: String::new(),
                    });
                }
            }
        }
    }

    // The system steps run; each application must stand at its channel's first staff step.
    platform.settle().await;
    for walk in &mut walks {
        let Ok(id) = &walk.outcome else { continue };
        let loaded = platform.state.catalogue.get(&walk.service).unwrap();
        let regulation = &loaded.regulation;
        let channel = regulation.channel(&walk.channel).unwrap();
        let party = world.party(regulation, &walk.channel, walk.recipient);
        match check_arrival(&world, regulation, channel, &party, id).await {
            Ok(step) => walk.arrived = step,
            Err(why) => walk.outcome = Err(format!("application {id} {why}")),
        }
    }

    // Every service, on each channel with a door: one application to its result.
    let mut staff_clients = HashMap::new();
    let mut results: BTreeMap<String, Vec<(String, Taken)>> = BTreeMap::new();
    let mut completed: Vec<(String, String, String)> = Vec::new();
    let mut channels: BTreeSet<(String, String)> = BTreeSet::new();
    for walk in &walks {
        channels.insert((walk.service.clone(), walk.channel.clone()));
    }
    for (service, channel) in &channels {
        let taken = walks
            .iter()
            .filter(|w| &w.service == service && &w.channel == channel)
            .find_map(|w| w.outcome.as_ref().ok());
        let outcome = match taken {
            Some(id) => to_the_result(&world, &mut staff_clients, id)
                .await
                .map_err(|why| format!("application {id} {why}")),
            None => Err("no application reached its first staff step".into()),
        };
        if let (Some(id), Ok(_)) = (taken, &outcome) {
            completed.push((service.clone(), channel.clone(), id.clone()));
        }
        results
            .entry(service.clone())
            .or_default()
            .push((channel.clone(), outcome));
    }

    let mut failures = registers_found(&world, &completed).await;
    let mut combinations: BTreeMap<(String, String, &str), bool> = BTreeMap::new();
    let mut by_door: BTreeMap<Door, (usize, usize)> = BTreeMap::new();
    for walk in &walks {
        let ok = walk.outcome.is_ok();
        *combinations
            .entry((
                walk.service.clone(),
                walk.channel.clone(),
                walk.recipient.code(),
            ))
            .or_insert(true) &= ok;
        let counted = by_door.entry(walk.door).or_default();
        counted.1 += 1;
        if ok {
            counted.0 += 1;
        }
        if let Err(why) = &walk.outcome {
            failures.push(format!("{}: {why}", walk.name()));
        }
    }
    let mut services_done = 0;
    let mut taken = Vec::new();
    for (service, outcomes) in &results {
        if outcomes.iter().all(|(_, o)| o.is_ok()) {
            services_done += 1;
        }
        for (channel, outcome) in outcomes {
            match outcome {
                Ok(acts) => taken.push(format!("{service}/{channel}: {}", acts.join(", "))),
                Err(why) => failures.push(format!("{service}/{channel} to its result: {why}")),
            }
        }
    }
    let services_without_door: Vec<&str> = regulations
        .iter()
        .map(|l| l.regulation.code.as_str())
        .filter(|code| !results.contains_key(*code))
        .collect();
    let walked = combinations.values().filter(|ok| **ok).count();
    let doors: Vec<String> = by_door
        .iter()
        .map(|(door, (ok, all))| format!("{} {ok}/{all}", door.name()))
        .collect();
    println!(
        "doors ({:?}): {walked} of {} regulation×channel×recipient walked ({}), {services_done} of {} services to a result, {} provider channels without a door",
        store.backend(),
        combinations.len(),
        doors.join(", "),
        results.len(),
        without_door.len(),
    );
    println!("  no door yet: {}", without_door.join(", "));
    println!(
        "  services with no door at all: {}",
        services_without_door.join(", ")
    );
    for walk in &walks {
        if let Ok(id) = &walk.outcome {
            println!("  ok {} -> {} ({id})", walk.name(), walk.arrived);
        }
    }
    for acts in &taken {
        println!("  to the result {acts}");
    }
    for failure in &failures {
        println!("  FAILED {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} of the doors could not be walked:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    // Every channel has its door, and so every service can be applied for (issue 19).
    assert!(
        without_door.is_empty(),
        "channels without a door: {without_door:?}"
    );
    assert!(
        services_without_door.is_empty(),
        "services nobody can apply for: {services_without_door:?}"
    );
}

// --- The registers the results feed (issue 20) -----------------------------------------------------

/// For every application taken to its result whose regulation feeds a register: the entry is there,
/// written with the result's move, and the public search finds it by its number and by a value, on
/// the page and in the JSON API, and its page shows it. Returns what failed.
async fn registers_found(world: &World, completed: &[(String, String, String)]) -> Vec<String> {
    let platform = &world.platform;
    let mut failures = Vec::new();
    let mut registers = BTreeSet::new();
    let mut anonymous = platform.client();
    for (service, channel, id) in completed {
        let loaded = platform.state.catalogue.get(service).unwrap();
        let Some(register) = &loaded.regulation.register else {
            continue;
        };
        let code = register.code.as_str();
        let what = format!("{service}/{channel}: register {code}");
        let entries = platform
            .state
            .store
            .register_entries_of(id, "answer_signature")
            .await
            .unwrap();
        let Some(entry) = entries.iter().find(|e| e.register == code) else {
            failures.push(format!("{what}: no entry for application {id}"));
            continue;
        };
        registers.insert(code.to_owned());
        let number = entry.number.clone();
        let value = entry.fields[0]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let page = anonymous
            .get(&format!("/registers/{code}?q={}", urlencode(&number)))
            .await;
        if page.status != StatusCode::OK || !page.text().contains(&number) {
            failures.push(format!("{what}: the search page does not find {number}"));
        }
        let api = anonymous
            .get(&format!("/api/registers/{code}?q={}", urlencode(&value)))
            .await;
        let json: serde_json::Value = serde_json::from_slice(&api.body).unwrap_or_default();
        let found = json["entries"]
            .as_array()
            .is_some_and(|all| all.iter().any(|e| e["number"] == number.as_str()));
        if api.status != StatusCode::OK || !found {
            failures.push(format!(
                "{what}: the API does not find {number} by {value:?}"
            ));
        }
        let shown = anonymous
            .get(&format!("/registers/{code}/{}", urlencode(&number)))
            .await;
        if shown.status != StatusCode::OK || !shown.text().contains(&value) {
            failures.push(format!(
                "{what}: the entry page of {number} does not show {value:?}"
            ));
        }
        println!("  register {code}: {number} ({service}/{channel})");
    }
    for expected in [
        "kkm",
        "accredited-cas",
        "depositary",
        "e-resources",
        "mass-media",
    ] {
        if !registers.contains(expected) {
            failures.push(format!(
                "no completed application entered the register {expected}"
            ));
        }
    }
    failures
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

qyzmet_store::both_backends!(every_door_of_every_regulation);
