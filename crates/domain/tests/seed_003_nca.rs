#![allow(clippy::unwrap_used)]
//! Seed 003 Std-1 (NCA registration certificates) as its two files: issuance (§9 "тіркеу куәліктерін
//! беру үшін", Annexes 1–8) and revocation (§9 "кері қайтарып алу үшін", Annexes 9–12), with the refusal
//! receipt of Annex 13. Each annex's rows are listed here as the seed prints them (Kazakh), with the
//! clause, and checked against the form each applicant category of §9 fills and the documents it
//! brings at the provider and at the PSC; then §9's list of categories, the counter's limit (§4.1 ¶4:
//! the whole visit, not each step), the seed's limits and the decisions on the spec's ambiguities.

mod seeds;
use seeds::load;

use qyzmet_domain::regulation::form::fields_for;
use qyzmet_domain::regulation::{
    Applying, Field, FieldType, Outcome, Recipient, RegistryValue, Regulation, StepKind, TimeUnit,
};

const ISSUANCE: &str = include_str!("../../../regulations/nca-certificates.toml");
const REVOCATION: &str = include_str!("../../../regulations/nca-certificate-revocation.toml");

fn issuance() -> Regulation {
    load("nca-certificates.toml", ISSUANCE)
}

fn revocation() -> Regulation {
    load("nca-certificate-revocation.toml", REVOCATION)
}

/// The counter channels: §9 gives one list "ХҚО-ға немесе көрсетілетін қызметті берушіге".
const COUNTERS: [&str; 2] = ["provider", "psc"];

fn applying<'a>(r: &Regulation, category: &'a str) -> Applying<'a> {
    let found = r
        .categories
        .iter()
        .find(|c| c.code == category)
        .unwrap_or_else(|| panic!("{}: no category {category}", r.code));
    Applying {
        recipient: found.recipient,
        category: Some(category),
    }
}

/// The fields the category's form has.
fn form<'r>(r: &'r Regulation, category: &str) -> Vec<&'r Field> {
    fields_for(r, applying(r, category))
}

/// The category's field labelled `kk` (the seed's row), if its form has one.
fn row<'r>(r: &'r Regulation, category: &str, kk: &str) -> Option<&'r Field> {
    form(r, category).into_iter().find(|f| f.label.kk == kk)
}

/// The Kazakh labels of the documents the category brings on the channel.
fn documents(r: &Regulation, channel: &str, category: &str) -> Vec<String> {
    let applying = applying(r, category);
    r.channel(channel)
        .unwrap_or_else(|| panic!("{}: no channel {channel}", r.code))
        .documents
        .iter()
        .filter(|d| applying.concerns(&d.recipients, &d.categories))
        .map(|d| d.label.kk.clone())
        .collect()
}

/// Asserts that every category has every row (a field with the seed's label), naming the clause.
fn has_rows(r: &Regulation, categories: &[&str], rows: &[(&str, &str)]) {
    for category in categories {
        for (kk, clause) in rows {
            assert!(
                row(r, category, kk).is_some(),
                "{}: {category} lacks {kk:?} ({clause})",
                r.code
            );
        }
    }
}

/// Asserts that no category has any of the rows (fields of another annex).
fn lacks_rows(r: &Regulation, categories: &[&str], rows: &[&str]) {
    for category in categories {
        for kk in rows {
            assert!(
                row(r, category, kk).is_none(),
                "{}: {category} has {kk:?}, which its annex does not",
                r.code
            );
        }
    }
}

/// Asserts that on both counter channels every category brings a document whose label contains
/// every one of `words` (and `absent` categories none such).
fn brings(r: &Regulation, categories: &[&str], absent: &[&str], words: &[&str], clause: &str) {
    let matches = |label: &String| words.iter().all(|w| label.contains(w));
    for channel in COUNTERS {
        for category in categories {
            let found = documents(r, channel, category);
            assert!(
                found.iter().any(matches),
                "{} {channel}: {category} does not bring {words:?} ({clause}); it brings {found:#?}",
                r.code
            );
        }
        for category in absent {
            assert!(
                !documents(r, channel, category).iter().any(matches),
                "{} {channel}: {category} brings {words:?}, which {clause} does not ask of it",
                r.code
            );
        }
    }
}

fn registry(r: &Regulation, category: &str, kk: &str) -> Option<RegistryValue> {
    row(r, category, kk).unwrap().from_registry
}

/// The one printed option of a choice field (the key algorithms, the policy consent).
fn printed(r: &Regulation, category: &str, kk: &str) -> String {
    let field = row(r, category, kk).unwrap();
    assert_eq!(field.field_type, FieldType::Choice, "{category}: {kk}");
    assert!(field.required, "{category}: {kk}");
    assert_eq!(field.choices.len(), 1, "{category}: {kk}: one printed text");
    field.choices[0].kk.clone()
}

// --- The annexes' rows as the seed prints them -----------------------------------------------------

/// Every issuance application (Annexes 1, 3, 4, 6, 7, 8): its unique number, the holder's region,
/// city, e-mail and telephone, the policy acknowledgement.
const COMMON: [(&str, &str); 6] = [
    ("Бірегей нөмір", "Annexes 1, 3, 4, 6, 7, 8 header"),
    ("Облыстың атауы", "Annexes 1, 3, 4, 6, 7, 8"),
    ("Қала", "Annexes 1, 3, 4, 6, 7, 8"),
    ("Электрондық поштаның мекенжайы", "Annexes 1, 3, 4, 6, 7, 8"),
    ("Телефон", "Annexes 1, 3, 4, 6, 7, 8"),
    (
        "Тиісті тіркеу куәліктерінің саясатымен таныстым, қарсылығым жоқ",
        "Annexes 1, 3, 4, 6, 7, 8",
    ),
];

/// The identification data of the person the certificates are issued to, when he applies himself.
const HOLDER: [(&str, &str); 4] = [
    ("ЖСН", "Annexes 1, 3, 4, 6, 7, 8"),
    ("Тегі", "Annexes 1, 3, 4, 6, 7, 8"),
    ("Аты", "Annexes 1, 3, 4, 6, 7, 8"),
    ("Әкесінің аты", "Annexes 1, 3, 4, 6, 7, 8"),
];

/// The same for an attorney: the individual's IIN and name, as the registries hold them.
const PRINCIPAL: [(&str, &str); 2] = [
    ("ЖСН", "Annexes 1, 3, 6; §9 1), 3), 5)"),
    ("Тегі, аты, әкесінің аты", "Annexes 1, 3, 6; §9 1), 3), 5)"),
];

/// The key rows of Annexes 1, 3, 4, 8 (not of the SSL Annexes 6, 7).
const KEYS: [(&str, &str); 3] = [
    ("Қолтаңбаның ашық кілті", "Annexes 1, 3, 4, 8"),
    ("Бірдейлестірудің ашық кілті", "Annexes 1, 3, 4, 8"),
    ("Қосымша ақпарат үшін орын", "Annexes 1, 3, 4, 8"),
];

const ALGORITHMS_INDIVIDUAL: &str = "ЭЦҚ-ның тиісті жабық кілтін жасау үшін пайдаланылатын ЭЦҚ-ның құралдары туралы деректер, ЭЦҚ алгоритмі стандартының және ашық кілт ұзындығының белгіленуі";
const ALGORITHMS_ENTITY: &str = "ЭЦҚ-ның тиісті жабық кілтін жасау үшін пайдаланылатын ЭЦҚ-ның құралдары туралы деректер, ЭЦҚ-ның алгоритмі стандартының және ашық кілт ұзындығының белгіленуі";

const ENTITY: [(&str, &str); 2] = [
    ("БСН", "Annexes 4, 7, 8, 11, 12"),
    ("Ұйымның атауы", "Annexes 4, 7, 8, 11, 12"),
];

const ROLE: &str = "Жүйедегі рөлі";
const TREASURY: [(&str, &str); 2] = [
    ("ММ/КБЖ коды", "Annexes 8, 12"),
    ("Қолжетімділік деңгейі", "Annexes 8, 12"),
];
const PKCS10: &str = "Base64 форматындағы PKCS#10 сұрау салу";

const ANNEX_1: [&str; 2] = ["resident_individual", "non_resident_individual"];
const ANNEX_1_ATTORNEYS: [&str; 2] = ["attorney_of_individual", "attorney_of_non_resident"];
const ANNEX_4: [&str; 3] = [
    "legal_entity_head",
    "legal_entity_employee",
    "non_resident_legal_entity",
];

fn concat<'a>(lists: &[&[&'a str]]) -> Vec<&'a str> {
    lists.iter().flat_map(|l| l.iter().copied()).collect()
}

#[test]
fn annex_1_the_individuals_application() {
    let r = issuance();
    let own = ANNEX_1;
    let all = concat(&[&own, &ANNEX_1_ATTORNEYS]);
    has_rows(&r, &own, &HOLDER);
    has_rows(&r, &ANNEX_1_ATTORNEYS, &PRINCIPAL);
    has_rows(&r, &all, &COMMON);
    has_rows(&r, &all, &KEYS);
    has_rows(&r, &all, &[(ALGORITHMS_INDIVIDUAL, "Annex 1")]);
    lacks_rows(
        &r,
        &all,
        &[
            ROLE,
            PKCS10,
            "БСН",
            "Ұйымның атауы",
            "ММ/КБЖ коды",
            ALGORITHMS_ENTITY,
        ],
    );
    // «ҚР ҰКО АҚКҚ (ЭЦҚ - RSA 2048 Бит, бірдейлестіру - RSA 2048 Бит)»
    for category in &all {
        let text = printed(&r, category, ALGORITHMS_INDIVIDUAL);
        assert_eq!(text.matches("RSA 2048").count(), 2, "{text}");
        assert!(text.contains("ЭЦҚ - RSA 2048") && text.contains("бірдейлестіру - RSA 2048"));
        assert!(!text.contains("МЕМСТ"));
    }
    // The registries fill the IIN and the names: the person's own, or the principal's.
    for category in own {
        assert_eq!(
            registry(&r, category, "ЖСН"),
            Some(RegistryValue::PersonIin)
        );
        assert_eq!(
            registry(&r, category, "Тегі"),
            Some(RegistryValue::PersonSurname)
        );
        assert_eq!(
            registry(&r, category, "Аты"),
            Some(RegistryValue::PersonGivenName)
        );
        assert_eq!(
            registry(&r, category, "Әкесінің аты"),
            Some(RegistryValue::PersonPatronymic)
        );
    }
    for category in ANNEX_1_ATTORNEYS {
        assert_eq!(
            registry(&r, category, "ЖСН"),
            Some(RegistryValue::PrincipalIin)
        );
        assert_eq!(
            registry(&r, category, "Тегі, аты, әкесінің аты"),
            Some(RegistryValue::PrincipalName)
        );
    }
    // §9 1), 5): the Annex 1 application with its unique number, the individual's identity document;
    // 5) one of the IIN-bearing registration documents of a non-resident.
    brings(
        &r,
        &all,
        &[
            "e_notariat_user",
            "legal_entity_head",
            "domain_owner_individual",
        ],
        &["1-қосымшаға", "бірегей нөмірден тұратын"],
        "§9 issuance 1), 5)",
    );
    brings(
        &r,
        &all,
        &["legal_entity_employee"],
        &["жеке тұлғаның жеке басын куәландыратын құжат"],
        "§9 issuance 1), 5)",
    );
    brings(
        &r,
        &["non_resident_individual", "attorney_of_non_resident"],
        &["resident_individual", "attorney_of_individual"],
        &[
            "тұруға ыхтиярхат",
            "азаматтығы жоқ тұлғаның куәлігі",
            "шетел азаматтарына арналған тіркеу куәлігі",
        ],
        "§9 issuance 5)",
    );
    // The validity, printed on every application, is the output's.
    assert!(r.outputs[0].label.kk.contains("1 жыл"));
}

#[test]
fn annex_2_the_notarised_power_of_attorney_of_an_individuals_representative() {
    // §9 issuance 1), 3), 5) and revocation 1), 2), 4), 7): a third party acting for an individual
    // brings the notarised power of attorney of Annex 2; legal entities never do.
    let words = ["2-қосымшаға", "нотариалды куәландырылған сенімхат"];
    let r = issuance();
    brings(
        &r,
        &[
            "attorney_of_individual",
            "attorney_of_non_resident",
            "attorney_of_e_notariat_user",
            "attorney_of_domain_owner",
        ],
        &[
            "resident_individual",
            "legal_entity_head",
            "legal_entity_employee",
            "domain_owner_legal_entity",
            "treasury_client",
            "non_resident_legal_entity",
        ],
        &words,
        "003 Std-1 §9 issuance 1), 3), 5); Annex 2",
    );
    let r = revocation();
    brings(
        &r,
        &[
            "attorney_of_individual",
            "attorney_of_non_resident",
            "attorney_of_e_notariat_user",
            "attorney_of_domain_owner",
        ],
        &[
            "resident_individual",
            "resident_legal_entity",
            "treasury_client",
            "domain_owner_legal_entity",
            "non_resident_legal_entity",
        ],
        &words,
        "003 Std-1 §9 revocation 1), 2), 4), 7); Annex 2",
    );
    // The attorneys are the representative recipient, at the counter only.
    for r in [issuance(), revocation()] {
        let attorneys: Vec<_> = r
            .categories
            .iter()
            .filter(|c| c.recipient == Recipient::Representative)
            .collect();
        assert_eq!(attorneys.len(), 4, "{}", r.code);
        assert!(attorneys.iter().all(|c| c.code.starts_with("attorney_of_")));
        assert!(attorneys.iter().all(|c| c.channels == ["provider", "psc"]));
    }
}

#[test]
fn annex_3_the_e_notariat_users_application() {
    let r = issuance();
    let own = ["e_notariat_user"];
    let all = ["e_notariat_user", "attorney_of_e_notariat_user"];
    has_rows(&r, &own, &HOLDER);
    has_rows(&r, &["attorney_of_e_notariat_user"], &PRINCIPAL);
    has_rows(&r, &all, &COMMON);
    has_rows(&r, &all, &KEYS);
    has_rows(
        &r,
        &all,
        &[(ROLE, "Annex 3"), (ALGORITHMS_INDIVIDUAL, "Annex 3")],
    );
    lacks_rows(&r, &concat(&[&ANNEX_1, &ANNEX_4]), &[ROLE]);
    // «(нотариус, ҚР Әділетминінің қызметкері, ӘАҚ қызметкері, АНП қызметкері, ТНП қызметкері,
    // контент модераторы, әкімші)»
    let role = row(&r, "e_notariat_user", ROLE).unwrap();
    assert_eq!(role.field_type, FieldType::Choice);
    assert!(role.required);
    let roles: Vec<_> = role.choices.iter().map(|c| c.kk.as_str()).collect();
    assert_eq!(
        roles,
        [
            "нотариус",
            "ҚР Әділетминінің қызметкері",
            "ӘАҚ қызметкері",
            "АНП қызметкері",
            "ТНП қызметкері",
            "контент модераторы",
            "әкімші"
        ]
    );
    let text = printed(&r, "e_notariat_user", ALGORITHMS_INDIVIDUAL);
    assert_eq!(text.matches("RSA 2048").count(), 2);
    // §9 1) «Е-нотариат»: the Annex 3 application and the reference from the place of work.
    brings(
        &r,
        &all,
        &["resident_individual", "legal_entity_head"],
        &["3-қосымшаға"],
        "§9 issuance 1) «Е-нотариат»",
    );
    brings(
        &r,
        &all,
        &["resident_individual", "domain_owner_individual"],
        &[
            "Жұмыс орнынан анықтама (нотариустар үшін",
            "лауазымы көрсетілген",
        ],
        "§9 issuance 1) «Е-нотариат» (A9)",
    );
}

#[test]
fn annex_4_the_legal_entitys_application() {
    let r = issuance();
    has_rows(&r, &ANNEX_4, &ENTITY);
    has_rows(&r, &ANNEX_4, &HOLDER);
    has_rows(&r, &ANNEX_4, &COMMON);
    has_rows(&r, &ANNEX_4, &KEYS);
    has_rows(&r, &ANNEX_4, &[(ALGORITHMS_ENTITY, "Annex 4")]);
    lacks_rows(
        &r,
        &ANNEX_4,
        &[ROLE, PKCS10, "ММ/КБЖ коды", ALGORITHMS_INDIVIDUAL],
    );
    for category in ANNEX_4 {
        // The entity's BIN and name from ЗТ МДҚ; the employee (the person at the counter) from ЖТ МДҚ.
        assert_eq!(
            registry(&r, category, "БСН"),
            Some(RegistryValue::EntityBin)
        );
        assert_eq!(
            registry(&r, category, "Ұйымның атауы"),
            Some(RegistryValue::EntityName)
        );
        assert_eq!(
            registry(&r, category, "ЖСН"),
            Some(RegistryValue::PersonIin)
        );
        // «ҚР ҰКО АҚКҚ (ЭЦҚ - МЕМСТ 34.310-2004 512 Бит, бірдейлестіру - RSA 2048 Бит)»
        let text = printed(&r, category, ALGORITHMS_ENTITY);
        assert!(text.contains("ЭЦҚ - МЕМСТ 34.310-2004 512 Бит"), "{text}");
        assert!(text.contains("бірдейлестіру - RSA 2048 Бит"), "{text}");
    }
    // §9 2), 6): the Annex 4 application; the representative's identity document.
    brings(
        &r,
        &ANNEX_4,
        &[
            "resident_individual",
            "treasury_client",
            "domain_owner_legal_entity",
        ],
        &["4-қосымшаға", "бірегей нөмірден тұратын"],
        "§9 issuance 2), 6)",
    );
    brings(
        &r,
        &ANNEX_4,
        &["resident_individual"],
        &["заңды тұлға өкілінің жеке басын куәландыратын құжат"],
        "§9 issuance 2), 6)",
    );
    // 2): the state registration of the entity (not of a non-resident, whose 7) is BIN-bearing).
    brings(
        &r,
        &["legal_entity_head", "legal_entity_employee"],
        &["non_resident_legal_entity", "treasury_client"],
        &["мемлекеттік тіркеу (қайта тіркеу) туралы анықтама немесе куәлік"],
        "§9 issuance 2)",
    );
    brings(
        &r,
        &["non_resident_legal_entity"],
        &["legal_entity_head", "non_resident_individual"],
        &[
            "Бизнес-сәйкестендіру нөмірінен тұратын",
            "филиалды, өкілдікті есептік тіркеу",
            "банк-резиденттерде ағымдағы шоттарды ашатын",
        ],
        "§9 issuance 7) (A10)",
    );
    // 2) ¶2: the first head brings the workplace reference or the appointing order, not a power.
    brings(
        &r,
        &["legal_entity_head"],
        &["legal_entity_employee"],
        &[
            "Жұмыс орнынан анықтама не",
            "тағайындау туралы бұйрықтың (шешімнің, хаттаманың) көшірмесі",
        ],
        "§9 issuance 2) ¶2",
    );
}

#[test]
fn annex_5_the_legal_entitys_power_of_attorney() {
    let r = issuance();
    // §9 2): «5-қосымшаға сәйкес нысан бойынша ... өкіліне сенімхат», not notarised; the first head
    // brings none (2) ¶2), and for the SSL, Treasury-Client and non-resident entities the power comes
    // with the first head's alternative (closing ¶ after 7)).
    brings(
        &r,
        &[
            "legal_entity_employee",
            "domain_owner_legal_entity",
            "treasury_client",
            "non_resident_legal_entity",
        ],
        &[
            "legal_entity_head",
            "resident_individual",
            "attorney_of_individual",
        ],
        &["5-қосымшаға", "сенімхат"],
        "§9 issuance 2), 3), 4), 6); Annex 5",
    );
    brings(
        &r,
        &[
            "domain_owner_legal_entity",
            "treasury_client",
            "non_resident_legal_entity",
        ],
        &["legal_entity_employee"],
        &[
            "5-қосымшаға",
            "бірінші басшы немесе оның міндетін атқарушы адам үшін",
        ],
        "§9 issuance, closing ¶ after 7)",
    );
    for channel in COUNTERS {
        for category in concat(&[&ANNEX_4, &["domain_owner_legal_entity", "treasury_client"]]) {
            assert!(
                !documents(&r, channel, category)
                    .iter()
                    .any(|d| d.contains("нотариалды куәландырылған сенімхат")),
                "{channel}: {category}: Annex 5 is not the notarised Annex 2"
            );
        }
    }
    // The employee applying under the entity's power is a legal-entity category.
    let employee = r
        .categories
        .iter()
        .find(|c| c.code == "legal_entity_employee")
        .unwrap();
    assert_eq!(employee.recipient, Recipient::LegalEntity);
    assert!(employee.source.as_deref().unwrap().contains("Annexes 4, 5"));
}

#[test]
fn annex_6_the_individuals_ssl_application() {
    let r = issuance();
    let all = ["domain_owner_individual", "attorney_of_domain_owner"];
    has_rows(&r, &["domain_owner_individual"], &HOLDER);
    has_rows(&r, &["attorney_of_domain_owner"], &PRINCIPAL);
    has_rows(&r, &all, &COMMON);
    has_rows(&r, &all, &[(PKCS10, "Annex 6")]);
    // No key rows: the PKCS#10 request carries the key.
    lacks_rows(
        &r,
        &all,
        &[
            ALGORITHMS_INDIVIDUAL,
            ALGORITHMS_ENTITY,
            "Қолтаңбаның ашық кілті",
            "Бірдейлестірудің ашық кілті",
            ROLE,
            "БСН",
        ],
    );
    lacks_rows(
        &r,
        &concat(&[&ANNEX_1, &ANNEX_4, &["treasury_client"]]),
        &[PKCS10],
    );
    let request = row(&r, "domain_owner_individual", PKCS10).unwrap();
    assert!(request.required);
    assert_eq!(request.field_type, FieldType::LongText);
    brings(
        &r,
        &all,
        &["resident_individual", "domain_owner_legal_entity"],
        &["6-қосымшаға", "SSL"],
        "§9 issuance 3)",
    );
    // «домендік атауын иелену құқығын растайтын құжаттардың бірі»: the five documents.
    brings(
        &r,
        &concat(&[&all, &["domain_owner_legal_entity"]]),
        &[
            "resident_individual",
            "legal_entity_employee",
            "treasury_client",
        ],
        &[
            "домендік атауын иелену туралы сертификат",
            "доменді тіркеушіден анықтама",
            "домендік атауын тіркеу туралы шарттың көшірмесі",
            "домендік атауын тіркеу туралы жария офертасы",
            "басқа да растайтын құжат",
        ],
        "§9 issuance 3)",
    );
}

#[test]
fn annex_7_the_legal_entitys_ssl_application() {
    let r = issuance();
    let own = ["domain_owner_legal_entity"];
    has_rows(&r, &own, &ENTITY);
    has_rows(&r, &own, &HOLDER);
    has_rows(&r, &own, &COMMON);
    has_rows(&r, &own, &[(PKCS10, "Annex 7")]);
    lacks_rows(
        &r,
        &own,
        &[
            ALGORITHMS_INDIVIDUAL,
            ALGORITHMS_ENTITY,
            "Қолтаңбаның ашық кілті",
            "ММ/КБЖ коды",
        ],
    );
    brings(
        &r,
        &own,
        &["domain_owner_individual", "legal_entity_employee"],
        &["7-қосымшаға", "SSL"],
        "§9 issuance 3) (legal entities)",
    );
    brings(
        &r,
        &own,
        &[],
        &["заңды тұлға өкілінің жеке басын куәландыратын құжат"],
        "§9 issuance 3) (legal entities)",
    );
}

#[test]
fn annex_8_the_treasury_client_application() {
    let r = issuance();
    let own = ["treasury_client"];
    has_rows(&r, &own, &ENTITY);
    has_rows(&r, &own, &HOLDER);
    has_rows(&r, &own, &TREASURY);
    has_rows(&r, &own, &COMMON);
    has_rows(&r, &own, &KEYS);
    has_rows(&r, &own, &[(ALGORITHMS_ENTITY, "Annex 8")]);
    let text = printed(&r, "treasury_client", ALGORITHMS_ENTITY);
    assert!(text.contains("МЕМСТ 34.310-2004 512") && text.contains("RSA 2048"));
    for (kk, _) in TREASURY {
        assert!(row(&r, "treasury_client", kk).unwrap().required, "{kk}");
    }
    lacks_rows(
        &r,
        &concat(&[
            &ANNEX_1,
            &ANNEX_4,
            &["domain_owner_legal_entity", "e_notariat_user"],
        ]),
        &["ММ/КБЖ коды", "Қолжетімділік деңгейі"],
    );
    brings(
        &r,
        &own,
        &["legal_entity_employee"],
        &["8-қосымшаға"],
        "§9 issuance 4)",
    );
    brings(
        &r,
        &own,
        &[
            "legal_entity_head",
            "legal_entity_employee",
            "non_resident_legal_entity",
        ],
        &[
            "Қазынашылық комитеті мен клиенттің арасындағы электрондық цифрлық қолтаңбаны қолдану туралы келісім немесе қосымша келісім",
        ],
        "§9 issuance 4)",
    );
}

/// Annexes 9 and 10: the individual's identification data, e-mail, telephone; six serial-number
/// lines; the date of issue. No region, no city, no unique number.
const REVOKE_INDIVIDUAL: [(&str, &str); 4] = [
    ("Электрондық поштаның мекенжайы", "Annexes 9, 10"),
    ("Телефон", "Annexes 9, 10"),
    ("Сериялық нөмірлері", "Annexes 9, 10"),
    ("Берілген күні", "Annexes 9, 10"),
];

/// Annexes 11 and 12: no e-mail; region, city, telephone; four serial-number lines; the head.
const REVOKE_ENTITY: [(&str, &str); 7] = [
    ("Облыстың атауы", "Annexes 11, 12"),
    ("Қала", "Annexes 11, 12"),
    ("Телефон", "Annexes 11, 12"),
    ("Сериялық нөмірлері", "Annexes 11, 12"),
    ("Берілген күні", "Annexes 11, 12"),
    ("Басшы (аты, тегі)", "Annexes 11, 12"),
    ("ЖСН", "Annexes 11, 12"),
];

const ANNEX_9: [&str; 3] = [
    "resident_individual",
    "domain_owner_individual",
    "non_resident_individual",
];
const ANNEX_9_ATTORNEYS: [&str; 3] = [
    "attorney_of_individual",
    "attorney_of_domain_owner",
    "attorney_of_non_resident",
];
const ANNEX_11: [&str; 3] = [
    "resident_legal_entity",
    "domain_owner_legal_entity",
    "non_resident_legal_entity",
];

#[test]
fn annex_9_the_individuals_revocation_application() {
    let r = revocation();
    let all = concat(&[&ANNEX_9, &ANNEX_9_ATTORNEYS]);
    has_rows(&r, &ANNEX_9, &HOLDER);
    has_rows(&r, &ANNEX_9_ATTORNEYS, &PRINCIPAL);
    has_rows(&r, &all, &REVOKE_INDIVIDUAL);
    lacks_rows(
        &r,
        &all,
        &[
            "Облыстың атауы",
            "Қала",
            "Бірегей нөмір",
            "БСН",
            ROLE,
            "Басшы (аты, тегі)",
        ],
    );
    for category in &all {
        let serials = row(&r, category, "Сериялық нөмірлері").unwrap();
        assert_eq!(serials.max_count, Some(6), "{category}: six lines");
        assert!(serials.required);
        assert_eq!(
            row(&r, category, "Берілген күні").unwrap().field_type,
            FieldType::Date
        );
    }
    assert_eq!(
        registry(&r, "resident_individual", "ЖСН"),
        Some(RegistryValue::PersonIin)
    );
    assert_eq!(
        registry(&r, "attorney_of_individual", "ЖСН"),
        Some(RegistryValue::PrincipalIin)
    );
    brings(
        &r,
        &all,
        &["e_notariat_user", "resident_legal_entity"],
        &["9-қосымшаға", "кері қайтарып алуға өтініш"],
        "§9 revocation 1), 4), 7)",
    );
    brings(
        &r,
        &all,
        &["resident_legal_entity"],
        &["жеке тұлғаның жеке басын куәландыратын құжат"],
        "§9 revocation 1), 4), 7)",
    );
}

#[test]
fn annex_10_the_e_notariat_users_revocation_application() {
    let r = revocation();
    let all = ["e_notariat_user", "attorney_of_e_notariat_user"];
    has_rows(&r, &["e_notariat_user"], &HOLDER);
    has_rows(&r, &["attorney_of_e_notariat_user"], &PRINCIPAL);
    has_rows(&r, &all, &REVOKE_INDIVIDUAL);
    has_rows(&r, &all, &[(ROLE, "Annex 10")]);
    lacks_rows(&r, &concat(&[&ANNEX_9, &ANNEX_11]), &[ROLE]);
    assert_eq!(row(&r, "e_notariat_user", ROLE).unwrap().choices.len(), 7);
    assert_eq!(
        row(&r, "e_notariat_user", "Сериялық нөмірлері")
            .unwrap()
            .max_count,
        Some(6)
    );
    brings(
        &r,
        &all,
        &["resident_individual"],
        &["10-қосымшаға"],
        "§9 revocation 2)",
    );
}

#[test]
fn annex_11_the_legal_entitys_revocation_application() {
    let r = revocation();
    has_rows(&r, &ANNEX_11, &ENTITY);
    has_rows(&r, &ANNEX_11, &REVOKE_ENTITY);
    has_rows(
        &r,
        &ANNEX_11,
        &[
            ("Тегі", "Annex 11"),
            ("Аты", "Annex 11"),
            ("Әкесінің аты", "Annex 11"),
        ],
    );
    lacks_rows(
        &r,
        &ANNEX_11,
        &["Электрондық поштаның мекенжайы", ROLE, "ММ/КБЖ коды"],
    );
    for category in ANNEX_11 {
        assert_eq!(
            row(&r, category, "Сериялық нөмірлері").unwrap().max_count,
            Some(4),
            "{category}: four lines"
        );
        assert_eq!(
            registry(&r, category, "БСН"),
            Some(RegistryValue::EntityBin)
        );
        assert!(row(&r, category, "БСН").unwrap().required);
        assert_eq!(
            registry(&r, category, "Басшы (аты, тегі)"),
            Some(RegistryValue::EntityHead)
        );
        // The holder need not be the person at the counter: typed.
        assert_eq!(registry(&r, category, "ЖСН"), None);
        assert!(row(&r, category, "ЖСН").unwrap().required);
    }
    // 3), 8): sealed, or with the dismissal extract; 5) (domain names): sealed only.
    brings(
        &r,
        &["resident_legal_entity", "non_resident_legal_entity"],
        &["domain_owner_legal_entity", "treasury_client"],
        &[
            "11-қосымшаға",
            "мөрімен расталған",
            "жұмыстан босатылуы туралы бұйрықтан үзінді көшірме",
        ],
        "§9 revocation 3), 8); Annex 11 *",
    );
    brings(
        &r,
        &["domain_owner_legal_entity"],
        &["resident_individual"],
        &["11-қосымшаға", "мөрімен расталған"],
        "§9 revocation 5)",
    );
    for channel in COUNTERS {
        assert!(
            !documents(&r, channel, "domain_owner_legal_entity")
                .iter()
                .any(|d| d.contains("жұмыстан босатылуы")),
            "{channel}: 5) gives no dismissal alternative"
        );
    }
    brings(
        &r,
        &concat(&[&ANNEX_11, &["treasury_client"]]),
        &["resident_individual"],
        &["заңды тұлға өкілінің жеке басын куәландыратын құжат"],
        "§9 revocation 3), 5), 6), 8) (A10)",
    );
}

#[test]
fn annex_12_the_treasury_clients_revocation_application() {
    let r = revocation();
    let own = ["treasury_client"];
    has_rows(&r, &own, &ENTITY);
    has_rows(&r, &own, &REVOKE_ENTITY);
    has_rows(&r, &own, &TREASURY);
    lacks_rows(&r, &ANNEX_11, &["ММ/КБЖ коды", "Қолжетімділік деңгейі"]);
    lacks_rows(&r, &own, &["Электрондық поштаның мекенжайы"]);
    brings(
        &r,
        &own,
        &["resident_legal_entity"],
        &[
            "12-қосымшаға",
            "мөрімен расталған",
            "жұмыстан босатылуы туралы бұйрықтан көшірме",
        ],
        "§9 revocation 6); Annex 12 *",
    );
}

#[test]
fn annex_13_the_refusal_receipt_on_an_incomplete_package() {
    // §10: an incomplete package is refused at the counter with the receipt of Annex 13.
    for r in [issuance(), revocation()] {
        assert!(
            r.refusal_grounds
                .iter()
                .any(|g| g.kk == "Құжаттар топтамасы толық ұсынылмаған"),
            "{}",
            r.code
        );
        for code in COUNTERS {
            let channel = r.channel(code).unwrap();
            let check = &channel.steps[0];
            assert_eq!(check.kind, StepKind::Condition, "{} {code}", r.code);
            let failure = check.on_failure.as_ref().unwrap();
            assert!(
                failure
                    .message
                    .kk
                    .contains("қабылдаудан бас тарту туралы қолхат")
            );
            let end = channel.steps.iter().find(|s| s.id == failure.next).unwrap();
            assert_eq!(end.kind, StepKind::End);
            assert_eq!(end.outcome, Some(Outcome::Refusal));
            assert!(end.label.kk.contains("13-қосымша"), "{}", end.label.kk);
            assert!(end.source.as_deref().unwrap().contains("Annex 13"));
        }
    }
}

#[test]
fn section_9_lists_the_applicants_with_their_recipients_and_channels() {
    use Recipient::{Individual, LegalEntity, Representative};
    let r = issuance();
    let listed: Vec<_> = r
        .categories
        .iter()
        .map(|c| (c.code.as_str(), c.recipient))
        .collect();
    assert_eq!(
        listed,
        [
            ("resident_individual", Individual),
            ("non_resident_individual", Individual),
            ("e_notariat_user", Individual),
            ("domain_owner_individual", Individual),
            ("legal_entity_head", LegalEntity),
            ("legal_entity_employee", LegalEntity),
            ("domain_owner_legal_entity", LegalEntity),
            ("treasury_client", LegalEntity),
            ("non_resident_legal_entity", LegalEntity),
            ("attorney_of_individual", Representative),
            ("attorney_of_non_resident", Representative),
            ("attorney_of_e_notariat_user", Representative),
            ("attorney_of_domain_owner", Representative),
        ]
    );
    // First applications at the provider or a PSC, repeat ones on the portal (§3): every applicant
    // but an attorney on all three.
    for c in &r.categories {
        let expected: &[&str] = if c.recipient == Representative {
            &["provider", "psc"]
        } else {
            &["provider", "psc", "portal"]
        };
        assert_eq!(c.channels, expected, "{}", c.code);
        assert!(
            c.source
                .as_deref()
                .unwrap()
                .starts_with("003 Std-1 §9 issuance"),
            "{}",
            c.code
        );
    }
    assert!(r.categories_of("portal", Representative).is_empty());
    assert_eq!(r.categories_of("psc", LegalEntity).len(), 5);
    assert_eq!(r.categories_of("portal", Individual).len(), 4);

    let r = revocation();
    let listed: Vec<_> = r
        .categories
        .iter()
        .map(|c| (c.code.as_str(), c.recipient))
        .collect();
    assert_eq!(
        listed,
        [
            ("resident_individual", Individual),
            ("e_notariat_user", Individual),
            ("domain_owner_individual", Individual),
            ("non_resident_individual", Individual),
            ("resident_legal_entity", LegalEntity),
            ("domain_owner_legal_entity", LegalEntity),
            ("treasury_client", LegalEntity),
            ("non_resident_legal_entity", LegalEntity),
            ("attorney_of_individual", Representative),
            ("attorney_of_e_notariat_user", Representative),
            ("attorney_of_domain_owner", Representative),
            ("attorney_of_non_resident", Representative),
        ]
    );
    assert!(
        r.channel("portal").is_none(),
        "003 A3: no revocation on the portal"
    );
    for c in &r.categories {
        assert_eq!(c.channels, ["provider", "psc"], "{}", c.code);
        assert!(
            c.source
                .as_deref()
                .unwrap()
                .starts_with("003 Std-1 §9 revocation"),
            "{}",
            c.code
        );
    }
}

#[test]
fn every_category_brings_the_same_documents_to_the_provider_and_the_psc() {
    // §9: «ХҚО-ға немесе көрсетілетін қызметті берушіге жүгінген кезде» — one list for both; each
    // category brings its application and an identity document.
    for r in [issuance(), revocation()] {
        for c in &r.categories {
            let provider = documents(&r, "provider", &c.code);
            let psc = documents(&r, "psc", &c.code);
            assert_eq!(provider, psc, "{}: {}", r.code, c.code);
            assert_eq!(
                provider.iter().filter(|d| d.contains("өтініш")).count(),
                1,
                "{}: {}: one application: {provider:#?}",
                r.code,
                c.code
            );
            assert_eq!(
                provider
                    .iter()
                    .filter(|d| d.contains("жеке басын куәландыратын құжат"))
                    .count(),
                1,
                "{}: {}",
                r.code,
                c.code
            );
        }
    }
}

#[test]
fn the_counters_limit_is_the_whole_visit_not_each_step() {
    // §4.1 ¶4: «жеке тұлғалар үшін – 15 (он бес) минуттан аспайды, заңды тұлғалар үшін – 20 (жиырма)
    // минут» — the longest service on the day of application, for the visit as a whole.
    for r in [issuance(), revocation()] {
        for code in COUNTERS {
            let channel = r.channel(code).unwrap();
            let counter: Vec<_> = channel
                .counter_time
                .iter()
                .map(|c| {
                    assert_eq!(c.limit.unit, TimeUnit::Minutes);
                    assert_eq!(c.limit.source.as_deref(), Some("003 Std-1 §4.1 ¶4"));
                    (c.recipients.clone(), c.limit.amount)
                })
                .collect();
            assert_eq!(
                counter,
                [
                    (vec![Recipient::Individual], 15),
                    (vec![Recipient::LegalEntity], 20)
                ],
                "{} {code}",
                r.code
            );
            let longest = counter.iter().map(|(_, m)| *m).max().unwrap();
            // The visit: from the check to the step that accepts the package.
            let mut visit = Vec::new();
            let mut step = &channel.steps[0];
            loop {
                visit.push(step);
                if step.status.as_deref() == Some("accepted") {
                    break;
                }
                let next = step.next.as_deref().unwrap();
                step = channel.steps.iter().find(|s| s.id == next).unwrap();
            }
            let minutes: u32 = visit
                .iter()
                .filter_map(|s| s.time_limit.as_ref())
                .map(|t| {
                    assert_eq!(t.base.unit, TimeUnit::Minutes, "{} {code}", r.code);
                    assert_eq!(t.base.source.as_deref(), Some("003 Std-1 §4.1 ¶4"));
                    assert!(t.decision.is_some(), "{} {code}", r.code);
                    t.base.amount
                })
                .sum();
            assert!(
                minutes > 0 && minutes <= longest,
                "{} {code}: the visit's steps take {minutes} minutes, the seed allows {longest}",
                r.code
            );
            // No step after the visit borrows the counter's minutes.
            for s in channel
                .steps
                .iter()
                .filter(|s| !visit.iter().any(|v| v.id == s.id))
            {
                if let Some(t) = &s.time_limit {
                    assert_ne!(
                        t.base.source.as_deref(),
                        Some("003 Std-1 §4.1 ¶4"),
                        "{}",
                        s.id
                    );
                }
            }
        }
        assert!(
            r.decisions
                .iter()
                .any(|d| d.starts_with("003 Std-1 §4.1 ¶4") && d.contains("whole visit")),
            "{}",
            r.code
        );
    }
}

#[test]
fn only_the_seeds_limits_and_no_required_field_the_annexes_lack() {
    for r in [issuance(), revocation()] {
        // The seed limits the length of no field of Annexes 1–12.
        for f in &r.form {
            assert_eq!(f.max_length, None, "{}: {}", r.code, f.code);
            assert!(f.source.is_some(), "{}: {}", r.code, f.code);
        }
    }
    // No annex of 9–12 asks a reason: kept for the CA, not required, with its decision.
    let r = revocation();
    let reason = r.form.iter().find(|f| f.code == "reason").unwrap();
    assert!(!reason.required);
    assert!(
        r.decisions
            .iter()
            .any(|d| d.contains("Annexes 9–12: no annex asks a reason") && d.contains("`reason`"))
    );
}

#[test]
fn the_specs_ambiguities_that_touch_these_files_are_decided() {
    let decided = |r: &Regulation, clauses: &[&str]| {
        for clause in clauses {
            assert!(
                r.decisions
                    .iter()
                    .any(|d| d.starts_with(&format!("003 {clause}"))),
                "{}: no decision on {clause}",
                r.code
            );
        }
        assert!(r.decisions.iter().all(|d| d.starts_with("003 ")));
    };
    let r = issuance();
    decided(
        &r,
        &[
            "A2", "A4", "A5", "A6", "A9", "A10", "A11", "A16", "A21", "A24",
        ],
    );
    // A4: the chip, and what has none.
    assert!(
        r.decisions
            .iter()
            .any(|d| d.starts_with("003 A4") && d.contains("SSL") && d.contains("non-resident"))
    );
    // The GOST key the CA lacks is said, not hidden.
    assert!(
        r.decisions
            .iter()
            .any(|d| d.contains("GOST 34.310-2004") && d.contains("crates/pki"))
    );
    decided(&revocation(), &["A3", "A5", "A6", "A10", "A21"]);
}
