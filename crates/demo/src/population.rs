//! A deterministic synthetic population: the same seed and sizes give the same persons,
//! entities, powers of attorney, staff and real estate holdings, with valid IINs and BINs, on
//! every machine.

use std::collections::HashSet;

use jiff::civil::{Date, date};
use qyzmet_domain::directory::{Directory, OrgKind, Role, StaffMember};
use qyzmet_domain::ids::{Bin, Division, EntityKind, Iin, Sex, TaxpayerId};
use qyzmet_domain::registry::{
    Holding, LegalEntity, Person, PowerOfAttorney, RealEstate, RealEstateKind, RealEstateRight,
    RightKind,
};
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
    /// The real estate register: one entry per holder and object, an object in common
    /// ownership once for each co-owner. Holders are in `persons` or `entities`; the person with
    /// the smallest IIN (the first the store lists) always holds an encumbered object.
    pub holdings: Vec<Holding>,
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
        let (text, region, _) = self.place(kazakh, Place::Flat);
        (text, region)
    }

    /// An address of `place` in a random region: its text in Kazakh or Russian, the region's
    /// code and its position in the word lists (the number a cadastral number starts with).
    fn place(&mut self, kazakh: bool, place: Place) -> (String, String, usize) {
        let region = self.rng.random_range(0..self.names.region.len());
        let r = &self.names.region[region];
        let locality = self.rng.random_range(0..r.localities_kk.len());
        let street = self.rng.random_range(0..r.streets_kk.len());
        let house = self.rng.random_range(1..=150);
        let (locality, street) = if kazakh {
            (&r.localities_kk[locality], &r.streets_kk[street])
        } else {
            (&r.localities_ru[locality], &r.streets_ru[street])
        };
        let unit = match place {
            Place::Building => None,
            Place::Flat | Place::Premises => Some(self.rng.random_range(1..=120)),
        };
        let text = match (kazakh, place, unit) {
            (true, Place::Flat, Some(n)) => format!("{locality}, {street}, {house}-үй, {n}-пәтер"),
            (false, Place::Flat, Some(n)) => format!("{locality}, {street}, д. {house}, кв. {n}"),
            (true, Place::Premises, Some(n)) => {
                format!("{locality}, {street}, {house}-үй, {n}-үй-жай")
            }
            (false, Place::Premises, Some(n)) => {
                format!("{locality}, {street}, д. {house}, пом. {n}")
            }
            (true, _, _) => format!("{locality}, {street}, {house}-үй"),
            (false, _, _) => format!("{locality}, {street}, д. {house}"),
        };
        (text, r.code.clone(), region)
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
    let holdings = holdings(&mut g, &persons, &entities);
    Population {
        persons,
        entities,
        powers,
        staff,
        holdings,
    }
}

/// What an address names: a flat, premises in a building, or a whole building (or plot).
#[derive(Clone, Copy)]
enum Place {
    Flat,
    Premises,
    Building,
}

/// Banks that hold mortgages in the generated register.
const BANKS: &[&str] = &[
    "Halyk Bank",
    "Kaspi Bank",
    "Отбасы банк",
    "ForteBank",
    "Bank CenterCredit",
    "Jusan Bank",
    "Bereke Bank",
];

/// The last day a generated right may be registered on.
const LAST_REGISTRATION: Date = date(2026, 10, 31);

/// An area of `dm2` square decimetres as the register writes it: `54.3`, `54.35`, `54`.
fn area_text(dm2: u32) -> String {
    let (whole, fraction) = (dm2 / 100, dm2 % 100);
    match fraction {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// Holdings: about 60% of persons hold one to three objects (some in common ownership, half
/// each with another person; some under a mortgage), about 40% of entities hold non-residential
/// premises or land plots. Drawn after everything else, so the rest of the population does not
/// depend on it.
fn holdings(g: &mut Generator, persons: &[Person], entities: &[LegalEntity]) -> Vec<Holding> {
    let mut out = Vec::new();
    let mut cadastral = HashSet::new();
    let first = persons.iter().map(|p| p.iin).min();
    for (i, person) in persons.iter().enumerate() {
        let guaranteed = Some(person.iin) == first;
        if !guaranteed && !g.rng.random_bool(0.6) {
            continue;
        }
        let count = g.rng.random_range(1..=3);
        let start = out.len();
        for _ in 0..count {
            let kind = match g.rng.random_range(0..100) {
                0..55 => RealEstateKind::Apartment,
                55..75 => RealEstateKind::House,
                75..95 => RealEstateKind::LandPlot,
                _ => RealEstateKind::NonResidential,
            };
            let estate = g.estate(kind, &mut cadastral);
            let holder = TaxpayerId::Iin(person.iin);
            let partner = (persons.len() > 1 && g.rng.random_bool(0.15))
                .then(|| &persons[(i + g.rng.random_range(1..persons.len())) % persons.len()]);
            let right = match partner {
                Some(_) => RightKind::CommonOwnership,
                None if g.rng.random_bool(0.05) => RightKind::Lease,
                None => RightKind::Ownership,
            };
            let mut from = person.birth_date.max(date(1998, 1, 1));
            if let Some(partner) = partner {
                from = from.max(partner.birth_date);
            }
            let mortgage = right != RightKind::Lease && g.rng.random_bool(0.2);
            for (holder, share) in std::iter::once((holder, None))
                .chain(partner.map(|p| (TaxpayerId::Iin(p.iin), Some("1/2"))))
            {
                let share = share.or((right == RightKind::CommonOwnership).then_some("1/2"));
                out.push((estate.clone(), holder, right, share, from, mortgage));
            }
        }
        if guaranteed && !out[start..].iter().any(|h| h.5) {
            out[start].5 = true;
            if out[start].2 == RightKind::Lease {
                out[start].2 = RightKind::Ownership;
            }
        }
    }
    for entity in entities {
        if !g.rng.random_bool(0.4) {
            continue;
        }
        for _ in 0..g.rng.random_range(1..=2) {
            let kind = if g.rng.random_bool(0.6) {
                RealEstateKind::NonResidential
            } else {
                RealEstateKind::LandPlot
            };
            let estate = g.estate(kind, &mut cadastral);
            let right = match g.rng.random_range(0..100) {
                0..70 => RightKind::Ownership,
                70..95 => RightKind::Lease,
                _ => RightKind::TrustManagement,
            };
            let mortgage = right == RightKind::Ownership && g.rng.random_bool(0.15);
            let from = entity.registered_on.max(date(1998, 1, 1));
            out.push((
                estate,
                TaxpayerId::Bin(entity.bin),
                right,
                None,
                from,
                mortgage,
            ));
        }
    }
    // The rights themselves: a registration date after the holder (and the building) existed,
    // the title document of that day, and a mortgage to a bank for 10 to 20 years. Co-owners
    // share the object's date, document and encumbrance, so they are drawn once per object.
    let mut drawn: std::collections::HashMap<String, (Date, String, Option<String>)> =
        std::collections::HashMap::new();
    out.into_iter()
        .map(|(estate, holder, right, share, from, mortgage)| {
            let (registered, document, encumbrance) = drawn
                .entry(estate.cadastral_number.clone())
                .or_insert_with(|| {
                    let built = estate
                        .built_year
                        .and_then(|y| Date::new(y, 1, 1).ok())
                        .unwrap_or(from);
                    let from = from.max(built).min(LAST_REGISTRATION);
                    let registered = g.date_between(from, LAST_REGISTRATION);
                    let number = g.rng.random_range(1..=9999);
                    let title = match (right, estate.kind) {
                        (RightKind::Lease, _) => "Жалдау шарты",
                        (RightKind::TrustManagement, _) => "Сенімгерлік басқару шарты",
                        (_, RealEstateKind::LandPlot) if g.rng.random_bool(0.5) => {
                            "Жер учаскесіне жеке меншік құқығын беру туралы әкімдік қаулысы"
                        }
                        _ => match g.rng.random_range(0..10) {
                            0..7 => "Сатып алу-сату шарты",
                            7..9 => "Сыйға тарту шарты",
                            _ => "Мұрагерлік құқығы туралы куәлік",
                        },
                    };
                    let document = format!("{title} № {number}, {registered}");
                    let encumbrance = mortgage.then(|| {
                        let bank = BANKS.choose(&mut g.rng).expect("banks");
                        let years = g.rng.random_range(10..=20);
                        let until = registered
                            .checked_add(jiff::Span::new().years(years))
                            .expect("in range");
                        format!("Ипотека: «{bank}» АҚ, {until} дейін")
                    });
                    (registered, document, encumbrance)
                })
                .clone();
            let right = RealEstateRight::new(
                &estate.cadastral_number,
                holder,
                right,
                share,
                registered,
                &document,
                encumbrance.as_deref(),
            )
            .expect("generated right fits");
            Holding::new(estate, right).expect("same object")
        })
        .collect()
}

impl Generator {
    /// An object of `kind` with a cadastral number not in `taken` (which it joins), in a region
    /// of the word lists, with realistic characteristics.
    fn estate(&mut self, kind: RealEstateKind, taken: &mut HashSet<String>) -> RealEstate {
        let place = match kind {
            RealEstateKind::Apartment => Place::Flat,
            RealEstateKind::NonResidential if self.rng.random_bool(0.5) => Place::Premises,
            _ => Place::Building,
        };
        let kazakh = self.rng.random_bool(0.6);
        let (address, region, region_index) = self.place(kazakh, place);
        let number = loop {
            let plot = format!(
                "{:02}:{:03}:{:03}:{:03}",
                region_index + 1,
                self.rng.random_range(1..=999),
                self.rng.random_range(1..=999),
                self.rng.random_range(1..=999),
            );
            let number = match place {
                Place::Building => plot,
                Place::Flat | Place::Premises => {
                    format!("{plot}:{}", self.rng.random_range(1..=400))
                }
            };
            if taken.insert(number.clone()) {
                break number;
            }
        };
        let (dm2, rooms, floors, built) = match kind {
            RealEstateKind::Apartment => {
                let rooms = self.rng.random_range(1..=4u8);
                let dm2 = u32::from(rooms) * 1_600 + self.rng.random_range(1_200..=3_000);
                let floors = *[5u8, 5, 9, 9, 12, 16, 24]
                    .choose(&mut self.rng)
                    .expect("floors");
                (
                    dm2,
                    Some(rooms),
                    Some(floors),
                    Some(self.rng.random_range(1955..=2025)),
                )
            }
            RealEstateKind::House => {
                let rooms = self.rng.random_range(2..=7u8);
                let dm2 = u32::from(rooms) * 2_000 + self.rng.random_range(1_000..=6_000);
                let floors = self.rng.random_range(1..=2u8);
                (
                    dm2,
                    Some(rooms),
                    Some(floors),
                    Some(self.rng.random_range(1950..=2025)),
                )
            }
            // 4 to 25 sotkas (0.04 to 0.25 ha), whole square metres.
            RealEstateKind::LandPlot => {
                (self.rng.random_range(400..=2_500) * 100, None, None, None)
            }
            RealEstateKind::NonResidential => {
                let dm2 = self.rng.random_range(2_000..=200_000);
                let floors = self.rng.random_range(1..=5u8);
                let rooms = self.rng.random_range(1..=20u8);
                (
                    dm2,
                    Some(rooms),
                    Some(floors),
                    Some(self.rng.random_range(1960..=2024)),
                )
            }
        };
        RealEstate::new(
            &number,
            kind,
            &address,
            &region,
            &area_text(dm2),
            rooms,
            floors,
            built,
        )
        .expect("generated object fits")
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
    fn holdings_are_deterministic_valid_and_some_persons_hold_nothing() {
        let (p, again) = (small(), small());
        assert_eq!(p.holdings, again.holdings);
        let iins: HashSet<_> = p.persons.iter().map(|x| x.iin).collect();
        let bins: HashSet<_> = p.entities.iter().map(|x| x.bin).collect();
        let mut objects = std::collections::HashMap::new();
        let mut pairs = HashSet::new();
        for h in &p.holdings {
            // Valid: each record passes its own constructor again.
            let e = &h.estate;
            let estate = RealEstate::new(
                &e.cadastral_number,
                e.kind,
                &e.address,
                &e.region,
                &e.area_m2,
                e.rooms,
                e.floors,
                e.built_year,
            )
            .unwrap();
            let r = &h.right;
            let right = RealEstateRight::new(
                &r.cadastral_number,
                r.holder,
                r.right,
                r.share.as_deref(),
                r.registered_on,
                &r.document,
                r.encumbrance.as_deref(),
            )
            .unwrap();
            assert_eq!(Holding::new(estate, right).unwrap(), *h);
            match r.holder {
                TaxpayerId::Iin(iin) => assert!(iins.contains(&iin)),
                TaxpayerId::Bin(bin) => {
                    assert!(bins.contains(&bin));
                    assert!(matches!(
                        e.kind,
                        RealEstateKind::NonResidential | RealEstateKind::LandPlot
                    ));
                }
            }
            assert!(r.registered_on <= LAST_REGISTRATION);
            if let Some(year) = e.built_year {
                assert!(r.registered_on.year() >= year);
            }
            // One object, one description; one right per holder and object.
            assert_eq!(
                objects
                    .entry(e.cadastral_number.clone())
                    .or_insert(e.clone()),
                e
            );
            assert!(pairs.insert((e.cadastral_number.clone(), r.holder)));
        }
        let holding = |iin: Iin| {
            p.holdings
                .iter()
                .filter(move |h| h.right.holder == TaxpayerId::Iin(iin))
        };
        let with = p
            .persons
            .iter()
            .filter(|x| holding(x.iin).next().is_some())
            .count();
        assert!(
            with > 0 && with < p.persons.len(),
            "{with} of {}",
            p.persons.len()
        );
        let share = with as f64 / p.persons.len() as f64;
        assert!((0.5..0.8).contains(&share), "{share}");
        assert!(
            p.holdings
                .iter()
                .any(|h| h.right.share.as_deref() == Some("1/2"))
        );
        assert!(p.holdings.iter().any(|h| h.right.encumbrance.is_some()));
        assert!(
            p.holdings
                .iter()
                .any(|h| matches!(h.right.holder, TaxpayerId::Bin(_)))
        );
        // The demo's first individual (smallest IIN) has an encumbered object.
        let first = p.persons.iter().map(|x| x.iin).min().unwrap();
        assert!(holding(first).any(|h| h.right.encumbrance.is_some()));
    }

    #[test]
    fn areas_are_written_as_the_register_does() {
        assert_eq!(area_text(5_430), "54.3");
        assert_eq!(area_text(5_435), "54.35");
        assert_eq!(area_text(5_400), "54");
        assert_eq!(area_text(5_405), "54.05");
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
