//! XML signatures (XMLDSig) as Kalkan and NCALayer make them: canonicalisation ([`c14n`]), signing
//! ([`sign_enveloped`], [`sign_element`], [`sign_ws_security`]) and verification
//! ([`crate::verify::Verifier::verify_xml`]).
//!
//! The layout is Kalkan's (testdata/nca-test/FACTS.md §1): a `ds:Signature` appended as the last child of
//! the root, SignedInfo canonicalised by Canonical XML 1.0, one `Reference URI=""` with the
//! enveloped-signature and c14n-with-comments transforms, the signer's certificate in
//! `KeyInfo/X509Data/X509Certificate`. The WS-Security variant signs a SOAP Body by its `wsu:Id` with
//! exclusive canonicalisation and carries the certificate in a `wsse:BinarySecurityToken`.
//!
//! Documents are parsed by `roxmltree` (read-only, no DTD, no entity expansion beyond the five predefined
//! entities and character references). A document with a DOCTYPE is refused: a DTD can expand entities
//! without bound (the "billion laughs"), and the canonical form of attributes a DTD defaults in is out of
//! this verifier's scope. Only UTF-8 documents are read (what Kalkan and NCALayer write).

pub mod algorithms;
pub mod c14n;
mod sign;
mod verify;

pub use sign::{sign_element, sign_enveloped, sign_ws_security};

use roxmltree::{Document, Node, ParsingOptions};

use crate::PkiError;

/// The XMLDSig namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// WS-Security's utility namespace (`wsu:Id`).
pub const WSU_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
/// WS-Security's extension namespace (`wsse:Security`, `wsse:BinarySecurityToken`).
pub const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// SOAP 1.1 and 1.2 envelopes.
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// WS-Security's X.509 token profile: the value type of a certificate token or key identifier.
pub const X509V3_TOKEN: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
pub const BASE64_BINARY: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

/// Bounds on what one document may ask of the parser, the canonicaliser and the verifier: past them it is
/// refused before the work. No signed appeal comes near them.
pub mod limits {
    /// The document's size in bytes.
    pub const MAX_DOCUMENT_BYTES: usize = 8 << 20;
    /// Nodes the parser builds (elements, attributes, texts…).
    pub const MAX_NODES: u32 = 1_000_000;
    /// Element nesting.
    pub const MAX_DEPTH: usize = 256;
    /// `ds:Signature` elements in one document.
    pub const MAX_SIGNATURES: usize = 8;
    /// References in one SignedInfo.
    pub const MAX_REFERENCES: usize = 16;
    /// Transforms in one Reference.
    pub const MAX_TRANSFORMS: usize = 8;
    /// Certificates in one KeyInfo.
    pub const MAX_CERTIFICATES: usize = 8;
    /// Bytes canonicalised for one document, all signatures and references together: a document of
    /// the largest size signed eight times, with room for escaping.
    pub const MAX_CANONICAL_BYTES: usize = 128 << 20;
}

/// Reads a document as this module accepts it: UTF-8 (a BOM is skipped), within the size, node and depth
/// bounds, without a DOCTYPE.
pub(crate) fn parse(xml: &[u8]) -> Result<Document<'_>, PkiError> {
    if xml.len() > limits::MAX_DOCUMENT_BYTES {
        return Err(PkiError::LimitExceeded(format!(
            "XML document of {} bytes, at most {} are accepted",
            xml.len(),
            limits::MAX_DOCUMENT_BYTES
        )));
    }
    let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    let text = std::str::from_utf8(xml)
        .map_err(|e| PkiError::Malformed(format!("XML: not UTF-8 ({e})")))?;
    check_declared_encoding(text)?;
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits::MAX_NODES,
        ..ParsingOptions::default()
    };
    let document = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => PkiError::Malformed(
            "XML: a DOCTYPE is refused (entity expansion; DTD-defaulted attributes are not canonicalised)"
                .into(),
        ),
        roxmltree::Error::NodesLimitReached => PkiError::LimitExceeded(format!(
            "XML: more than {} nodes",
            limits::MAX_NODES
        )),
        other => PkiError::Malformed(format!("XML: {other}")),
    })?;
    check_depth(&document)?;
    Ok(document)
}

/// The declaration may name an encoding; the bytes were read as UTF-8, so any other name is a document
/// this module would misread.
fn check_declared_encoding(text: &str) -> Result<(), PkiError> {
    let Some(rest) = text.strip_prefix("<?xml") else {
        return Ok(());
    };
    let declaration = rest.split("?>").next().unwrap_or("");
    let Some(at) = declaration.find("encoding") else {
        return Ok(());
    };
    let value = declaration[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')
        .map(str::trim_start)
        .and_then(|v| {
            let quote = v.chars().next()?;
            if quote != '"' && quote != '\'' {
                return None;
            }
            v[1..].split(quote).next()
        });
    match value {
        Some(name) if name.eq_ignore_ascii_case("utf-8") || name.eq_ignore_ascii_case("utf8") => {
            Ok(())
        }
        Some(name) => Err(PkiError::Malformed(format!(
            "XML declaration: encoding {name} (only UTF-8 is read)"
        ))),
        None => Err(PkiError::Malformed(
            "XML declaration: encoding without a quoted value".into(),
        )),
    }
}

fn check_depth(document: &Document<'_>) -> Result<(), PkiError> {
    // Depth by one pass over the nodes in document order: a node's depth is its parent's plus one.
    let mut depths = vec![0usize; document.descendants().count()];
    let base = document.root().id().get_usize();
    for node in document.descendants() {
        let index = node.id().get_usize() - base;
        let depth = node
            .parent()
            .and_then(|p| depths.get(p.id().get_usize() - base))
            .map_or(0, |d| d + 1);
        if depth > limits::MAX_DEPTH {
            return Err(PkiError::LimitExceeded(format!(
                "XML: elements nested deeper than {}",
                limits::MAX_DEPTH
            )));
        }
        if let Some(slot) = depths.get_mut(index) {
            *slot = depth;
        }
    }
    Ok(())
}

/// The prefix an element was written with (roxmltree keeps the namespace, not the prefix, and a document
/// may bind two prefixes to one namespace): read back from the source at the element's start.
pub(crate) fn element_prefix<'a>(node: Node<'a, '_>) -> Result<Option<&'a str>, PkiError> {
    let source = node.document().input_text();
    let start = node.range().start + 1;
    let qname = source
        .get(start..)
        .and_then(|rest| {
            rest.split(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
                .next()
        })
        .unwrap_or("");
    let (prefix, local) = match qname.split_once(':') {
        Some((prefix, local)) => (Some(prefix), local),
        None => (None, qname),
    };
    if local != node.tag_name().name() {
        return Err(PkiError::Malformed(format!(
            "XML: cannot read the name of element {} at byte {start}",
            node.tag_name().name()
        )));
    }
    Ok(prefix)
}

/// The prefix an attribute was written with, read back from the source.
pub(crate) fn attribute_prefix<'a>(
    node: Node<'a, '_>,
    attribute: &roxmltree::Attribute<'a, '_>,
) -> Result<Option<&'a str>, PkiError> {
    let source = node.document().input_text();
    let qname = source.get(attribute.range_qname()).unwrap_or("");
    let (prefix, local) = match qname.split_once(':') {
        Some((prefix, local)) => (Some(prefix), local),
        None => (None, qname),
    };
    if local != attribute.name() {
        return Err(PkiError::Malformed(format!(
            "XML: cannot read the name of attribute {}",
            attribute.name()
        )));
    }
    Ok(prefix)
}

/// Whether `node` is the element `{namespace}local`.
pub(crate) fn is(node: Node<'_, '_>, namespace: &str, local: &str) -> bool {
    node.is_element()
        && node.tag_name().namespace() == Some(namespace)
        && node.tag_name().name() == local
}

/// Base64 wrapped at 76 characters with LF, as Kalkan writes it (without Java's `&#13;`).
pub(crate) fn encode_base64_wrapped(bytes: &[u8]) -> String {
    use base64ct::Encoding;
    let flat = base64ct::Base64::encode_string(bytes);
    let mut wrapped = String::with_capacity(flat.len() + flat.len() / 76 + 1);
    // base64 is ASCII: splitting the bytes at 76 keeps every piece valid UTF-8.
    for (i, line) in flat.as_bytes().chunks(76).enumerate() {
        if i > 0 {
            wrapped.push('\n');
        }
        wrapped.push_str(std::str::from_utf8(line).unwrap_or_default());
    }
    wrapped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctype_other_encodings_and_deep_nesting_are_refused() {
        let bomb = b"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"xx\">]><a>&x;</a>";
        let Err(PkiError::Malformed(why)) = parse(bomb) else {
            panic!("a DOCTYPE must be refused");
        };
        assert!(why.contains("DOCTYPE"), "{why}");
        assert!(matches!(
            parse(b"<?xml version='1.0' encoding='windows-1251'?><a/>"),
            Err(PkiError::Malformed(_))
        ));
        assert!(parse(b"\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-8'?><a/>").is_ok());
        let deep = format!(
            "{}{}",
            "<a>".repeat(limits::MAX_DEPTH + 1),
            "</a>".repeat(limits::MAX_DEPTH + 1)
        );
        assert!(matches!(
            parse(deep.as_bytes()),
            Err(PkiError::LimitExceeded(_))
        ));
        let fits = format!(
            "{}{}",
            "<a>".repeat(limits::MAX_DEPTH - 1),
            "</a>".repeat(limits::MAX_DEPTH - 1)
        );
        assert!(parse(fits.as_bytes()).is_ok());
    }

    #[test]
    fn prefixes_are_read_as_written_even_when_two_bind_one_namespace() {
        let doc = parse(b"<x:a xmlns:x='u' xmlns:y='u' y:b='1'><y:c/></x:a>").unwrap();
        let root = doc.root_element();
        assert_eq!(element_prefix(root).unwrap(), Some("x"));
        let attribute = root.attributes().next().unwrap();
        assert_eq!(attribute_prefix(root, &attribute).unwrap(), Some("y"));
        let child = root.first_element_child().unwrap();
        assert_eq!(element_prefix(child).unwrap(), Some("y"));
    }

    #[test]
    fn base64_is_wrapped_at_76() {
        let bytes: Vec<u8> = (0..=255).collect();
        let wrapped = encode_base64_wrapped(&bytes);
        assert!(wrapped.lines().all(|l| l.len() <= 76));
        assert_eq!(wrapped.lines().next().map(str::len), Some(76));
        assert_eq!(wrapped.lines().count(), 5);
    }
}
