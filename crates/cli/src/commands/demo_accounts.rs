//! The demo's people who sign in: an individual, a legal entity's employee, and the clerk, executor
//! and head of an archive and of a ministry. Each has an account (one demo password) and, from
//! the first start, a PKCS#12 signing and authentication key (see `demo_pki`).

use anyhow::Context;
use qyzmet_ca::code;
use qyzmet_domain::directory::Role;
use qyzmet_domain::ids::{Bin, Division, EntityKind};
use qyzmet_pki::name::Organisation;
use qyzmet_store::Store;
use qyzmet_store::portal::{Account, Proof};

use super::demo_pki::{DemoHolder, holder};

/// The password of every demo account (printed at start).
pub const DEMO_PASSWORD: &str = "qyzmet-demo-2026";
/// The staff the demo signs in: the clerk, executor and head of an archive and of a ministry, both
/// taking appeals (the ministry also gives seed 002's certificates), of the Kyzylorda archives
/// department (the provider of seed 004's regional archival reference, 004 Annex 1 row 1), of the
/// providers of seed 003 who take applications at their own front office (the State Technical
/// Service: NCA certificates and deposit; the Communications and Informatization Committee: KKM
/// conclusions, CA accreditation, the state register), and an operator and the head of a
/// Kyzylorda PSC branch (004 Annex 2), and the national operator's administrator.
const DEMO_STAFF: [(&str, &[Role]); 8] = [
    (
        "national-archive",
        &[Role::Clerk, Role::Executor, Role::Head],
    ),
    (
        "ministry-justice",
        &[Role::Clerk, Role::Executor, Role::Head],
    ),
    (
        "kyzylorda-archives-department",
        &[Role::Clerk, Role::Executor, Role::Head],
    ),
    (
        "state-technical-service",
        &[Role::Clerk, Role::Executor, Role::Head],
    ),
    (
        "communications-informatization-committee",
        &[Role::Clerk, Role::Executor, Role::Head],
    ),
    ("kyzylorda-psc-city-1", &[Role::PscOperator, Role::Head]),
    // The registration centre's operator, whose key the CA signer accepts (issue 20).
    ("nca-rk", &[Role::CaOperator]),
    // The national operator's administrator, who keeps the console at /admin (issue 20).
    ("national-operator", &[Role::Administrator]),
];
/// The demo's providers whose clerks land at their front office.
const FRONT_OFFICES: [&str; 2] = [
    "state-technical-service",
    "communications-informatization-committee",
];
/// The file stem of the key with which the state databases answered for in process sign what
/// they issue (002 §3.6).
pub const REGISTERS_KEY: &str = "registers";
/// The file stem of the platform's own key: the engine signs its gateway messages and its requests
/// to the CA signer with it.
pub const ENGINE_KEY: &str = "engine";

pub struct DemoLogin {
    pub label: String,
    pub iin: String,
    /// Where the person signs in: `/login` (portal) or `/office/login`.
    pub path: &'static str,
}

/// Chooses the demo people, creates their accounts once, and says which keys to issue.
pub async fn prepare(store: &Store) -> anyhow::Result<(Vec<DemoLogin>, Vec<DemoHolder>)> {
    let mut logins = Vec::new();
    let mut holders = Vec::new();
    let mut accounts = Vec::new();
    if let Some(person) = store.persons(1).await?.into_iter().next() {
        let label = format!("individual {} {}", person.surname, person.given_name);
        accounts.push((person.iin.to_string(), None));
        logins.push(DemoLogin {
            label: label.clone(),
            iin: person.iin.to_string(),
            path: "/login",
        });
        holders.push(DemoHolder {
            holder: holder(&person),
            ca: code::NCA,
            label,
            file: person.iin.to_string(),
        });
    }
    for entity in store.entities_with_head(1).await? {
        let Some(head) = entity.head_iin else {
            continue;
        };
        let Some(person) = store.person(head).await? else {
            continue;
        };
        let label = format!("employee of {} (BIN {})", entity.name_ru, entity.bin);
        accounts.push((person.iin.to_string(), Some(entity.bin.to_string())));
        logins.push(DemoLogin {
            label: label.clone(),
            iin: person.iin.to_string(),
            path: "/login",
        });
        let mut employee = holder(&person);
        employee.organisation = Some(Organisation {
            name: entity.name_ru.clone(),
            bin: entity.bin,
        });
        holders.push(DemoHolder {
            file: person.iin.to_string(),
            holder: employee,
            ca: code::NCA,
            label,
        });
    }
    let staff = store.staff(None).await?;
    let registers_bin = Bin::compose(
        2001,
        3,
        EntityKind::ResidentLegalEntity,
        Division::HeadUnit,
        4_417,
    )
    .context("the registers' BIN")?;
    let platform_bin = (4_418..4_440)
        .find_map(|n| {
            Bin::compose(
                2001,
                3,
                EntityKind::ResidentLegalEntity,
                Division::HeadUnit,
                n,
            )
        })
        .context("the platform's BIN")?;
    for (body, roles) in DEMO_STAFF {
        for &role in roles {
            let Some(member) = staff
                .iter()
                .find(|m| m.organisation == body && m.role == role)
            else {
                continue;
            };
            let Some(person) = store.person(member.iin).await? else {
                continue;
            };
            let label = format!("{} of {body}", role.as_str());
            accounts.push((person.iin.to_string(), None));
            logins.push(DemoLogin {
                label: label.clone(),
                iin: person.iin.to_string(),
                path: match role {
                    Role::PscOperator => "/office/login?next=/psc",
                    Role::Administrator => "/office/login?next=/admin",
                    Role::CaOperator => "/office/login?next=/ca",
                    // The providers of seed 003 take applications at their own front office.
                    Role::Clerk if FRONT_OFFICES.contains(&body) => "/office/login?next=/front",
                    _ => "/office/login",
                },
            });
            if body == "ministry-justice" && role == Role::Head {
                // The registers' information system key, in the name of the body that keeps them.
                let mut system = holder(&person);
                system.organisation = Some(Organisation {
                    name: "Министерство юстиции РК (ГБД РН, ГБД ЮЛ)".into(),
                    bin: registers_bin,
                });
                holders.push(DemoHolder {
                    holder: system.clone(),
                    ca: code::GOV,
                    label: "state databases' information system".into(),
                    file: REGISTERS_KEY.into(),
                });
                let mut platform = system;
                platform.organisation = Some(Organisation {
                    name: "Ұлттық оператор / Национальный оператор".into(),
                    bin: platform_bin,
                });
                holders.push(DemoHolder {
                    holder: platform,
                    ca: code::GOV,
                    label: "the platform's information system (engine)".into(),
                    file: ENGINE_KEY.into(),
                });
            }
            holders.push(DemoHolder {
                holder: holder(&person),
                ca: code::GOV,
                label,
                file: person.iin.to_string(),
            });
        }
    }
    let hash = qyzmet_web::hash_password(DEMO_PASSWORD).map_err(anyhow::Error::msg)?;
    for (iin, bin) in accounts {
        if store.account(&iin).await?.is_none() {
            let account = Account {
                email: format!("{iin}@demo.qyzmet.kz"),
                iin,
                bin,
                password_hash: Some(hash.clone()),
                lang: "kk".into(),
                created_at: qyzmet_store::now_text(),
                // The demo's known people, whose keys it issues: the operator vouches for them.
                proven_by: Some(Proof::Operator),
            };
            // A second start finds the account and leaves it.
            let _ = store.create_account(&account, None).await?;
        }
    }
    Ok((logins, holders))
}
