//! The state databases this deployment answers for in process when a step asks one to issue a
//! document (`issue_document`; 002 §3.5–§3.6): the real estate register (ГБД РН, unit `gbd_rn`)
//! gives its certificate on what a subject holds, the legal entities register (ГБД ЮЛ, unit
//! `gbd_ul`) the record of a registration. Each signs what it issues with its own key; the answer
//! and its signature become the application's answer, which the PSC checks (the EDS check) and
//! prints. A deployment wired to the real registers answers through them instead.
//!
//! Decisions:
//! - 002 Annex 1 items 2 and 3: the register gives one certificate on a subject — every object
//!   with its right, share, title document, encumbrance and technical characteristics, or that
//!   the subject holds none. It answers the certificate of absence (presence) and the certificate
//!   of rights and characteristics alike; a subject it holds nothing on gets a certificate of
//!   absence, which is a result (002 Annex 1 item 2).
//! - A representative's request is about the principal: the form's `principal_iin` or
//!   `principal_bin` (002 B10); anyone else's about the applicant.

use base64::Engine as _;
use jiff::Timestamp;
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_domain::registry::Holding;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_store::documents::answer_document;
use qyzmet_store::registry::{entity_of, holdings_of, person_of};
use qyzmet_store::workflow::InstanceRow;
use sqlx::AnyConnection;

use crate::EngineError;
use crate::gateway::{Answer, Request};

/// Who the request is about: the principal of a representative, else the applicant.
fn subject(instance: &InstanceRow) -> String {
    let data: serde_json::Value = serde_json::from_str(&instance.data).unwrap_or_default();
    let principal = ["principal_bin", "principal_iin"]
        .iter()
        .find_map(|key| data.get(*key).and_then(|v| v.as_str()))
        .filter(|v| !v.trim().is_empty());
    match (instance.recipient.as_str(), principal) {
        ("representative", Some(principal)) => principal.trim().to_owned(),
        _ => instance.applicant.clone(),
    }
}

/// Both state languages of a label.
fn both(kk: &str, ru: &str) -> String {
    format!("{kk} / {ru}")
}

/// The subject's name as the registers know it.
async fn subject_name(
    conn: &mut AnyConnection,
    subject: &str,
) -> Result<Option<String>, EngineError> {
    if let Ok(bin) = Bin::parse(subject)
        && let Some(entity) = entity_of(conn, bin).await?
    {
        return Ok(Some(both(&entity.name_kk, &entity.name_ru)));
    }
    if let Ok(iin) = Iin::parse(subject)
        && let Some(person) = person_of(conn, iin).await?
    {
        return Ok(Some(person.full_name()));
    }
    Ok(None)
}

/// The real estate register's certificate on `subject`.
fn real_estate_certificate(subject: &str, name: &str, holdings: &[Holding], on: &str) -> String {
    let mut lines = vec![
        both(
            "ЖЫЛЖЫМАЙТЫН МҮЛІК ТІРКЕЛІМІНЕН АНЫҚТАМА",
            "СПРАВКА ИЗ РЕГИСТРА НЕДВИЖИМОСТИ",
        ),
        format!("{}: {name}, {subject}", both("Субъект", "Субъект")),
        format!("{}: {on}", both("Берілген күні", "Дата выдачи")),
    ];
    if holdings.is_empty() {
        lines.push(both(
            "Тіркелімде субъектінің жылжымайтын мүлкі жоқ",
            "Недвижимое имущество субъекта в регистре отсутствует",
        ));
    } else {
        lines.push(format!(
            "{}: {}",
            both(
                "Жылжымайтын мүлік объектілері",
                "Объекты недвижимого имущества"
            ),
            holdings.len()
        ));
    }
    for (i, Holding { estate, right }) in holdings.iter().enumerate() {
        let mut characteristics = vec![format!("{} м²", estate.area_m2)];
        if let Some(rooms) = estate.rooms {
            characteristics.push(format!("{}: {rooms}", both("бөлмелер", "комнат")));
        }
        if let Some(floors) = estate.floors {
            characteristics.push(format!("{}: {floors}", both("қабаттар", "этажей")));
        }
        if let Some(year) = estate.built_year {
            characteristics.push(format!(
                "{}: {year}",
                both("салынған жылы", "год постройки")
            ));
        }
        lines.push(format!(
            "{}) {}: {}; {}; {}",
            i + 1,
            both("Кадастрлық нөмірі", "Кадастровый номер"),
            estate.cadastral_number,
            both(estate.kind.label("kk"), estate.kind.label("ru")),
            estate.address
        ));
        lines.push(format!(
            "   {}: {}",
            both("Сипаттамалары", "Характеристики"),
            characteristics.join(", ")
        ));
        lines.push(format!(
            "   {}: {}{}; {} {}; {}: {}",
            both("Құқық", "Право"),
            both(right.right.label("kk"), right.right.label("ru")),
            right
                .share
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            both("тіркелген", "зарегистрировано"),
            right.registered_on,
            both("негіз", "основание"),
            right.document
        ));
        lines.push(format!(
            "   {}: {}",
            both("Ауыртпалық", "Обременение"),
            right
                .encumbrance
                .clone()
                .unwrap_or_else(|| both("жоқ", "нет"))
        ));
    }
    lines.join("\n")
}

/// Issues the document the step's register gives on the application's subject, signed with the
/// registers' key; refused when the register has no record of the subject.
pub async fn issue(
    conn: &mut AnyConnection,
    request: &Request<'_>,
    key: Option<&KeyStore>,
    now: Timestamp,
) -> Result<Answer, EngineError> {
    let Some(key) = key else {
        return Ok(Answer::refused(
            "no registers' key on this node: the register issues no document",
        ));
    };
    let instance = request.instance;
    let subject = subject(instance);
    let on = now.strftime("%Y-%m-%d %H:%M UTC").to_string();
    let answer = match request.step.unit.as_str() {
        "gbd_rn" => {
            let Some(name) = subject_name(conn, &subject).await? else {
                return Ok(Answer::refused(format!("ГБД РН: no record of {subject}")));
            };
            let holdings = holdings_of(conn, &subject).await?;
            real_estate_certificate(&subject, &name, &holdings, &on)
        }
        "gbd_ul" => {
            let Some(entity) = (match Bin::parse(&subject) {
                Ok(bin) => entity_of(conn, bin).await?,
                Err(_) => None,
            }) else {
                return Ok(Answer::refused(format!(
                    "ГБД ЮЛ: no legal entity {subject}"
                )));
            };
            let head = match entity.head_iin {
                Some(iin) => person_of(conn, iin).await?.map(|p| p.full_name()),
                None => None,
            };
            [
                both(
                    "ЗАҢДЫ ТҰЛҒАНЫ МЕМЛЕКЕТТІК ТІРКЕУ ТУРАЛЫ АНЫҚТАМА (ТЕЛНҰСҚА)",
                    "СПРАВКА О ГОСУДАРСТВЕННОЙ РЕГИСТРАЦИИ ЮРИДИЧЕСКОГО ЛИЦА (ДУБЛИКАТ)",
                ),
                format!(
                    "{}: {}",
                    both("Атауы", "Наименование"),
                    both(&entity.name_kk, &entity.name_ru)
                ),
                format!("{}: {}", both("БСН", "БИН"), entity.bin),
                format!(
                    "{}: {}",
                    both("Ұйымдық-құқықтық нысаны", "Организационно-правовая форма"),
                    entity.legal_form
                ),
                format!(
                    "{}: {}",
                    both("Тіркелген күні", "Дата регистрации"),
                    entity.registered_on
                ),
                format!(
                    "{}: {}",
                    both("Басшысы", "Руководитель"),
                    head.unwrap_or_else(|| "—".into())
                ),
                format!(
                    "{}: {}",
                    both("Орналасқан жері", "Местонахождение"),
                    entity.address
                ),
                format!("{}: {on}", both("Берілген күні", "Дата выдачи")),
            ]
            .join("\n")
        }
        other => {
            return Ok(Answer::refused(format!(
                "no register {other:?} issues documents on this node"
            )));
        }
    };
    let cms = qyzmet_pki::cms::sign(&answer_document(instance, Some(&answer)), key, true, now)
        .map_err(|e| EngineError::Signing(e.to_string()))?;
    let mut answered = Answer::ok(format!(
        "{}: document issued on {subject}",
        request.step.unit
    ));
    answered.record.insert("answer".into(), answer.into());
    answered.record.insert(
        "answer_signature".into(),
        base64::engine::general_purpose::STANDARD.encode(cms).into(),
    );
    answered
        .record
        .insert("answered_at".into(), now.to_string().into());
    Ok(answered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_without_real_estate_gets_a_certificate_of_absence() {
        let text = real_estate_certificate("900512300120", "Сәрсенбаев Әлібек", &[], "2026-11-25");
        assert!(
            text.contains("Недвижимое имущество субъекта в регистре отсутствует"),
            "{text}"
        );
        assert!(text.contains("900512300120"));
    }
}
