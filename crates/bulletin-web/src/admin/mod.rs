//! The newsroom at `/admin/`: server-rendered pages that work without JavaScript.
//!
//! Every handler takes its caller from an extractor of [`extract`]: [`Staff`]
//! (a signed-in, unexpired session, or a redirect to the sign-in page),
//! [`StaffPage`] (and a role) or [`StaffForm`] (session → CSRF token and
//! same-site origin → role, for every POST), so the checks run, in that order,
//! before the handler's body does. Pages are never cached
//! (`Cache-Control: no-store`), and the HTTP layer keeps them out of the page
//! cache. This module keeps the routes; each feature has its own file.

mod accounts;
pub mod api;
mod audit;
pub mod auth;
mod diff;
pub mod extract;
pub(crate) mod forms;
mod issues;
mod newsletter;
mod render;
mod sign_in;
mod stories;
mod subscribers;
mod tokens;

use crate::routes::RouteBook;

pub use extract::{Staff, StaffForm, StaffPage};
pub use render::redirect;

pub fn routes() -> RouteBook {
    RouteBook::new()
        .get("/admin", || async { redirect("/admin/") })
        .get("/admin/login", sign_in::login_page)
        .post("/admin/login", sign_in::login)
        .post("/admin/logout", sign_in::logout)
        .post("/admin/logout-everywhere", sign_in::logout_everywhere)
        .get("/admin/setup", sign_in::setup_page)
        .post("/admin/setup", sign_in::setup)
        .get("/admin/", stories::story_list)
        .get("/admin/stories/new", stories::new_story)
        .post("/admin/stories/new", stories::create_story)
        .get("/admin/stories/{slug}", stories::edit_story)
        .post("/admin/stories/{slug}", stories::save_story)
        .post("/admin/stories/{slug}/publish", stories::publish_story)
        .post("/admin/stories/{slug}/unpublish", stories::unpublish_story)
        .post("/admin/stories/{slug}/delete", stories::delete_story)
        .get("/admin/stories/{slug}/history", stories::history)
        .post("/admin/stories/{slug}/restore", stories::restore)
        .get("/admin/issues", issues::issue_list)
        .post("/admin/issues", issues::create_issue)
        .get("/admin/issues/{number}", issues::issue_builder)
        .post("/admin/issues/{number}", issues::arrange_issue)
        .post("/admin/issues/{number}/date", issues::date_issue)
        .post("/admin/issues/{number}/publish", issues::publish_issue)
        .post("/admin/issues/{number}/schedule", issues::schedule_issue)
        .post("/admin/issues/{number}/unpublish", issues::unpublish_issue)
        .get("/admin/audit", audit::audit_log)
        .get("/admin/users", accounts::users)
        .post("/admin/users", accounts::user_action)
        .get("/admin/tokens", tokens::tokens)
        .post("/admin/tokens", tokens::token_action)
        .merge(api::routes())
        .merge(subscribers::routes())
        .merge(newsletter::routes())
}
