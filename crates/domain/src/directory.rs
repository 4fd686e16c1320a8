//! The directory of organisations and their staff: state bodies with their hierarchy and
//! competence, public service centres and branches, certification authorities, the operator.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::ids::Iin;
use crate::validation::{FieldError, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    StateBody,
    Archive,
    Psc,
    PscBranch,
    CertificationAuthority,
    Operator,
}

impl OrgKind {
    /// Every kind, in the order the directory is shown.
    pub const ALL: [OrgKind; 6] = [
        OrgKind::StateBody,
        OrgKind::Archive,
        OrgKind::Psc,
        OrgKind::PscBranch,
        OrgKind::CertificationAuthority,
        OrgKind::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::StateBody => "state_body",
            OrgKind::Archive => "archive",
            OrgKind::Psc => "psc",
            OrgKind::PscBranch => "psc_branch",
            OrgKind::CertificationAuthority => "certification_authority",
            OrgKind::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub code: String,
    pub kind: OrgKind,
    pub parent: Option<String>,
    pub name_kk: String,
    pub name_ru: String,
    pub name_en: String,
    pub address_kk: Option<String>,
    pub address_ru: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub region: Option<String>,
    /// Codes of the services it provides or accepts applications for.
    pub services: Vec<String>,
    /// Topics of appeals it answers (seed 000: appeals go to the body by competence).
    pub appeal_topics: Vec<String>,
    /// The seed clause this comes from.
    pub source: String,
}

/// Staff roles, each a set of permissions that later issues check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The documentation unit: registers incoming documents, dispatches answers (000 §9).
    Clerk,
    /// Considers the application and drafts the answer (000 §15).
    Executor,
    /// Signs answers and output documents (000, 001, 004).
    Head,
    /// Takes applications at a PSC counter (002, 004).
    PscOperator,
    /// Issues and revokes certificates (003).
    CaOperator,
    /// Runs the platform, publishes regulations (000 §17, 004).
    Administrator,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Clerk,
        Role::Executor,
        Role::Head,
        Role::PscOperator,
        Role::CaOperator,
        Role::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Executor => "executor",
            Role::Head => "head",
            Role::PscOperator => "psc_operator",
            Role::CaOperator => "ca_operator",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Which kinds of organisation may employ this role.
    pub fn fits(self, kind: OrgKind) -> bool {
        match self {
            Role::Clerk | Role::Executor | Role::Head => {
                matches!(
                    kind,
                    OrgKind::StateBody
                        | OrgKind::Archive
                        | OrgKind::CertificationAuthority
                        | OrgKind::Psc
                        // The branch head watches the queue board (003 Std-1 §4.1 ¶3–¶4).
                        | OrgKind::PscBranch
                )
            }
            Role::PscOperator => matches!(kind, OrgKind::Psc | OrgKind::PscBranch),
            Role::CaOperator => kind == OrgKind::CertificationAuthority,
            Role::Administrator => kind == OrgKind::Operator,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub iin: Iin,
    pub organisation: String,
    pub role: Role,
    pub position_kk: String,
    pub position_ru: String,
}

/// A whole directory, checked: unique codes, parents defined before children, roles that fit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    #[serde(default)]
    pub organisation: Vec<Organisation>,
}

impl Directory {
    pub fn from_toml(text: &str) -> Result<Directory, FieldError> {
        let directory: Directory = toml::from_str(text)
            .map_err(|e| FieldError::new("directory", e.message().to_owned()))?;
        directory.check()?;
        Ok(directory)
    }

    pub fn check(&self) -> Result<(), FieldError> {
        let mut seen = HashSet::new();
        for (i, org) in self.organisation.iter().enumerate() {
            let at = |field: &str| format!("organisation[{i}] ({}).{field}", org.code);
            let slug = !org.code.is_empty()
                && org.code.len() <= 64
                && org
                    .code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !slug {
                return Err(FieldError::new(
                    &at("code"),
                    "must be 1-64 of a-z, 0-9 and '-'".into(),
                ));
            }
            for (field, value) in [
                ("name_kk", &org.name_kk),
                ("name_ru", &org.name_ru),
                ("name_en", &org.name_en),
            ] {
                text(&at(field), value, 1, crate::registry::LONG_TEXT_MAX)?;
            }
            if let Some(parent) = &org.parent
                && !seen.contains(parent.as_str())
            {
                return Err(FieldError::new(
                    &at("parent"),
                    format!("{parent:?} must be an organisation defined before this one"),
                ));
            }
            if !seen.insert(org.code.as_str()) {
                return Err(FieldError::new(&at("code"), "is used twice".into()));
            }
        }
        Ok(())
    }

    pub fn get(&self, code: &str) -> Option<&Organisation> {
        self.organisation.iter().find(|o| o.code == code)
    }

    /// The organisations that provide `service`.
    pub fn providers_of<'a>(
        &'a self,
        service: &'a str,
    ) -> impl Iterator<Item = &'a Organisation> + 'a {
        self.organisation
            .iter()
            .filter(move |o| o.services.iter().any(|s| s == service))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
        [[organisation]]
        code = "psc"
        kind = "psc"
        name_kk = "ХҚКО"
        name_ru = "ЦОН"
        name_en = "PSC"
        services = ["paper-copy-certification"]
        appeal_topics = []
        source = "004 annex 2 row 1"
        [[organisation]]
        code = "psc-1"
        kind = "psc_branch"
        parent = "psc"
        name_kk = "N 1 қалалық филиалы"
        name_ru = "Городской филиал № 1"
        name_en = "City branch No. 1"
        services = []
        appeal_topics = []
        source = "004 annex 2 row 2"
    "#;

    #[test]
    fn a_directory_parses_and_answers() {
        let d = Directory::from_toml(TWO).unwrap();
        assert_eq!(d.get("psc-1").unwrap().parent.as_deref(), Some("psc"));
        assert_eq!(d.providers_of("paper-copy-certification").count(), 1);
    }

    #[test]
    fn a_parent_must_come_first() {
        let swapped = TWO.replace("parent = \"psc\"", "parent = \"psc-9\"");
        let err = Directory::from_toml(&swapped).unwrap_err();
        assert_eq!(err.field, "organisation[1] (psc-1).parent");
    }

    #[test]
    fn roles_fit_organisations() {
        assert!(Role::PscOperator.fits(OrgKind::PscBranch));
        assert!(!Role::PscOperator.fits(OrgKind::Archive));
        assert!(Role::CaOperator.fits(OrgKind::CertificationAuthority));
        assert_eq!(Role::parse("head"), Some(Role::Head));
    }
}
