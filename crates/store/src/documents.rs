//! The exact bytes that are signed for an application, built from its row so that the signer, the
//! verifier, the card and the printed copy all judge the same document: the answer (000 §9.5; the
//! electronic document a body's database returns, 002 §3.6) and a PSC's request to a body's
//! database (002 §3.5).

use qyzmet_domain::application::{Application, Recorded};

use crate::workflow::InstanceRow;

/// The answer document: the application, its number, the body and the text. `answer` is the text
/// being signed in this step; `None` takes the recorded one.
pub fn answer_document(row: &InstanceRow, answer: Option<&str>) -> Vec<u8> {
    let recorded = Application::from_json(&row.data).recorded;
    let document = serde_json::json!({
        "application": row.id,
        "service": row.regulation,
        "applicant": row.applicant,
        "provider": row.provider,
        "registration_number": recorded.registration_number,
        "executor": recorded.executor_name,
        "answer": answer.or(recorded.answer.as_deref()),
    });
    serde_json::to_vec_pretty(&document).unwrap_or_default()
}

/// The request a PSC operator signs with their own EDS and sends to the body's database (002
/// §3.5): the application, its journal number, the branch and the application as taken (the form
/// and the intake; nothing a later step records, so the bytes stay those signed).
pub fn request_document(row: &InstanceRow) -> Vec<u8> {
    let record = Application::from_json(&row.data);
    let number = record.recorded.registration_number.clone();
    let taken = Application {
        recorded: Recorded::default(),
        ..record
    };
    let document = serde_json::json!({
        "application": row.id,
        "service": row.regulation,
        "recipient": row.recipient,
        "applicant": row.applicant,
        "provider": row.provider,
        "office": row.office,
        "registration_number": number,
        "form": taken.to_json(),
    });
    serde_json::to_vec_pretty(&document).unwrap_or_default()
}
