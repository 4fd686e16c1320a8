//! The demo's people who sign in: an individual, a legal entity's employee, and the clerk, executor
//! and head of an archive and of a ministry. Each has an account (one demo password) and, from
//! the first start, a PKCS#12 signing and authentication key (see `demo_pki`).

use qyzmet_ca::code;
use qyzmet_domain::directory::Role;
use qyzmet_pki::name::Organisation;
use qyzmet_store::Store;
use qyzmet_store::portal::Account;

use super::demo_pki::{DemoHolder, holder};

/// The password of every demo account (printed at start).
pub const DEMO_PASSWORD: &str = "qyzmet-demo-2026";
/// The bodies whose staff the demo signs in: an archive and a ministry, both taking appeals.
const DEMO_BODIES: [&str; 2] = ["national-archive", "ministry-justice"];
const DEMO_ROLES: [Role; 3] = [Role::Clerk, Role::Executor, Role::Head];

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
            holder: employee,
            ca: code::NCA,
            label,
        });
    }
    let staff = store.staff(None).await?;
    for body in DEMO_BODIES {
        for role in DEMO_ROLES {
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
                path: "/office/login",
            });
            holders.push(DemoHolder {
                holder: holder(&person),
                ca: code::GOV,
                label,
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
            };
            // A second start finds the account and leaves it.
            let _ = store.create_account(&account).await?;
        }
    }
    Ok((logins, holders))
}
