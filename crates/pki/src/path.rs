//! Certification path validation, RFC 5280 §6.1: basic constraints with path length, key usage of CAs,
//! name constraints, certificate policies (the valid_policy_tree with mappings, policy constraints and
//! inhibitAnyPolicy), unknown critical extensions, and issuer/subject chaining by the name comparison of
//! §7.1.
//!
//! The verifier builds candidate paths (signatures checked there, with its caches and budget) and asks
//! [`validate`] whether one holds. Validity periods and revocation are judged by the verifier after a
//! path is chosen, so that its report names them by their own codes.

use std::collections::BTreeSet;
use std::mem::discriminant;

use const_oid::{AssociatedOid, ObjectIdentifier};
use x509_cert::Certificate;
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, CertificatePolicies, InhibitAnyPolicy, KeyUsage, KeyUsages, NameConstraints,
    PolicyConstraints, PolicyMappings, SubjectAltName,
};
use x509_cert::name::Name;

use crate::name::{ComparableName, EMAIL_ADDRESS, attribute_text, display};
use crate::x509::extension_of;

/// anyPolicy (RFC 5280 §4.2.1.4).
pub const ANY_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32.0");

/// The extensions this validation processes (or that carry no constraint a relying party must honour):
/// any other extension marked critical makes the path invalid (§6.1.4 (o), §6.1.5 (f)).
const UNDERSTOOD_EXTENSIONS: [&str; 14] = [
    "2.5.29.14",            // subjectKeyIdentifier
    "2.5.29.15",            // keyUsage
    "2.5.29.17",            // subjectAltName
    "2.5.29.18",            // issuerAltName
    "2.5.29.19",            // basicConstraints
    "2.5.29.30",            // nameConstraints
    "2.5.29.31",            // cRLDistributionPoints
    "2.5.29.32",            // certificatePolicies
    "2.5.29.33",            // policyMappings
    "2.5.29.35",            // authorityKeyIdentifier
    "2.5.29.36",            // policyConstraints
    "2.5.29.37",            // extKeyUsage (the verifier checks it for the purpose)
    "2.5.29.54",            // inhibitAnyPolicy
    "1.3.6.1.5.5.7.48.1.5", // id-pkix-ocsp-nocheck
];

/// A policy tree larger than this is refused: crafted certificates can make the tree grow
/// exponentially with the path's length (CVE-2023-0464), and no real path comes near it.
const MAX_POLICY_NODES: usize = 1_000;

/// The inputs of §6.1.1 a relying party chooses. [`Default`] is what the verifier uses and what PKITS
/// calls the default settings: any policy acceptable, none required, mapping and anyPolicy allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSettings {
    /// user-initial-policy-set; `[ANY_POLICY]` accepts every policy.
    pub initial_policy_set: Vec<ObjectIdentifier>,
    pub initial_explicit_policy: bool,
    pub initial_policy_mapping_inhibit: bool,
    pub initial_any_policy_inhibit: bool,
}

impl Default for PathSettings {
    fn default() -> Self {
        PathSettings {
            initial_policy_set: vec![ANY_POLICY],
            initial_explicit_policy: false,
            initial_policy_mapping_inhibit: false,
            initial_any_policy_inhibit: false,
        }
    }
}

/// One certificate of a path with its names in comparable form (computed once by the caller).
#[derive(Clone, Copy)]
pub struct PathCertificate<'a> {
    pub certificate: &'a Certificate,
    pub subject: &'a ComparableName,
    pub issuer: &'a ComparableName,
}

impl PathCertificate<'_> {
    /// Self-issued (§6.1): subject and issuer are the same name. Such a certificate (a CA's key
    /// rollover) does not count toward path length, and its names are not held to name constraints
    /// unless it ends the path.
    pub fn is_self_issued(&self) -> bool {
        self.subject == self.issuer
    }

    fn who(&self) -> String {
        display(&self.certificate.tbs_certificate.subject)
    }
}

/// Why a path is not valid: the rule and the certificate that broke it, in English for the report's
/// detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError(pub String);

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validates `path` (the certificate the anchor issued first, the target last) under the trust anchor
/// named `anchor_subject`. Each link's signature must already have been checked.
pub fn validate(
    anchor_subject: &ComparableName,
    path: &[PathCertificate<'_>],
    settings: &PathSettings,
) -> Result<(), PathError> {
    let n = path.len();
    let start = |inhibited: bool| if inhibited { 0 } else { n + 1 };
    let mut state = State {
        tree: Some(PolicyTree::new()),
        explicit_policy: start(settings.initial_explicit_policy),
        inhibit_any_policy: start(settings.initial_any_policy_inhibit),
        policy_mapping: start(settings.initial_policy_mapping_inhibit),
        max_path_length: n,
        permitted: Vec::new(),
        excluded: Vec::new(),
    };
    let mut working_issuer = anchor_subject;
    for (index, cert) in path.iter().enumerate() {
        let depth = index + 1;
        let last = depth == n;
        let fail = |rule: String| PathError(format!("{}: {rule}", cert.who()));
        // §6.1.3 (a)(4): name chaining.
        if cert.issuer != working_issuer {
            return Err(fail("its issuer name is not its issuer's subject".into()));
        }
        // (b), (c): name constraints.
        if !cert.is_self_issued() || last {
            state.check_names(cert.certificate).map_err(fail)?;
        }
        // (d)–(f): policies.
        state.process_policies(cert, depth, last).map_err(fail)?;
        if last {
            break;
        }
        // §6.1.4: preparation for the next certificate.
        state.prepare(cert, depth).map_err(fail)?;
        working_issuer = cert.subject;
    }
    // §6.1.5: wrap-up.
    if let Some(target) = path.last() {
        let fail = |rule: String| PathError(format!("{}: {rule}", target.who()));
        state.explicit_policy = state.explicit_policy.saturating_sub(1);
        if let Some(constraints) = decoded::<PolicyConstraints>(target.certificate).map_err(fail)?
            && constraints.require_explicit_policy == Some(0)
        {
            state.explicit_policy = 0;
        }
        unknown_critical(target.certificate).map_err(fail)?;
        if let Some(tree) = state.tree.as_mut() {
            tree.intersect(&settings.initial_policy_set, n);
            if tree.is_empty() {
                state.tree = None;
            }
        }
        if state.explicit_policy == 0 && state.tree.is_none() {
            return Err(fail(
                "no certificate policy acceptable to the relying party is valid for the path"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// The state variables of §6.1.2.
struct State {
    tree: Option<PolicyTree>,
    explicit_policy: usize,
    inhibit_any_policy: usize,
    policy_mapping: usize,
    max_path_length: usize,
    /// The permittedSubtrees of each CA so far: a name must fall within every set that constrains its
    /// form (their intersection, §6.1.4 (g)(1)).
    permitted: Vec<Vec<GeneralSubtree>>,
    /// The union of every CA's excludedSubtrees.
    excluded: Vec<GeneralSubtree>,
}

impl State {
    fn check_names(&self, cert: &Certificate) -> Result<(), String> {
        if self.permitted.is_empty() && self.excluded.is_empty() {
            return Ok(());
        }
        let subject = &cert.tbs_certificate.subject;
        let mut names: Vec<GeneralName> = Vec::new();
        if !subject.0.is_empty() {
            names.push(GeneralName::DirectoryName(subject.clone()));
        }
        names.extend(emails_in(subject));
        if let Some(alternative) = decoded::<SubjectAltName>(cert)? {
            names.extend(alternative.0);
        }
        for name in &names {
            for set in &self.permitted {
                let same_form: Vec<_> = set
                    .iter()
                    .filter(|s| discriminant(&s.base) == discriminant(name))
                    .collect();
                if !same_form.is_empty()
                    && !same_form
                        .iter()
                        .any(|s| within(name, &s.base) == Some(true))
                {
                    return Err(format!(
                        "name {} is outside the permitted subtrees",
                        shown(name)
                    ));
                }
            }
            if self.excluded.iter().any(|s| {
                discriminant(&s.base) == discriminant(name) && within(name, &s.base) != Some(false)
            }) {
                return Err(format!("name {} is in an excluded subtree", shown(name)));
            }
        }
        Ok(())
    }

    fn process_policies(
        &mut self,
        cert: &PathCertificate<'_>,
        depth: usize,
        last: bool,
    ) -> Result<(), String> {
        match decoded::<CertificatePolicies>(cert.certificate)? {
            Some(policies) if self.tree.is_some() => {
                let any_allowed = self.inhibit_any_policy > 0 || (!last && cert.is_self_issued());
                let tree = self.tree.as_mut().ok_or("policy tree")?;
                tree.add_level(&policies, depth, any_allowed)?;
                if tree.is_empty() {
                    self.tree = None;
                }
            }
            Some(_) => {}
            None => self.tree = None,
        }
        if self.explicit_policy == 0 && self.tree.is_none() {
            return Err("the path requires an explicit policy and no valid policy remains".into());
        }
        Ok(())
    }

    fn prepare(&mut self, cert: &PathCertificate<'_>, depth: usize) -> Result<(), String> {
        let certificate = cert.certificate;
        // (a), (b): policy mappings.
        if let Some(mappings) = decoded::<PolicyMappings>(certificate)? {
            if mappings.0.iter().any(|m| {
                m.issuer_domain_policy == ANY_POLICY || m.subject_domain_policy == ANY_POLICY
            }) {
                return Err("policy mappings map anyPolicy".into());
            }
            if let Some(tree) = self.tree.as_mut() {
                tree.map(&mappings, depth, self.policy_mapping > 0)?;
                if tree.is_empty() {
                    self.tree = None;
                }
            }
        }
        // (g): name constraints.
        if let Some(constraints) = decoded::<NameConstraints>(certificate)? {
            if let Some(permitted) = constraints.permitted_subtrees {
                self.permitted.push(permitted);
            }
            if let Some(excluded) = constraints.excluded_subtrees {
                self.excluded.extend(excluded);
            }
        }
        // (h)–(j): the policy counters.
        if !cert.is_self_issued() {
            for counter in [
                &mut self.explicit_policy,
                &mut self.policy_mapping,
                &mut self.inhibit_any_policy,
            ] {
                *counter = counter.saturating_sub(1);
            }
        }
        if let Some(constraints) = decoded::<PolicyConstraints>(certificate)? {
            if let Some(required) = constraints.require_explicit_policy {
                self.explicit_policy = self.explicit_policy.min(required as usize);
            }
            if let Some(inhibit) = constraints.inhibit_policy_mapping {
                self.policy_mapping = self.policy_mapping.min(inhibit as usize);
            }
        }
        if let Some(InhibitAnyPolicy(skip)) = decoded::<InhibitAnyPolicy>(certificate)? {
            self.inhibit_any_policy = self.inhibit_any_policy.min(skip as usize);
        }
        // (k): a CA certificate.
        if certificate.tbs_certificate.version != Version::V3 {
            return Err("a version 1 or 2 certificate cannot be a CA in a path".into());
        }
        let basic = decoded::<BasicConstraints>(certificate)?;
        if !basic.as_ref().is_some_and(|b| b.ca) {
            return Err("is not a CA certificate (basicConstraints cA is not set)".into());
        }
        // (l), (m): path length.
        if !cert.is_self_issued() {
            if self.max_path_length == 0 {
                return Err("its issuer's pathLenConstraint is exceeded".into());
            }
            self.max_path_length -= 1;
        }
        if let Some(limit) = basic.and_then(|b| b.path_len_constraint) {
            self.max_path_length = self.max_path_length.min(usize::from(limit));
        }
        // (n): a CA key that signs certificates.
        if let Some(usage) = decoded::<KeyUsage>(certificate)?
            && !usage.0.contains(KeyUsages::KeyCertSign)
        {
            return Err("key usage lacks keyCertSign".into());
        }
        // (o)
        unknown_critical(certificate)
    }
}

/// The extension of type `T`, with a broken or repeated one as the reason the path fails.
fn decoded<T: der::DecodeOwned + AssociatedOid>(cert: &Certificate) -> Result<Option<T>, String> {
    extension_of::<T>(cert)
        .map(|found| found.map(|(value, _)| value))
        .map_err(|e| e.to_string())
}

fn unknown_critical(cert: &Certificate) -> Result<(), String> {
    match cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.critical && !UNDERSTOOD_EXTENSIONS.contains(&e.extn_id.to_string().as_str()))
    {
        Some(unknown) => Err(format!("unknown critical extension {}", unknown.extn_id)),
        None => Ok(()),
    }
}

/// The emailAddress attributes of a subject DN, held to rfc822Name constraints (§4.2.1.10).
fn emails_in(subject: &Name) -> Vec<GeneralName> {
    subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == EMAIL_ADDRESS)
        .filter_map(|atv| attribute_text(&atv.value))
        .filter_map(|text| der::asn1::Ia5String::new(&text).ok())
        .map(GeneralName::Rfc822Name)
        .collect()
}

fn shown(name: &GeneralName) -> String {
    match name {
        GeneralName::DirectoryName(dn) => display(dn),
        GeneralName::Rfc822Name(s)
        | GeneralName::DnsName(s)
        | GeneralName::UniformResourceIdentifier(s) => s.to_string(),
        GeneralName::IpAddress(ip) => hex::encode(ip.as_bytes()),
        other => format!("{other:?}"),
    }
}

/// Whether `name` lies within the subtree `base` of the same form (RFC 5280 §4.2.1.10); `None` when
/// this verifier cannot tell (otherName, x400Address, ediPartyName, registeredID, a URI without a
/// host), which both a permitted and an excluded subtree of that form refuse.
fn within(name: &GeneralName, base: &GeneralName) -> Option<bool> {
    Some(match (name, base) {
        (GeneralName::DirectoryName(name), GeneralName::DirectoryName(base)) => {
            ComparableName::of(name).is_within(&ComparableName::of(base))
        }
        (GeneralName::Rfc822Name(name), GeneralName::Rfc822Name(base)) => {
            mailbox_within(name.as_str(), base.as_str())
        }
        (GeneralName::DnsName(name), GeneralName::DnsName(base)) => {
            host_within(name.as_str(), base.as_str(), true)
        }
        (
            GeneralName::UniformResourceIdentifier(uri),
            GeneralName::UniformResourceIdentifier(base),
        ) => host_within(uri_host(uri.as_str())?, base.as_str(), false),
        (GeneralName::IpAddress(name), GeneralName::IpAddress(base)) => {
            let (name, base) = (name.as_bytes(), base.as_bytes());
            base.len() == 2 * name.len()
                && name
                    .iter()
                    .zip(&base[..name.len()])
                    .zip(&base[name.len()..])
                    .all(|((n, b), mask)| n & mask == b & mask)
        }
        _ => return None,
    })
}

/// rfc822Name constraints: a whole mailbox, every mailbox on one host, or (with a leading dot) every
/// mailbox on the hosts of a domain.
fn mailbox_within(mailbox: &str, base: &str) -> bool {
    let Some((local, host)) = mailbox.rsplit_once('@') else {
        return false;
    };
    match base.rsplit_once('@') {
        Some((base_local, base_host)) => {
            local == base_local && host.eq_ignore_ascii_case(base_host)
        }
        None if base.starts_with('.') => ends_with_ignoring_case(host, base),
        None => host.eq_ignore_ascii_case(base),
    }
}

/// dNSName constraints: the name itself or any name under it (an empty constraint covers every name);
/// URI host constraints: the host itself only. A leading dot means only names under it, in both.
fn host_within(host: &str, base: &str, dns: bool) -> bool {
    if base.is_empty() {
        return dns;
    }
    if base.starts_with('.') {
        return ends_with_ignoring_case(host, base);
    }
    host.eq_ignore_ascii_case(base)
        || (dns
            && ends_with_ignoring_case(host, base)
            && host.as_bytes().get(host.len() - base.len() - 1) == Some(&b'.'))
}

fn ends_with_ignoring_case(text: &str, suffix: &str) -> bool {
    text.len() > suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// The host of a URI with an authority (`scheme://[user@]host[:port]/…`).
fn uri_host(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host_port.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

/// The valid_policy_tree of §6.1.2 (a): nodes in creation order, so a node's parent always comes
/// before it.
struct PolicyTree {
    nodes: Vec<PolicyNode>,
}

struct PolicyNode {
    policy: ObjectIdentifier,
    expected: BTreeSet<ObjectIdentifier>,
    depth: usize,
    parent: Option<usize>,
    alive: bool,
}

impl PolicyTree {
    fn new() -> PolicyTree {
        PolicyTree {
            nodes: vec![PolicyNode {
                policy: ANY_POLICY,
                expected: BTreeSet::from([ANY_POLICY]),
                depth: 0,
                parent: None,
                alive: true,
            }],
        }
    }

    fn is_empty(&self) -> bool {
        !self.nodes.first().is_some_and(|root| root.alive)
    }

    fn at_depth(&self, depth: usize) -> impl Iterator<Item = usize> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .filter(move |(_, node)| node.alive && node.depth == depth)
            .map(|(index, _)| index)
    }

    fn add(
        &mut self,
        policy: ObjectIdentifier,
        expected: BTreeSet<ObjectIdentifier>,
        depth: usize,
        parent: usize,
    ) -> Result<(), String> {
        if self.nodes.len() >= MAX_POLICY_NODES {
            return Err(format!(
                "the policy tree grows past {MAX_POLICY_NODES} nodes"
            ));
        }
        self.nodes.push(PolicyNode {
            policy,
            expected,
            depth,
            parent: Some(parent),
            alive: true,
        });
        Ok(())
    }

    fn has_child(&self, parent: usize, policy: Option<ObjectIdentifier>) -> bool {
        self.nodes.iter().any(|node| {
            node.alive && node.parent == Some(parent) && policy.is_none_or(|p| node.policy == p)
        })
    }

    /// §6.1.3 (d): the level of depth `depth` from a certificate's policies.
    fn add_level(
        &mut self,
        policies: &CertificatePolicies,
        depth: usize,
        any_allowed: bool,
    ) -> Result<(), String> {
        let parents: Vec<usize> = self.at_depth(depth - 1).collect();
        for policy in policies.0.iter().map(|p| p.policy_identifier) {
            if policy == ANY_POLICY {
                continue;
            }
            let mut matched: Vec<usize> = parents
                .iter()
                .copied()
                .filter(|&p| self.nodes[p].expected.contains(&policy))
                .collect();
            if matched.is_empty() {
                matched = parents
                    .iter()
                    .copied()
                    .filter(|&p| self.nodes[p].policy == ANY_POLICY)
                    .collect();
            }
            for parent in matched {
                self.add(policy, BTreeSet::from([policy]), depth, parent)?;
            }
        }
        if any_allowed && policies.0.iter().any(|p| p.policy_identifier == ANY_POLICY) {
            for parent in parents {
                let expected: Vec<ObjectIdentifier> =
                    self.nodes[parent].expected.iter().copied().collect();
                for policy in expected {
                    if !self.has_child(parent, Some(policy)) {
                        self.add(policy, BTreeSet::from([policy]), depth, parent)?;
                    }
                }
            }
        }
        self.prune(depth);
        Ok(())
    }

    /// §6.1.4 (b): policy mappings of the certificate at `depth`.
    fn map(
        &mut self,
        mappings: &PolicyMappings,
        depth: usize,
        allowed: bool,
    ) -> Result<(), String> {
        let issuer_domains: BTreeSet<ObjectIdentifier> =
            mappings.0.iter().map(|m| m.issuer_domain_policy).collect();
        for issuer_policy in issuer_domains {
            let mapped: BTreeSet<ObjectIdentifier> = mappings
                .0
                .iter()
                .filter(|m| m.issuer_domain_policy == issuer_policy)
                .map(|m| m.subject_domain_policy)
                .collect();
            let level: Vec<usize> = self.at_depth(depth).collect();
            let holders: Vec<usize> = level
                .iter()
                .copied()
                .filter(|&i| self.nodes[i].policy == issuer_policy)
                .collect();
            if allowed {
                if holders.is_empty() {
                    let any_parent = level
                        .iter()
                        .find(|&&i| self.nodes[i].policy == ANY_POLICY)
                        .and_then(|&i| self.nodes[i].parent);
                    if let Some(parent) = any_parent {
                        self.add(issuer_policy, mapped, depth, parent)?;
                    }
                } else {
                    for holder in holders {
                        self.nodes[holder].expected = mapped.clone();
                    }
                }
            } else {
                for holder in holders {
                    self.nodes[holder].alive = false;
                }
                self.prune(depth);
            }
        }
        Ok(())
    }

    /// Removes, from `below_depth - 1` up to the root, every node left without children.
    fn prune(&mut self, below_depth: usize) {
        for depth in (0..below_depth).rev() {
            let childless: Vec<usize> = self
                .at_depth(depth)
                .filter(|&i| !self.has_child(i, None))
                .collect();
            for index in childless {
                self.nodes[index].alive = false;
            }
        }
    }

    /// Kills every node whose ancestor is dead (parents come before children).
    fn sweep(&mut self) {
        for index in 0..self.nodes.len() {
            if let Some(parent) = self.nodes[index].parent
                && !self.nodes[parent].alive
            {
                self.nodes[index].alive = false;
            }
        }
    }

    /// §6.1.5 (g): the intersection with the user-initial-policy-set, for a path of `n` certificates.
    fn intersect(&mut self, acceptable: &[ObjectIdentifier], n: usize) {
        if self.is_empty() || acceptable.contains(&ANY_POLICY) {
            return;
        }
        // The valid_policy_node_set: nodes whose parent is an anyPolicy node.
        let node_set: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                self.nodes[i].alive
                    && self.nodes[i]
                        .parent
                        .is_some_and(|p| self.nodes[p].policy == ANY_POLICY)
            })
            .collect();
        for &index in &node_set {
            let policy = self.nodes[index].policy;
            if policy != ANY_POLICY && !acceptable.contains(&policy) {
                self.nodes[index].alive = false;
            }
        }
        self.sweep();
        let leaf_any: Vec<usize> = self
            .at_depth(n)
            .filter(|&i| self.nodes[i].policy == ANY_POLICY)
            .collect();
        for any_node in leaf_any {
            let Some(parent) = self.nodes[any_node].parent else {
                continue;
            };
            for &policy in acceptable {
                let present = node_set
                    .iter()
                    .any(|&i| self.nodes[i].alive && self.nodes[i].policy == policy);
                if !present
                    && self
                        .add(policy, BTreeSet::from([policy]), n, parent)
                        .is_err()
                {
                    break;
                }
            }
            self.nodes[any_node].alive = false;
        }
        self.prune(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_mailboxes_match_their_subtrees_at_label_boundaries() {
        assert!(host_within("a.example.com", "example.com", true));
        assert!(host_within("EXAMPLE.com", "example.com", true));
        assert!(!host_within("badexample.com", "example.com", true));
        assert!(!host_within("example.com", ".example.com", false));
        assert!(host_within("x.example.com", ".example.com", false));
        assert!(!host_within("x.example.com", "example.com", false));
        assert!(mailbox_within("a@Example.com", "example.com"));
        assert!(!mailbox_within("a@x.example.com", "example.com"));
        assert!(mailbox_within("a@x.example.com", ".example.com"));
        assert!(mailbox_within("a@example.com", "a@EXAMPLE.com"));
        assert!(!mailbox_within("b@example.com", "a@example.com"));
        assert_eq!(uri_host("http://u@host.gov:80/x"), Some("host.gov"));
        assert_eq!(uri_host("urn:x"), None);
    }

    #[test]
    fn a_form_that_cannot_be_compared_is_neither_permitted_nor_let_past_an_exclusion() {
        let registered = GeneralName::RegisteredId(ANY_POLICY);
        assert_eq!(within(&registered, &registered), None);
        let urn =
            GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new("urn:x").unwrap());
        let host = GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new("x").unwrap());
        assert_eq!(within(&urn, &host), None);
        let web = GeneralName::UniformResourceIdentifier(
            der::asn1::Ia5String::new("http://x/index.html").unwrap(),
        );
        assert_eq!(within(&web, &host), Some(true));
    }
}
