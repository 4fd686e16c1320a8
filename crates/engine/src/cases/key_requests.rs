//! The PKCS#10 requests a form carries for the certificates it asks for (003 Std-1 Annexes 1, 3, 4,
//! 6–8; issue 20): every door — the portal, the machine API, the counter — refuses a request that
//! is not Base64 of a PKCS#10 whose self-signature verifies, bounded, naming the field and the rule,
//! before anything is written; the CA signer checks again when it issues.

use std::collections::BTreeMap;

use qyzmet_ca::signer::REQUEST_FIELDS;
use qyzmet_domain::regulation::Field;
use qyzmet_domain::validation::FieldError;

/// Whether the field carries a PKCS#10 request.
pub fn carries_request(field: &Field) -> bool {
    REQUEST_FIELDS.contains(&field.code.as_str())
}

/// Each request field's first problem: not Base64, not a PKCS#10 request, an algorithm the
/// platform does not know, a signature that does not verify with the request's own key (whoever
/// sent it does not hold the key, or it was altered), or longer than the bound. Empty fields are
/// the form check's (`required`).
pub fn errors(fields: &[&Field], values: &BTreeMap<String, String>) -> Vec<FieldError> {
    fields
        .iter()
        .filter(|field| carries_request(field))
        .filter_map(|field| {
            let value = values.get(&field.code)?.trim();
            if value.is_empty() {
                return None;
            }
            qyzmet_pki::pkcs10::from_text(value)
                .err()
                .map(|e| FieldError::new(&field.code, e.code().to_owned()))
        })
        .collect()
}

/// `errors` (the form's check) with each request field's problem added where that field has none
/// yet: a field shows its first error.
pub fn with_request_errors(
    mut errors: Vec<FieldError>,
    fields: &[&Field],
    values: &BTreeMap<String, String>,
) -> Vec<FieldError> {
    for error in self::errors(fields, values) {
        if !errors.iter().any(|e| e.field == error.field) {
            errors.push(error);
        }
    }
    errors
}
