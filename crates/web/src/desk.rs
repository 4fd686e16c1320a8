//! Who works a desk where people hand applications over in person: a public service centre's
//! counter (`/psc/…`: an operator or the head of a PSC branch) or a provider's own front office
//! (`/front/…`: a clerk or the head of an organisation that provides a service with a `provider`
//! channel — a state body's reception, the NCA's registration centre). The counter's pages, its
//! queue and its journal are the same for both; the path says which desk, and the directory says
//! whether this member of staff works it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use qyzmet_domain::directory::{OrgKind, Organisation, Role};
pub use qyzmet_engine::cases::counter::Desk;

use crate::AppState;
use crate::api::{UserLang, internal};
use crate::session::Staff;

/// The path every page of the desk lives under.
pub fn prefix(desk: Desk) -> &'static str {
    match desk {
        Desk::Psc => "/psc",
        Desk::Provider => "/front",
    }
}

/// The translation key of `name` as this desk calls it (`psc.counter`, `front.counter`).
pub fn key(desk: Desk, name: &str) -> String {
    match desk {
        Desk::Psc => format!("psc.{name}"),
        Desk::Provider => format!("front.{name}"),
    }
}

/// The desk a path belongs to.
fn of_path(path: &str) -> Desk {
    if path == "/front" || path.starts_with("/front/") {
        Desk::Provider
    } else {
        Desk::Psc
    }
}

/// Whether the organisation of this code provides a service by a provider channel (and so keeps
/// a front office).
fn provides_in_person(state: &AppState, code: &str) -> bool {
    state
        .catalogue
        .all()
        .any(|l| Desk::Provider.serves(&l.regulation, code))
}

/// Whether `staff` works their organisation's front office (the back office's menu links it).
pub fn keeps_front_office(state: &AppState, staff: &Staff) -> bool {
    (staff.has(Role::Clerk) || staff.has(Role::Head))
        && provides_in_person(state, &staff.organisation)
}

/// Whether `staff` of `org` works `desk`: a PSC branch's operators and head at the PSC counter; a
/// provider's clerks (its documentation unit, 000 §9) and head at its front office.
fn works(state: &AppState, staff: &Staff, org: &Organisation, desk: Desk) -> bool {
    match desk {
        Desk::Psc => {
            org.kind == OrgKind::PscBranch
                && (staff.has(Role::PscOperator) || staff.has(Role::Head))
        }
        Desk::Provider => org.code == staff.organisation && keeps_front_office(state, staff),
    }
}

/// The organisation whose `desk` this member of staff works, or 404 for anyone else.
pub(crate) async fn office(
    state: &AppState,
    staff: &Staff,
    desk: Desk,
) -> Result<Organisation, Response> {
    let organisations = state.store.organisations().await.map_err(internal)?;
    match organisations
        .into_iter()
        .find(|o| o.code == staff.organisation)
    {
        Some(org) if works(state, staff, &org, desk) => Ok(org),
        _ => Err(crate::pages::not_found(UserLang(staff.lang)).await),
    }
}

/// The role of the employee who serves the desk's queue and takes applications at it (the head
/// watches the board too).
pub fn operator_role(desk: Desk) -> Role {
    match desk {
        Desk::Psc => Role::PscOperator,
        Desk::Provider => Role::Clerk,
    }
}

/// The organisation of this code if it keeps a desk of this kind: a PSC branch, or a provider of
/// a service with a provider channel.
pub(crate) async fn keeping(
    state: &AppState,
    desk: Desk,
    code: &str,
) -> Result<Option<Organisation>, Response> {
    let all = state.store.organisations().await.map_err(internal)?;
    Ok(all.into_iter().find(|o| {
        o.code == code
            && match desk {
                Desk::Psc => o.kind == OrgKind::PscBranch,
                Desk::Provider => provides_in_person(state, &o.code),
            }
    }))
}

/// The desk the request's path names, for pages anyone may open (the kiosk, a ticket).
pub struct DeskOfPath(pub Desk);

impl FromRequestParts<AppState> for DeskOfPath {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        Ok(DeskOfPath(of_path(parts.uri.path())))
    }
}

/// A member of staff at the desk the path names, with the organisation they work it for.
pub struct AtDesk {
    pub staff: Staff,
    pub desk: Desk,
    pub office: Organisation,
}

impl AtDesk {
    /// The desk's path for `rest` (`"/intake/deposit"` → `/front/intake/deposit`).
    pub fn path(&self, rest: &str) -> String {
        format!("{}{rest}", prefix(self.desk))
    }

    /// The regulation's channel this desk takes applications by.
    pub fn channel(&self) -> &'static str {
        self.desk.channel()
    }
}

impl FromRequestParts<AppState> for AtDesk {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let staff = Staff::from_request_parts(parts, state).await?;
        let desk = of_path(parts.uri.path());
        let office = office(state, &staff, desk).await?;
        Ok(AtDesk {
            staff,
            desk,
            office,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_names_the_desk() {
        assert_eq!(of_path("/front"), Desk::Provider);
        assert_eq!(of_path("/front/intake/deposit"), Desk::Provider);
        assert_eq!(of_path("/frontier"), Desk::Psc);
        assert_eq!(of_path("/psc/intake/deposit"), Desk::Psc);
        for desk in [Desk::Psc, Desk::Provider] {
            assert_eq!(of_path(&format!("{}/journal", prefix(desk))), desk);
        }
    }
}
