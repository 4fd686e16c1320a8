//! The steps that call the certification authority (`issue_certificate`, `revoke_certificate`;
//! 003 Std-1 §6, Annexes 9–12). The CA's keys are in the CA signer, another process with its own
//! transactions on the register, so the engine asks it *before* the move's transaction, never
//! inside it (on SQLite the signer's write would wait for the engine's, which waits for the
//! signer). Each request's id is the gateway message's id and the form field or serial, so a move
//! retried after a crash is answered from the signer's journal with the same certificate.

use std::collections::HashMap;

use qyzmet_ca::signer::{Client, Command, REQUEST_FIELDS, Reply, serials_named};
use qyzmet_domain::application::{Application, IssuedCertificate, Recorded};
use qyzmet_domain::regulation::GatewayCall;
use qyzmet_store::workflow::InstanceRow;

use crate::gateway::{Answer, AnswerCode};

/// The gateway message id of a system step (the engine's, for every call).
pub fn message_id(row: &InstanceRow, call: GatewayCall) -> String {
    format!("{}:{}:{}", row.id, row.moves, call.as_str())
}

/// Asks the signer what a step calling `call` needs, and answers as the gateway would.
pub async fn ask(client: &Client, row: &InstanceRow, call: GatewayCall) -> Answer {
    let id = message_id(row, call);
    let application = Application::from_json(&row.data);
    match call {
        GatewayCall::IssueCertificate => issue(client, &id, row, &application).await,
        GatewayCall::RevokeCertificate => revoke(client, &id, row, &application).await,
        _ => Answer::coded(false, AnswerCode::NoCaSigner, None),
    }
}

async fn issue(client: &Client, id: &str, row: &InstanceRow, application: &Application) -> Answer {
    let fields: Vec<&str> = REQUEST_FIELDS
        .into_iter()
        .filter(|f| {
            application
                .form
                .get(*f)
                .is_some_and(|v| !v.trim().is_empty())
        })
        .collect();
    if fields.is_empty() {
        return Answer::coded(false, AnswerCode::NoCertificateRequest, None);
    }
    let mut certificates = Vec::new();
    for field in fields {
        let command = Command::IssueForApplication {
            application: row.id.clone(),
            request_field: field.to_owned(),
        };
        match client.send(&format!("{id}:{field}"), command).await {
            Ok(Reply::Issued {
                serial,
                profile,
                certificate,
                not_after,
            }) => certificates.push(IssuedCertificate {
                serial,
                request_field: field.to_owned(),
                profile,
                der: certificate,
                not_after,
            }),
            Ok(reply) => return refused(&reply),
            Err(e) => {
                return Answer::coded(false, AnswerCode::CaSignerUnreachable, Some(e.to_string()));
            }
        }
    }
    let serials: Vec<&str> = certificates.iter().map(|c| c.serial.as_str()).collect();
    let mut answer = Answer::coded(
        true,
        AnswerCode::CertificatesIssued,
        Some(serials.join(", ")),
    );
    answer.record = Recorded {
        certificates,
        ..Recorded::default()
    };
    answer
}

async fn revoke(client: &Client, id: &str, row: &InstanceRow, application: &Application) -> Answer {
    let serials = serials_named(application);
    if serials.is_empty() {
        return Answer::coded(false, AnswerCode::NoCertificateNamed, None);
    }
    let mut revoked = Vec::new();
    for serial in serials {
        let command = Command::RevokeForApplication {
            application: row.id.clone(),
            serial: serial.clone(),
        };
        match client.send(&format!("{id}:{serial}"), command).await {
            Ok(Reply::Revoked { serial, .. }) => revoked.push(serial),
            Ok(reply) => return refused(&reply),
            Err(e) => {
                return Answer::coded(false, AnswerCode::CaSignerUnreachable, Some(e.to_string()));
            }
        }
    }
    let mut answer = Answer::coded(
        true,
        AnswerCode::CertificatesRevoked,
        Some(revoked.join(", ")),
    );
    answer.record = Recorded {
        revoked,
        ..Recorded::default()
    };
    answer
}

fn refused(reply: &Reply) -> Answer {
    let data = match reply {
        Reply::Refused { code, detail } => format!(
            "{}: {detail}",
            serde_json::to_value(code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ),
        other => format!("{other:?}"),
    };
    Answer::coded(false, AnswerCode::CaRefused, Some(data))
}

/// The answers of the CA for the due jobs at CA steps, by message id: asked before the jobs'
/// transaction.
pub type Prefetched = HashMap<String, Answer>;
