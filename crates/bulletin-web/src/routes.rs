//! Routes are added through a [`RouteBook`], which puts each one in the axum
//! router and writes down its method and path, so tests can go through
//! every route the site answers (every POST refuses a forged form; every
//! API route is in the OpenAPI description) from the router itself rather
//! than from a list someone must remember to update.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{delete, get, post, put};

use crate::AppState;

/// A router and the list of what it routes.
#[derive(Default)]
pub struct RouteBook {
    router: Router<AppState>,
    table: Vec<(Method, &'static str)>,
}

impl RouteBook {
    pub fn new() -> RouteBook {
        RouteBook::default()
    }

    pub fn get<H, T>(mut self, path: &'static str, handler: H) -> RouteBook
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, get(handler));
        self.table.push((Method::GET, path));
        self
    }

    pub fn post<H, T>(mut self, path: &'static str, handler: H) -> RouteBook
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, post(handler));
        self.table.push((Method::POST, path));
        self
    }

    pub fn put<H, T>(mut self, path: &'static str, handler: H) -> RouteBook
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, put(handler));
        self.table.push((Method::PUT, path));
        self
    }

    pub fn delete<H, T>(mut self, path: &'static str, handler: H) -> RouteBook
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, delete(handler));
        self.table.push((Method::DELETE, path));
        self
    }

    /// Both books' routes.
    pub fn merge(mut self, other: RouteBook) -> RouteBook {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// Changes the router (a fallback, a layer) without adding routes.
    pub fn map(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> RouteBook {
        self.router = f(self.router);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<(Method, &'static str)>) {
        (self.router, self.table)
    }
}
