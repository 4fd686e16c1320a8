//! The directory's tables: organisations with their services and appeal topics, and staff.

use qyzmet_domain::directory::{Directory, OrgKind, Organisation, Role, StaffMember};
use qyzmet_domain::ids::Iin;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{Event, OwnedEvent, events};
use crate::{Result, Store, StoreError};

/// What loading a directory changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loaded {
    pub organisations: usize,
    pub staff: usize,
}

fn organisation_from_row(
    row: &AnyRow,
    services: Vec<String>,
    appeal_topics: Vec<String>,
) -> Result<Organisation> {
    let kind: String = row.try_get("kind")?;
    Ok(Organisation {
        code: row.try_get("code")?,
        kind: OrgKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("organisation.kind {kind:?}")))?,
        parent: row.try_get("parent")?,
        name_kk: row.try_get("name_kk")?,
        name_ru: row.try_get("name_ru")?,
        name_en: row.try_get("name_en")?,
        address_kk: row.try_get("address_kk")?,
        address_ru: row.try_get("address_ru")?,
        phone: row.try_get("phone")?,
        website: row.try_get("website")?,
        region: row.try_get("region")?,
        services,
        appeal_topics,
        source: row.try_get("source")?,
    })
}

impl Store {
    /// Adds the organisations and staff that are not there yet, each with its audit entry, in
    /// one transaction. Loading the same directory twice changes nothing the second time.
    pub async fn load_directory(
        &self,
        directory: &Directory,
        staff: &[StaffMember],
        actor: &str,
    ) -> Result<Loaded> {
        directory
            .check()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let mut loaded = Loaded::default();
        let mut audit = Vec::new();
        for org in &directory.organisation {
            let inserted = sqlx::query(
                "INSERT INTO organisation (code, kind, parent, name_kk, name_ru, name_en, address_kk, address_ru, phone, website, region, source) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (code) DO NOTHING",
            )
            .bind(&org.code)
            .bind(org.kind.as_str())
            .bind(org.parent.as_deref())
            .bind(&org.name_kk)
            .bind(&org.name_ru)
            .bind(&org.name_en)
            .bind(org.address_kk.as_deref())
            .bind(org.address_ru.as_deref())
            .bind(org.phone.as_deref())
            .bind(org.website.as_deref())
            .bind(org.region.as_deref())
            .bind(&org.source)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                continue;
            }
            for service in &org.services {
                sqlx::query("INSERT INTO organisation_service (organisation, service) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(&org.code)
                    .bind(service)
                    .execute(&mut *tx)
                    .await?;
            }
            for topic in &org.appeal_topics {
                sqlx::query("INSERT INTO organisation_topic (organisation, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(&org.code)
                    .bind(topic)
                    .execute(&mut *tx)
                    .await?;
            }
            audit.push(OwnedEvent::from(Event {
                actor,
                action: "organisation.create",
                object_kind: "organisation",
                object_id: &org.code,
                details: serde_json::json!({ "kind": org.kind, "source": org.source }),
            }));
            loaded.organisations += 1;
        }
        for member in staff {
            let kind = directory
                .get(&member.organisation)
                .map(|o| o.kind)
                .ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "staff.organisation: {:?} is not in the directory",
                        member.organisation
                    ))
                })?;
            if !member.role.fits(kind) {
                return Err(StoreError::Invalid(format!(
                    "staff.role: {} does not fit organisation {} of kind {}",
                    member.role.as_str(),
                    member.organisation,
                    kind.as_str()
                )));
            }
            let inserted = sqlx::query(
                "INSERT INTO staff (iin, organisation, role, position_kk, position_ru) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(member.iin.to_string())
            .bind(&member.organisation)
            .bind(member.role.as_str())
            .bind(&member.position_kk)
            .bind(&member.position_ru)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                continue;
            }
            audit.push(OwnedEvent::from(Event {
                actor,
                action: "staff.appoint",
                object_kind: "staff",
                object_id: &member.iin.to_string(),
                details: serde_json::json!({ "organisation": member.organisation, "role": member.role }),
            }));
            loaded.staff += 1;
        }
        if audit.is_empty() {
            // Everything was there already: nothing was written.
            tx.rollback().await?;
        } else {
            tx.commit(&events(&audit)).await?;
        }
        Ok(loaded)
    }

    pub async fn organisations(&self) -> Result<Vec<Organisation>> {
        let rows = sqlx::query("SELECT * FROM organisation ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        let services = self
            .pairs("SELECT organisation, service FROM organisation_service ORDER BY service")
            .await?;
        let topics = self
            .pairs("SELECT organisation, topic FROM organisation_topic ORDER BY topic")
            .await?;
        let of = |pairs: &[(String, String)], code: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(o, _)| o == code)
                .map(|(_, v)| v.clone())
                .collect()
        };
        rows.iter()
            .map(|row| {
                let code: String = row.try_get("code")?;
                organisation_from_row(row, of(&services, &code), of(&topics, &code))
            })
            .collect()
    }

    async fn pairs(&self, sql: &'static str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Organisations that provide `service`.
    pub async fn providers_of(&self, service: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT organisation FROM organisation_service WHERE service = $1 ORDER BY organisation")
            .bind(service)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?)
    }

    /// Staff with their organisation, optionally of one organisation.
    pub async fn staff(&self, organisation: Option<&str>) -> Result<Vec<StaffMember>> {
        let rows = sqlx::query(
            "SELECT iin, organisation, role, position_kk, position_ru FROM staff \
             WHERE $1 IS NULL OR organisation = $1 ORDER BY organisation, role, iin",
        )
        .bind(organisation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let iin: String = r.try_get(0)?;
                let role: String = r.try_get(2)?;
                Ok(StaffMember {
                    iin: Iin::parse(&iin)
                        .map_err(|e| StoreError::Corrupt(format!("staff.iin: {e}")))?,
                    organisation: r.try_get(1)?,
                    role: Role::parse(&role)
                        .ok_or_else(|| StoreError::Corrupt(format!("staff.role {role:?}")))?,
                    position_kk: r.try_get(3)?,
                    position_ru: r.try_get(4)?,
                })
            })
            .collect()
    }
}
