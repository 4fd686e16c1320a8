//! What a form field may take from the state registries (`from_registry`): a closed set, named once
//! here. A regulation file naming anything else is refused when it is read (`regulation check` names
//! the file, the line and the rule), and every value here is filled by [`Subject::value`], so a
//! registry field a person cannot type is never left empty by a name nobody fills.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::TaxpayerId;
use crate::registry::{LegalEntity, Person, PowerOfAttorney};

/// One value of the state registries a form can show read-only.
///
/// "The person" is whoever applies in person or by their own key: the individual recipient, the
/// legal entity's head or employee, or the representative (the attorney of the power of attorney);
/// "the entity" is the legal entity the person acts for; "the principal" is whom a representative's
/// notarised power of attorney is from (004 §9, 002 §3.2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum RegistryValue {
    /// The person's IIN (ЖТ МДҚ).
    #[serde(rename = "person.iin")]
    PersonIin,
    #[serde(rename = "person.surname")]
    PersonSurname,
    #[serde(rename = "person.given_name")]
    PersonGivenName,
    #[serde(rename = "person.patronymic")]
    PersonPatronymic,
    /// Surname, given name and patronymic, as the seeds' forms ask ("Тегі, аты, әкесінің аты").
    #[serde(rename = "person.full_name")]
    PersonFullName,
    /// ISO 8601 (`1984-03-12`), as a form's date field takes it.
    #[serde(rename = "person.birth_date")]
    PersonBirthDate,
    /// The registered address of the person.
    #[serde(rename = "person.address")]
    PersonAddress,
    /// The entity's BIN (ЗТ МДҚ).
    #[serde(rename = "entity.bin")]
    EntityBin,
    /// The entity's registered name.
    #[serde(rename = "entity.name")]
    EntityName,
    /// The full name of the entity's first head.
    #[serde(rename = "entity.head")]
    EntityHead,
    #[serde(rename = "entity.address")]
    EntityAddress,
    /// The address of whom the application is for: the entity's when a person acts for one, else
    /// the person's (002 Annex 1: "мекенжайы").
    #[serde(rename = "applicant.address")]
    ApplicantAddress,
    /// The principal's name: a person's full name or an entity's name.
    #[serde(rename = "principal.name")]
    PrincipalName,
    /// The principal's IIN, when the principal is a person.
    #[serde(rename = "principal.iin")]
    PrincipalIin,
    /// The principal's BIN, when the principal is an entity.
    #[serde(rename = "principal.bin")]
    PrincipalBin,
    /// The number of the notarised power of attorney (БНАЖ).
    #[serde(rename = "power_of_attorney.number")]
    PowerOfAttorneyNumber,
    /// The last day the power of attorney is valid (ISO 8601).
    #[serde(rename = "power_of_attorney.valid_until")]
    PowerOfAttorneyValidUntil,
}

impl RegistryValue {
    /// Every value, in declaration order.
    pub const ALL: [RegistryValue; 17] = [
        RegistryValue::PersonIin,
        RegistryValue::PersonSurname,
        RegistryValue::PersonGivenName,
        RegistryValue::PersonPatronymic,
        RegistryValue::PersonFullName,
        RegistryValue::PersonBirthDate,
        RegistryValue::PersonAddress,
        RegistryValue::EntityBin,
        RegistryValue::EntityName,
        RegistryValue::EntityHead,
        RegistryValue::EntityAddress,
        RegistryValue::ApplicantAddress,
        RegistryValue::PrincipalName,
        RegistryValue::PrincipalIin,
        RegistryValue::PrincipalBin,
        RegistryValue::PowerOfAttorneyNumber,
        RegistryValue::PowerOfAttorneyValidUntil,
    ];
}

/// A representative's notarised power of attorney as the registry (БНАЖ) shows it, with the
/// principal's name read from ЖТ/ЗТ МДҚ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub power: PowerOfAttorney,
    pub name: String,
}

/// What the state registries say about who applies, as found by a trusted channel (the signer's
/// certificate, the PSC operator's look-up): the source of every `from_registry` value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub person: Option<Person>,
    pub entity: Option<LegalEntity>,
    /// The entity's first head, when the entity names one the registry knows.
    pub entity_head: Option<Person>,
    pub principal: Option<Principal>,
}

impl Subject {
    /// The registry's value, or `None` when the registry has none for this subject (a form field
    /// that needs it is then reported empty, and the person is told the registry lacks it).
    pub fn value(&self, value: RegistryValue) -> Option<String> {
        use RegistryValue as V;
        let person = self.person.as_ref();
        let entity = self.entity.as_ref();
        let principal = self.principal.as_ref();
        match value {
            V::PersonIin => person.map(|p| p.iin.to_string()),
            V::PersonSurname => person.map(|p| p.surname.clone()),
            V::PersonGivenName => person.map(|p| p.given_name.clone()),
            V::PersonPatronymic => person.and_then(|p| p.patronymic.clone()),
            V::PersonFullName => person.map(Person::full_name),
            V::PersonBirthDate => person.map(|p| p.birth_date.to_string()),
            V::PersonAddress => person.map(|p| p.address.clone()),
            V::EntityBin => entity.map(|e| e.bin.to_string()),
            V::EntityName => entity.map(|e| e.name_ru.clone()),
            V::EntityHead => self.entity_head.as_ref().map(Person::full_name),
            V::EntityAddress => entity.map(|e| e.address.clone()),
            V::ApplicantAddress => entity
                .map(|e| e.address.clone())
                .or_else(|| person.map(|p| p.address.clone())),
            V::PrincipalName => principal.map(|p| p.name.clone()),
            V::PrincipalIin => principal.and_then(|p| match p.power.principal {
                TaxpayerId::Iin(iin) => Some(iin.to_string()),
                TaxpayerId::Bin(_) => None,
            }),
            V::PrincipalBin => principal.and_then(|p| match p.power.principal {
                TaxpayerId::Bin(bin) => Some(bin.to_string()),
                TaxpayerId::Iin(_) => None,
            }),
            V::PowerOfAttorneyNumber => principal.map(|p| p.power.number.clone()),
            V::PowerOfAttorneyValidUntil => principal.map(|p| p.power.valid_until.to_string()),
        }
    }

    /// Every value the registry has for this subject.
    pub fn values(&self) -> BTreeMap<RegistryValue, String> {
        RegistryValue::ALL
            .into_iter()
            .filter_map(|v| self.value(v).map(|s| (v, s)))
            .filter(|(_, s)| !s.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_one_name_and_reads_back() {
        let names: std::collections::BTreeSet<String> = RegistryValue::ALL
            .iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(names.len(), RegistryValue::ALL.len());
        for v in RegistryValue::ALL {
            let name = serde_json::to_value(v).unwrap();
            assert_eq!(serde_json::from_value::<RegistryValue>(name).unwrap(), v);
        }
        assert!(serde_json::from_value::<RegistryValue>("person.nickname".into()).is_err());
    }

    #[test]
    fn a_file_naming_an_unknown_registry_value_is_refused_with_file_line_and_rule() {
        let shipped = include_str!("../../../../regulations/archival-reference-regional.toml");
        assert!(super::super::check("regional.toml", shipped).is_ok());
        let broken = shipped.replacen(
            "from_registry = \"person.birth_date\"",
            "from_registry = \"person.birthday\"",
            1,
        );
        let problems = super::super::check("regional.toml", &broken).unwrap_err();
        assert_eq!(problems.len(), 1);
        let problem = &problems[0];
        assert_eq!(problem.file, "regional.toml");
        assert_eq!(problem.rule, "name.unknown");
        assert!(problem.element.ends_with(": from_registry"), "{problem}");
        assert!(problem.message.contains("person.birthday"), "{problem}");
        assert!(problem.message.contains("person.birth_date"), "{problem}");
    }
}
