//! Who is asking, checked before a handler runs.
//!
//! An admin handler names what it needs in its arguments, and axum runs the
//! checks in one order before the handler's body exists:
//!
//! - [`Staff`]: a signed-in, unexpired session (else a redirect to the sign-in
//!   page). On a method other than GET or HEAD it also needs the session's CSRF
//!   token in the `X-CSRF-Token` header and a same-site request, so taking a
//!   bare `Staff` on a POST fails closed.
//! - [`StaffPage<R>`]: a session whose role is at least `R` (for GET pages).
//! - [`StaffForm<R>`]: for a POST: session → CSRF token (form field `csrf`, or
//!   the header) and same-site origin → role `R`; it carries the parsed form.
//!
//! The roles are the marker types of [`role`].

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use bulletin_core::staff::Role;
use bulletin_store::{Actor, Session};

use super::auth::{self, NoSession};
use super::forms::Form;
use super::render::{message, redirect};
use crate::AppState;
use crate::error::{AdminPage, HttpError};

/// The least role an action needs, as a type.
pub trait NeedsRole: Send + Sync + 'static {
    const ROLE: Role;
}

/// Role markers for [`StaffPage`] and [`StaffForm`].
pub mod role {
    use super::{NeedsRole, Role};

    /// Any signed-in staff member.
    pub struct Contributor;
    /// Editors and admins.
    pub struct Editor;
    /// Admins only.
    pub struct Admin;

    impl NeedsRole for Contributor {
        const ROLE: Role = Role::Contributor;
    }
    impl NeedsRole for Editor {
        const ROLE: Role = Role::Editor;
    }
    impl NeedsRole for Admin {
        const ROLE: Role = Role::Admin;
    }
}

/// A signed-in staff member, as handlers see them.
pub struct Staff {
    pub session: Session,
    /// The session id's hash, to end this session.
    pub hash: String,
}

type Refusal = HttpError<AdminPage>;

impl Staff {
    /// The request's session, or the response to give instead: a redirect to
    /// the sign-in page (saying so when the session expired).
    async fn of(state: &AppState, parts: &Parts) -> Result<Staff, Refusal> {
        match auth::session(
            &*state.store,
            &parts.headers,
            &state.options.sessions,
            state.now(),
        )
        .await
        {
            Ok((session, hash)) => Ok(Staff { session, hash }),
            Err(NoSession::Store(e)) => Err(e.into()),
            Err(why) => {
                let next = form_urlencoded::byte_serialize(parts.uri.path().as_bytes())
                    .collect::<String>();
                let expired = if matches!(why, NoSession::Expired) {
                    "&expired=1"
                } else {
                    ""
                };
                Err(HttpError::answer(redirect(&format!(
                    "/admin/login?next={next}{expired}"
                ))))
            }
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::user(self.session.user_id, &self.session.email)
    }

    pub fn role(&self) -> Role {
        self.session.role
    }

    /// Refuses (403) unless the role is at least `needs`.
    fn require(&self, state: &AppState, needs: Role) -> Result<(), Refusal> {
        if auth::allowed(self.role(), needs) {
            return Ok(());
        }
        Err(HttpError::answer(message(
            state,
            Some(self),
            StatusCode::FORBIDDEN,
            "Not allowed",
            &format!(
                "Your role ({}) cannot do this; it needs an {} account.",
                self.role().as_str(),
                needs.as_str()
            ),
        )))
    }

    /// Refuses (403) a request without this session's CSRF token, or from
    /// another site.
    fn check_csrf(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        form: Option<&Form>,
    ) -> Result<(), Refusal> {
        let token = form
            .and_then(|f| f.get("csrf"))
            .or_else(|| headers.get("x-csrf-token").and_then(|v| v.to_str().ok()))
            .unwrap_or("");
        if auth::is_cross_site(headers) || !auth::same_secret(token, &self.session.csrf_token) {
            return Err(HttpError::answer(csrf_refused(state, Some(self))));
        }
        Ok(())
    }
}

/// The page a forged, missing or cross-site form gets.
pub fn csrf_refused(state: &AppState, staff: Option<&Staff>) -> axum::response::Response {
    message(
        state,
        staff,
        StatusCode::FORBIDDEN,
        "Form expired",
        "This form is out of date or came from another site, so nothing was changed. \
         Go back, reload the page and try again.",
    )
}

fn is_safe(method: &Method) -> bool {
    *method == Method::GET || *method == Method::HEAD
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let staff = Staff::of(state, parts).await?;
        if !is_safe(&parts.method) {
            staff.check_csrf(state, &parts.headers, None)?;
        }
        Ok(staff)
    }
}

/// A signed-in staff member whose role is at least `R`.
pub struct StaffPage<R: NeedsRole> {
    pub staff: Staff,
    role: PhantomData<R>,
}

impl<R: NeedsRole> FromRequestParts<AppState> for StaffPage<R> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let staff = Staff::from_request_parts(parts, state).await?;
        staff.require(state, R::ROLE)?;
        Ok(StaffPage {
            staff,
            role: PhantomData,
        })
    }
}

/// A form posted by a signed-in staff member: session, CSRF token and
/// same-site origin, then role `R`, checked in that order.
pub struct StaffForm<R: NeedsRole> {
    pub staff: Staff,
    pub form: Form,
    role: PhantomData<R>,
}

impl<R: NeedsRole> FromRequest<AppState> for StaffForm<R> {
    type Rejection = Refusal;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Refusal> {
        let (parts, body) = request.into_parts();
        let staff = Staff::of(state, &parts).await?;
        let body = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| {
                HttpError::answer(axum::response::IntoResponse::into_response(rejection))
            })?;
        let form = Form::parse(&body);
        staff.check_csrf(state, &parts.headers, Some(&form))?;
        staff.require(state, R::ROLE)?;
        Ok(StaffForm {
            staff,
            form,
            role: PhantomData,
        })
    }
}
