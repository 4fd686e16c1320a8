//! The exact bytes that are signed for an application, built from its row so that the signer, the
//! verifier, the card and the printed copy all judge the same document: the answer (000 §9.5; the
//! electronic document a body's database returns, 002 §3.6) and a PSC's request to a body's
//! database (002 §3.5).

use crate::workflow::InstanceRow;

/// The application's data (an object; empty when it is not one).
fn data_of(row: &InstanceRow) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_str(&row.data).unwrap_or_default()
}

fn text<'a>(data: &'a serde_json::Map<String, serde_json::Value>, key: &str) -> Option<&'a str> {
    data.get(key).and_then(|v| v.as_str())
}

/// The answer document: the application, its number, the body and the text. `answer` is the text
/// being signed in this step; `None` takes the recorded one.
pub fn answer_document(row: &InstanceRow, answer: Option<&str>) -> Vec<u8> {
    let data = data_of(row);
    let document = serde_json::json!({
        "application": row.id,
        "service": row.regulation,
        "applicant": row.applicant,
        "provider": row.provider,
        "registration_number": text(&data, "registration_number"),
        "executor": text(&data, "executor_name"),
        "answer": answer.or_else(|| text(&data, "answer")),
    });
    serde_json::to_vec_pretty(&document).unwrap_or_default()
}

/// Keys of the data that are not part of the form the applicant filled in: what the workflow and
/// the signatures add.
const NOT_FORM: [&str; 8] = [
    "signature_check",
    "answer",
    "answer_signature",
    "answered_at",
    "request_signature",
    "journal_sent",
    "journal_received",
    "certification",
];

/// The request a PSC operator signs with their own EDS and sends to the body's database (002
/// §3.5): the application, its journal number, the branch and the form as accepted.
pub fn request_document(row: &InstanceRow) -> Vec<u8> {
    let mut data = data_of(row);
    let number = data.remove("registration_number");
    data.retain(|key, _| !NOT_FORM.contains(&key.as_str()));
    let document = serde_json::json!({
        "application": row.id,
        "service": row.regulation,
        "recipient": row.recipient,
        "applicant": row.applicant,
        "provider": row.provider,
        "office": row.office,
        "registration_number": number,
        "form": data,
    });
    serde_json::to_vec_pretty(&document).unwrap_or_default()
}
