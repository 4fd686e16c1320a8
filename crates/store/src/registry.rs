//! The state registries' tables: individuals, legal entities, notarial powers of attorney.

use jiff::civil::Date;
use qyzmet_domain::ids::{Bin, Iin, Sex, TaxpayerId};
use qyzmet_domain::registry::{LegalEntity, Person, PowerOfAttorney};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{Result, Store, StoreError};

pub async fn insert_person(conn: &mut AnyConnection, p: &Person) -> Result<()> {
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
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_entity(conn: &mut AnyConnection, e: &LegalEntity) -> Result<()> {
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
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_power(conn: &mut AnyConnection, p: &PowerOfAttorney) -> Result<()> {
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
    .execute(conn)
    .await?;
    Ok(())
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

/// Counts of records in each registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RegistryCounts {
    pub persons: i64,
    pub entities: i64,
    pub powers: i64,
}

impl Store {
    pub async fn person(&self, iin: Iin) -> Result<Option<Person>> {
        let row = sqlx::query("SELECT * FROM person WHERE iin = $1")
            .bind(iin.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(person_from_row).transpose()
    }

    pub async fn entity(&self, bin: Bin) -> Result<Option<LegalEntity>> {
        let row = sqlx::query("SELECT * FROM legal_entity WHERE bin = $1")
            .bind(bin.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(entity_from_row).transpose()
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
            "SELECT (SELECT COUNT(*) FROM person), (SELECT COUNT(*) FROM legal_entity), (SELECT COUNT(*) FROM power_of_attorney)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(RegistryCounts {
            persons: row.try_get(0)?,
            entities: row.try_get(1)?,
            powers: row.try_get(2)?,
        })
    }
}
