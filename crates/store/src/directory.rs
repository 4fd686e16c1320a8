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
        rows.iter().map(staff_member_from_row).collect()
    }
}

/// The most organisations one page of the console lists.
pub const ORGANISATION_PAGE: i64 = 50;

/// Gives `member` their role in their organisation; false when they have it already. The caller
/// commits with the grant's audit entry ([`Store::grant_staff_role`]).
pub async fn grant_role(tx: &mut crate::Tx, member: &StaffMember) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO staff (iin, organisation, role, position_kk, position_ru) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(member.iin.to_string())
    .bind(&member.organisation)
    .bind(member.role.as_str())
    .bind(&member.position_kk)
    .bind(&member.position_ru)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Takes a role away; false when the person did not have it.
pub async fn revoke_role(
    tx: &mut crate::Tx,
    iin: Iin,
    organisation: &str,
    role: Role,
) -> Result<bool> {
    let deleted =
        sqlx::query("DELETE FROM staff WHERE iin = $1 AND organisation = $2 AND role = $3")
            .bind(iin.to_string())
            .bind(organisation)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await?
            .rows_affected();
    Ok(deleted == 1)
}

/// What a change of a staff role did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    Done,
    /// Nothing to do: the person had the role already (grant) or did not have it (revoke).
    Unchanged,
}

impl Store {
    /// One page of organisations whose code or name contains `filter` (case as typed), ordered by
    /// code, from `offset`; at most [`ORGANISATION_PAGE`] plus one (the caller shows whether there
    /// is a next page). Services and topics are not read.
    pub async fn organisations_page(&self, filter: &str, offset: i64) -> Result<Vec<Organisation>> {
        let pattern = format!(
            "%{}%",
            filter
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let rows = sqlx::query(
            "SELECT * FROM organisation WHERE code LIKE $1 ESCAPE '\\' OR name_kk LIKE $1 ESCAPE '\\' \
             OR name_ru LIKE $1 ESCAPE '\\' OR name_en LIKE $1 ESCAPE '\\' ORDER BY code LIMIT $2 OFFSET $3",
        )
        .bind(pattern)
        .bind(ORGANISATION_PAGE + 1)
        .bind(offset.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| organisation_from_row(row, Vec::new(), Vec::new()))
            .collect()
    }

    /// The staff of one organisation, at most `limit`.
    pub async fn staff_of(&self, organisation: &str, limit: i64) -> Result<Vec<StaffMember>> {
        let rows = sqlx::query(
            "SELECT iin, organisation, role, position_kk, position_ru FROM staff \
             WHERE organisation = $1 ORDER BY role, iin LIMIT $2",
        )
        .bind(organisation)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(staff_member_from_row).collect()
    }

    /// One organisation without its services and topics.
    pub async fn organisation(&self, code: &str) -> Result<Option<Organisation>> {
        let row = sqlx::query("SELECT * FROM organisation WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(|row| organisation_from_row(row, Vec::new(), Vec::new()))
            .transpose()
    }

    /// Gives a person a role in an organisation whose kind employs it, audited with `actor`.
    pub async fn grant_staff_role(&self, member: &StaffMember, actor: &str) -> Result<RoleChange> {
        let kind = self
            .organisation(&member.organisation)
            .await?
            .map(|o| o.kind)
            .ok_or_else(|| StoreError::Invalid("organisation: no such organisation".into()))?;
        if !member.role.fits(kind) {
            return Err(StoreError::Invalid(format!(
                "role: {} does not fit an organisation of kind {}",
                member.role.as_str(),
                kind.as_str()
            )));
        }
        let mut tx = self.begin_write().await?;
        if !grant_role(&mut tx, member).await? {
            tx.rollback().await?;
            return Ok(RoleChange::Unchanged);
        }
        tx.commit(&[Event {
            actor,
            action: "staff.appoint",
            object_kind: "staff",
            object_id: &member.iin.to_string(),
            details: serde_json::json!({ "organisation": member.organisation, "role": member.role }),
        }])
        .await?;
        Ok(RoleChange::Done)
    }

    /// Takes a person's role in an organisation away, audited with `actor`.
    pub async fn revoke_staff_role(
        &self,
        iin: Iin,
        organisation: &str,
        role: Role,
        actor: &str,
    ) -> Result<RoleChange> {
        let mut tx = self.begin_write().await?;
        if !revoke_role(&mut tx, iin, organisation, role).await? {
            tx.rollback().await?;
            return Ok(RoleChange::Unchanged);
        }
        tx.commit(&[Event {
            actor,
            action: "staff.dismiss",
            object_kind: "staff",
            object_id: &iin.to_string(),
            details: serde_json::json!({ "organisation": organisation, "role": role }),
        }])
        .await?;
        Ok(RoleChange::Done)
    }
}

/// A staff row (`iin, organisation, role, position_kk, position_ru`) as a member.
fn staff_member_from_row(r: &AnyRow) -> Result<StaffMember> {
    let iin: String = r.try_get(0)?;
    let role: String = r.try_get(2)?;
    Ok(StaffMember {
        iin: Iin::parse(&iin).map_err(|e| StoreError::Corrupt(format!("staff.iin: {e}")))?,
        organisation: r.try_get(1)?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("staff.role {role:?}")))?,
        position_kk: r.try_get(3)?,
        position_ru: r.try_get(4)?,
    })
}
