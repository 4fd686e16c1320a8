//! The administrator's regulation files (issue 20): a new version of a service's file is uploaded
//! and judged by the checker (`regulation check`), and, when it breaks no rule, activated: new
//! applications of the service start on it on every node, running ones keep theirs. The upload and
//! the activation are each audited with who did them and which version.

use std::time::Duration;

use qyzmet_domain::regulation::{Problem, check};
use qyzmet_store::regulation::Upload;
use qyzmet_store::{Store, StoreError};

use crate::EngineError;
use crate::catalogue::{Catalogue, version_of};

/// The largest regulation file taken.
pub const MAX_FILE: usize = 512 * 1024;

/// The rule of a file whose `code` is not the service it was uploaded for.
pub const CODE_MISMATCH: &str = "code.mismatch";

/// Why an upload or an activation is refused.
#[derive(Debug, thiserror::Error)]
pub enum RegulationError {
    #[error("no service or upload of that name")]
    NotFound,
    #[error("the file is empty")]
    Empty,
    #[error("the file is over {MAX_FILE} bytes")]
    TooLarge,
    /// The file breaks these rules: it cannot be activated.
    #[error("the file breaks {} rules", .0.len())]
    Broken(Vec<Problem>),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<StoreError> for RegulationError {
    fn from(e: StoreError) -> Self {
        RegulationError::Engine(e.into())
    }
}

/// The checker's verdict on `text` as the file of service `code`: every rule it breaks (empty:
/// none).
pub fn judge(code: &str, text: &str) -> Vec<Problem> {
    let file = format!("{code}.toml");
    match check(&file, text) {
        Ok(regulation) if regulation.code != code => vec![Problem {
            file,
            element: "code".into(),
            rule: CODE_MISMATCH,
            message: format!(
                "the file is of service {:?}, uploaded for {code:?}",
                regulation.code
            ),
        }],
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

/// Records `text` as a new file of service `code` uploaded by `by`, with its verdict.
pub async fn upload(
    store: &Store,
    catalogue: &Catalogue,
    code: &str,
    text: String,
    by: &str,
    now_ms: i64,
) -> Result<(Upload, Vec<Problem>), RegulationError> {
    if catalogue.get(code).is_none() {
        return Err(RegulationError::NotFound);
    }
    if text.trim().is_empty() {
        return Err(RegulationError::Empty);
    }
    if text.len() > MAX_FILE {
        return Err(RegulationError::TooLarge);
    }
    let problems = judge(code, &text);
    let upload = Upload {
        id: uuid::Uuid::now_v7().to_string(),
        code: code.to_owned(),
        version: version_of(&text),
        text,
        problems: problems.len() as i64,
        uploaded_by: by.to_owned(),
        uploaded_ms: now_ms,
    };
    store.save_regulation_upload(&upload).await?;
    Ok((upload, problems))
}

/// Activates the upload `id` (judged again: a file that breaks a rule is refused) and makes this
/// node use it at once; the other nodes follow at their next refresh.
pub async fn activate(
    store: &Store,
    catalogue: &Catalogue,
    id: &str,
    by: &str,
    now_ms: i64,
) -> Result<Upload, RegulationError> {
    let upload = store
        .regulation_upload(id)
        .await?
        .ok_or(RegulationError::NotFound)?;
    let problems = judge(&upload.code, &upload.text);
    if !problems.is_empty() {
        return Err(RegulationError::Broken(problems));
    }
    store
        .activate_regulation(&upload.code, &upload.version, &upload.text, by, now_ms)
        .await?;
    catalogue.refresh(store, Duration::ZERO).await?;
    Ok(upload)
}

/// Activates a version recorded in the database (an older one, or the default's) again.
pub async fn reactivate(
    store: &Store,
    catalogue: &Catalogue,
    code: &str,
    version: &str,
    by: &str,
    now_ms: i64,
) -> Result<(), RegulationError> {
    let text = store
        .regulation_text(version)
        .await?
        .ok_or(RegulationError::NotFound)?;
    let problems = judge(code, &text);
    if !problems.is_empty() {
        return Err(RegulationError::Broken(problems));
    }
    store
        .activate_regulation(code, version, &text, by, now_ms)
        .await?;
    catalogue.refresh(store, Duration::ZERO).await?;
    Ok(())
}
