//! Canonical XML 1.0 (<https://www.w3.org/TR/2001/REC-xml-c14n-20010315>) with and without comments, and
//! Exclusive XML Canonicalization 1.0 (<https://www.w3.org/TR/2002/REC-xml-exc-c14n-20020718/>) with an
//! InclusiveNamespaces PrefixList, of a whole document or of the node-sets XML signatures use: an element
//! with its descendants (a `#id` reference, a SignedInfo), less whole subtrees (the signatures the
//! enveloped-signature transform and the last-to-first order remove).
//!
//! Written here rather than taken from crates.io: `xml_c14n` binds libxml2 (C, and a second XML parser
//! beside roxmltree), `xml-canonical` 0.1 canonicalises text it parses itself rather than node-sets of a
//! document the verifier holds, and `xml-sec` 0.1 is a young single-author crate that brings its own X.509
//! stack (x509-parser) and verifies with ring only (no GOST, none of this crate's path and revocation
//! checks). The spec's rules fit in this file and are tested against the W3C examples and libxml2
//! (`xmllint --c14n`, `--exc-c14n`; tests/xmldsig_c14n.rs). The node-sets are restricted
//! to "a subtree less subtrees", which is every node-set Kalkan, NCALayer and WS-Security produce; with
//! them each rendered element's nearest rendered ancestor is its parent (or none at the apex), which is
//! what keeps the namespace rules below simple. XPath-filtered node-sets are not supported.

use roxmltree::{Document, Node, NodeId, NodeType};

use super::{attribute_prefix, element_prefix, limits};
use crate::PkiError;

pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
pub const C14N_WITH_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// A canonicalisation method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// Canonical XML 1.0.
    Inclusive { comments: bool },
    /// Exclusive XML Canonicalization 1.0; `inclusive_prefixes` is the InclusiveNamespaces PrefixList
    /// (`#default` names the default namespace).
    Exclusive {
        comments: bool,
        inclusive_prefixes: Vec<String>,
    },
}

impl Method {
    /// The method an Algorithm URI names (the PrefixList comes from the element's child, see
    /// [`Method::with_prefixes`]).
    pub fn from_uri(uri: &str) -> Option<Method> {
        Some(match uri {
            C14N => Method::Inclusive { comments: false },
            C14N_WITH_COMMENTS => Method::Inclusive { comments: true },
            EXC_C14N => Method::Exclusive {
                comments: false,
                inclusive_prefixes: Vec::new(),
            },
            EXC_C14N_WITH_COMMENTS => Method::Exclusive {
                comments: true,
                inclusive_prefixes: Vec::new(),
            },
            _ => return None,
        })
    }

    pub fn uri(&self) -> &'static str {
        match self {
            Method::Inclusive { comments: false } => C14N,
            Method::Inclusive { comments: true } => C14N_WITH_COMMENTS,
            Method::Exclusive {
                comments: false, ..
            } => EXC_C14N,
            Method::Exclusive { comments: true, .. } => EXC_C14N_WITH_COMMENTS,
        }
    }

    /// The exclusive method with the given PrefixList (whitespace-separated); the inclusive one as it is.
    pub fn with_prefixes(self, prefix_list: &str) -> Method {
        match self {
            Method::Exclusive { comments, .. } => Method::Exclusive {
                comments,
                inclusive_prefixes: prefix_list
                    .split_ascii_whitespace()
                    .map(String::from)
                    .collect(),
            },
            inclusive => inclusive,
        }
    }

    fn comments(&self) -> bool {
        match self {
            Method::Inclusive { comments } | Method::Exclusive { comments, .. } => *comments,
        }
    }

    /// The same method without comments: a same-document reference (`URI=""`, `URI="#id"`) drops the
    /// comments before any transform (XMLDSig §4.3.3.3), whatever the transform says.
    pub fn without_comments(&self) -> Method {
        match self {
            Method::Inclusive { .. } => Method::Inclusive { comments: false },
            Method::Exclusive {
                inclusive_prefixes, ..
            } => Method::Exclusive {
                comments: false,
                inclusive_prefixes: inclusive_prefixes.clone(),
            },
        }
    }
}

/// The canonical form of a whole document.
pub fn canonicalize(xml: &[u8], method: &Method) -> Result<Vec<u8>, PkiError> {
    let document = super::parse(xml)?;
    let mut out = Vec::with_capacity(xml.len());
    canonicalize_subset(
        &document,
        document.root(),
        &[],
        method,
        &mut out,
        limits::MAX_CANONICAL_BYTES,
    )?;
    Ok(out)
}

/// Appends to `out` the canonical form of the node-set "`apex` and its descendants, less the subtrees
/// rooted at `excluded`" (`apex` may be the document's root node). Refuses to write more than `max_bytes`.
pub(crate) fn canonicalize_subset(
    document: &Document<'_>,
    apex: Node<'_, '_>,
    excluded: &[NodeId],
    method: &Method,
    out: &mut Vec<u8>,
    max_bytes: usize,
) -> Result<(), PkiError> {
    let limit = out.len().saturating_add(max_bytes);
    let mut writer = Writer {
        method,
        excluded,
        out,
        limit,
        rendered: Vec::new(),
    };
    if apex.node_type() == NodeType::Root {
        let root_element = document.root_element();
        let mut after_root = false;
        for child in apex.children() {
            if excluded.contains(&child.id()) {
                continue;
            }
            if child == root_element {
                writer.node(child, true)?;
                after_root = true;
                continue;
            }
            let writes = match child.node_type() {
                NodeType::Comment => method.comments(),
                NodeType::PI => true,
                _ => false,
            };
            if !writes {
                continue;
            }
            // Outside the document element a comment or PI is separated from it by one line feed.
            if after_root {
                writer.push(b"\n")?;
            }
            writer.node(child, true)?;
            if !after_root {
                writer.push(b"\n")?;
            }
        }
        Ok(())
    } else {
        writer.node(apex, true)
    }
}

/// One namespace declaration as rendered: prefix (`""` for the default) and URI.
type Rendered<'a> = (&'a str, &'a str);

struct Writer<'m, 'o, 'a> {
    method: &'m Method,
    excluded: &'m [NodeId],
    out: &'o mut Vec<u8>,
    limit: usize,
    /// The declarations rendered on the current element's output ancestors, innermost last, with the
    /// length of the stack at each open element.
    rendered: Vec<Rendered<'a>>,
}

impl<'a> Writer<'_, '_, 'a> {
    fn push(&mut self, bytes: &[u8]) -> Result<(), PkiError> {
        if self.out.len() + bytes.len() > self.limit {
            return Err(PkiError::LimitExceeded(format!(
                "canonical XML longer than {} bytes",
                limits::MAX_CANONICAL_BYTES
            )));
        }
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn escaped(&mut self, text: &str, attribute: bool) -> Result<(), PkiError> {
        let mut start = 0;
        for (i, c) in text.char_indices() {
            let replacement: &[u8] = match c {
                '&' => b"&amp;",
                '<' => b"&lt;",
                '>' if !attribute => b"&gt;",
                '"' if attribute => b"&quot;",
                '\t' if attribute => b"&#x9;",
                '\n' if attribute => b"&#xA;",
                '\r' => b"&#xD;",
                _ => continue,
            };
            self.push(&text.as_bytes()[start..i])?;
            self.push(replacement)?;
            start = i + 1;
        }
        self.push(&text.as_bytes()[start..])
    }

    /// The URI rendered for `prefix` on the output ancestors (`""` for none).
    fn in_effect(&self, prefix: &str) -> &'a str {
        self.rendered
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map_or("", |(_, uri)| uri)
    }

    fn node(&mut self, node: Node<'a, '_>, apex: bool) -> Result<(), PkiError> {
        match node.node_type() {
            NodeType::Element => self.element(node, apex),
            NodeType::Text => self.escaped(node.text().unwrap_or(""), false),
            NodeType::Comment if self.method.comments() => {
                self.push(b"<!--")?;
                self.push(node.text().unwrap_or("").as_bytes())?;
                self.push(b"-->")
            }
            NodeType::PI => {
                let Some(pi) = node.pi() else { return Ok(()) };
                self.push(b"<?")?;
                self.push(pi.target.as_bytes())?;
                if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                    self.push(b" ")?;
                    self.push(value.as_bytes())?;
                }
                self.push(b"?>")
            }
            _ => Ok(()),
        }
    }

    fn element(&mut self, node: Node<'a, '_>, apex: bool) -> Result<(), PkiError> {
        let prefix = element_prefix(node)?.unwrap_or("");
        let mut attributes = Vec::new();
        for attribute in node.attributes() {
            let written = attribute_prefix(node, &attribute)?;
            attributes.push((attribute, written));
        }

        // The namespace declarations this element renders.
        let in_scope: Vec<Rendered<'a>> = node
            .namespaces()
            .map(|ns| (ns.name().unwrap_or(""), ns.uri()))
            .collect();
        let candidates: Vec<Rendered<'a>> = match self.method {
            Method::Inclusive { .. } => in_scope.clone(),
            Method::Exclusive {
                inclusive_prefixes, ..
            } => {
                let mut used: Vec<&str> = vec![prefix];
                used.extend(
                    attributes
                        .iter()
                        .filter_map(|(_, p)| *p)
                        .filter(|p| *p != "xml"),
                );
                in_scope
                    .iter()
                    .filter(|(p, _)| {
                        used.contains(p)
                            || inclusive_prefixes
                                .iter()
                                .any(|listed| listed == p || (p.is_empty() && listed == "#default"))
                    })
                    .copied()
                    .collect()
            }
        };
        let mut declarations: Vec<Rendered<'a>> = candidates
            .into_iter()
            .filter(|(p, uri)| {
                if p.is_empty() && uri.is_empty() {
                    // `xmlns=""` is no namespace node: handled below.
                    return false;
                }
                self.in_effect(p) != *uri
            })
            .collect();
        // An element without a default namespace under one that rendered a default must undo it. In
        // exclusive c14n only an element that uses the default namespace (no prefix) does.
        let default_here = in_scope
            .iter()
            .find(|(p, _)| p.is_empty())
            .map_or("", |(_, uri)| uri);
        let undoes_default = match self.method {
            Method::Inclusive { .. } => true,
            Method::Exclusive {
                inclusive_prefixes, ..
            } => prefix.is_empty() || inclusive_prefixes.iter().any(|p| p == "#default"),
        };
        if default_here.is_empty() && undoes_default && !self.in_effect("").is_empty() {
            declarations.push(("", ""));
        }
        declarations.sort_by(|a, b| a.0.cmp(b.0));

        // c14n 1.0 (not exclusive) carries the xml:* attributes of the ancestors onto an apex element.
        let mut inherited: Vec<(&'a str, &'a str)> = Vec::new();
        if apex && matches!(self.method, Method::Inclusive { .. }) {
            for ancestor in node.ancestors().skip(1).filter(|a| a.is_element()) {
                for attribute in ancestor.attributes() {
                    if attribute.namespace() == Some(XML_NS)
                        && !node.attributes().any(|own| {
                            own.namespace() == Some(XML_NS) && own.name() == attribute.name()
                        })
                        && !inherited.iter().any(|(name, _)| *name == attribute.name())
                    {
                        inherited.push((attribute.name(), attribute.value()));
                    }
                }
            }
        }

        // Attributes by namespace URI, then local name; those without a namespace first.
        let mut sorted: Vec<(&str, &str, Option<&str>, &str)> = attributes
            .iter()
            .map(|(a, p)| (a.namespace().unwrap_or(""), a.name(), *p, a.value()))
            .chain(
                inherited
                    .iter()
                    .map(|(name, value)| (XML_NS, *name, Some("xml"), *value)),
            )
            .collect();
        sorted.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

        self.push(b"<")?;
        self.qname(prefix, node.tag_name().name())?;
        for (p, uri) in &declarations {
            if p.is_empty() {
                self.push(b" xmlns=\"")?;
            } else {
                self.push(b" xmlns:")?;
                self.push(p.as_bytes())?;
                self.push(b"=\"")?;
            }
            self.escaped(uri, true)?;
            self.push(b"\"")?;
        }
        for (_, name, p, value) in sorted {
            self.push(b" ")?;
            self.qname(p.unwrap_or(""), name)?;
            self.push(b"=\"")?;
            self.escaped(value, true)?;
            self.push(b"\"")?;
        }
        self.push(b">")?;

        let mark = self.rendered.len();
        self.rendered.extend(declarations);
        for child in node.children() {
            if !self.excluded.contains(&child.id()) {
                self.node(child, false)?;
            }
        }
        self.rendered.truncate(mark);

        self.push(b"</")?;
        self.qname(prefix, node.tag_name().name())?;
        self.push(b">")
    }

    fn qname(&mut self, prefix: &str, local: &str) -> Result<(), PkiError> {
        if !prefix.is_empty() {
            self.push(prefix.as_bytes())?;
            self.push(b":")?;
        }
        self.push(local.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, method: &Method) -> String {
        String::from_utf8(canonicalize(xml.as_bytes(), method).unwrap()).unwrap()
    }

    fn element_c14n(xml: &str, local: &str, method: &Method) -> String {
        let document = super::super::parse(xml.as_bytes()).unwrap();
        let apex = document
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == local)
            .unwrap();
        let mut out = Vec::new();
        canonicalize_subset(&document, apex, &[], method, &mut out, 1 << 20).unwrap();
        String::from_utf8(out).unwrap()
    }

    const PLAIN: Method = Method::Inclusive { comments: false };
    const COMMENTS: Method = Method::Inclusive { comments: true };

    fn exclusive(prefixes: &[&str]) -> Method {
        Method::Exclusive {
            comments: false,
            inclusive_prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// W3C Canonical XML 1.0, §3.1 "PIs, Comments, and Outside of Document Element".
    const SPEC_3_1: &str = "<?xml version=\"1.0\"?>\n\n<?xml-stylesheet   href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n\n<doc>Hello, world!<!-- Comment 1 --></doc>\n\n<?pi-without-data     ?>\n\n<!-- Comment 2 -->\n\n<!-- Comment 3 -->";

    #[test]
    fn spec_3_1_pis_comments_outside_the_document_element() {
        assert_eq!(
            c14n(SPEC_3_1, &PLAIN),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!</doc>\n<?pi-without-data?>"
        );
        assert_eq!(
            c14n(SPEC_3_1, &COMMENTS),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!<!-- Comment 1 --></doc>\n<?pi-without-data?>\n<!-- Comment 2 -->\n<!-- Comment 3 -->"
        );
    }

    /// §3.2 "Whitespace in Document Content" (the DTD of the original is left out: it declares nothing
    /// the output depends on).
    #[test]
    fn spec_3_2_whitespace_in_content() {
        let input = "<doc>\n   <clean>   </clean>\n   <dirty>   A   B   </dirty>\n   <mixed>\n      A\n      <clean>   </clean>\n      B\n      <dirty>   A   B   </dirty>\n      C\n   </mixed>\n</doc>";
        assert_eq!(c14n(input, &PLAIN), input);
    }

    /// §3.3 "Start and End Tags", without the DTD's defaulted attributes (out of scope here) and with
    /// the duplicate-namespace case of the original.
    #[test]
    fn spec_3_3_start_and_end_tags() {
        let input = "<doc>\n   <e1   />\n   <e2   ></e2>\n   <e3   name = \"elem3\"   id=\"elem3\"   />\n   <e4   name=\"elem4\"   id=\"elem4\"   ></e4>\n   <e5 a:attr=\"out\" b:attr=\"sorted\" attr2=\"all\" attr=\"I'm\"\n      xmlns:b=\"http://www.ietf.org\"\n      xmlns:a=\"http://www.w3.org\"\n      xmlns=\"http://example.org\"/>\n   <e6 xmlns=\"\" xmlns:a=\"http://www.w3.org\">\n      <e7 xmlns=\"http://www.ietf.org\">\n         <e8 xmlns=\"\" xmlns:a=\"http://www.w3.org\">\n            <e9 xmlns=\"\" xmlns:a=\"http://www.ietf.org\"/>\n         </e8>\n      </e7>\n   </e6>\n</doc>";
        let expected = "<doc>\n   <e1></e1>\n   <e2></e2>\n   <e3 id=\"elem3\" name=\"elem3\"></e3>\n   <e4 id=\"elem4\" name=\"elem4\"></e4>\n   <e5 xmlns=\"http://example.org\" xmlns:a=\"http://www.w3.org\" xmlns:b=\"http://www.ietf.org\" attr=\"I'm\" attr2=\"all\" b:attr=\"sorted\" a:attr=\"out\"></e5>\n   <e6 xmlns:a=\"http://www.w3.org\">\n      <e7 xmlns=\"http://www.ietf.org\">\n         <e8 xmlns=\"\">\n            <e9 xmlns:a=\"http://www.ietf.org\"></e9>\n         </e8>\n      </e7>\n   </e6>\n</doc>";
        assert_eq!(c14n(input, &PLAIN), expected);
    }

    /// §3.4 "Character Modifications and Character References" (less the DTD-typed attribute).
    #[test]
    fn spec_3_4_character_references() {
        let input = "<doc>\n   <text>First line&#x0d;&#10;Second line</text>\n   <value>&#x32;</value>\n   <compute><![CDATA[value>\"0\" && value<\"10\" ?\"valid\":\"error\"]]></compute>\n   <compute expr='value>\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"'>valid</compute>\n   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n</doc>";
        let expected = "<doc>\n   <text>First line&#xD;\nSecond line</text>\n   <value>2</value>\n   <compute>value&gt;\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"</compute>\n   <compute expr=\"value>&quot;0&quot; &amp;&amp; value&lt;&quot;10&quot; ?&quot;valid&quot;:&quot;error&quot;\">valid</compute>\n   <norm attr=\" '    &#xD;&#xA;&#x9;   ' \"></norm>\n</doc>";
        assert_eq!(c14n(input, &PLAIN), expected);
    }

    /// §3.7's point, on a subtree: the apex renders every namespace in scope and inherits xml:*
    /// attributes, while a child renders only what changes.
    #[test]
    fn a_subtree_renders_inherited_namespaces_and_xml_attributes() {
        let input = "<doc xmlns=\"http://www.ietf.org\" xmlns:w3c=\"http://www.w3.org\" xml:lang=\"kk\"><e1 xml:space=\"preserve\"><e2 xmlns=\"\"><e3 id=\"E3\" xmlns:w3c=\"http://www.w3.org\"/></e2></e1></doc>";
        assert_eq!(
            element_c14n(input, "e1", &PLAIN),
            "<e1 xmlns=\"http://www.ietf.org\" xmlns:w3c=\"http://www.w3.org\" xml:lang=\"kk\" xml:space=\"preserve\"><e2 xmlns=\"\"><e3 id=\"E3\"></e3></e2></e1>"
        );
        // Exclusive: only what the elements use; no xml:* inheritance.
        assert_eq!(
            element_c14n(input, "e1", &exclusive(&[])),
            "<e1 xmlns=\"http://www.ietf.org\" xml:space=\"preserve\"><e2 xmlns=\"\"><e3 id=\"E3\"></e3></e2></e1>"
        );
        assert_eq!(
            element_c14n(input, "e2", &exclusive(&[])),
            "<e2><e3 id=\"E3\"></e3></e2>"
        );
        assert_eq!(
            element_c14n(input, "e2", &exclusive(&["w3c"])),
            "<e2 xmlns:w3c=\"http://www.w3.org\"><e3 id=\"E3\"></e3></e2>"
        );
    }

    /// A namespace declared on an ancestor and used deep down: exclusive c14n renders it where it is
    /// used, inclusive c14n on the apex.
    #[test]
    fn exclusive_renders_namespaces_where_used() {
        let input = "<n0:local xmlns:n0=\"foo:bar\" xmlns:n3=\"ftp://example.org\"><n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\"><n3:stuff xmlns:n3=\"ftp://example.org\"/></n1:elem2></n0:local>";
        assert_eq!(
            element_c14n(input, "elem2", &exclusive(&[])),
            "<n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\"><n3:stuff xmlns:n3=\"ftp://example.org\"></n3:stuff></n1:elem2>"
        );
        assert_eq!(
            element_c14n(input, "elem2", &PLAIN),
            "<n1:elem2 xmlns:n0=\"foo:bar\" xmlns:n1=\"http://example.net\" xmlns:n3=\"ftp://example.org\" xml:lang=\"en\"><n3:stuff></n3:stuff></n1:elem2>"
        );
    }

    #[test]
    fn excluded_subtrees_are_left_out_and_methods_round_trip_their_uris() {
        let input = "<a><b>x</b><s><t/></s><c/></a>";
        let document = super::super::parse(input.as_bytes()).unwrap();
        let s = document
            .descendants()
            .find(|n| n.tag_name().name() == "s")
            .unwrap();
        let mut out = Vec::new();
        canonicalize_subset(
            &document,
            document.root(),
            &[s.id()],
            &PLAIN,
            &mut out,
            1 << 20,
        )
        .unwrap();
        assert_eq!(out, b"<a><b>x</b><c></c></a>");
        let mut short = Vec::new();
        assert!(matches!(
            canonicalize_subset(&document, document.root(), &[], &PLAIN, &mut short, 10),
            Err(PkiError::LimitExceeded(_))
        ));
        for uri in [C14N, C14N_WITH_COMMENTS, EXC_C14N, EXC_C14N_WITH_COMMENTS] {
            assert_eq!(Method::from_uri(uri).unwrap().uri(), uri);
        }
        assert_eq!(
            Method::from_uri("http://www.w3.org/2006/12/xml-c14n11"),
            None
        );
    }
}
