//! XML documents as NCALayer signs them (`signXml`, `signXmls`, basics `format: "xml"`), through the
//! platform's XML signer ([`qyzmet_pki::xmldsig`]): Kalkan's enveloped layout, or the element the page's
//! XPath selects.

use qyzmet_pki::PkiError;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::xmldsig::{limits, sign_element, sign_enveloped};

use crate::protocol::{Failure, Outcome};

/// Where the signature goes: signXml's `tbsElementXPath` and `signatureParentElementXPath` (empty or
/// absent: the whole document, the signature as the root's last child).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Target<'a> {
    pub signed_element: Option<&'a str>,
    pub signature_parent: Option<&'a str>,
}

/// Whether `xml` is a document the signer can read, said before the person is asked: a malformed one
/// is the page's mistake. The complaint is worded as NCALayer's Java parser words it (recorded, FACTS
/// §5.2), since pages show or match that text.
pub(crate) fn check(xml: &str) -> Outcome<()> {
    if xml.len() > limits::MAX_DOCUMENT_BYTES {
        return Err(Failure::new(format!(
            "an XML document of {} bytes; at most {} are signed",
            xml.len(),
            limits::MAX_DOCUMENT_BYTES
        )));
    }
    // As the signer parses: no DTD (entity expansion), a bounded number of nodes.
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits::MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    match roxmltree::Document::parse_with_options(xml, options) {
        Ok(_) => Ok(()),
        Err(error) => {
            let position = error.pos();
            let text = error.to_string();
            let text = text
                .strip_suffix(&format!(" at {position}"))
                .unwrap_or(&text);
            Err(Failure::new(format!(
                "org.xml.sax.SAXParseException; lineNumber: {}; columnNumber: {}; {text}",
                position.row, position.col
            )))
        }
    }
}

/// The document signed with the key in `store`, the signature placed as `target` says.
pub(crate) fn sign(xml: &str, store: &KeyStore, target: Target<'_>) -> Result<String, PkiError> {
    match target {
        Target {
            signed_element: None,
            signature_parent: None,
        } => sign_enveloped(xml, &store.key, &store.certificate),
        Target {
            signed_element,
            signature_parent,
        } => sign_element(
            xml,
            &store.key,
            &store.certificate,
            signed_element.unwrap_or("/*"),
            signature_parent,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_document_is_refused_in_sax_words() {
        assert!(check("<tag>data</tag>").is_ok());
        match check("<this>is not a valid XML") {
            Err(Failure::Error { message, .. }) => assert!(
                message.starts_with("org.xml.sax.SAXParseException; lineNumber: 1; columnNumber: "),
                "{message}"
            ),
            other => panic!("{other:?}"),
        }
        match check("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>") {
            Err(Failure::Error { message, .. }) => {
                assert!(message.contains("lineNumber: 1"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
