#![allow(clippy::unwrap_used)]
//! Seed 003 Standards 2–5 (the Committee's and the State Technical Service's informatization services)
//! against their files: each annex's items, in the seed's Kazakh words with the clause that cites them,
//! are fields of the form (or of the output) for the recipients and categories the annex is for; each
//! §9 (and Std-4's §10) is the channels' list of documents; and the choices the seed leaves open are
//! written down as decisions.

mod seeds;
use seeds::load;

use qyzmet_domain::regulation::form::fields_for;
use qyzmet_domain::regulation::{
    Applying, Channel, Field, FieldType, Recipient, RegistryValue, Regulation, StepKind,
    StepRecord, TimeUnit,
};

const KKM: &str = include_str!("../../../regulations/kkm-conclusion.toml");
const CA: &str = include_str!("../../../regulations/ca-accreditation.toml");
const DEPOSIT: &str = include_str!("../../../regulations/deposit.toml");
const REGISTER: &str = include_str!("../../../regulations/state-register.toml");

use Recipient::{Individual, LegalEntity, Representative};
const EVERYONE: [Recipient; 3] = [Individual, LegalEntity, Representative];

/// Whether `source` cites `clause` as a whole ("Annex 2 Q1" is not cited by "Annex 2 Q12").
fn cites(source: Option<&str>, clause: &str) -> bool {
    let Some(source) = source else { return false };
    source.match_indices(clause).any(|(at, _)| {
        !source[at + clause.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// The field citing `clause` whose Kazakh label carries the seed's `words`.
fn item<'a>(fields: &[&'a Field], clause: &str, words: &str) -> Option<&'a Field> {
    let words = words.to_lowercase();
    fields
        .iter()
        .copied()
        .find(|f| cites(f.source.as_deref(), clause) && f.label.kk.to_lowercase().contains(&words))
}

fn expect<'a>(fields: &[&'a Field], clause: &str, words: &str, whose: &str) -> &'a Field {
    item(fields, clause, words)
        .unwrap_or_else(|| panic!("{whose}: no field «{words}» citing {clause}"))
}

fn channel<'a>(r: &'a Regulation, code: &str) -> &'a Channel {
    r.channel(code)
        .unwrap_or_else(|| panic!("{}: no channel {code}", r.code))
}

/// The documents a channel lists for an applicant, as the counter shows them.
fn documents<'a>(channel: &'a Channel, applying: Applying<'_>) -> Vec<&'a str> {
    channel
        .documents
        .iter()
        .filter(|d| applying.concerns(&d.recipients, &d.categories))
        .map(|d| d.label.kk.as_str())
        .collect()
}

/// The document of `channel` citing `clause` with the seed's `words`, for exactly `recipients`.
fn document(channel: &Channel, clause: &str, words: &str, recipients: &[Recipient]) -> bool {
    let found = channel
        .documents
        .iter()
        .find(|d| {
            cites(d.source.as_deref(), clause)
                && d.label.kk.to_lowercase().contains(&words.to_lowercase())
        })
        .unwrap_or_else(|| panic!("{}: no document «{words}» citing {clause}", channel.code));
    for recipient in EVERYONE {
        let listed = found.recipients.is_empty() || found.recipients.contains(&recipient);
        assert_eq!(
            listed,
            recipients.contains(&recipient),
            "{} {clause}: listed for {recipient:?}?",
            channel.code
        );
    }
    found.optional
}

fn decided(r: &Regulation, words: &str) -> bool {
    r.decisions.iter().any(|d| d.contains(words))
}

// --- Std-2: conclusions on computer systems for the State Register of cash registers ---------------

/// Annex 2, «Сауалнама өтініш», in its order: the clause (the spec's numbering of the unnumbered
/// rows), the seed's words and the type of the answer.
const STD2_ANNEX2: &[(&str, &str, FieldType)] = &[
    ("row 1", "Өтініш берушінің атауы", FieldType::Text),
    ("row 3", "Өтініш берушінің орналасқан жері", FieldType::Text),
    (
        "row 4",
        "Компьютер жүйесінің (бұдан әрі – КЖ) атауы",
        FieldType::Text,
    ),
    ("row 5", "КЖ әзірлеушісі", FieldType::Text),
    ("row 6", "Нұсқасы", FieldType::Text),
    ("row 6", "КЖ әзірленген күн", FieldType::Date),
    ("row 7", "Инсталляция пакетінің көлемі", FieldType::Text),
    ("row 8", "Инсталляция пакеті жасалған күн", FieldType::Date),
    (
        "row 9",
        "КЖ әзірлеушісі орналасқан жер: облысы",
        FieldType::Text,
    ),
    (
        "row 9",
        "КЖ әзірлеушісі орналасқан жер: қаласы",
        FieldType::Text,
    ),
    (
        "row 9",
        "КЖ әзірлеушісі орналасқан жер: ауданы",
        FieldType::Text,
    ),
    (
        "row 9",
        "КЖ әзірлеушісі орналасқан жер: көшесі",
        FieldType::Text,
    ),
    (
        "row 9",
        "КЖ әзірлеушісі орналасқан жер: үй",
        FieldType::Text,
    ),
    (
        "Q1",
        "нақты тіркелген КЖ-да фискалдау режимін сипаттау",
        FieldType::Choice,
    ),
    (
        "Q2",
        "серверді пайдаланушыны сәйкестендіру операциялық жүйе (ОЖ) деңгейінде",
        FieldType::Choice,
    ),
    (
        "Q3",
        "КЖ пайдаланушыларын сәйкестендіру дерекқорын басқару жүйесі",
        FieldType::Choice,
    ),
    (
        "Q4",
        "ДҚБЖ құралдарымен серверге қол жеткізуді бұғаттау",
        FieldType::Choice,
    ),
    (
        "Q5",
        "Парольдің қолданылу мерзімі (күндер саны): пайдаланушының",
        FieldType::Number,
    ),
    (
        "Q5",
        "Парольдің қолданылу мерзімі (күндер саны): жүйе әкімшісі",
        FieldType::Number,
    ),
    (
        "Q5",
        "Парольдің қолданылу мерзімі (күндер саны): дерекқор әкімшісі",
        FieldType::Number,
    ),
    (
        "Q6",
        "Парольдің ең төменгі ұзындығы (нышандар саны): пайдаланушы үшін",
        FieldType::Number,
    ),
    (
        "Q6",
        "Парольдің ең төменгі ұзындығы (нышандар саны): жүйе әкімшісі үшін",
        FieldType::Number,
    ),
    (
        "Q6",
        "Парольдің ең төменгі ұзындығы (нышандар саны): дерекқор әкімшісі үшін",
        FieldType::Number,
    ),
    (
        "Q7",
        "КЖ-да парольдің күрделілігін тексеру",
        FieldType::Choice,
    ),
    (
        "Q8",
        "КЖ парольдің ұзындығын автоматы бақылауды қамтамасыз етеді",
        FieldType::Choice,
    ),
    (
        "Q9",
        "бірдей есептік жазбамен екі және одан көп пайдаланушының",
        FieldType::Choice,
    ),
    (
        "Q10",
        "қосымшаның өзінен айырмасы бар құралдармен қосылудың мүмкін болмауы",
        FieldType::Choice,
    ),
    ("Q11", "қол жеткізу құқықтарын шектеу", FieldType::Choice),
    (
        "Q12",
        "әрбір операция пайдаланушы, күні мен уақыты бойынша сәйкестендіріледі",
        FieldType::Choice,
    ),
    ("Q13", "әрбір операция бірізді", FieldType::Choice),
    ("Q14", "КЖ мынадай құрылымды білдіреді", FieldType::Choice),
    (
        "Q15",
        "кез келген ақпарат КЖ-ға тек қосымшаның көмегімен енгізіледі",
        FieldType::Choice,
    ),
    (
        "Q16",
        "операция басталғаннан кейін әртүрлі құралдармен түзету мүмкіндігінің болмауы",
        FieldType::Choice,
    ),
    (
        "Q17",
        "Қате енгізілген операция «қайта» операциясын жүзеге асыру жолымен түзетіледі",
        FieldType::Choice,
    ),
    (
        "Q18",
        "соңғы пайдаланушы өзі орындайтын функциялар шеңберінде ғана",
        FieldType::Choice,
    ),
    ("Q19", "арасында құқықтарды бөлу", FieldType::LongText),
    (
        "Q20",
        "аудит журналдары әкімшілік құқықтары мен пайдаланушылық құқықтары бар",
        FieldType::Choice,
    ),
    (
        "Q21",
        "аудит журналдары пайдаланушылардың барлық әрекетін автоматты түрде тіркейді",
        FieldType::Choice,
    ),
    (
        "Q22",
        "клиенттік қосымшаны КЖ-дан ажырату",
        FieldType::Choice,
    ),
    (
        "Q23",
        "клиенттік қосымшаның әрекетін шектеу",
        FieldType::Choice,
    ),
    (
        "Q24",
        "(guest, anonymous және басқалар) есептік жазбаларды бұғаттау",
        FieldType::Choice,
    ),
    (
        "backup measures",
        "Қосарланушы серверді пайдалану",
        FieldType::Choice,
    ),
    (
        "backup measures",
        "«кластерлік» жүйені пайдалану",
        FieldType::Choice,
    ),
    (
        "backup measures",
        "әртүрлі деңгейдегі (1-5) RAID кіші жүйелерін қолдану",
        FieldType::Choice,
    ),
    (
        "backup measures",
        "журналдарының резервтік көшірмелерін жасау",
        FieldType::Choice,
    ),
    ("backup measures", "Өзге (көрсету қажет)", FieldType::Text),
    (
        "backup copies",
        "КЖ үшін: резервтік көшірмелерді жасау мерзімділігі",
        FieldType::Text,
    ),
    (
        "backup copies",
        "КЖ үшін: резервтік көшірмелер саны (дана)",
        FieldType::Number,
    ),
    (
        "backup copies",
        "КЖ үшін: резервтік көшірмелерді сақтау мерзімі (жыл)",
        FieldType::Number,
    ),
    (
        "backup copies",
        "КЖ үшін: резервтік көшірмелерді сақтау орны",
        FieldType::Text,
    ),
    (
        "backup copies",
        "Транзакциялар журналы үшін: резервтік көшірмелерді жасау мерзімділігі",
        FieldType::Text,
    ),
    (
        "backup copies",
        "Транзакциялар журналы үшін: резервтік көшірмелер саны (дана)",
        FieldType::Number,
    ),
    (
        "backup copies",
        "Транзакциялар журналы үшін: резервтік көшірмелерді сақтау мерзімі (жыл)",
        FieldType::Number,
    ),
    (
        "backup copies",
        "Транзакциялар журналы үшін: резервтік көшірмелерді сақтау орны",
        FieldType::Text,
    ),
    ("R1", "жүйені толық қалпына келтіру уақыты", FieldType::Text),
    (
        "R2",
        "КЖ резервтік көшірмелерін қалпына келтіру журналының болуы",
        FieldType::Choice,
    ),
    (
        "R3",
        "«Салық инспекторының жұмыс орны» модулінің болуы",
        FieldType::Choice,
    ),
    (
        "R4",
        "компьютерлік жүйені фискалдау жөніндегі толық рәсімдерінің болуы",
        FieldType::Choice,
    ),
    (
        "R5",
        "модулінде КЖ фискалдық режимін іске асыру",
        FieldType::Choice,
    ),
    (
        "R6",
        "криптографиялық кілттер қалыптастыру режимін іске асыру",
        FieldType::Choice,
    ),
    (
        "R7",
        "криптографиялық функцияларды КЖ-да іске асыру",
        FieldType::Choice,
    ),
    (
        "R8",
        "модулінде фискалдық есептер қалыптастыруды іске асыру",
        FieldType::Choice,
    ),
    (
        "R9",
        "модулін пайдалану жөніндегі құжаттаманың болуы",
        FieldType::Choice,
    ),
    (
        "signature",
        "Өтініш берушінің немесе оның басшысының Т.А.Ә.",
        FieldType::Text,
    ),
];

/// Rows of Annex 2 whose answer is «иә/жоқ, қандай құралдармен қамтамасыз етіледі» (or «қандай
/// алгоритмдер мен стандарттар»): a yes/no and a line for the means.
const STD2_MEANS: [&str; 24] = [
    "Q1", "Q2", "Q3", "Q4", "Q7", "Q8", "Q9", "Q10", "Q11", "Q12", "Q13", "Q15", "Q16", "Q17",
    "Q18", "Q20", "Q21", "Q22", "Q23", "Q24", "R5", "R6", "R7", "R8",
];

#[test]
fn std2_annex2_the_questionnaire_is_the_form_for_every_applicant_on_both_channels() {
    let r = load("kkm-conclusion.toml", KKM);
    for (code, recipients) in [
        ("provider", &EVERYONE[..]),
        ("portal", &[Individual, LegalEntity][..]),
    ] {
        let mut served = r.recipients_of(code).to_vec();
        served.sort_by_key(|r| EVERYONE.iter().position(|x| x == r));
        assert_eq!(served, recipients, "{code}");
    }
    for recipient in EVERYONE {
        let fields = fields_for(&r, Applying::as_recipient(recipient));
        let whose = format!("Std-2 Annex 2 for {recipient:?}");
        for (clause, words, kind) in STD2_ANNEX2 {
            let clause = format!("003 Std-2 Annex 2 {clause}");
            let f = expect(&fields, &clause, words, &whose);
            assert_eq!(f.field_type, *kind, "{whose}: «{words}»");
            // Every choice but Q14's structure is «иә/жоқ».
            if f.field_type == FieldType::Choice && !clause.ends_with("Q14") {
                let answers: Vec<&str> = f.choices.iter().map(|c| c.kk.as_str()).collect();
                assert_eq!(answers, ["иә", "жоқ"], "{whose}: «{words}»");
                assert!(f.required, "{whose}: «{words}» is answered");
            }
        }
        for clause in STD2_MEANS {
            let clause = format!("003 Std-2 Annex 2 {clause}");
            let means = fields
                .iter()
                .filter(|f| cites(f.source.as_deref(), &clause))
                .filter(|f| f.field_type == FieldType::Text)
                .find(|f| f.label.kk.contains("қандай"))
                .unwrap_or_else(|| panic!("{whose}: no means line for {clause}"));
            assert!(!means.required, "{whose}: a «жоқ» has no means ({clause})");
        }
        // Q14: «клиент-сервер, хост-терминал (керектісін сызу қажет)».
        let structure = expect(&fields, "003 Std-2 Annex 2 Q14", "құрылымды", &whose);
        let kinds: Vec<&str> = structure.choices.iter().map(|c| c.kk.as_str()).collect();
        assert_eq!(kinds, ["клиент-сервер", "хост-терминал"]);
        // A14: «8 белгіден кем емес» belongs to the user's minimum length.
        let length = expect(
            &fields,
            "003 Std-2 Annex 2 Q6",
            "пайдаланушы үшін (8 белгіден кем емес)",
            &whose,
        );
        assert!(length.max_length.is_none());
        // Every field of the form is the questionnaire's, cited by its clause.
        for f in &fields {
            assert!(
                cites(f.source.as_deref(), "003 Std-2 Annex 2"),
                "{whose}: {} cites {:?}",
                f.code,
                f.source
            );
            assert!(f.max_length.is_none(), "Annex 2 sets no length: {}", f.code);
            assert!(f.label.en.is_some(), "{}", f.code);
        }
    }
    // Rows 1–3 come from the registries: the person, the entity, the representative's principal.
    let registry = |recipient: Recipient, clause: &str| -> Vec<RegistryValue> {
        fields_for(&r, Applying::as_recipient(recipient))
            .into_iter()
            .filter(|f| cites(f.source.as_deref(), clause))
            .filter_map(|f| f.from_registry)
            .collect()
    };
    let row = |n: u32| format!("003 Std-2 Annex 2 row {n}");
    assert_eq!(
        registry(Individual, &row(1)),
        [RegistryValue::PersonFullName]
    );
    assert_eq!(registry(LegalEntity, &row(1)), [RegistryValue::EntityName]);
    assert_eq!(
        registry(Representative, &row(1)),
        [RegistryValue::PrincipalName]
    );
    assert_eq!(registry(Individual, &row(2)), [RegistryValue::PersonIin]);
    assert_eq!(registry(LegalEntity, &row(2)), [RegistryValue::EntityBin]);
    assert_eq!(
        registry(Representative, &row(2)),
        [RegistryValue::PrincipalIin, RegistryValue::PrincipalBin]
    );
    for recipient in [Individual, LegalEntity] {
        assert_eq!(
            registry(recipient, &row(3)),
            [RegistryValue::ApplicantAddress]
        );
    }
    assert!(
        registry(Representative, &row(3)).is_empty(),
        "typed, five blanks"
    );
    for words in ["ЖСН/БСН", "Өтініш берушінің атауы"] {
        for recipient in EVERYONE {
            let fields = fields_for(&r, Applying::as_recipient(recipient));
            let clause = if words == "ЖСН/БСН" {
                row(2)
            } else {
                row(1)
            };
            expect(&fields, &clause, words, &format!("{recipient:?}"));
        }
    }
    for words in ["A14", "A15", "A20", "A8:"] {
        assert!(decided(&r, words), "Std-2: no decision on {words}");
    }
}

/// Annex 1, the conclusion: the clause and the seed's words of what it carries.
const STD2_ANNEX1: &[(&str, &str)] = &[
    ("row 0", "Астана қ."),
    ("row 1", "Өтініш беруші"),
    ("row 2", "Өтініш берушінің орналасқан жері: облысы"),
    ("row 2", "Өтініш берушінің орналасқан жері: қаласы"),
    ("row 2", "Өтініш берушінің орналасқан жері: ауданы"),
    ("row 2", "Өтініш берушінің орналасқан жері: көшесі"),
    ("row 2", "Өтініш берушінің орналасқан жері: үй"),
    ("row 2", "телефоны"),
    ("row 2", "факсы"),
    ("row 3", "КЖ атауы"),
    ("row 4", "Нұсқасы"),
    ("row 4", "әзірленген күні"),
    ("row 5", "Әзірлеуші"),
    ("row 6", "Әзірлеушінің орналасқан жері: облысы"),
    ("row 6", "Әзірлеушінің орналасқан жері: қаласы"),
    ("row 6", "Әзірлеушінің орналасқан жері: ауданы"),
    ("row 6", "Әзірлеушінің орналасқан жері: көшесі"),
    ("row 6", "Әзірлеушінің орналасқан жері: үй"),
    ("row 6", "телефоны"),
    ("row 6", "факсы"),
    ("row 7", "техникалық талаптарға сәйкес келеді"),
    ("row 8", "Уәкілетті орган ведомствосының басшысы"),
];

#[test]
fn std2_annex1_the_conclusion_is_the_output_signed_by_the_head_not_the_executor() {
    let r = load("kkm-conclusion.toml", KKM);
    assert_eq!(r.outputs.len(), 1);
    let conclusion = &r.outputs[0];
    assert!(conclusion.label.kk.contains("сәйкестiгi туралы қорытынды"));
    let fields: Vec<&Field> = conclusion.fields.iter().collect();
    for (clause, words) in STD2_ANNEX1 {
        expect(
            &fields,
            &format!("003 Std-2 Annex 1 {clause}"),
            words,
            "the conclusion",
        );
    }
    assert_eq!(fields.len(), STD2_ANNEX1.len());
    assert_eq!(
        expect(&fields, "003 Std-2 Annex 1 row 0", "Астана", "date").field_type,
        FieldType::Date
    );
    // «Уәкілетті орган ведомствосының басшысы ___ (қолы)»: the head's unit signs, on both channels.
    assert_eq!(conclusion.signed_by, ["head"]);
    let head = r.units.iter().find(|u| u.code == "head").unwrap();
    assert!(
        head.label
            .kk
            .contains("Уәкілетті орган ведомствосының басшысы")
    );
    for code in ["provider", "portal"] {
        let steps = &channel(&r, code).steps;
        let step = |id: &str| steps.iter().find(|s| s.id == id).unwrap();
        assert_eq!(step("C1").unit, "expert", "{code}: the executor examines");
        assert_eq!(step("C1").next.as_deref(), Some("H1"), "{code}");
        let sign = step("H1");
        assert_eq!((sign.kind, sign.unit.as_str()), (StepKind::Action, "head"));
        assert_eq!(sign.next.as_deref(), Some("S2"), "{code}");
        assert_eq!(sign.source.as_deref(), Some("003 Std-2 Annex 1"));
        let within = &sign.time_limit.as_ref().unwrap().base;
        assert_eq!((within.amount, within.unit), (30, TimeUnit::CalendarDays));
    }
    assert!(decided(&r, "not by the executor"));
}

#[test]
fn std2_par9_every_document_on_both_channels() {
    let r = load("kkm-conclusion.toml", KKM);
    let provider = channel(&r, "provider");
    let all = &EVERYONE[..];
    // §9 1)–9): the clause, the seed's words, who brings it, and whether the desk may go without it.
    let expected: [(&str, &str, &[Recipient], bool); 11] = [
        ("§9 1)", "сауалнама-өтініш", all, false),
        (
            "§9 2)",
            "Заңды тұлғаны мемлекеттік тіркеу (қайта тіркеу) туралы анықтама не куәлік",
            &[LegalEntity],
            false,
        ),
        (
            "§9 3)",
            "Дара кәсіпкерді мемлекеттік тіркеу туралы куәлік",
            &[Individual],
            false,
        ),
        (
            "§9 4)",
            "функционалдық мүмкіндіктері мен сипаттамаларын сипаттау",
            all,
            false,
        ),
        (
            "§9 5)",
            "«Салық инспекторының жұмыс орны» модулін пайдалану жөніндегі нұсқаулық",
            all,
            false,
        ),
        (
            "§9 6)",
            "КЖ орнату және іске қосу жөніндегі нұсқаулық",
            all,
            true,
        ),
        ("§9 7)", "ҚР СТ МЕМСТ Р ИСО/МЭК 15408-2006", all, false),
        (
            "§9 8)",
            "КЖ-нің функционалдық көшірмесін қамтитын электрондық ақпараттық тасығыш",
            all,
            true,
        ),
        (
            "§9 9)",
            "Уәкілетті өкілдің жеке басын куәландыратын құжат",
            &[Representative],
            false,
        ),
        (
            "§9 9)",
            "Өкілдікке өкілеттікті куәландыратын құжат",
            &[Representative],
            false,
        ),
        ("§9 ¶2", "Мәлімет нысаны", all, false),
    ];
    for (clause, words, recipients, optional) in expected {
        let clause = format!("003 Std-2 {clause}");
        assert_eq!(
            document(provider, &clause, words, recipients),
            optional,
            "{clause}"
        );
    }
    // A representative brings the principal's registration (2) or 3)).
    let principal = documents(provider, Applying::as_recipient(Representative));
    assert!(
        principal
            .iter()
            .any(|d| d.contains("Сенім білдірушіні") && d.contains("дара кәсіпкерді"))
    );
    // The portal: the signed request instead of the paper questionnaire; the carrier by post (A20).
    let portal = channel(&r, "portal");
    let on_portal: [(&str, &str, &[Recipient]); 8] = [
        (
            "§9 1)",
            "ЭЦҚ-мен куәландырылған",
            &[Individual, LegalEntity, Representative],
        ),
        ("§9 2)", "Заңды тұлғаны мемлекеттік тіркеу", &[LegalEntity]),
        ("§9 3)", "Дара кәсіпкерді", &[Individual]),
        ("§9 4)", "функционалдық мүмкіндіктері", all),
        ("§9 5)", "«Салық инспекторының жұмыс орны»", all),
        ("§9 6)", "орнату және іске қосу", all),
        ("§9 7)", "15408-2006", all),
        ("§9 8)", "пошта арқылы жіберіледі", all),
    ];
    for (clause, words, recipients) in on_portal {
        document(portal, &format!("003 Std-2 {clause}"), words, recipients);
    }
    assert!(
        !documents(portal, Applying::as_recipient(Individual))
            .iter()
            .any(|d| d.contains("өкілеттікті")),
        "no representative on the portal"
    );
}

// --- Std-3: accreditation of certification centres -----------------------------------------------

#[test]
fn std3_annex_the_application_for_individuals_entities_and_representatives() {
    let r = load("ca-accreditation.toml", CA);
    // §5, §7 «жеке және заңды тұлғаларға»; §9 ¶1 «немесе сенімхат бойынша оның өкілі» (A19).
    assert_eq!(r.recipients, [Individual, LegalEntity, Representative]);
    assert!(decided(&r, "003 A19"));
    // The annex: «(өтініш берушінің атауы, заңды мекенжайы, телефоны)», «(куәландырушы орталықтың
    // атауы)», «Мерзімі 20__ жылғы», «Басшы (қолы) (аты, тегі)».
    let annex: [(&str, &str, FieldType); 5] = [
        ("row 1", "Өтініш берушінің атауы", FieldType::Text),
        ("row 1", "заңды мекенжайы", FieldType::Text),
        ("row 1", "телефоны", FieldType::Phone),
        ("row 2", "Куәландырушы орталықтың атауы", FieldType::Text),
        ("row 4", "Мерзімі", FieldType::Date),
    ];
    for recipient in EVERYONE {
        let fields = fields_for(&r, Applying::as_recipient(recipient));
        let whose = format!("Std-3 annex for {recipient:?}");
        for (clause, words, kind) in annex {
            let f = expect(&fields, &format!("003 Std-3 Annex {clause}"), words, &whose);
            assert_eq!(f.field_type, kind, "{whose}: «{words}»");
            assert!(f.required, "{whose}: «{words}»");
        }
        let signer = expect(&fields, "003 Std-3 Annex row 5", "(аты, тегі)", &whose);
        let (registry, required) = match recipient {
            LegalEntity => (RegistryValue::EntityHead, false),
            _ => (RegistryValue::PersonFullName, true),
        };
        assert_eq!(signer.from_registry, Some(registry), "{whose}");
        assert_eq!(signer.required, required, "{whose}");
        assert_eq!(fields.len(), 6, "{whose}: the annex has six values");
        let name = expect(&fields, "003 Std-3 Annex row 1", "атауы", &whose);
        let expected = match recipient {
            Individual => RegistryValue::PersonFullName,
            LegalEntity => RegistryValue::EntityName,
            Representative => RegistryValue::PrincipalName,
        };
        assert_eq!(name.from_registry, Some(expected), "{whose}");
    }
    // The result: the certificate (§6), its fields decided where the seed has no template (A16).
    let certificate = &r.outputs[0];
    assert!(
        certificate
            .label
            .kk
            .contains("Куәландырушы орталықты аккредиттеу туралы куәлік")
    );
    let fields: Vec<&Field> = certificate.fields.iter().collect();
    expect(
        &fields,
        "003 Std-3 §6; Annex row 1",
        "Өтініш берушінің атауы",
        "certificate",
    );
    expect(
        &fields,
        "003 Std-3 §6; Annex row 2",
        "Куәландырушы орталықтың атауы",
        "certificate",
    );
    expect(&fields, "003 Std-3 §6 ¶3", "берілген күні", "certificate");
    assert!(decided(&r, "003 A16"));
    // The «дәлелді хат» announces the extension (§4 2)); it is no refusal (A13).
    let extension = &r.term.extensions[0];
    assert!(extension.condition.kk.contains("дәлелді хат"));
    let notice = extension.notice_within.as_ref().unwrap();
    assert_eq!((notice.amount, notice.unit), (3, TimeUnit::WorkingDays));
    let inspection = channel(&r, "provider")
        .steps
        .iter()
        .find(|s| s.id == "C1")
        .unwrap();
    let on_failure = inspection.on_failure.as_ref().unwrap();
    assert!(!on_failure.message.kk.contains("дәлелді"));
    assert!(!on_failure.message.kk.contains("бас тарту"));
    let extended = &inspection.time_limit.as_ref().unwrap().extensions[0];
    assert!(extended.condition.kk.contains("дәлелді хат"));
    assert!(extended.notice_within.is_some());
    assert!(
        r.decisions
            .iter()
            .any(|d| d.contains("003 A13") && d.contains("not a refusal"))
    );
    assert!(
        !r.decisions
            .iter()
            .any(|d| d.contains("the only negative result the standard allows"))
    );
}

#[test]
fn std3_par9_every_document() {
    let r = load("ca-accreditation.toml", CA);
    let provider = channel(&r, "provider");
    let all = &EVERYONE[..];
    let expected: [(&str, &str, &[Recipient], bool); 8] = [
        (
            "§9 1)",
            "аккредиттеу туралы куәлік беруге өтініш",
            all,
            false,
        ),
        (
            "§9 2)",
            "Заңды тұлғаны мемлекеттік тіркеу (қайта тіркеу) туралы анықтаманың не куәліктің көшірмесі",
            &[LegalEntity],
            false,
        ),
        (
            "§9 3)",
            "лицензиялардың және/немесе сертификаттардың көшірмелері",
            all,
            false,
        ),
        (
            "§9 4)",
            "мемлекеттік ақпараттық жүйелермен интеграцияланған жағдайда",
            all,
            true,
        ),
        (
            "§9 5)",
            "модульдерінің (құрауыш) өзара іс-қимылы схемасы",
            all,
            false,
        ),
        (
            "§9 6)",
            "нормативтік-техникалық құжаттардың тізбесі",
            all,
            false,
        ),
        ("§9 7)", "ҚР СТ 1073-2007", all, false),
        ("§9 ¶1", "сенімхат", &[Representative], false),
    ];
    for (clause, words, recipients, optional) in expected {
        let clause = format!("003 Std-3 {clause}");
        assert_eq!(
            document(provider, &clause, words, recipients),
            optional,
            "{clause}"
        );
    }
    // §9 6): the list regulates seven documents.
    let list = provider
        .documents
        .iter()
        .find(|d| cites(d.source.as_deref(), "003 Std-3 §9 6)"))
        .unwrap();
    for words in [
        "ақпараттық қауіпсіздік саясатын",
        "қызметінің регламентін немесе қағидаларын",
        "тіркеу куәліктерін пайдалану саясатын",
        "куәландырушы орталық туралы ережені",
        "штаттан тыс, дағдарысты жағдайларда",
        "резервтік көшірмесін жасау туралы нұсқаулықты",
        "орнату және күйге келтіру бойынша нұсқаулықты",
    ] {
        assert!(list.label.kk.contains(words), "§9 6): «{words}»");
    }
    // §9 ¶2: the receipt's five items.
    let intake = &provider.steps[0];
    assert_eq!(intake.unit, "office");
    let receipt = &intake.completion.as_ref().unwrap().kk;
    for words in [
        "нөмірі мен қабылдау күні",
        "қызметтің түрі",
        "саны мен атаулары",
        "берілетін күні (уақыты) және орны",
        "тегі, аты, әкесінің аты",
    ] {
        assert!(receipt.contains(words), "§9 ¶2: «{words}»");
    }
}

// --- Std-4: deposit -------------------------------------------------------------------------------

const STD4_ANNEX: &[(&str, &str, FieldType)] = &[
    (
        "applicant row 2",
        "Сақтауға берілетін объектінің атауы",
        FieldType::Text,
    ),
    (
        "applicant row 3",
        "АР ж АЖ Тіркелімінде объектінің тіркеу нөмірі",
        FieldType::Text,
    ),
    ("applicant row 4", "Даналар санында", FieldType::Number),
    (
        "inventory table",
        "құжаттың CD/файл/атауы",
        FieldType::LongText,
    ),
    ("inventory table", "CD сериялық нөмірі", FieldType::LongText),
    ("inventory table", "CD көлемі (Мгб)", FieldType::LongText),
    (
        "inventory table",
        "қағаз тасығыштың парақтар саны",
        FieldType::LongText,
    ),
    (
        "inventory table",
        "түпнұсқа (Т) / көшірме (К)",
        FieldType::LongText,
    ),
    ("owner row 1", "иесінің толық атауы", FieldType::Text),
    ("owner row 2", "ведомстволық бағыныстылық", FieldType::Text),
    ("owner row 3", "ұйымның қысқартылған атауы", FieldType::Text),
    ("owner row 4", "мекен-жайы", FieldType::Text),
    ("owner row 4", "индекс", FieldType::Text),
    ("owner row 5", "тел.", FieldType::Phone),
    ("owner row 5", "факс", FieldType::Phone),
    ("owner row 6", "E-mail", FieldType::Email),
    ("owner row 6", "Http://", FieldType::Text),
    (
        "owner row 7",
        "байланысушы тұлға (толық тегі, аты, әкесінің аты)",
        FieldType::Text,
    ),
    ("owner row 7", "телефоны", FieldType::Phone),
    (
        "developer row 1",
        "ұйымның толық атауы немесе жеке тұлғаның тегі, аты, әкесінің аты",
        FieldType::Text,
    ),
    (
        "developer row 2",
        "ведомстволық бағыныстылығы",
        FieldType::Text,
    ),
    (
        "developer row 3",
        "ұйымның қысқартылған атауы",
        FieldType::Text,
    ),
    ("developer row 4", "мекен-жайы", FieldType::Text),
    ("developer row 4", "индекс", FieldType::Text),
    ("developer row 5", "тел.", FieldType::Text),
    ("developer row 5", "факс", FieldType::Text),
    ("developer row 5", "E-mail", FieldType::Email),
    ("developer row 5", "Http://", FieldType::Text),
    ("developer row 6", "лауазымы, телефоны", FieldType::Text),
    ("product row 1", "Автор(лар)", FieldType::LongText),
    (
        "product row 2",
        "Сертификаттау туралы мәліметтер",
        FieldType::Text,
    ),
    ("product row 3", "Шығарылған жылы", FieldType::Number),
    ("product row 4", "Нұсқа", FieldType::Text),
    ("product row 5", "Бағдарламалық тілі(дері)", FieldType::Text),
    ("product row 6", "Шығарылған күні", FieldType::Date),
    (
        "product row 7",
        "Түсініктеме (мақсаты)",
        FieldType::LongText,
    ),
    (
        "requirements",
        "Компьютер түрі, процессор, сопроцессор, жиілік",
        FieldType::Text,
    ),
    ("requirements", "Оперативті жады (RAM)", FieldType::Text),
    ("requirements", "Винчестерде қажет", FieldType::Text),
    ("requirements", "Операциялық жүйелер", FieldType::Text),
    ("requirements", "Бейне жүйе", FieldType::Text),
    ("requirements", "Акустикалық жүйе", FieldType::Text),
    ("requirements", "Қосымша құрал-жабдық", FieldType::Text),
    (
        "requirements",
        "Қосымша бағдарламалық құралдар",
        FieldType::Text,
    ),
    ("requirements", "Басқа", FieldType::Text),
    (
        "protection",
        "Заңсыз таралудан қорғау (бар болуы",
        FieldType::Choice,
    ),
    (
        "protection",
        "Заңсыз таралудан қорғау (жалпы сипаттама",
        FieldType::LongText,
    ),
    ("financing", "Қаржыландыру көздері", FieldType::Choice),
    ("signature", "иесінің қолы", FieldType::Date),
];

#[test]
fn std4_annex_the_deposit_application_is_the_form() {
    let r = load("deposit.toml", DEPOSIT);
    for recipient in EVERYONE {
        let fields = fields_for(&r, Applying::as_recipient(recipient));
        let whose = format!("Std-4 annex for {recipient:?}");
        for (clause, words, kind) in STD4_ANNEX {
            let f = expect(&fields, &format!("003 Std-4 Annex {clause}"), words, &whose);
            assert_eq!(f.field_type, *kind, "{whose}: «{words}»");
            assert!(
                f.max_length.is_none(),
                "the annex sets no length: {}",
                f.code
            );
        }
        // Row 1: «Өтініш беруші ұйымның толық атауы немесе өтініш беруші жеке тұлғаның тегі, аты,
        // әкесінің аты», from the registries.
        let name = fields
            .iter()
            .find(|f| cites(f.source.as_deref(), "003 Std-4 Annex applicant row 1"))
            .unwrap();
        let expected = match recipient {
            Individual => RegistryValue::PersonFullName,
            LegalEntity => RegistryValue::EntityName,
            Representative => RegistryValue::PrincipalName,
        };
        assert_eq!(name.from_registry, Some(expected), "{whose}");
        assert!(name.label.kk.contains("Өтініш беруші"), "{whose}");
    }
    // The sources of financing are ticked, as many as apply.
    let fields = fields_for(&r, Applying::as_recipient(Individual));
    let sources = expect(
        &fields,
        "003 Std-4 Annex financing",
        "Қаржыландыру көздері",
        "",
    );
    let named: Vec<&str> = sources.choices.iter().map(|c| c.kk.as_str()).collect();
    assert_eq!(
        named,
        [
            "республикалық бюджет",
            "жергілікті бюджет",
            "өзге де заңды және жеке тұлғалардың қаражаты",
            "мемлекеттік бюджеттен тыс қорлар",
            "меншікті қаражат",
            "грант қаражаты",
            "сыртқы қарыздар",
            "кредит",
        ]
    );
    assert_eq!(sources.max_count, Some(8));
    // §10 ¶1: the kinds of object deposited.
    let kind = fields.iter().find(|f| f.code == "object_kind").unwrap();
    assert_eq!(kind.source.as_deref(), Some("003 Std-4 §10 ¶1"));
    assert_eq!(kind.choices.len(), 4);
    // A18: the Register number is not required.
    let register = expect(
        &fields,
        "003 Std-4 Annex applicant row 3",
        "тіркеу нөмірі",
        "",
    );
    assert!(!register.required);
    // The registration block («Депозитарий қызметкерлері толтырады») is the depositary's: S2 takes
    // the number, and the reference carries it with the date.
    let reference = &r.outputs[0];
    assert_eq!(reference.signed_by, ["depositary"]);
    let carried: Vec<&Field> = reference.fields.iter().collect();
    let number = expect(
        &carried,
        "003 Std-4 Annex registration block",
        "Тіркеу №",
        "reference",
    );
    assert_eq!(number.code, "registration_number");
    expect(
        &carried,
        "003 Std-4 Annex registration block",
        "Тіркелген күні",
        "reference",
    );
    expect(
        &carried,
        "003 Std-4 Annex applicant row 2",
        "объектінің атауы",
        "reference",
    );
    let register_step = channel(&r, "provider")
        .steps
        .iter()
        .find(|s| s.id == "S2")
        .unwrap();
    assert_eq!(register_step.unit, "depositary");
    assert!(register_step.records(StepRecord::RegistrationNumber));
    for recipient in ["individual", "legal_entity", "representative"] {
        assert_eq!(register_step.numbering_series(recipient), Some("Д"));
    }
    for words in ["003 A16", "003 A17", "003 A18", "003 A22", "003 A21"] {
        assert!(decided(&r, words), "Std-4: no decision on {words}");
    }
}

#[test]
fn std4_par9_and_par10_the_package_and_how_it_is_packed() {
    let r = load("deposit.toml", DEPOSIT);
    let provider = channel(&r, "provider");
    let all = &EVERYONE[..];
    let expected: [(&str, &str, &[Recipient], bool); 9] = [
        ("§9 1)", "сақтауға беруге өтінім", all, false),
        ("§9 2)", "Сақтауға беру объектілері", all, false),
        ("§10 ¶2 1)", "бастапқы бағдарламалық кодтары", all, true),
        ("§10 ¶2 2)", "инсталляциялық пакеті", all, true),
        ("§10 ¶2 3)", "қосымша бағдарламалық қамтым", all, true),
        (
            "§10 ¶2 4)",
            "аннотациялық немесе жарнамалық сипаттамасы",
            all,
            true,
        ),
        ("§10 ¶2 5)", "нормативтік-техникалық құжаттама", all, true),
        (
            "§10 ¶3",
            "қағаз жүзінде екі данада (түпнұсқа және көшірме)",
            all,
            false,
        ),
        ("§9 ¶1", "сенімхат", &[Representative], false),
    ];
    for (clause, words, recipients, optional) in expected {
        let clause = format!("003 Std-4 {clause}");
        assert_eq!(
            document(provider, &clause, words, recipients),
            optional,
            "{clause}"
        );
    }
    let label = |clause: &str| -> String {
        provider
            .documents
            .iter()
            .filter(|d| cites(d.source.as_deref(), clause))
            .map(|d| d.label.kk.clone())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    // §10 ¶2 1): source codes, service documents, the compilation; 2): packages, modules, settings.
    for words in [
        "авторлық құқықтарымен қорғалғандардан басқа",
        "қолмен немесе автоматтық компиляцияға қажетті қызметтік құжаттар",
        "әзірлеу ортасын және оның нұсқасын көрсете отырып",
    ] {
        assert!(label("003 Std-4 §10 ¶2 1)").contains(words), "«{words}»");
    }
    for words in [
        "орнату бағдарламасының қалыптастырылған пакеттері",
        "компиляциядан өткен модульдері",
        "баптаулар мен жұмыс деректері бар файлдар",
    ] {
        assert!(label("003 Std-4 §10 ¶2 2)").contains(words), "«{words}»");
    }
    // §10 ¶2 5): the documentation and its nine operational documents.
    for words in [
        "ерекшелік",
        "сынаулар бағдарламасы мен әдістемесі",
        "сертификациясы",
        "техникалық тапсырма",
        "формуляр",
        "бағдарламалық өнімнің сипаттамасы",
        "түсіндірме жазба",
        "қолданудың сипаттамасы",
        "орнату жөніндегі басшылық",
        "әкімшіге арналған басшылық",
        "пайдаланушыға арналған басшылық",
    ] {
        assert!(label("003 Std-4 §10 ¶2 5)").contains(words), "«{words}»");
    }
    // §10 ¶3–¶4: two copies on CDs; the documentation on paper and on CDs; bound, in envelopes of
    // dense paper; the CDs packed apart from the accompanying documents.
    let packing = label("§10 ¶3");
    for words in [
        "екі данада (түпнұсқа және көшірме) компакт-дискілерде",
        "электрондық түрде екі данада",
        "алдын ала тігілген",
        "тығыз қағаздан жасалған конверттерге (пакеттерге)",
        "ілеспе құжаттардан жеке буып-түйіліп",
    ] {
        assert!(packing.contains(words), "§10 ¶3–¶4: «{words}»");
    }
    // §10 ¶5: the mark on the copy of the application.
    let mark = &provider.steps[0].completion.as_ref().unwrap().kk;
    assert!(mark.contains("алу күні") && mark.contains("құжаттар топтамасын қабылдау күні"));
}

// --- Std-5: the State Register, one category per annex --------------------------------------------

/// The categories of an annex's kind of object, one per recipient: `software_product_individual` …
fn category(kind: &str, recipient: Recipient) -> String {
    let recipient = match recipient {
        Individual => "individual",
        LegalEntity => "legal_entity",
        Representative => "representative",
    };
    format!("{kind}_{recipient}")
}

/// Every item of Annex `annex` (its clause after "Annex N" and the seed's words) is in the form of
/// each applicant registering `kind`, every field that applicant sees cites that annex, and the
/// channel lists that annex's application for him, and no other annex's.
fn std5_annex(annex: u32, kind: &str, header: &str, items: &[(&str, &str)]) {
    let r = load("state-register.toml", REGISTER);
    let provider = channel(&r, "provider");
    for recipient in EVERYONE {
        let code = category(kind, recipient);
        let declared = r
            .categories
            .iter()
            .find(|c| c.code == code)
            .unwrap_or_else(|| panic!("no category {code}"));
        assert_eq!(declared.recipient, recipient);
        assert_eq!(declared.label.kk, header, "{code}: the annex's header");
        assert!(cites(declared.source.as_deref(), &format!("Annex {annex}")));
        let served: Vec<&str> = r
            .categories_of("provider", recipient)
            .iter()
            .map(|c| c.code.as_str())
            .collect();
        assert!(served.contains(&code.as_str()), "{code}");
        assert_eq!(served.len(), 4, "four kinds of object for {recipient:?}");

        let applying = Applying {
            recipient,
            category: Some(&code),
        };
        let fields = fields_for(&r, applying);
        for (clause, words) in items {
            // The sources name the standard once: "003 Std-5 Annex 1 §1 row 2; Annex 3 §1 row 2".
            let clause = format!("Annex {annex} {clause}");
            // An individual owner has no head (§2 row 4 «Басшысы»; see the decisions).
            if recipient == Individual && clause.ends_with("§2 row 4") {
                assert!(item(&fields, &clause, words).is_none(), "{code}: {clause}");
                continue;
            }
            let f = expect(&fields, &clause, words, &code);
            assert!(
                f.max_length.is_none(),
                "the annexes set no length: {}",
                f.code
            );
        }
        for f in &fields {
            assert!(
                f.source.as_deref().is_some_and(
                    |s| s.starts_with("003 Std-5 ") && s.contains(&format!("Annex {annex} "))
                ),
                "{code}: {} ({:?}) is not of Annex {annex}",
                f.code,
                f.source
            );
        }
        let listed = documents(provider, applying);
        let annexes: Vec<&str> = listed
            .iter()
            .copied()
            .filter(|d| d.contains("-қосымша)"))
            .collect();
        assert_eq!(annexes.len(), 1, "{code}: {listed:?}");
        assert!(annexes[0].contains(&format!("({annex}-қосымша)")), "{code}");
        assert!(annexes[0].contains("қағаз және электрондық жеткізгіштерде"));
        assert_eq!(
            listed.iter().any(|d| d.contains("сенімхаты")),
            recipient == Representative,
            "{code}"
        );
    }
}

/// The header and the owner's section common to Annexes 1–4 (the owner's rows as Annexes 1–3 number
/// them; Annex 4 inserts «Сайт» as row 7).
const STD5_HEADER: [(&str, &str); 3] = [
    ("header", "Мәліметтерді жаңалау"),
    ("header", "Тіркеу нөмері"),
    ("header", "Мәліметтерді ұсынған күні"),
];
const STD5_OWNER: [(&str, &str); 8] = [
    ("§2 row 1", "Ұйымның атауы"),
    ("§2 row 2", "Ведомствоның атауы"),
    ("§2 row 3", "Иесінің мәртебесі"),
    ("§2 row 4", "Басшы"),
    ("§2 row 5", "Мекенжайы"),
    ("§2 row 6", "Телефоны"),
    ("§2 row 7", "Факсы"),
    ("§2 row 8", "E-mail"),
];
const STD5_DEVELOPER: [(&str, &str); 7] = [
    ("§4 row 1", "Ұйымның атауы"),
    ("§4 row 2", "Ұйымның қысқартылған атауы"),
    ("§4 row 3", "Мекенжайы"),
    ("§4 row 4", "Телефоны"),
    ("§4 row 5", "Сайты"),
    ("§4 row 6", "Факсы"),
    ("§4 row 7", "E-mail"),
];

fn with_common<'a>(
    owner: &[(&'a str, &'a str)],
    rest: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    STD5_HEADER
        .iter()
        .chain(owner)
        .chain(rest)
        .chain([("signature", "иесінің қолы")].iter())
        .copied()
        .collect()
}

#[test]
fn std5_annex1_software_product() {
    let items = with_common(
        &STD5_OWNER,
        &[
            ("§1 row 1", "Бағдарламалық өнімнің атауы"),
            ("§1 row 2", "Аббревиатура"),
            ("§1 row 3", "Нұсқасы"),
            ("§1 row 4", "Негізгі бағдарламалық өнімнің атауы"),
            ("§3 row 1", "Арнауы"),
            ("§3 row 2", "Функционалдық мүмкіндіктері"),
            ("§3 row 3", "Интеграциялану деңгейі"),
            ("§3 row 4", "Авторлық құқығының куәлігі"),
            ("§3 row 5", "Сертификаттау туралы куәлігі"),
            ("§3 row 6", "Лицензия туралы мәліметтер"),
            ("§3 row 7", "Лицензияның қолданылу мерзімі"),
            ("§3 row 8", "Лицензияның түрі"),
            STD5_DEVELOPER[0],
            STD5_DEVELOPER[1],
            STD5_DEVELOPER[2],
            STD5_DEVELOPER[3],
            STD5_DEVELOPER[4],
            STD5_DEVELOPER[5],
            STD5_DEVELOPER[6],
            (
                "§5 row 1",
                "Сервердің түрі мен маркасы, дербес компьютерлер",
            ),
            ("§5 row 1", "Кескіні"),
            ("§5 row 2", "Операциялық жүйенің атауы"),
            ("§5 row 2", "Операциялық жүйенің нұсқасы"),
            ("§5 row 3", "Деректер қорын басқару жүйесінің атауы"),
            ("§5 row 3", "Деректер қорын басқару жүйесінің нұсқасы"),
            ("§5 row 4", "Бағдарламалау тілдері"),
            ("§6 row 1", "Әзірлеу кезеңі"),
            ("§6 row 2", "Тәжірибелік пайдалануға енгізу жылы"),
            ("§6 row 3", "Даму кезеңі"),
            ("§6 row 4", "Әзірлеуді қаржыландыру туралы мәліметтер"),
            ("§6 row 4", "Қаржыландыру көзінің атауы"),
            ("§6 row 4", "Әзірлеу құны, мың теңге"),
            ("§6 row 5", "Дамытуды қаржыландыру туралы мәліметтер"),
            ("§6 row 5", "Дамыту құны, мың теңге"),
            ("§6 row 6", "Қосымша мәліметтер"),
            // Printed «Аттесттаудан».
            ("§7 row 1", "Аттестаттаудан өту кезеңі"),
            ("§7 row 2", "Аттестат туралы мәліметтер"),
            ("§8 row 1", "Сынақтардан өту кезеңі"),
            ("§8 row 2", "Сынақ хаттамасы туралы мәліметтер"),
        ],
    );
    std5_annex(1, "software_product", "Бағдарламалық өнімді тіркеу", &items);
}

#[test]
fn std5_annex2_internet_resource() {
    let mut owner = STD5_OWNER.to_vec();
    owner.push(("§2 row 9", "Провайдердің атауы"));
    let mut rest = vec![
        ("§1 row 1", "Интернет-ресурстың атауы"),
        ("§1 row 2", "Толық атауының нысаны (http)"),
        ("§1 row 3", "Нұсқасы"),
        ("§1 row 4", "Лицензия туралы мәліметтер"),
        ("§1 row 5", "Лицензияның қолданылу мерзімі"),
        ("§1 row 6", "Лицензияның түрі"),
        ("§3 row 1", "Мазмұны"),
        ("§3 row 2", "Сайттың тілі"),
    ];
    rest.extend(STD5_DEVELOPER);
    rest.extend([
        ("§5 row 1", "Серверлер: түрі, маркасы"),
        ("§5 row 1", "Кескіні"),
        ("§5 row 2", "атауы"),
        ("§5 row 2", "нұсқасы"),
        ("§6 row 1", "Көрсетілетін қызметтер"),
        ("§6 row 1", "ақылы"),
        ("§6 row 2", "Сұраныс саны"),
        ("§7 row 1", "Әзірлеу кезеңі"),
        ("§7 row 2", "Әзірлеуді қаржыландыру туралы мәліметтер"),
        ("§7 row 3", "Дамытуды қаржыландыру туралы мәліметтер"),
        ("§7 row 4", "Қосымша мәліметтер"),
        ("§8 row 1", "Сынақтардан өту кезеңі"),
        ("§8 row 2", "Сынақ хаттамасы туралы мәліметтер"),
    ]);
    std5_annex(
        2,
        "internet_resource",
        "Интернет-ресурсты тіркеу",
        &with_common(&owner, &rest),
    );
}

#[test]
fn std5_annex3_data_network() {
    let mut owner = STD5_OWNER.to_vec();
    owner.push(("§2 row 9", "Делдал"));
    let rest = [
        ("§1 row 1", "Атауы"),
        ("§1 row 2", "Аббревиатура"),
        ("§1 row 3", "Тиістілігі"),
        ("§1 row 4", "Лицензиясы"),
        ("§3 row 1", "Топология сипаттамасы"),
        ("§3 row 2", "Берілетін ақпараттардың түрі"),
        ("§3 row 3", "Байланыс арналары"),
        ("§3 row 4", "Көліктік хаттама"),
        ("§3 row 5", "Коммутациялық тораптарының саны"),
        ("§3 row 6", "Жалпы өткізу қабілеттілігі, секундына мегабит"),
        ("§3 row 7", "Тараптың түрі"),
        ("§3 row 7", "секундына мегабит"),
        ("§4 row 1", "Әзірлеу кезеңі"),
        ("§4 row 2", "Әзірлеуді қаржыландыру туралы мәліметтер"),
        (
            "§4 row 3",
            "Қызмет көрсетуді қаржыландыру туралы мәліметтер",
        ),
        ("§4 row 3", "Қызмет көрсету құны, мың теңге"),
        ("§4 row 4", "Қосымша мәліметтер"),
        ("§5 row 1", "Сынақтардан өту кезеңі"),
        ("§5 row 2", "Сынақ хаттамасы туралы мәліметтер"),
    ];
    std5_annex(
        3,
        "data_network",
        "Деректерді беру желісін тіркеу",
        &with_common(&owner, &rest),
    );
}

#[test]
fn std5_annex4_database() {
    // Annex 4 numbers the owner's rows with «Сайт» as row 7.
    let owner = [
        ("§2 row 1", "Ұйымның атауы"),
        ("§2 row 2", "Ведомствоның атауы"),
        ("§2 row 3", "Иесінің мәртебесі"),
        ("§2 row 4", "Басшысы"),
        ("§2 row 5", "Мекенжайы"),
        ("§2 row 6", "Телефоны"),
        ("§2 row 7", "Сайт"),
        ("§2 row 8", "Факсы"),
        ("§2 row 9", "E-mail"),
    ];
    let rest = [
        ("§1 row 1", "Атауы"),
        ("§1 row 2", "Аббревиатура"),
        ("§1 row 3", "Нұсқасы"),
        ("§1 row 4", "Автоматтандырылған жүйенің құрамына кіреді"),
        ("§3 row 1", "Арнауы"),
        ("§3 row 2", "Деректер қорының тақырыптамасы"),
        ("§3 row 3", "Қолдану саласы"),
        ("§3 row 4", "Түрі"),
        ("§3 row 5", "Жазба тілі"),
        ("§3 row 6", "Объектілері"),
        ("§3 row 6", "объектілік түрінің атауы"),
        ("§3 row 6", "Объектілер саны"),
        ("§4 row 1", "Көлемі (Мегабайт)"),
        ("§4 row 2", "Жаңалау кезеңі"),
        ("§4 row 3", "Жаңалау режимі"),
        ("§5 row 1", "Операциялық жүйенің атауы"),
        ("§5 row 1", "Операциялық жүйенің нұсқасы"),
        ("§5 row 2", "Деректер қорын басқару жүйесінің атауы"),
        ("§5 row 2", "Деректер қорын басқару жүйесінің нұсқасы"),
        ("§5 row 3", "Маркасы және түрі"),
        ("§5 row 3", "Кескіні"),
        ("§5 row 4", "Абоненттік пункттің техникалық құралдары"),
        ("§5 row 4", "Техникалық құралдың атауы"),
        ("§6 row 1", "Жеткізіп беру нысаны"),
        ("§6 row 2", "Жеткізгіш түрі"),
        ("§6 row 3", "Баспасөз басылымдары"),
        ("§6 row 4", "Қызмет көрсетудің түрлері"),
        ("§6 row 5", "Пайдаланушылар саны"),
        ("§6 row 6", "Пайдаланушылар"),
        ("§7 row 1", "Меншік иесі құқығының негіздемесі"),
        ("§7 row 2", "Құқығының шектелуі"),
        // Printed «Лицензия туралы мәліметтері».
        ("§7 row 3", "Лицензия туралы мәліметтер"),
        ("§7 row 4", "Лицензияның қолданылу мерзімі"),
        ("§7 row 5", "Лицензияның түрі"),
        ("§8 row 1", "Құрылу кезеңі"),
        ("§8 row 2", "Құрылуды қаржыландыру туралы мәліметтер"),
        ("§8 row 2", "Құрылу құны, мың теңге"),
        (
            "§8 row 3",
            "Қызмет көрсетуді қаржыландыру туралы мәліметтер",
        ),
        ("§8 row 4", "Қосымша мәліметтер"),
        ("§9 row 1", "Аттестаттаудан өту кезеңі"),
        ("§9 row 2", "Аттестат туралы мәліметтер"),
        ("§10 row 1", "Сынақтардан өту кезеңі"),
        ("§10 row 2", "Сынақ хаттамасы туралы мәліметтер"),
    ];
    std5_annex(
        4,
        "database",
        "Деректер қорын тіркеу",
        &with_common(&owner, &rest),
    );
}

#[test]
fn std5_the_certificate_carries_the_number_the_register_gives() {
    let r = load("state-register.toml", REGISTER);
    assert_eq!(
        r.categories.len(),
        12,
        "four kinds of object for three recipients"
    );
    assert!(
        r.form.iter().all(|f| f.code != "object_type"),
        "the category is the kind"
    );
    // The owner signs («иесінің қолы»): the owner is the applicant, as the registries know him.
    for (recipient, value) in [
        (Individual, RegistryValue::PersonFullName),
        (LegalEntity, RegistryValue::EntityName),
        (Representative, RegistryValue::PrincipalName),
    ] {
        let code = category("database", recipient);
        let fields = fields_for(
            &r,
            Applying {
                recipient,
                category: Some(&code),
            },
        );
        let owner = expect(&fields, "Annex 4 §2 row 1", "Ұйымның атауы", &code);
        assert_eq!(owner.from_registry, Some(value), "{code}");
    }
    // Without a category an applicant sees only what all four annexes share.
    let bare = fields_for(&r, Applying::as_recipient(LegalEntity));
    assert!(bare.iter().all(|f| f.categories.is_empty()));
    assert!(bare.iter().all(|f| (1..=4).all(|a| {
        f.source
            .as_deref()
            .unwrap()
            .contains(&format!("Annex {a} "))
    })));

    let certificate = &r.outputs[0];
    assert_eq!(certificate.signed_by, ["registrar"]);
    let number = certificate
        .fields
        .iter()
        .find(|f| f.code == "registration_number")
        .unwrap();
    assert!(number.required && number.label.kk.contains("Тіркеу нөмері"));
    for code in ["registered_on", "object_kind", "object_name", "owner"] {
        assert!(certificate.fields.iter().any(|f| f.code == code), "{code}");
    }
    let register = channel(&r, "provider")
        .steps
        .iter()
        .find(|s| s.id == "C1")
        .unwrap();
    assert_eq!(register.unit, "registrar");
    assert!(register.records(StepRecord::RegistrationNumber));
    for recipient in ["individual", "legal_entity", "representative"] {
        assert_eq!(register.numbering_series(recipient), Some("АРжАЖ"));
    }
    // The first staff step is the office's acceptance, which the front office's intake does.
    let intake = &channel(&r, "provider").steps[0];
    assert_eq!((intake.id.as_str(), intake.unit.as_str()), ("S1", "office"));
    for words in ["003 A16", "003 A22", "003 A21", "«АРжАЖ»"] {
        assert!(decided(&r, words), "Std-5: no decision on {words}");
    }
}
