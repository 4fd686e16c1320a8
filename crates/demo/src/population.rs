//! A deterministic synthetic population: the same seed and sizes give the same persons,
//! entities, powers of attorney and staff, with valid IINs and BINs, on every machine.

use std::collections::HashSet;

use jiff::civil::{Date, date};
use qyzmet_domain::directory::{Directory, OrgKind, Role, StaffMember};
use qyzmet_domain::ids::{Bin, Division, EntityKind, Iin, Sex, TaxpayerId};
use qyzmet_domain::registry::{LegalEntity, Person, PowerOfAttorney};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::names::{Names, female_surname, names};

/// How many of each to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub persons: usize,
    pub entities: usize,
    pub powers: usize,
}

impl Sizes {
    /// What `qyzmet demo` loads.
    pub const DEMO: Sizes = Sizes {
        persons: 5_000,
        entities: 1_000,
        powers: 500,
    };
}

#[derive(Debug, Clone)]
pub struct Population {
    pub persons: Vec<Person>,
    pub entities: Vec<LegalEntity>,
    pub powers: Vec<PowerOfAttorney>,
    /// Staff of the directory's organisations; each is also in `persons`.
    pub staff: Vec<StaffMember>,
}

/// Services a generated power of attorney may name, from the seeds.
const SERVICES: &[&str] = &[
    "archival-reference-regional",
    "archival-reference-central",
    "apostille-archival",
    "legal-entity-registration-duplicate",
    "real-estate-presence-certificate",
    "real-estate-rights-certificate",
    "nca-certificates",
];

struct Generator {
    rng: ChaCha8Rng,
    names: &'static Names,
    iins: HashSet<Iin>,
}

impl Generator {
    fn pick<'a>(&mut self, list: &'a [String]) -> &'a str {
        list.choose(&mut self.rng).map_or("", String::as_str)
    }

    fn date_between(&mut self, from: Date, to: Date) -> Date {
        let days = to.duration_since(from).as_hours() / 24;
        let offset = self.rng.random_range(0..=days);
        from.checked_add(jiff::SignedDuration::from_hours(offset * 24))
            .expect("within range")
    }

    fn person(&mut self, born_from: Date, born_to: Date) -> Person {
        let sex = if self.rng.random_bool(0.5) {
            Sex::Female
        } else {
            Sex::Male
        };
        let iin = loop {
            let birth = self.date_between(born_from, born_to);
            let serial = self.rng.random_range(0..=9999u16);
            if let Some(iin) = Iin::compose(birth, sex, serial)
                && self.iins.insert(iin)
            {
                break iin;
            }
        };
        let kazakh = self.rng.random_bool(0.7);
        let (surname, given, patronymic) = if kazakh {
            let k = &self.names.kazakh;
            let father = k.male_given.choose(&mut self.rng).expect("names").clone();
            let plain = self.rng.random_bool(0.15);
            let surname = if plain {
                k.surnames_plain
                    .choose(&mut self.rng)
                    .expect("names")
                    .clone()
            } else {
                let male = k.surnames.choose(&mut self.rng).expect("names");
                if sex == Sex::Female {
                    female_surname(male)
                } else {
                    male.clone()
                }
            };
            let (given, suffix) = match sex {
                Sex::Male => (
                    k.male_given.choose(&mut self.rng),
                    &k.patronymic_male_suffix,
                ),
                Sex::Female => (
                    k.female_given.choose(&mut self.rng),
                    &k.patronymic_female_suffix,
                ),
            };
            (
                surname,
                given.expect("names").clone(),
                format!("{father}{suffix}"),
            )
        } else {
            let r = &self.names.russian;
            let male = r.surnames.choose(&mut self.rng).expect("names");
            let (surname, given, patronymic) = match sex {
                Sex::Male => (
                    male.clone(),
                    r.male_given.choose(&mut self.rng),
                    r.patronymics_male.choose(&mut self.rng),
                ),
                Sex::Female => (
                    female_surname(male),
                    r.female_given.choose(&mut self.rng),
                    r.patronymics_female.choose(&mut self.rng),
                ),
            };
            (
                surname,
                given.expect("names").clone(),
                patronymic.expect("names").clone(),
            )
        };
        let (address, region) = self.address(kazakh);
        Person::new(iin, &surname, &given, Some(&patronymic), &address, &region)
            .expect("generated fields fit")
    }

    /// An address in Kazakh or Russian, and its region code.
    fn address(&mut self, kazakh: bool) -> (String, String) {
        let region = self.rng.random_range(0..self.names.region.len());
        let r = &self.names.region[region];
        let locality = self.rng.random_range(0..r.localities_kk.len());
        let street = self.rng.random_range(0..r.streets_kk.len());
        let house = self.rng.random_range(1..=150);
        let flat = self.rng.random_range(1..=120);
        let text = if kazakh {
            format!(
                "{}, {}, {house}-үй, {flat}-пәтер",
                r.localities_kk[locality], r.streets_kk[street]
            )
        } else {
            format!(
                "{}, {}, д. {house}, кв. {flat}",
                r.localities_ru[locality], r.streets_ru[street]
            )
        };
        (text, r.code.clone())
    }

    fn entity(&mut self, serial: u32, head: Iin) -> LegalEntity {
        let registered = self.date_between(date(1996, 1, 1), date(2025, 12, 31));
        let kind = if self.rng.random_bool(0.9) {
            EntityKind::ResidentLegalEntity
        } else {
            EntityKind::NonResidentLegalEntity
        };
        let division = if self.rng.random_bool(0.85) {
            Division::HeadUnit
        } else {
            Division::Branch
        };
        let bin = (serial..)
            .find_map(|s| {
                Bin::compose(
                    registered.year(),
                    registered.month() as u8,
                    kind,
                    division,
                    s % 1_000_000,
                )
            })
            .expect("some serial is issuable");
        let names: &'static Names = self.names;
        let words = &names.entity;
        let form = words.legal_forms.choose(&mut self.rng).expect("forms");
        let brand = self.pick(&words.brand_words).to_owned();
        let activity = self.rng.random_range(0..words.activities_kk.len());
        let name_kk = format!("«{brand} {}» {}", words.activities_kk[activity], form.kk);
        let name_ru = format!("{} «{brand} {}»", form.ru, words.activities_ru[activity]);
        let legal_form = form.ru.clone();
        let kazakh = self.rng.random_bool(0.5);
        let (address, region) = self.address(kazakh);
        LegalEntity::new(
            bin,
            &name_kk,
            &name_ru,
            &legal_form,
            registered,
            Some(head),
            &address,
            &region,
        )
        .expect("generated fields fit")
    }
}

/// Generates a population for `directory` from `seed`.
pub fn generate(seed: u64, sizes: Sizes, directory: &Directory) -> Population {
    let mut g = Generator {
        rng: ChaCha8Rng::seed_from_u64(seed),
        names: names(),
        iins: HashSet::new(),
    };
    let mut persons: Vec<Person> = (0..sizes.persons)
        .map(|_| g.person(date(1940, 1, 1), date(2008, 12, 31)))
        .collect();

    // Serials step by a prime so that BINs of one month differ beyond the check digit.
    let mut bins = HashSet::new();
    let mut entities = Vec::with_capacity(sizes.entities);
    let mut serial = 1u32;
    while entities.len() < sizes.entities && !persons.is_empty() {
        let head = persons[g.rng.random_range(0..persons.len())].iin;
        let entity = g.entity(serial, head);
        serial += 7919;
        if bins.insert(entity.bin) {
            entities.push(entity);
        }
    }

    let mut powers = Vec::with_capacity(sizes.powers);
    for n in 0..sizes.powers {
        if persons.len() < 2 {
            break;
        }
        let attorney = persons[g.rng.random_range(0..persons.len())].iin;
        let principal = if !entities.is_empty() && g.rng.random_bool(0.3) {
            TaxpayerId::Bin(entities[g.rng.random_range(0..entities.len())].bin)
        } else {
            let p = persons[g.rng.random_range(0..persons.len())].iin;
            if p == attorney {
                continue;
            }
            TaxpayerId::Iin(p)
        };
        let issued = g.date_between(date(2023, 1, 1), date(2026, 10, 31));
        let years = g.rng.random_range(1..=3);
        let valid_until = issued
            .checked_add(jiff::Span::new().years(years))
            .expect("in range");
        let scope = if g.rng.random_bool(0.3) {
            vec!["*".to_owned()]
        } else {
            let count = g.rng.random_range(1..=3);
            let mut picked: Vec<String> = SERVICES
                .sample(&mut g.rng, count)
                .map(|s| (*s).to_owned())
                .collect();
            picked.sort();
            picked
        };
        let notary_names = &g.names.kazakh;
        let notary = format!(
            "Нотариус {} {}.",
            notary_names.surnames.choose(&mut g.rng).expect("names"),
            notary_names
                .male_given
                .choose(&mut g.rng)
                .expect("names")
                .chars()
                .next()
                .unwrap_or('А')
        );
        let revoked = g.rng.random_bool(0.05);
        let number = format!("{}-{:06}", issued.year(), n + 1);
        if let Ok(power) = PowerOfAttorney::new(
            &number,
            principal,
            attorney,
            &notary,
            issued,
            valid_until,
            scope,
            revoked,
        ) {
            powers.push(power);
        }
    }

    // Staff: adults of working age, one per role that fits each organisation.
    let mut staff = Vec::new();
    for org in &directory.organisation {
        for role in Role::ALL
            .into_iter()
            .filter(|r| r.fits(org.kind) && wanted(*r, org.kind))
        {
            let person = g.person(date(1965, 1, 1), date(2000, 12, 31));
            staff.push(StaffMember {
                iin: person.iin,
                organisation: org.code.clone(),
                role,
                position_kk: position(role).0.to_owned(),
                position_ru: position(role).1.to_owned(),
            });
            persons.push(person);
        }
    }
    Population {
        persons,
        entities,
        powers,
        staff,
    }
}

/// The demo gives every organisation the roles it works with: a PSC's operators, a CA's
/// operators, a state body's clerk, executor and head.
fn wanted(role: Role, kind: OrgKind) -> bool {
    match kind {
        OrgKind::Psc | OrgKind::PscBranch => matches!(role, Role::PscOperator | Role::Head),
        OrgKind::CertificationAuthority => matches!(role, Role::CaOperator | Role::Head),
        _ => true,
    }
}

fn position(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Clerk => (
            "Құжаттамалық қамтамасыз ету бөлімінің маманы",
            "Специалист отдела документационного обеспечения",
        ),
        Role::Executor => ("Бас маман", "Главный специалист"),
        Role::Head => ("Басшы", "Руководитель"),
        Role::PscOperator => ("ХҚКО операторы", "Оператор ЦОН"),
        Role::CaOperator => ("КО операторы", "Оператор УЦ"),
        Role::Administrator => ("Жүйе әкімшісі", "Администратор системы"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Population {
        generate(
            42,
            Sizes {
                persons: 300,
                entities: 60,
                powers: 40,
            },
            &crate::directory(),
        )
    }

    #[test]
    fn the_same_seed_gives_the_same_population() {
        let (a, b) = (small(), small());
        assert_eq!(a.persons, b.persons);
        assert_eq!(a.entities, b.entities);
        assert_eq!(a.powers, b.powers);
        let other = generate(
            43,
            Sizes {
                persons: 300,
                entities: 60,
                powers: 40,
            },
            &crate::directory(),
        );
        assert_ne!(a.persons, other.persons);
    }

    #[test]
    fn every_number_is_valid_and_unique() {
        let p = small();
        let iins: HashSet<_> = p.persons.iter().map(|x| x.iin).collect();
        assert_eq!(iins.len(), p.persons.len());
        for person in &p.persons {
            assert_eq!(Iin::parse(&person.iin.to_string()), Ok(person.iin));
        }
        let bins: HashSet<_> = p.entities.iter().map(|x| x.bin).collect();
        assert_eq!(bins.len(), 60);
        for e in &p.entities {
            assert!(
                iins.contains(&e.head_iin.unwrap()),
                "the head is a registered person"
            );
        }
        for power in &p.powers {
            assert!(iins.contains(&power.attorney));
        }
    }

    #[test]
    fn names_are_in_kazakh_and_russian() {
        let p = small();
        let kazakh_letters = |s: &str| s.chars().any(|c| "әғқңөұүһіӘҒҚҢӨҰҮҺІ".contains(c));
        assert!(p.persons.iter().any(|x| kazakh_letters(&x.full_name())));
        assert!(p.persons.iter().any(|x| {
            x.patronymic
                .as_deref()
                .is_some_and(|pat| pat.ends_with("вич") || pat.ends_with("вна"))
        }));
    }

    #[test]
    fn every_organisation_has_staff_that_fit() {
        let d = crate::directory();
        let p = small();
        for org in &d.organisation {
            assert!(
                p.staff.iter().any(|s| s.organisation == org.code),
                "{} has staff",
                org.code
            );
        }
        assert!(
            p.staff
                .iter()
                .all(|s| s.role.fits(d.get(&s.organisation).unwrap().kind))
        );
    }
}
