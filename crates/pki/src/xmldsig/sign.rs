//! Making XML signatures in Kalkan's layout (FACTS.md §1): the text of the input is kept byte for byte
//! (its declaration, its line ends, its formatting) and the `ds:Signature` is inserted where Kalkan puts
//! it, so a document signed here and one signed by NCALayer differ only in the signature.

use roxmltree::{Document, Node};
use x509_cert::Certificate;

use super::algorithms::{SignatureMethod, digest_of_oid};
use super::c14n::{self, Method};
use super::{
    BASE64_BINARY, DSIG_NS, ENVELOPED_SIGNATURE, SOAP11_NS, SOAP12_NS, WSSE_NS, WSU_NS,
    X509V3_TOKEN, attribute_prefix, element_prefix, encode_base64_wrapped, is, limits,
};
use crate::algorithm::to_der;
use crate::{PkiError, PrivateKey};

/// Signs the whole document as Kalkan and NCALayer's `signXml` do: a `ds:Signature` appended as the last
/// child of the root, SignedInfo by Canonical XML 1.0, one `Reference URI=""` with the
/// enveloped-signature and c14n-with-comments transforms, digest and signature by the key's algorithm,
/// the certificate in `KeyInfo/X509Data/X509Certificate`. A document signed before keeps its signatures
/// and the new one covers them (FACTS §1: verified last to first).
pub fn sign_enveloped(
    xml: &str,
    key: &PrivateKey,
    certificate: &Certificate,
) -> Result<String, PkiError> {
    sign_element(xml, key, certificate, "/*", None)
}

/// Signs one element, as NCALayer's `signXml(storage, keyType, xml, tbsElementXPath,
/// signatureParentElementXPath)`: the element `tbs` selects is the Reference (`URI=""` when it is the
/// root, otherwise `URI="#id"` by its `Id`, `ID`, `id` or `wsu:Id` attribute, which it must have), and the
/// signature is appended as the last child of the element `parent` selects (by default the signed
/// element itself, so the signature is enveloped).
///
/// The XPath is a subset: an absolute path of child steps (`/root/child`), or `//` before the first
/// step for any element of the document (`//item`); a step is a name as the document writes it
/// (`doc`, `ns:doc`) or `*`, with at most one predicate `[@attr='value']` (the attribute also as the
/// document writes it: `@Id`, `@wsu:Id`). The expression must select exactly one element.
pub fn sign_element(
    xml: &str,
    key: &PrivateKey,
    certificate: &Certificate,
    tbs: &str,
    parent: Option<&str>,
) -> Result<String, PkiError> {
    let method = SignatureMethod::for_signature_oid(key.signature_algorithm().oid)?;
    check_pair(key, certificate)?;
    let document = super::parse(xml.as_bytes())?;
    let signed = Path::parse(tbs)?.select(&document)?;
    let host = match parent {
        Some(expression) => Path::parse(expression)?.select(&document)?,
        None => signed,
    };
    let uri = if signed == document.root_element() {
        String::new()
    } else {
        format!("#{}", id_of(signed)?)
    };
    let digest = reference_digest(
        &document,
        signed,
        &Method::Inclusive { comments: false },
        &method,
    )?;
    let reference = format!(
        "<ds:Reference URI=\"{}\">\n<ds:Transforms>\n<ds:Transform Algorithm=\"{ENVELOPED_SIGNATURE}\"/>\n<ds:Transform Algorithm=\"{}\"/>\n</ds:Transforms>\n<ds:DigestMethod Algorithm=\"{}\"/>\n<ds:DigestValue>{digest}</ds:DigestValue>\n</ds:Reference>",
        escape_attribute(&uri),
        c14n::C14N_WITH_COMMENTS,
        method.digest_uri,
    );
    let key_info = format!(
        "<ds:KeyInfo>\n<ds:X509Data>\n<ds:X509Certificate>\n{}\n</ds:X509Certificate>\n</ds:X509Data>\n</ds:KeyInfo>",
        encode_base64_wrapped(&to_der(certificate)?)
    );
    let signature = Unsigned {
        open: format!("<ds:Signature xmlns:ds=\"{DSIG_NS}\">\n"),
        signed_info: format!(
            "<ds:SignedInfo>\n<ds:CanonicalizationMethod Algorithm=\"{}\"/>\n<ds:SignatureMethod Algorithm=\"{}\"/>\n{reference}\n</ds:SignedInfo>",
            c14n::C14N,
            method.uri
        ),
        after_value: format!("{key_info}\n</ds:Signature>"),
        canonicalization: Method::Inclusive { comments: false },
    };
    let (text, at) = open_for_child(xml, host)?;
    signature.complete(&text, at, key, &method)
}

/// Signs a SOAP envelope as WS-Security does (the variant NCANode makes, FACTS §1): the Body, given a
/// `wsu:Id` if it has none, is the one Reference, both it and SignedInfo by exclusive c14n; the
/// certificate is a `wsse:BinarySecurityToken` that the signature's KeyInfo names through a
/// `wsse:SecurityTokenReference`; both go into the header's `wsse:Security`, which is added when the
/// header has none (and the Header when the envelope has none).
pub fn sign_ws_security(
    soap: &str,
    key: &PrivateKey,
    certificate: &Certificate,
) -> Result<String, PkiError> {
    let method = SignatureMethod::for_signature_oid(key.signature_algorithm().oid)?;
    check_pair(key, certificate)?;
    let exclusive = Method::Exclusive {
        comments: false,
        inclusive_prefixes: Vec::new(),
    };

    // 1. The Body's id, added to its start tag when missing.
    let (with_id, body_id) = {
        let document = super::parse(soap.as_bytes())?;
        let (_, body, _) = soap_parts(&document)?;
        match body.attribute((WSU_NS, "Id")) {
            Some(id) => (soap.to_string(), id.to_string()),
            None => {
                let id = format!("id-{}", random_hex(16));
                let name_end = start_tag_name_end(body)?;
                let mut text = soap.to_string();
                text.insert_str(
                    name_end,
                    &format!(" xmlns:wsu=\"{WSU_NS}\" wsu:Id=\"{id}\""),
                );
                (text, id)
            }
        }
    };

    // 2. The Body's digest, then the header with the token and the signature.
    let document = super::parse(with_id.as_bytes())?;
    let (envelope, body, header) = soap_parts(&document)?;
    let digest = reference_digest(&document, body, &exclusive, &method)?;
    let token_id = format!("X509-{}", random_hex(16));
    // A header that already has a Security element gets the token and the signature in it (one
    // Security per recipient, WS-Security §5); otherwise a Security element is added.
    let security = header.and_then(|h| h.children().find(|n| is(*n, WSSE_NS, "Security")));
    let (wrapper_open, wrapper_close) = match security {
        Some(_) => (String::new(), ""),
        None => (
            format!("<wsse:Security xmlns:wsse=\"{WSSE_NS}\">"),
            "</wsse:Security>",
        ),
    };
    // The token and the reference to it declare their namespaces themselves: an existing Security may
    // bind other prefixes.
    let signature = Unsigned {
        open: format!(
            "{wrapper_open}<wsse:BinarySecurityToken xmlns:wsse=\"{WSSE_NS}\" xmlns:wsu=\"{WSU_NS}\" EncodingType=\"{BASE64_BINARY}\" ValueType=\"{X509V3_TOKEN}\" wsu:Id=\"{token_id}\">{}</wsse:BinarySecurityToken><ds:Signature xmlns:ds=\"{DSIG_NS}\">",
            encode_base64_wrapped(&to_der(certificate)?)
        ),
        signed_info: format!(
            "<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"{exc}\"/><ds:SignatureMethod Algorithm=\"{}\"/><ds:Reference URI=\"#{}\"><ds:Transforms><ds:Transform Algorithm=\"{exc}\"/></ds:Transforms><ds:DigestMethod Algorithm=\"{}\"/><ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>",
            method.uri,
            escape_attribute(&body_id),
            method.digest_uri,
            exc = c14n::EXC_C14N,
        ),
        after_value: format!(
            "<ds:KeyInfo><wsse:SecurityTokenReference xmlns:wsse=\"{WSSE_NS}\"><wsse:Reference URI=\"#{token_id}\" ValueType=\"{X509V3_TOKEN}\"/></wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature>{wrapper_close}"
        ),
        canonicalization: exclusive,
    };
    match (security, header) {
        (Some(parent), _) | (None, Some(parent)) => {
            let (text, at) = open_for_child(&with_id, parent)?;
            signature.complete(&text, at, key, &method)
        }
        (None, None) => {
            // A Header of the envelope's own prefix, before the Body.
            let prefix = element_prefix(envelope)?
                .map(|p| format!("{p}:"))
                .unwrap_or_default();
            let at = body.range().start;
            let mut text = with_id.clone();
            text.insert_str(at, &format!("<{prefix}Header></{prefix}Header>"));
            let at = at + format!("<{prefix}Header>").len();
            signature.complete(&text, at, key, &method)
        }
    }
}

/// A signature written but for its value: the text up to SignedInfo, SignedInfo, and what follows the
/// value.
struct Unsigned {
    open: String,
    signed_info: String,
    after_value: String,
    canonicalization: Method,
}

impl Unsigned {
    /// Inserts the signature into `xml` at byte `at`, canonicalises its SignedInfo where it stands
    /// (c14n 1.0 renders the namespaces in scope there), signs, and writes the value.
    fn complete(
        &self,
        xml: &str,
        at: usize,
        key: &PrivateKey,
        method: &SignatureMethod,
    ) -> Result<String, PkiError> {
        let (before, after) = (&xml[..at], &xml[at..]);
        let draft = format!(
            "{before}{}{}\n<ds:SignatureValue></ds:SignatureValue>\n{}{after}",
            self.open, self.signed_info, self.after_value
        );
        let document = super::parse(draft.as_bytes())?;
        let signed_info_at = at + self.open.len();
        let signed_info = document
            .descendants()
            .find(|n| is(*n, DSIG_NS, "SignedInfo") && n.range().start == signed_info_at)
            .ok_or_else(|| {
                PkiError::Crypto("the inserted SignedInfo is not where it was put".into())
            })?;
        let mut canonical = Vec::new();
        c14n::canonicalize_subset(
            &document,
            signed_info,
            &[],
            &self.canonicalization,
            &mut canonical,
            limits::MAX_CANONICAL_BYTES,
        )?;
        let value = method.value_from_der(&key.sign(&canonical)?)?;
        Ok(format!(
            "{before}{}{}\n<ds:SignatureValue>\n{}\n</ds:SignatureValue>\n{}{after}",
            self.open,
            self.signed_info,
            encode_base64_wrapped(&value),
            self.after_value
        ))
    }
}

/// The base64 digest of an element's (or, for the root element, the whole document's) node-set as a
/// same-document reference sees it: without comments.
fn reference_digest(
    document: &Document<'_>,
    element: Node<'_, '_>,
    canonicalization: &Method,
    method: &SignatureMethod,
) -> Result<String, PkiError> {
    use base64ct::Encoding;
    let apex = if element == document.root_element() {
        document.root()
    } else {
        element
    };
    let mut canonical = Vec::new();
    c14n::canonicalize_subset(
        document,
        apex,
        &[],
        &canonicalization.without_comments(),
        &mut canonical,
        limits::MAX_CANONICAL_BYTES,
    )?;
    let digest = digest_of_oid(method.digest_oid)?.digest(&canonical);
    Ok(base64ct::Base64::encode_string(&digest))
}

/// The key must be the certificate's: a signature whose KeyInfo names another key verifies nowhere.
fn check_pair(key: &PrivateKey, certificate: &Certificate) -> Result<(), PkiError> {
    if to_der(&key.public_key_info()?)?
        != to_der(&certificate.tbs_certificate.subject_public_key_info)?
    {
        return Err(PkiError::Rejected(
            "the certificate is not the signing key's".into(),
        ));
    }
    Ok(())
}

/// The id a `#id` Reference names the element by.
fn id_of(element: Node<'_, '_>) -> Result<String, PkiError> {
    ["Id", "ID", "id"]
        .iter()
        .find_map(|name| element.attribute(*name))
        .or_else(|| element.attribute((WSU_NS, "Id")))
        .map(String::from)
        .ok_or_else(|| {
            PkiError::Rejected(format!(
                "the element to sign ({}) has no Id, ID, id or wsu:Id attribute to be referenced by",
                element.tag_name().name()
            ))
        })
}

/// The text with `element` able to take a last child, and the byte offset where it goes: before the end
/// tag, which a self-closing element is given (`<a/>` and `<a></a>` canonicalise alike, so no digest
/// changes).
fn open_for_child(xml: &str, element: Node<'_, '_>) -> Result<(String, usize), PkiError> {
    let range = element.range();
    let text = &xml[range.clone()];
    if let Some(open) = text.strip_suffix("/>") {
        let prefix = element_prefix(element)?
            .map(|p| format!("{p}:"))
            .unwrap_or_default();
        let at = range.start + open.len() + 1;
        let rewritten = format!(
            "{}{open}></{prefix}{}>{}",
            &xml[..range.start],
            element.tag_name().name(),
            &xml[range.end..]
        );
        return Ok((rewritten, at));
    }
    text.rfind("</")
        .map(|at| (xml.to_string(), range.start + at))
        .ok_or_else(|| PkiError::Malformed("XML: an element without its end tag".into()))
}

/// The byte offset just after an element's name in its start tag.
fn start_tag_name_end(element: Node<'_, '_>) -> Result<usize, PkiError> {
    let prefix = element_prefix(element)?;
    let name_len = prefix.map_or(0, |p| p.len() + 1) + element.tag_name().name().len();
    Ok(element.range().start + 1 + name_len)
}

/// The SOAP Envelope (the root), its Body and its Header if any.
fn soap_parts<'a, 'i>(
    document: &'a Document<'i>,
) -> Result<(Node<'a, 'i>, Node<'a, 'i>, Option<Node<'a, 'i>>), PkiError> {
    let envelope = document.root_element();
    let namespace = [SOAP11_NS, SOAP12_NS]
        .into_iter()
        .find(|ns| is(envelope, ns, "Envelope"))
        .ok_or_else(|| {
            PkiError::Malformed("WS-Security: the root is not a SOAP Envelope".into())
        })?;
    let mut bodies = envelope.children().filter(|n| is(*n, namespace, "Body"));
    let body = bodies
        .next()
        .ok_or_else(|| PkiError::Malformed("WS-Security: the Envelope has no Body".into()))?;
    if bodies.next().is_some() {
        return Err(PkiError::Malformed(
            "WS-Security: the Envelope has two Bodies".into(),
        ));
    }
    let header = envelope.children().find(|n| is(*n, namespace, "Header"));
    Ok((envelope, body, header))
}

fn random_hex(bytes: usize) -> String {
    use rand_core::{OsRng, RngCore};
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    hex::encode(buffer)
}

fn escape_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// The XPath subset [`sign_element`] reads.
#[derive(Debug, PartialEq)]
struct Path {
    /// `//` before the first step: it matches any element, not only the root.
    anywhere: bool,
    steps: Vec<Step>,
}

#[derive(Debug, PartialEq)]
struct Step {
    /// The name as the document writes it (`prefix:local`), or `None` for `*`.
    name: Option<String>,
    /// `[@attr='value']`.
    attribute: Option<(String, String)>,
}

impl Path {
    fn parse(expression: &str) -> Result<Path, PkiError> {
        let unsupported = || {
            PkiError::Rejected(format!(
                "XPath {expression:?}: only /a/b, //a and steps with [@attr='value'] are supported"
            ))
        };
        let (anywhere, rest) = if let Some(rest) = expression.strip_prefix("//") {
            (true, rest)
        } else if let Some(rest) = expression.strip_prefix('/') {
            (false, rest)
        } else {
            return Err(unsupported());
        };
        let mut steps = Vec::new();
        for text in split_steps(rest) {
            let (name, predicate) = match text.split_once('[') {
                Some((name, predicate)) => (name, Some(predicate)),
                None => (text, None),
            };
            let valid_name = |n: &str| {
                !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
            };
            let name = match name {
                "*" => None,
                n if valid_name(n) => Some(n.to_string()),
                _ => return Err(unsupported()),
            };
            let attribute = match predicate {
                None => None,
                Some(p) => {
                    let inner = p
                        .strip_suffix(']')
                        .and_then(|p| p.strip_prefix('@'))
                        .ok_or_else(unsupported)?;
                    let (attribute, value) = inner.split_once('=').ok_or_else(unsupported)?;
                    let value = value.trim();
                    let quote = value.chars().next().filter(|q| *q == '\'' || *q == '"');
                    let value = quote
                        .and_then(|q| value.strip_prefix(q)?.strip_suffix(q))
                        .ok_or_else(unsupported)?;
                    let attribute = attribute.trim();
                    if !valid_name(attribute) {
                        return Err(unsupported());
                    }
                    Some((attribute.to_string(), value.to_string()))
                }
            };
            steps.push(Step { name, attribute });
        }
        if steps.is_empty() {
            return Err(unsupported());
        }
        Ok(Path { anywhere, steps })
    }

    /// The one element the path selects.
    fn select<'a, 'i>(&self, document: &'a Document<'i>) -> Result<Node<'a, 'i>, PkiError> {
        let mut current: Vec<Node<'a, 'i>> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let candidates: Vec<Node<'a, 'i>> = if i == 0 && self.anywhere {
                document.descendants().filter(Node::is_element).collect()
            } else if i == 0 {
                vec![document.root_element()]
            } else {
                current
                    .iter()
                    .flat_map(|n| n.children().filter(Node::is_element))
                    .collect()
            };
            current = candidates
                .into_iter()
                .filter(|n| step.matches(*n))
                .collect();
        }
        match current.as_slice() {
            [one] => Ok(*one),
            [] => Err(PkiError::Rejected("the XPath selects no element".into())),
            many => Err(PkiError::Rejected(format!(
                "the XPath selects {} elements, one is needed",
                many.len()
            ))),
        }
    }
}

/// Splits at `/` outside predicates (a value may hold a slash).
fn split_steps(path: &str) -> Vec<&str> {
    let mut steps = Vec::new();
    let (mut start, mut depth, mut quote) = (0, 0usize, None);
    for (i, c) in path.char_indices() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('[', None) => depth += 1,
            (']', None) => depth = depth.saturating_sub(1),
            ('/', None) if depth == 0 => {
                steps.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    steps.push(&path[start..]);
    steps
}

impl Step {
    fn matches(&self, node: Node<'_, '_>) -> bool {
        let written = |prefix: Option<&str>, local: &str| match prefix {
            Some(p) => format!("{p}:{local}"),
            None => local.to_string(),
        };
        if let Some(name) = &self.name {
            let Ok(prefix) = element_prefix(node) else {
                return false;
            };
            if written(prefix, node.tag_name().name()) != *name {
                return false;
            }
        }
        match &self.attribute {
            None => true,
            Some((attribute, value)) => node.attributes().any(|a| {
                a.value() == value
                    && attribute_prefix(node, &a)
                        .is_ok_and(|prefix| written(prefix, a.name()) == *attribute)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xpath_subset_selects_one_element_or_says_why_not() {
        let xml = "<r xmlns:w='urn:w'><a Id='x'><b/></a><a Id='y/z'><b/></a><w:c w:Id='t'/></r>";
        let document = super::super::parse(xml.as_bytes()).unwrap();
        let name = |path: &str| {
            Path::parse(path)
                .and_then(|p| p.select(&document))
                .map(|n| n.tag_name().name().to_string())
        };
        assert_eq!(name("/r").unwrap(), "r");
        assert_eq!(name("/*").unwrap(), "r");
        assert_eq!(name("/r/a[@Id='y/z']/b").unwrap(), "b");
        assert_eq!(name("//*[@Id=\"x\"]").unwrap(), "a");
        assert_eq!(name("//w:c[@w:Id='t']").unwrap(), "c");
        assert!(matches!(name("/r/a"), Err(PkiError::Rejected(m)) if m.contains("2 elements")));
        assert!(matches!(name("/r/q"), Err(PkiError::Rejected(m)) if m.contains("no element")));
        for unsupported in ["r", "/r/a[1]", "/r/a[@Id=x]", "", "/r/text()", "//"] {
            assert!(Path::parse(unsupported).is_err(), "{unsupported}");
        }
    }
}
