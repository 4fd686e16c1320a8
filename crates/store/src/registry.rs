//! The state registries' tables: individuals, legal entities, notarial powers of attorney, and
//! real estate with the rights to it (ЖМТ МДҚ).

use jiff::civil::Date;
use qyzmet_domain::ids::{Bin, Iin, Sex, TaxpayerId};
use qyzmet_domain::registry::{
    Holding, LegalEntity, Person, PowerOfAttorney, RealEstate, RealEstateKind, RealEstateRight,
    RightKind,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::Event;
use crate::{Result, Store, StoreError, Tx};

pub async fn insert_person(tx: &mut Tx, p: &Person) -> Result<()> {
    sqlx::query(
        "INSERT INTO person (iin, surname, given_name, patronymic, birth_date, sex, address, region) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(p.iin.to_string())
    .bind(&p.surname)
    .bind(&p.given_name)
    .bind(p.patronymic.as_deref())
    .bind(p.birth_date.to_string())
    .bind(sex_text(p.sex))
    .bind(&p.address)
    .bind(&p.region)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_entity(tx: &mut Tx, e: &LegalEntity) -> Result<()> {
    sqlx::query(
        "INSERT INTO legal_entity (bin, name_kk, name_ru, legal_form, registered_on, head_iin, address, region) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.bin.to_string())
    .bind(&e.name_kk)
    .bind(&e.name_ru)
    .bind(&e.legal_form)
    .bind(e.registered_on.to_string())
    .bind(e.head_iin.map(|i| i.to_string()))
    .bind(&e.address)
    .bind(&e.region)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_power(tx: &mut Tx, p: &PowerOfAttorney) -> Result<()> {
    sqlx::query(
        "INSERT INTO power_of_attorney (number, principal, attorney_iin, notary, issued_on, valid_until, scope, revoked) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&p.number)
    .bind(p.principal.to_string())
    .bind(p.attorney.to_string())
    .bind(&p.notary)
    .bind(p.issued_on.to_string())
    .bind(p.valid_until.to_string())
    .bind(p.scope.join(";"))
    .bind(i32::from(p.revoked))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_real_estate(tx: &mut Tx, e: &RealEstate) -> Result<()> {
    sqlx::query(
        "INSERT INTO real_estate (cadastral_number, kind, address, region, area, rooms, floors, built_year) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&e.cadastral_number)
    .bind(e.kind.as_str())
    .bind(&e.address)
    .bind(&e.region)
    .bind(&e.area_m2)
    .bind(e.rooms.map(i32::from))
    .bind(e.floors.map(i32::from))
    .bind(e.built_year.map(i32::from))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts a right; its object must be in `real_estate` already.
pub async fn insert_right(tx: &mut Tx, r: &RealEstateRight) -> Result<()> {
    sqlx::query(
        "INSERT INTO real_estate_right (cadastral_number, holder, right_kind, share, registered_on, document, encumbrance) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&r.cadastral_number)
    .bind(r.holder.to_string())
    .bind(r.right.as_str())
    .bind(r.share.as_deref())
    .bind(r.registered_on.to_string())
    .bind(&r.document)
    .bind(r.encumbrance.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What the real estate register holds for `holder` (an IIN or a BIN as text): each object with
/// the holder's right to it, ordered by cadastral number. Empty when the holder has none (a
/// certificate of absence), also for a number that is in no registry.
pub async fn holdings_of(conn: &mut AnyConnection, holder: &str) -> Result<Vec<Holding>> {
    let rows = sqlx::query(
        "SELECT e.cadastral_number, e.kind, e.address, e.region, e.area, e.rooms, e.floors, e.built_year, \
                r.holder, r.right_kind, r.share, r.registered_on, r.document, r.encumbrance \
         FROM real_estate_right r JOIN real_estate e ON e.cadastral_number = r.cadastral_number \
         WHERE r.holder = $1 ORDER BY e.cadastral_number",
    )
    .bind(holder)
    .fetch_all(conn)
    .await?;
    rows.iter().map(holding_from_row).collect()
}

/// A person of ЖТ МДҚ, read on the caller's connection (a gateway answering inside a move).
pub async fn person_of(conn: &mut AnyConnection, iin: Iin) -> Result<Option<Person>> {
    let row = sqlx::query("SELECT * FROM person WHERE iin = $1")
        .bind(iin.to_string())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(person_from_row).transpose()
}

/// A legal entity of ЗТ МДҚ, read on the caller's connection.
pub async fn entity_of(conn: &mut AnyConnection, bin: Bin) -> Result<Option<LegalEntity>> {
    let row = sqlx::query("SELECT * FROM legal_entity WHERE bin = $1")
        .bind(bin.to_string())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(entity_from_row).transpose()
}

fn sex_text(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

fn date(row: &AnyRow, column: &str) -> Result<Date> {
    let text: String = row.try_get(column)?;
    text.parse().map_err(|e| corrupt(column, e))
}

fn person_from_row(row: &AnyRow) -> Result<Person> {
    let iin: String = row.try_get("iin")?;
    Ok(Person {
        iin: Iin::parse(&iin).map_err(|e| corrupt("person.iin", e))?,
        surname: row.try_get("surname")?,
        given_name: row.try_get("given_name")?,
        patronymic: row.try_get("patronymic")?,
        birth_date: date(row, "birth_date")?,
        sex: match row.try_get::<String, _>("sex")?.as_str() {
            "female" => Sex::Female,
            _ => Sex::Male,
        },
        address: row.try_get("address")?,
        region: row.try_get("region")?,
    })
}

fn entity_from_row(row: &AnyRow) -> Result<LegalEntity> {
    let bin: String = row.try_get("bin")?;
    let head: Option<String> = row.try_get("head_iin")?;
    Ok(LegalEntity {
        bin: Bin::parse(&bin).map_err(|e| corrupt("legal_entity.bin", e))?,
        name_kk: row.try_get("name_kk")?,
        name_ru: row.try_get("name_ru")?,
        legal_form: row.try_get("legal_form")?,
        registered_on: date(row, "registered_on")?,
        head_iin: head
            .map(|h| Iin::parse(&h).map_err(|e| corrupt("legal_entity.head_iin", e)))
            .transpose()?,
        address: row.try_get("address")?,
        region: row.try_get("region")?,
    })
}

fn power_from_row(row: &AnyRow) -> Result<PowerOfAttorney> {
    let principal: String = row.try_get("principal")?;
    let attorney: String = row.try_get("attorney_iin")?;
    let scope: String = row.try_get("scope")?;
    Ok(PowerOfAttorney {
        number: row.try_get("number")?,
        principal: TaxpayerId::parse(&principal)
            .map_err(|e| corrupt("power_of_attorney.principal", e))?,
        attorney: Iin::parse(&attorney)
            .map_err(|e| corrupt("power_of_attorney.attorney_iin", e))?,
        notary: row.try_get("notary")?,
        issued_on: date(row, "issued_on")?,
        valid_until: date(row, "valid_until")?,
        scope: scope.split(';').map(str::to_owned).collect(),
        revoked: row.try_get::<i32, _>("revoked")? != 0,
    })
}

fn small(row: &AnyRow, column: &str) -> Result<Option<i32>> {
    Ok(row.try_get::<Option<i32>, _>(column)?)
}

fn holding_from_row(row: &AnyRow) -> Result<Holding> {
    let cadastral_number: String = row.try_get("cadastral_number")?;
    let kind: String = row.try_get("kind")?;
    let byte = |column: &str| -> Result<Option<u8>> {
        small(row, column)?
            .map(|v| u8::try_from(v).map_err(|e| corrupt(column, e)))
            .transpose()
    };
    let estate = RealEstate {
        cadastral_number: cadastral_number.clone(),
        kind: RealEstateKind::parse(&kind)
            .ok_or_else(|| corrupt("real_estate.kind", kind.as_str()))?,
        address: row.try_get("address")?,
        region: row.try_get("region")?,
        area_m2: row.try_get("area")?,
        rooms: byte("rooms")?,
        floors: byte("floors")?,
        built_year: small(row, "built_year")?
            .map(|v| i16::try_from(v).map_err(|e| corrupt("built_year", e)))
            .transpose()?,
    };
    let holder: String = row.try_get("holder")?;
    let right: String = row.try_get("right_kind")?;
    let right = RealEstateRight {
        cadastral_number,
        holder: TaxpayerId::parse(&holder).map_err(|e| corrupt("real_estate_right.holder", e))?,
        right: RightKind::parse(&right)
            .ok_or_else(|| corrupt("real_estate_right.right_kind", right.as_str()))?,
        share: row.try_get("share")?,
        registered_on: date(row, "registered_on")?,
        document: row.try_get("document")?,
        encumbrance: row.try_get("encumbrance")?,
    };
    Ok(Holding { estate, right })
}

/// Counts of records in each registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RegistryCounts {
    pub persons: i64,
    pub entities: i64,
    pub powers: i64,
    /// Objects in the real estate register.
    pub real_estate: i64,
    /// Rights registered to them.
    pub rights: i64,
}

impl Store {
    pub async fn person(&self, iin: Iin) -> Result<Option<Person>> {
        person_of(&mut *self.pool.acquire().await?, iin).await
    }

    pub async fn entity(&self, bin: Bin) -> Result<Option<LegalEntity>> {
        entity_of(&mut *self.pool.acquire().await?, bin).await
    }

    /// Powers of attorney in which `iin` is the attorney or the principal.
    pub async fn powers_of(&self, id: TaxpayerId) -> Result<Vec<PowerOfAttorney>> {
        let rows = sqlx::query(
            "SELECT * FROM power_of_attorney WHERE attorney_iin = $1 OR principal = $1 ORDER BY number",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(power_from_row).collect()
    }

    /// Some persons, for listings and demo logins.
    pub async fn persons(&self, limit: i64) -> Result<Vec<Person>> {
        let rows = sqlx::query("SELECT * FROM person ORDER BY iin LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(person_from_row).collect()
    }

    /// Some legal entities with a recorded head, for demo logins of an entity's employee.
    pub async fn entities_with_head(&self, limit: i64) -> Result<Vec<LegalEntity>> {
        let rows = sqlx::query(
            "SELECT * FROM legal_entity WHERE head_iin IS NOT NULL ORDER BY bin LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entity_from_row).collect()
    }

    pub async fn registry_counts(&self) -> Result<RegistryCounts> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM person), (SELECT COUNT(*) FROM legal_entity), (SELECT COUNT(*) FROM power_of_attorney), \
             (SELECT COUNT(*) FROM real_estate), (SELECT COUNT(*) FROM real_estate_right)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(RegistryCounts {
            persons: row.try_get(0)?,
            entities: row.try_get(1)?,
            powers: row.try_get(2)?,
            real_estate: row.try_get(3)?,
            rights: row.try_get(4)?,
        })
    }

    /// What the real estate register holds for `holder` (see [`holdings_of`]).
    pub async fn holdings(&self, holder: &str) -> Result<Vec<Holding>> {
        let mut conn = self.pool.acquire().await?;
        holdings_of(&mut conn, holder).await
    }

    /// Loads holdings into the real estate register in one transaction with one audit entry
    /// (`registry.import` of `real_estate`, like an import of the other registries). An object
    /// held by several holders comes once per holding and is inserted once; every holder must be
    /// in the individuals or legal entities registry. Returns the number of rights loaded.
    pub async fn load_holdings(
        &self,
        holdings: &[Holding],
        actor: &str,
        source: &str,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let mut objects = std::collections::HashSet::new();
        for h in holdings {
            let (sql, key) = match h.right.holder {
                TaxpayerId::Iin(iin) => ("SELECT 1 FROM person WHERE iin = $1", iin.to_string()),
                TaxpayerId::Bin(bin) => {
                    ("SELECT 1 FROM legal_entity WHERE bin = $1", bin.to_string())
                }
            };
            if sqlx::query(sql)
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?
                .is_none()
            {
                tx.rollback().await?;
                return Err(StoreError::Invalid(format!(
                    "holder {key} of {} is in neither the individuals nor the legal entities registry",
                    h.estate.cadastral_number
                )));
            }
            if objects.insert(h.estate.cadastral_number.as_str()) {
                insert_real_estate(&mut tx, &h.estate).await?;
            }
            insert_right(&mut tx, &h.right).await?;
        }
        tx.commit(&[Event {
            actor,
            action: "registry.import",
            object_kind: "real_estate",
            object_id: source,
            details: serde_json::json!({ "objects": objects.len(), "rights": holdings.len() }),
        }])
        .await?;
        Ok(holdings.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use qyzmet_domain::ids::{Division, EntityKind};

    fn person(serial: u16) -> Person {
        let iin = (serial..)
            .find_map(|s| Iin::compose(date(1985, 4, 12), Sex::Female, s))
            .expect("issuable");
        Person::new(iin, "Ахметова", "Айгүл", None, "Астана қ.", "astana").unwrap()
    }

    fn estate(number: &str, kind: RealEstateKind) -> RealEstate {
        let built = (kind != RealEstateKind::LandPlot).then_some(1978);
        let rooms = (kind != RealEstateKind::LandPlot).then_some(3);
        RealEstate::new(
            number,
            kind,
            "Астана қ., Абай к-сі, 1",
            "astana",
            "54.3",
            rooms,
            rooms,
            built,
        )
        .unwrap()
    }

    fn right(
        number: &str,
        holder: TaxpayerId,
        kind: RightKind,
        share: Option<&str>,
        encumbrance: Option<&str>,
    ) -> RealEstateRight {
        RealEstateRight::new(
            number,
            holder,
            kind,
            share,
            date(2015, 3, 4),
            "Сатып алу-сату шарты № 123, 2015-03-04",
            encumbrance,
        )
        .unwrap()
    }

    async fn holdings_round_trip_in_order(store: &Store) {
        let (a, b) = (person(1), person(100));
        let bin = (1..)
            .find_map(|s| {
                Bin::compose(
                    2010,
                    5,
                    EntityKind::ResidentLegalEntity,
                    Division::HeadUnit,
                    s,
                )
            })
            .unwrap();
        let entity = LegalEntity::new(
            bin,
            "«Ақ» ЖШС",
            "ТОО «Ак»",
            "ТОО",
            date(2010, 5, 1),
            None,
            "Астана қ.",
            "astana",
        )
        .unwrap();
        let mut tx = store.begin_write().await.unwrap();
        insert_person(&mut tx, &a).await.unwrap();
        insert_person(&mut tx, &b).await.unwrap();
        insert_entity(&mut tx, &entity).await.unwrap();
        tx.commit(&[Event::new("test", "test.seed", "registry", "persons")])
            .await
            .unwrap();

        let (ia, ib, eb) = (
            TaxpayerId::Iin(a.iin),
            TaxpayerId::Iin(b.iin),
            TaxpayerId::Bin(bin),
        );
        let shared = estate("01:011:001:001:7", RealEstateKind::Apartment);
        let plot = estate("01:011:001:002", RealEstateKind::LandPlot);
        let shop = estate("02:100:200:3000:1", RealEstateKind::NonResidential);
        let mortgage = "Ипотека: «Halyk Bank» АҚ, 2031-05-01 дейін";
        let holdings = vec![
            // Out of order on purpose: the register answers by cadastral number.
            Holding::new(
                plot.clone(),
                right(&plot.cadastral_number, ia, RightKind::Ownership, None, None),
            )
            .unwrap(),
            Holding::new(
                shared.clone(),
                right(
                    &shared.cadastral_number,
                    ia,
                    RightKind::CommonOwnership,
                    Some("1/2"),
                    Some(mortgage),
                ),
            )
            .unwrap(),
            Holding::new(
                shared.clone(),
                right(
                    &shared.cadastral_number,
                    ib,
                    RightKind::CommonOwnership,
                    Some("1/2"),
                    Some(mortgage),
                ),
            )
            .unwrap(),
            Holding::new(
                shop.clone(),
                right(&shop.cadastral_number, eb, RightKind::Lease, None, None),
            )
            .unwrap(),
        ];
        assert_eq!(
            store.load_holdings(&holdings, "test", "t").await.unwrap(),
            4
        );

        let of_a = store.holdings(&ia.to_string()).await.unwrap();
        assert_eq!(of_a, vec![holdings[1].clone(), holdings[0].clone()]);
        assert_eq!(
            store.holdings(&eb.to_string()).await.unwrap(),
            vec![holdings[3].clone()]
        );
        // Inside a caller's transaction, and for a holder with nothing.
        let mut tx = store.begin_write().await.unwrap();
        assert_eq!(
            holdings_of(&mut tx, &ib.to_string()).await.unwrap(),
            vec![holdings[2].clone()]
        );
        let nobody = person(200).iin.to_string();
        assert!(holdings_of(&mut tx, &nobody).await.unwrap().is_empty());
        tx.rollback().await.unwrap();

        let counts = store.registry_counts().await.unwrap();
        assert_eq!((counts.real_estate, counts.rights), (3, 4));

        // A holder in no registry loads nothing.
        let stranger = TaxpayerId::Iin(person(300).iin);
        let other = estate("03:100:200:300", RealEstateKind::House);
        let bad = [Holding::new(
            other.clone(),
            right(
                &other.cadastral_number,
                stranger,
                RightKind::Ownership,
                None,
                None,
            ),
        )
        .unwrap()];
        assert!(matches!(
            store.load_holdings(&bad, "test", "t").await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(store.registry_counts().await.unwrap().real_estate, 3);
        assert_eq!(store.verify_audit().await.unwrap(), Ok(2));
    }

    crate::both_backends!(holdings_round_trip_in_order);
}
