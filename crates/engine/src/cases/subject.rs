//! Who applies, as the state registries know them: the source of every form field a regulation fills
//! `from_registry`. The portal and the machine API find the subject from the signer's certificate
//! (the IIN it carries, and the BIN for an entity's key); the PSC counter from the operator's look-up
//! of the person present, the entity's BIN and the representative's notarised power of attorney
//! (004 §9; 002 §3.2).

use jiff::civil::Date;
use qyzmet_domain::ids::{Bin, Iin, TaxpayerId};
use qyzmet_domain::regulation::{Principal, Recipient, Subject};
use qyzmet_store::{Store, StoreError};

/// Why a counter look-up found no subject, by the form field it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupRefusal {
    /// The IIN typed is not an IIN.
    IinInvalid,
    /// ЖТ МДҚ has no such person.
    PersonUnknown,
    BinInvalid,
    /// ЗТ МДҚ has no such entity.
    EntityUnknown,
    /// БНАЖ has no power of attorney of that number from this attorney that authorises this
    /// service today.
    PowerNotValid,
}

impl LookupRefusal {
    /// The form field the refusal is about (`iin`, `bin`, `poa`).
    pub fn field(self) -> &'static str {
        match self {
            LookupRefusal::IinInvalid | LookupRefusal::PersonUnknown => "iin",
            LookupRefusal::BinInvalid | LookupRefusal::EntityUnknown => "bin",
            LookupRefusal::PowerNotValid => "poa",
        }
    }

    /// The translation key of the refusal's text.
    pub fn translation_key(self) -> &'static str {
        match self {
            LookupRefusal::IinInvalid => "psc.iin_invalid",
            LookupRefusal::PersonUnknown | LookupRefusal::EntityUnknown => "psc.not_in_registry",
            LookupRefusal::BinInvalid => "psc.bin_invalid",
            LookupRefusal::PowerNotValid => "psc.power_not_valid",
        }
    }
}

/// What the operator typed to find the subject at a counter.
#[derive(Debug, Clone, Copy)]
pub struct CounterLookup<'a> {
    pub recipient: Recipient,
    /// The IIN of the person present (the individual, the entity's head or employee, the attorney).
    pub iin: &'a str,
    /// The entity's BIN (a legal entity recipient).
    pub bin: &'a str,
    /// The number of the representative's power of attorney.
    pub power_of_attorney: &'a str,
    /// The service the power of attorney must cover.
    pub service: &'a str,
    /// Today in Astana: the power must be valid on it.
    pub today: Date,
}

/// The subject of a signed application: the signer by their IIN, and the entity their key carries.
pub async fn of_signer(
    store: &Store,
    iin: Option<Iin>,
    bin: Option<Bin>,
) -> Result<Subject, StoreError> {
    let person = match iin {
        Some(iin) => store.person(iin).await?,
        None => None,
    };
    let mut subject = Subject {
        person,
        ..Subject::default()
    };
    if let Some(bin) = bin {
        with_entity(store, &mut subject, bin).await?;
    }
    Ok(subject)
}

/// The subject an operator finds at a counter, or which field the registries refuse.
pub async fn at_counter(
    store: &Store,
    lookup: CounterLookup<'_>,
) -> Result<Result<Subject, LookupRefusal>, StoreError> {
    let Ok(iin) = Iin::parse(lookup.iin.trim()) else {
        return Ok(Err(LookupRefusal::IinInvalid));
    };
    let Some(person) = store.person(iin).await? else {
        return Ok(Err(LookupRefusal::PersonUnknown));
    };
    let mut subject = Subject {
        person: Some(person),
        ..Subject::default()
    };
    match lookup.recipient {
        Recipient::Individual => {}
        Recipient::LegalEntity => {
            let Ok(bin) = Bin::parse(lookup.bin.trim()) else {
                return Ok(Err(LookupRefusal::BinInvalid));
            };
            if !with_entity(store, &mut subject, bin).await? {
                return Ok(Err(LookupRefusal::EntityUnknown));
            }
        }
        Recipient::Representative => {
            let number = lookup.power_of_attorney.trim();
            let power = store
                .powers_of(TaxpayerId::Iin(iin))
                .await?
                .into_iter()
                .find(|p| {
                    p.number == number
                        && p.attorney == iin
                        && p.authorises(lookup.service, lookup.today)
                });
            let Some(power) = power else {
                return Ok(Err(LookupRefusal::PowerNotValid));
            };
            // The application is for the principal: an entity principal is the entity acted for.
            let name = match power.principal {
                TaxpayerId::Iin(principal) => store
                    .person(principal)
                    .await?
                    .map(|p| p.full_name())
                    .unwrap_or_default(),
                TaxpayerId::Bin(principal) => {
                    with_entity(store, &mut subject, principal).await?;
                    subject
                        .entity
                        .as_ref()
                        .map(|e| e.name_ru.clone())
                        .unwrap_or_default()
                }
            };
            subject.principal = Some(Principal { power, name });
        }
    }
    Ok(Ok(subject))
}

/// Adds the entity (and its head) to the subject; false when ЗТ МДҚ has no such entity.
async fn with_entity(store: &Store, subject: &mut Subject, bin: Bin) -> Result<bool, StoreError> {
    let Some(entity) = store.entity(bin).await? else {
        return Ok(false);
    };
    subject.entity_head = match entity.head_iin {
        Some(head) => store.person(head).await?,
        None => None,
    };
    subject.entity = Some(entity);
    Ok(true)
}
