//! Field-level validation shared by every record: the error names the field and the rule.

/// Bad input in one field. `field` is the name a form or file uses; `rule` says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct FieldError {
    pub field: String,
    pub rule: String,
}

impl FieldError {
    pub fn new(field: &str, rule: String) -> FieldError {
        FieldError {
            field: field.to_owned(),
            rule,
        }
    }
}

/// Trimmed text of `min..=max` characters (characters, not bytes: Kazakh letters are two bytes
/// in UTF-8), without control characters.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    let length = value.chars().count();
    if length < min {
        return Err(FieldError::new(field, "is required".into()));
    }
    if length > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters (got {length})"),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(FieldError::new(
            field,
            format!("must not contain control character U+{:04X}", c as u32),
        ));
    }
    Ok(value.to_owned())
}
