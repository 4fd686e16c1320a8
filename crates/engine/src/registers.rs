//! The state databases this deployment answers for in process when a step asks one to issue a
//! document (`issue_document`; 002 §3.5–§3.6). Which document is the step's `document` in the
//! regulation; its text is composed by `qyzmet_domain::regulation::document` from the records
//! looked up here, and signed with the registers' own key; the answer and its signature become the
//! application's answer, which the PSC checks (the EDS check) and prints. A deployment wired to the
//! real registers answers through them instead. The gateway calls this module, never the reverse.
//!
//! Decisions:
//! - 002 Annex 1 items 2 and 3: the register gives one certificate on a subject — every object
//!   with its right, share, title document, encumbrance and technical characteristics, or that
//!   the subject holds none. It answers the certificate of absence (presence) and the certificate
//!   of rights and characteristics alike; a subject it holds nothing on gets a certificate of
//!   absence, which is a result (002 Annex 1 item 2).
//! - A representative's request is about the principal: the form's `principal_iin` or
//!   `principal_bin` (002 B10); anyone else's about the applicant.

use jiff::Timestamp;
use qyzmet_domain::application::Application;
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_domain::regulation::DocumentTemplate;
use qyzmet_domain::regulation::document::{legal_entity_record, real_estate_certificate};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_store::documents::answer_document;
use qyzmet_store::registry::{entity_of, holdings_of, person_of};
use qyzmet_store::workflow::InstanceRow;
use sqlx::AnyConnection;

use crate::EngineError;

/// A document a register issued on an application's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// Whom it is about: the principal of a representative, else the applicant.
    pub subject: String,
    /// The document's text.
    pub text: String,
    /// The register's CMS over the application's answer document carrying `text`.
    pub signature: Vec<u8>,
}

/// Why a register issued nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotIssued {
    /// This node holds no registers' key.
    NoKey,
    /// The register has no record of the subject.
    NoSubject(String),
    /// The legal entities register has no entity under the subject.
    NoEntity(String),
    /// The document's labels could not be read (a defect of the build; a domain test reads them).
    Labels(String),
}

/// Who the request is about: the principal of a representative (as the counter found them in
/// БНАЖ), else the applicant.
fn subject(recipient: &str, applicant: &str, data: &str) -> String {
    let principal = Application::from_json(data).counter.principal;
    match (recipient, principal) {
        ("representative", Some(principal)) => principal,
        _ => applicant.to_owned(),
    }
}

/// The subject's name as the registers know it: an entity's in both state languages.
async fn subject_name(
    conn: &mut AnyConnection,
    subject: &str,
) -> Result<Option<String>, EngineError> {
    if let Ok(bin) = Bin::parse(subject)
        && let Some(entity) = entity_of(conn, bin).await?
    {
        return Ok(Some(format!("{} / {}", entity.name_kk, entity.name_ru)));
    }
    if let Ok(iin) = Iin::parse(subject)
        && let Some(person) = person_of(conn, iin).await?
    {
        return Ok(Some(person.full_name()));
    }
    Ok(None)
}

/// The text of `document` on `subject`, or why the register gives none.
async fn compose(
    conn: &mut AnyConnection,
    document: DocumentTemplate,
    subject: &str,
    on: &str,
) -> Result<Result<String, NotIssued>, EngineError> {
    let composed = match document {
        DocumentTemplate::RealEstateCertificate => {
            let Some(name) = subject_name(conn, subject).await? else {
                return Ok(Err(NotIssued::NoSubject(subject.to_owned())));
            };
            let holdings = holdings_of(conn, subject).await?;
            real_estate_certificate(subject, &name, &holdings, on)
        }
        DocumentTemplate::LegalEntityRecord => {
            let entity = match Bin::parse(subject) {
                Ok(bin) => entity_of(conn, bin).await?,
                Err(_) => None,
            };
            let Some(entity) = entity else {
                return Ok(Err(NotIssued::NoEntity(subject.to_owned())));
            };
            let head = match entity.head_iin {
                Some(iin) => person_of(conn, iin).await?.map(|p| p.full_name()),
                None => None,
            };
            legal_entity_record(&entity, head.as_deref(), on)
        }
    };
    Ok(composed.map_err(|e| NotIssued::Labels(e.to_string())))
}

/// Issues `document` on the application's subject, signed with the registers' `key`; refused when
/// there is no key or the register has no record of the subject.
pub async fn issue(
    conn: &mut AnyConnection,
    instance: &InstanceRow,
    document: DocumentTemplate,
    key: Option<&KeyStore>,
    now: Timestamp,
) -> Result<Result<Issued, NotIssued>, EngineError> {
    let Some(key) = key else {
        return Ok(Err(NotIssued::NoKey));
    };
    let subject = subject(&instance.recipient, &instance.applicant, &instance.data);
    let on = now.strftime("%Y-%m-%d %H:%M UTC").to_string();
    let text = match compose(conn, document, &subject, &on).await? {
        Ok(text) => text,
        Err(refused) => return Ok(Err(refused)),
    };
    let signature = qyzmet_pki::cms::sign(&answer_document(instance, Some(&text)), key, true, now)
        .map_err(|e| EngineError::Signing(e.to_string()))?;
    Ok(Ok(Issued {
        subject,
        text,
        signature,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_representatives_request_is_about_the_principal() {
        let applicant = "900512300120";
        let mut application = Application::default();
        application.counter.principal = Some("100340012345".into());
        let data = application.to_json().to_string();
        assert_eq!(subject("representative", applicant, &data), "100340012345");
        assert_eq!(subject("individual", applicant, &data), applicant);
        let without = Application::default().to_json().to_string();
        assert_eq!(subject("representative", applicant, &without), applicant);
        assert_eq!(subject("representative", applicant, "not json"), applicant);
    }
}
