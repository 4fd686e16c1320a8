//! Checking XML signatures: every `ds:Signature` of a document, last to first. Each new signature covers
//! the ones before it, so the last is checked on the whole document, then taken away and the one before
//! it checked, and so on (NCANode's order, FACTS.md §1).
//!
//! What is accepted is what Kalkan, NCALayer and WS-Security write: same-document references (`URI=""`
//! and `URI="#id"` by an `Id`, `ID`, `id`, `xml:id` or `wsu:Id` attribute), the enveloped-signature
//! transform and the c14n methods of [`super::c14n`]; anything else (XPath, XSLT, external URIs) is
//! refused. Two defences against signature wrapping: an id carried by two elements is refused, and a
//! signature must cover what the application reads, the whole document (a reference to the root) or,
//! in a SOAP envelope, the Envelope's one Body.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use roxmltree::{Document, Node, NodeId};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;

use super::algorithms::{SignatureMethod, digest_method};
use super::c14n::{self, Method};
use super::{
    DSIG_NS, ENVELOPED_SIGNATURE, SOAP11_NS, SOAP12_NS, WSSE_NS, WSU_NS, X509V3_TOKEN, is, limits,
};
use crate::PkiError;
use crate::algorithm::{SignatureFailure, verify_signature};
use crate::name::Identity;
use crate::report::{Code, Failure, Report, SignerReport};
use crate::verify::{Budget, Expectation, Known, Verifier, summary};

impl Verifier {
    /// Judges every XML signature of a document (Kalkan's enveloped signatures, NCALayer's `signXml`,
    /// WS-Security), one [`SignerReport`] per `ds:Signature` in document order: the references'
    /// digests ([`Code::Tampered`]), SignedInfo's signature ([`Code::BadSignature`]), then the signer's
    /// certificate exactly as a CMS signer's is judged (path, validity at `now`, revocation, key usage,
    /// the expected IIN/BIN). The signatures are checked last to first, each on the document without
    /// the ones after it (module [`crate::xmldsig`]). `content_sha256` is the SHA-256 of `xml` as given.
    ///
    /// A document over [`super::limits`] is refused with [`Code::LimitExceeded`] before the work; one
    /// that is not XML, has a DOCTYPE or no signature, with [`Code::Malformed`].
    pub fn verify_xml(
        &self,
        xml: &[u8],
        expect: &Expectation,
        now: Timestamp,
        budget: &Budget,
    ) -> Report {
        let checked = match check_document(
            xml,
            &|| budget.is_cancelled(),
            &|der| self.known(der),
            limits::MAX_CANONICAL_BYTES,
        ) {
            Ok(checked) => checked,
            Err(failure) => return Report::failed(now, failure),
        };
        let signers = checked
            .into_iter()
            .map(|signature| {
                let mut report = SignerReport {
                    signer: None,
                    certificate: None,
                    chain: Vec::new(),
                    claimed_signing_time: None,
                    time_stamp: None,
                    revocation: Vec::new(),
                    failures: signature.failures,
                    notes: Vec::new(),
                };
                let limited =
                    |r: &SignerReport| r.failures.iter().any(|f| f.code == Code::LimitExceeded);
                if let Some(leaf) = &signature.leaf {
                    report.signer = Some(Identity::of(&leaf.certificate.tbs_certificate.subject));
                    report.certificate = Some(summary(&leaf.certificate));
                    if !limited(&report) {
                        // XML signatures carry no signing time an authority vouches for: the certificate
                        // is judged at the validation time.
                        self.judge_certificate(
                            &mut report,
                            leaf,
                            &signature.pool,
                            &[],
                            expect,
                            now,
                            now,
                            budget,
                        );
                    }
                }
                if budget.is_spent() && !limited(&report) {
                    report.failures.push(Failure::new(
                        Code::LimitExceeded,
                        "the verification's budget ran out",
                    ));
                }
                report
            })
            .collect();
        Report::new(
            now,
            Some(hex::encode(Sha256::digest(xml))),
            signers,
            Vec::new(),
        )
    }
}

const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// One signature, checked except for its certificate's path and status.
struct Checked {
    /// The signer's certificate: the first of KeyInfo (Kalkan writes only it).
    leaf: Option<Arc<Known>>,
    /// Every certificate of KeyInfo, for the path.
    pool: Vec<Arc<Known>>,
    failures: Vec<Failure>,
}

/// Decodes a certificate (the verifier's cache).
type Decode<'a> = &'a dyn Fn(&[u8]) -> Result<Arc<Known>, PkiError>;

/// Checks every signature of `xml`: its references' digests and its SignedInfo's signature with the
/// signer's key. The result is in document order; `cancelled` is asked before each signature, and all
/// the canonical forms together may take `canonical_budget` bytes. An error is a failure of the
/// document as a whole (not XML, too large, no signature).
fn check_document(
    xml: &[u8],
    cancelled: &dyn Fn() -> bool,
    decode: Decode<'_>,
    canonical_budget: usize,
) -> Result<Vec<Checked>, Failure> {
    let document = super::parse(xml).map_err(failure_of)?;
    let signatures: Vec<Node<'_, '_>> = document
        .descendants()
        .filter(|n| is(*n, DSIG_NS, "Signature"))
        .collect();
    if signatures.is_empty() {
        return Err(Failure::new(
            Code::Malformed,
            "the document has no ds:Signature",
        ));
    }
    if signatures.len() > limits::MAX_SIGNATURES {
        return Err(Failure::new(
            Code::LimitExceeded,
            format!(
                "{} signatures, at most {} are accepted",
                signatures.len(),
                limits::MAX_SIGNATURES
            ),
        ));
    }
    if let Some(nested) = signatures
        .iter()
        .find(|s| s.ancestors().skip(1).any(|a| is(a, DSIG_NS, "Signature")))
    {
        return Err(Failure::new(
            Code::Malformed,
            format!(
                "a ds:Signature inside another (at byte {})",
                nested.range().start
            ),
        ));
    }
    let ids = Ids::of(&document);
    let mut context = Context {
        document: &document,
        ids: &ids,
        decode,
        canonical_budget,
        exhausted: false,
    };
    let mut checked: Vec<Checked> = Vec::with_capacity(signatures.len());
    for (index, signature) in signatures.iter().enumerate().rev() {
        if context.exhausted {
            // The document's canonicalisation budget is spent: the earlier signatures are reported
            // unchecked, not left out.
            checked.push(Checked {
                leaf: None,
                pool: Vec::new(),
                failures: vec![Failure::new(
                    Code::LimitExceeded,
                    "not checked: a later signature spent the document's budget",
                )],
            });
            continue;
        }
        if cancelled() {
            return Err(Failure::new(Code::LimitExceeded, "verification cancelled"));
        }
        // The signatures after this one did not exist when it was made.
        let later: Vec<NodeId> = signatures[index + 1..].iter().map(|s| s.id()).collect();
        checked.push(context.check(*signature, &later));
    }
    checked.reverse();
    Ok(checked)
}

/// The elements by id, an id held twice being refused when it is referenced.
struct Ids {
    by_value: HashMap<String, Option<NodeId>>,
}

impl Ids {
    fn of(document: &Document<'_>) -> Ids {
        let mut by_value: HashMap<String, Option<NodeId>> = HashMap::new();
        for element in document.descendants().filter(Node::is_element) {
            for attribute in element.attributes() {
                let is_id = match attribute.namespace() {
                    None => matches!(attribute.name(), "Id" | "ID" | "id"),
                    Some(WSU_NS) => attribute.name() == "Id",
                    Some(XML_NS) => attribute.name() == "id",
                    Some(_) => false,
                };
                if !is_id {
                    continue;
                }
                by_value
                    .entry(attribute.value().to_string())
                    .and_modify(|held| {
                        if *held != Some(element.id()) {
                            *held = None;
                        }
                    })
                    .or_insert(Some(element.id()));
            }
        }
        Ids { by_value }
    }

    fn find<'a, 'i>(&self, document: &'a Document<'i>, id: &str) -> Result<Node<'a, 'i>, PkiError> {
        match self.by_value.get(id) {
            Some(Some(node)) => document
                .get_node(*node)
                .ok_or_else(|| PkiError::Malformed(format!("Reference #{id}: no such element"))),
            Some(None) => Err(PkiError::Rejected(format!(
                "Reference #{id}: two elements carry this id (signature wrapping)"
            ))),
            None => Err(PkiError::Malformed(format!(
                "Reference #{id}: no element has this id"
            ))),
        }
    }
}

struct Context<'d, 'i> {
    document: &'d Document<'i>,
    ids: &'d Ids,
    decode: Decode<'d>,
    /// Canonical bytes the document may still produce.
    canonical_budget: usize,
    /// A canonicalisation was refused for want of that budget.
    exhausted: bool,
}

/// A Reference as read from SignedInfo.
struct Reference<'d> {
    uri: &'d str,
    /// The enveloped-signature transform is present.
    enveloped: bool,
    /// The canonicalisation, the last transform (c14n 1.0 when there is none, XMLDSig §4.3.3.2).
    canonicalization: Method,
    digest_uri: &'d str,
    digest_value: Vec<u8>,
}

impl<'d, 'i> Context<'d, 'i> {
    fn check(&mut self, signature: Node<'d, 'i>, later: &[NodeId]) -> Checked {
        let mut checked = Checked {
            leaf: None,
            pool: Vec::new(),
            failures: Vec::new(),
        };
        let parts = match Parts::of(signature) {
            Ok(parts) => parts,
            Err(e) => {
                checked.failures.push(failure_of(e));
                return checked;
            }
        };
        match self.certificates(parts.key_info, later).and_then(|ders| {
            ders.iter()
                .map(|der| (self.decode)(der))
                .collect::<Result<Vec<_>, _>>()
        }) {
            Ok(pool) => {
                checked.leaf = pool.first().cloned();
                checked.pool = pool;
            }
            Err(e) => checked.failures.push(failure_of(e)),
        }

        // 1. Each reference's digest.
        let mut covers_document = false;
        for reference in &parts.references {
            match self.check_reference(signature, reference, later) {
                Ok(Coverage::Document) => covers_document = true,
                Ok(Coverage::Part) => {}
                Err(failure) => checked.failures.push(failure),
            }
        }
        if !covers_document && checked.failures.is_empty() {
            checked.failures.push(Failure::new(
                Code::Malformed,
                "no Reference covers the document (URI=\"\" or the root's id) or the SOAP Body: \
                 what is read would not be what was signed (signature wrapping)",
            ));
        }
        if checked
            .failures
            .iter()
            .any(|f| f.code == Code::LimitExceeded)
        {
            return checked;
        }

        // 2. SignedInfo's signature with the signer's key.
        let Some(leaf) = checked.leaf.clone() else {
            return checked;
        };
        let mut canonical = Vec::new();
        if let Err(e) = self.canonicalize(
            parts.signed_info,
            &[],
            &parts.canonicalization,
            &mut canonical,
        ) {
            checked.failures.push(failure_of(e));
            return checked;
        }
        let algorithm = AlgorithmIdentifierOwned {
            oid: parts.method.oid,
            parameters: None,
        };
        let result = parts
            .method
            .value_to_der(&parts.signature_value)
            .map(|value| {
                verify_signature(
                    &leaf.certificate.tbs_certificate.subject_public_key_info,
                    &algorithm,
                    super::algorithms::digest_of_oid(parts.method.digest_oid).ok(),
                    &canonical,
                    &value,
                )
            });
        match result {
            Ok(Ok(())) => {}
            Ok(Err(SignatureFailure::Invalid)) => checked.failures.push(Failure::new(
                Code::BadSignature,
                "SignatureValue over SignedInfo",
            )),
            Ok(Err(SignatureFailure::Unsupported(m))) => checked
                .failures
                .push(Failure::new(Code::UnsupportedAlgorithm, m)),
            Ok(Err(SignatureFailure::Malformed(m))) => {
                checked.failures.push(Failure::new(Code::Malformed, m))
            }
            Err(e) => checked.failures.push(failure_of(e)),
        }
        checked
    }

    fn canonicalize(
        &mut self,
        apex: Node<'d, 'i>,
        excluded: &[NodeId],
        method: &Method,
        out: &mut Vec<u8>,
    ) -> Result<(), PkiError> {
        let result = c14n::canonicalize_subset(
            self.document,
            apex,
            excluded,
            method,
            out,
            self.canonical_budget,
        );
        if let Err(PkiError::LimitExceeded(_)) = &result {
            self.exhausted = true;
        }
        result?;
        self.canonical_budget -= out.len().min(self.canonical_budget);
        Ok(())
    }

    fn check_reference(
        &mut self,
        signature: Node<'d, 'i>,
        reference: &Reference<'d>,
        later: &[NodeId],
    ) -> Result<Coverage, Failure> {
        let digest = digest_method(reference.digest_uri).map_err(failure_of)?;
        let (apex, coverage) = self.dereference(reference, later).map_err(failure_of)?;
        let mut excluded = later.to_vec();
        if reference.enveloped {
            excluded.push(signature.id());
        }
        let mut canonical = Vec::new();
        self.canonicalize(apex, &excluded, &reference.canonicalization, &mut canonical)
            .map_err(failure_of)?;
        if digest.digest(&canonical) != reference.digest_value {
            return Err(Failure::new(
                Code::Tampered,
                format!(
                    "Reference URI=\"{}\": the digest differs from the content's",
                    reference.uri
                ),
            ));
        }
        Ok(coverage)
    }

    /// The apex of a reference's node-set and whether it is what the application reads.
    fn dereference(
        &self,
        reference: &Reference<'d>,
        later: &[NodeId],
    ) -> Result<(Node<'d, 'i>, Coverage), PkiError> {
        if reference.uri.is_empty() {
            return Ok((self.document.root(), Coverage::Document));
        }
        let Some(id) = reference.uri.strip_prefix('#') else {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "Reference URI=\"{}\": only same-document references are followed",
                reference.uri
            )));
        };
        if id.starts_with("xpointer(") {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "Reference URI=\"{}\": XPointer",
                reference.uri
            )));
        }
        let element = self.ids.find(self.document, id)?;
        if element.ancestors().any(|a| later.contains(&a.id())) {
            return Err(PkiError::Malformed(format!(
                "Reference #{id}: the element is inside a later signature"
            )));
        }
        let root = self.document.root_element();
        let soap_body = [SOAP11_NS, SOAP12_NS].into_iter().any(|ns| {
            is(root, ns, "Envelope")
                && is(element, ns, "Body")
                && element.parent() == Some(root)
                && root.children().filter(|n| is(*n, ns, "Body")).count() == 1
        });
        let coverage = if element == root {
            // `#id` of the root is its subtree: the same as the document less what lies outside the
            // root element (comments and PIs), which is all an application reads.
            Coverage::Document
        } else if soap_body {
            Coverage::Document
        } else {
            Coverage::Part
        };
        Ok((element, coverage))
    }

    /// The certificates of a KeyInfo: X509Data/X509Certificate, or WS-Security's
    /// SecurityTokenReference (a KeyIdentifier carrying the certificate, or a Reference to a
    /// BinarySecurityToken).
    fn certificates(
        &self,
        key_info: Option<Node<'d, 'i>>,
        later: &[NodeId],
    ) -> Result<Vec<Vec<u8>>, PkiError> {
        let missing =
            || PkiError::Malformed("the signer's certificate is not in the signature".into());
        let key_info = key_info.ok_or_else(missing)?;
        let mut found = Vec::new();
        for child in key_info.children().filter(Node::is_element) {
            if is(child, DSIG_NS, "X509Data") {
                for certificate in child
                    .children()
                    .filter(|n| is(*n, DSIG_NS, "X509Certificate"))
                {
                    found.push(decode_base64(
                        certificate.text().unwrap_or(""),
                        "X509Certificate",
                    )?);
                }
            } else if is(child, WSSE_NS, "SecurityTokenReference") {
                for token in child.children().filter(Node::is_element) {
                    if is(token, WSSE_NS, "KeyIdentifier") {
                        check_value_type(token)?;
                        found.push(decode_base64(token.text().unwrap_or(""), "KeyIdentifier")?);
                    } else if is(token, WSSE_NS, "Reference") {
                        let uri = token.attribute("URI").unwrap_or("");
                        let id = uri.strip_prefix('#').ok_or_else(|| {
                            PkiError::UnsupportedAlgorithm(format!(
                                "SecurityTokenReference URI=\"{uri}\": only same-document tokens"
                            ))
                        })?;
                        let target = self.ids.find(self.document, id)?;
                        if !is(target, WSSE_NS, "BinarySecurityToken")
                            || target.ancestors().any(|a| later.contains(&a.id()))
                        {
                            return Err(PkiError::Malformed(format!(
                                "SecurityTokenReference #{id}: not a BinarySecurityToken of the document"
                            )));
                        }
                        check_value_type(target)?;
                        found.push(decode_base64(
                            target.text().unwrap_or(""),
                            "BinarySecurityToken",
                        )?);
                    }
                }
            }
            if found.len() > limits::MAX_CERTIFICATES {
                return Err(PkiError::LimitExceeded(format!(
                    "more than {} certificates in KeyInfo",
                    limits::MAX_CERTIFICATES
                )));
            }
        }
        if found.is_empty() {
            return Err(missing());
        }
        Ok(found)
    }
}

fn check_value_type(token: Node<'_, '_>) -> Result<(), PkiError> {
    match token.attribute("ValueType") {
        None | Some(X509V3_TOKEN) => Ok(()),
        Some(other) => Err(PkiError::UnsupportedAlgorithm(format!(
            "WS-Security token of ValueType {other}"
        ))),
    }
}

enum Coverage {
    /// The whole document, or the SOAP Body an application reads.
    Document,
    /// Some other element.
    Part,
}

/// The parts of a `ds:Signature`, read strictly in the schema's order.
struct Parts<'d, 'i> {
    signed_info: Node<'d, 'i>,
    canonicalization: Method,
    method: SignatureMethod,
    references: Vec<Reference<'d>>,
    signature_value: Vec<u8>,
    key_info: Option<Node<'d, 'i>>,
}

impl<'d, 'i> Parts<'d, 'i> {
    fn of(signature: Node<'d, 'i>) -> Result<Parts<'d, 'i>, PkiError> {
        let mut children = element_children(signature)?.into_iter();
        let signed_info = expect(children.next(), "SignedInfo")?;
        let signature_value = expect(children.next(), "SignatureValue")?;
        let key_info = children.next().filter(|n| is(*n, DSIG_NS, "KeyInfo"));

        let mut info = element_children(signed_info)?.into_iter();
        let canonicalization = method_of(expect(info.next(), "CanonicalizationMethod")?)?;
        let method =
            SignatureMethod::from_uri(algorithm(expect(info.next(), "SignatureMethod")?)?)?;
        let mut references = Vec::new();
        for reference in info {
            if !is(reference, DSIG_NS, "Reference") {
                return Err(PkiError::Malformed(format!(
                    "SignedInfo: unexpected {}",
                    reference.tag_name().name()
                )));
            }
            if references.len() == limits::MAX_REFERENCES {
                return Err(PkiError::LimitExceeded(format!(
                    "more than {} References in SignedInfo",
                    limits::MAX_REFERENCES
                )));
            }
            references.push(Self::reference(reference)?);
        }
        if references.is_empty() {
            return Err(PkiError::Malformed("SignedInfo without a Reference".into()));
        }
        Ok(Parts {
            signed_info,
            canonicalization,
            method,
            references,
            signature_value: decode_base64(signature_value.text().unwrap_or(""), "SignatureValue")?,
            key_info,
        })
    }

    fn reference(node: Node<'d, 'i>) -> Result<Reference<'d>, PkiError> {
        let uri = node.attribute("URI").ok_or_else(|| {
            PkiError::UnsupportedAlgorithm(
                "a Reference without URI (the application's choice)".into(),
            )
        })?;
        let mut children = element_children(node)?.into_iter().peekable();
        let mut enveloped = false;
        let mut canonicalization = None;
        if let Some(transforms) = children.next_if(|n| is(*n, DSIG_NS, "Transforms")) {
            let list = element_children(transforms)?;
            if list.len() > limits::MAX_TRANSFORMS {
                return Err(PkiError::LimitExceeded(format!(
                    "more than {} Transforms in a Reference",
                    limits::MAX_TRANSFORMS
                )));
            }
            for transform in list {
                let transform = expect(Some(transform), "Transform")?;
                if canonicalization.is_some() {
                    // After canonicalisation the data are octets; a further transform would have to
                    // parse them again, which Kalkan never asks for.
                    return Err(PkiError::UnsupportedAlgorithm(
                        "a Transform after canonicalisation".into(),
                    ));
                }
                let uri = algorithm(transform)?;
                if uri == ENVELOPED_SIGNATURE {
                    enveloped = true;
                } else {
                    canonicalization = Some(method_of(transform)?);
                }
            }
        }
        let digest = expect(children.next(), "DigestMethod")?;
        let value = expect(children.next(), "DigestValue")?;
        if let Some(extra) = children.next() {
            return Err(PkiError::Malformed(format!(
                "Reference: unexpected {}",
                extra.tag_name().name()
            )));
        }
        Ok(Reference {
            uri,
            enveloped,
            // A same-document reference has no comments, whatever the transform says (§4.3.3.3).
            canonicalization: canonicalization
                .unwrap_or(Method::Inclusive { comments: false })
                .without_comments(),
            digest_uri: algorithm(digest)?,
            digest_value: decode_base64(value.text().unwrap_or(""), "DigestValue")?,
        })
    }
}

/// The element children of `node`; text between them must be whitespace.
fn element_children<'d, 'i>(node: Node<'d, 'i>) -> Result<Vec<Node<'d, 'i>>, PkiError> {
    let mut elements = Vec::new();
    for child in node.children() {
        if child.is_element() {
            elements.push(child);
        } else if child.is_text() && !child.text().unwrap_or("").trim().is_empty() {
            return Err(PkiError::Malformed(format!(
                "{}: text between elements",
                node.tag_name().name()
            )));
        }
    }
    Ok(elements)
}

fn expect<'d, 'i>(node: Option<Node<'d, 'i>>, local: &str) -> Result<Node<'d, 'i>, PkiError> {
    match node {
        Some(n) if is(n, DSIG_NS, local) => Ok(n),
        Some(n) => Err(PkiError::Malformed(format!(
            "ds:{local} expected, found {}",
            n.tag_name().name()
        ))),
        None => Err(PkiError::Malformed(format!("ds:{local} missing"))),
    }
}

fn algorithm<'d>(node: Node<'d, '_>) -> Result<&'d str, PkiError> {
    node.attribute("Algorithm")
        .ok_or_else(|| PkiError::Malformed(format!("{} without Algorithm", node.tag_name().name())))
}

/// A c14n method with its InclusiveNamespaces PrefixList, if any.
fn method_of(node: Node<'_, '_>) -> Result<Method, PkiError> {
    let uri = algorithm(node)?;
    let method = Method::from_uri(uri).ok_or_else(|| {
        PkiError::UnsupportedAlgorithm(format!("{} {uri}", node.tag_name().name()))
    })?;
    let prefixes = node
        .children()
        .find(|n| is(*n, EXC_C14N_NS, "InclusiveNamespaces"))
        .and_then(|n| n.attribute("PrefixList"));
    Ok(match prefixes {
        Some(list) => method.with_prefixes(list),
        None => method,
    })
}

/// Base64 as XML signatures carry it: line breaks, spaces and (from Java) `&#13;` between the lines.
fn decode_base64(text: &str, what: &str) -> Result<Vec<u8>, PkiError> {
    use base64ct::Encoding;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64ct::Base64::decode_vec(&compact)
        .map_err(|e| PkiError::Malformed(format!("{what}: base64 ({e})")))
}

fn failure_of(error: PkiError) -> Failure {
    match error {
        PkiError::UnsupportedAlgorithm(m) => Failure::new(Code::UnsupportedAlgorithm, m),
        PkiError::LimitExceeded(m) => Failure::new(Code::LimitExceeded, m),
        other => Failure::new(Code::Malformed, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KALKAN: &str =
        include_str!("../../../../testdata/nca-test/xml/ncanode_rsa_enveloped.xml");

    fn verifier() -> Verifier {
        Verifier::new(
            Vec::new(),
            Arc::new(crate::revocation::CrlSet::new(Vec::new())),
        )
    }

    fn check(xml: &str) -> Vec<Checked> {
        let verifier = verifier();
        check_document(
            xml.as_bytes(),
            &|| false,
            &|der| verifier.known(der),
            limits::MAX_CANONICAL_BYTES,
        )
        .unwrap()
    }

    fn codes(xml: &str) -> Vec<Vec<Code>> {
        check(xml)
            .iter()
            .map(|c| c.failures.iter().map(|f| f.code).collect())
            .collect()
    }

    #[test]
    fn base64_tolerates_java_line_ends() {
        let bytes: Vec<u8> = (0..=255).collect();
        let java = super::super::encode_base64_wrapped(&bytes).replace('\n', "&#13;\n ");
        let document = format!("<v>{java}</v>");
        let parsed = super::super::parse(document.as_bytes()).unwrap();
        let text = parsed.root_element().text().unwrap();
        assert!(text.contains('\r'));
        assert_eq!(decode_base64(text, "test").unwrap(), bytes);
        assert!(decode_base64("not base64!", "test").is_err());
    }

    #[test]
    fn kalkans_signature_checks_and_a_changed_character_is_caught() {
        let checked = check(KALKAN);
        assert_eq!(checked.len(), 1);
        assert!(checked[0].failures.is_empty(), "{:?}", checked[0].failures);
        assert_eq!(checked[0].pool.len(), 1);
        assert_eq!(
            codes(&KALKAN.replace("<b>test</b>", "<b>tesT</b>")),
            [[Code::Tampered]]
        );
        // One base64 character of the signature value.
        let value_at = KALKAN.find("<ds:SignatureValue>\n").unwrap() + 20;
        let mut forged = KALKAN.to_string();
        let original = &KALKAN[value_at..value_at + 1];
        forged.replace_range(
            value_at..value_at + 1,
            if original == "B" { "C" } else { "B" },
        );
        assert_eq!(codes(&forged), [[Code::BadSignature]]);
        // A comment and formatting outside the signed element change nothing a reference covers…
        assert_eq!(
            codes(&KALKAN.replace("<b>test</b>", "<b>test<!-- x --></b>")),
            [Vec::<Code>::new()]
        );
        // …while SignedInfo is signed as it is written.
        assert_eq!(
            codes(&KALKAN.replace("<ds:SignedInfo>\n", "<ds:SignedInfo>\n\n")),
            [[Code::BadSignature]]
        );
    }

    #[test]
    fn a_spent_canonicalisation_budget_leaves_the_earlier_signatures_reported_unchecked() {
        // The sample's signature twice: the later one's reference alone is over 64 bytes.
        let signature =
            &KALKAN[KALKAN.find("<ds:Signature").unwrap()..KALKAN.find("</a>").unwrap()];
        let two = KALKAN.replace("</a>", &format!("{signature}</a>"));
        let verifier = verifier();
        let checked =
            check_document(two.as_bytes(), &|| false, &|der| verifier.known(der), 64).unwrap();
        assert_eq!(checked.len(), 2);
        for signature in &checked {
            assert_eq!(
                signature
                    .failures
                    .iter()
                    .map(|f| f.code)
                    .collect::<Vec<_>>(),
                [Code::LimitExceeded]
            );
        }
        assert!(checked[0].failures[0].detail.contains("not checked"));
    }
}
