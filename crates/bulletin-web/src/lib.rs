//! bulletin's web site: an axum app over the [`Store`], rendering minijinja
//! templates. The default theme is compiled in; a theme folder overrides any
//! template by name, so a publisher restyles without recompiling.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn bulletin_store::Store>) -> Result<(), bulletin_web::WebError> {
//! let theme = bulletin_web::Theme::load(None)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! bulletin_web::serve(listener, store, theme, bulletin_web::Options::default()).await?;
//! # Ok(()) }
//! ```

pub mod access;
pub mod admin;
pub mod clock;
mod error;
mod feeds;
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod observe;
mod pages;
mod readers;
mod redirects;
mod routes;
mod search;
mod server;
mod theme;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use bulletin_store::Store;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use http::{CONTENT_SECURITY_POLICY, MAX_CACHED_PAGE};
pub use server::{ClientAddr, ServeLimits, client_addr, serve_app};
pub use theme::Theme;

/// A request that takes longer is answered 408 and its work dropped.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The public site takes no uploads; forms post short fields.
const BODY_LIMIT: usize = 64 * 1024;
/// The admin area posts whole stories (a paragraph may have 100,000 characters).
const ADMIN_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// What can stop the site from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("theme template {name}: {source}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("cannot read the theme folder {path}: {source}")]
    ThemeFolder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(bulletin_store::StoreError),
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub theme: Arc<Theme>,
    cache: Arc<http::PageCache>,
    seq: Arc<http::SeqGate>,
    facts: Arc<std::sync::Mutex<Option<Arc<pages::SiteFacts>>>>,
    options: Options,
    /// The first-run setup token, until it is used.
    setup_token: Arc<std::sync::Mutex<Option<String>>>,
    /// The key that signs reader links, read from the store once: it never
    /// changes after the first instance stores it.
    token_secret: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl AppState {
    /// The time in Unix seconds, from [`Options::clock`].
    fn now(&self) -> i64 {
        self.options.clock.now().as_second()
    }

    /// The time, from [`Options::clock`].
    fn clock_now(&self) -> jiff::Timestamp {
        self.options.clock.now()
    }

    fn setup_token_ok(&self, token: &str) -> bool {
        let held = self.setup_token.lock().unwrap_or_else(|e| e.into_inner());
        held.as_deref()
            .is_some_and(|t| !token.is_empty() && admin::auth::same_secret(t, token))
    }

    fn consume_setup_token(&self) {
        *self.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The site secret named [`bulletin_mail::links::TOKEN_SECRET`], stored
    /// by whichever instance asks first (`Store::site_secret`).
    async fn token_secret(&self) -> Result<&[u8], error::Failure> {
        self.token_secret
            .get_or_try_init(|| async {
                let candidate = bulletin_mail::links::secret_candidate()?;
                let secret = self
                    .store
                    .site_secret(bulletin_mail::links::TOKEN_SECRET, &candidate, self.now())
                    .await?;
                Ok::<_, error::Failure>(secret.into_bytes())
            })
            .await
            .map(Vec::as_slice)
    }
}

/// Settings of the site that are not in the theme.
#[derive(Debug, Clone)]
pub struct Options {
    /// Addresses in one sitemap file; past it `/sitemap.xml` becomes an index.
    /// The sitemaps.org limit, 50,000, unless a test wants a small one.
    pub sitemap_urls: u64,
    /// The search index behind `/search`, `/api/v1/search` and related stories;
    /// without one they answer 503 and story pages list no related stories.
    pub search: Option<bulletin_search::SearchIndex>,
    /// Staff session lifetimes and cookie security.
    pub sessions: admin::auth::SessionPolicy,
    /// Sign-in throttling.
    pub login_limits: admin::auth::LoginLimits,
    /// A one-time token for `/admin/setup?token=...`, which creates the first
    /// admin account while there is none (see [`first_run_token`]).
    pub setup_token: Option<String>,
    /// Mail is configured: sign-up confirmations and sign-in links are queued
    /// for it (and delivered by whoever runs the standing sender with it);
    /// without one the site's subscribe and sign-in forms say they are closed.
    pub mailer: Option<bulletin_mail::Mailer>,
    /// Where the web layer reads the time (the system clock by default).
    pub clock: Arc<dyn clock::Clock>,
    /// Notified after the site queues reader mail (`Outbox::queue_notice`), so
    /// that the process delivering it (the standing sender,
    /// `bulletin_mail::sender::keep_delivering_notices`) starts at once.
    pub mail_queued: Arc<tokio::sync::Notify>,
    /// Largest page (in bytes) the page cache keeps; larger ones are streamed.
    /// [`MAX_CACHED_PAGE`] unless a test wants a small one.
    pub max_cached_page: usize,
    /// `/readyz` answers 503 while the search index is more than this many
    /// changes behind the store.
    pub ready_max_lag: u64,
    /// Write `/healthz` and `/readyz` requests to the access log too.
    pub log_probes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sitemap_urls: feeds::SITEMAP_URLS,
            search: None,
            sessions: admin::auth::SessionPolicy::default(),
            login_limits: admin::auth::LoginLimits::default(),
            setup_token: None,
            mailer: None,
            clock: Arc::new(clock::SystemClock),
            mail_queued: Arc::new(tokio::sync::Notify::new()),
            max_cached_page: MAX_CACHED_PAGE,
            ready_max_lag: 100,
            log_probes: false,
        }
    }
}

/// A setup token when the store has no staff account yet (the first run), to
/// put in [`Options::setup_token`] and print as a link for the operator.
pub async fn first_run_token(store: &dyn Store) -> Result<Option<String>, WebError> {
    if !store.users().await.map_err(WebError::Store)?.is_empty() {
        return Ok(None);
    }
    admin::auth::random_token()
        .map(Some)
        .map_err(|e| WebError::Io(std::io::Error::other(e.to_string())))
}

/// Publishes scheduled issues and stories when their time comes: checks every
/// `every`.
/// Several instances may run this against one database; each issue is
/// published exactly once (the store claims it inside the publishing
/// transaction), and so is each story.
pub fn spawn_scheduler(store: Arc<dyn Store>, every: Duration) -> tokio::task::JoinHandle<()> {
    spawn_scheduler_with(store, every, Arc::new(clock::SystemClock))
}

/// [`spawn_scheduler`] reading the time from `clock`.
pub fn spawn_scheduler_with(
    store: Arc<dyn Store>,
    every: Duration,
    clock: Arc<dyn clock::Clock>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let run = store.publish_due(clock.now().as_second()).await;
            let outcome = if run.is_ok() { "ok" } else { "error" };
            metrics::counter!("bulletin_scheduler_runs_total", "outcome" => outcome).increment(1);
            match run {
                Ok(published) => {
                    metrics::counter!("bulletin_scheduler_published_total", "what" => "issue")
                        .increment(published.len() as u64);
                    for number in published {
                        tracing::info!(target: "bulletin::scheduler", number, "scheduled issue published");
                    }
                }
                Err(e) => {
                    tracing::error!(target: "bulletin::scheduler", error = %e, "cannot publish scheduled issues")
                }
            }
            // Stories imported as scheduled (WordPress "future" posts).
            match store.publish_due_stories(clock.now().as_second()).await {
                Ok(published) => {
                    metrics::counter!("bulletin_scheduler_published_total", "what" => "story")
                        .increment(published.len() as u64);
                    for slug in published {
                        tracing::info!(target: "bulletin::scheduler", slug, "scheduled story published");
                    }
                }
                Err(e) => {
                    tracing::error!(target: "bulletin::scheduler", error = %e, "cannot publish scheduled stories")
                }
            }
        }
    })
}

/// The site's routes (WordPress-compatible URLs, DESIGN.md) with the HTTP layer
/// every response passes through.
pub fn app(store: Arc<dyn Store>, theme: Theme) -> Router {
    app_with(store, theme, Options::default())
}

/// [`app`] with explicit [`Options`].
pub fn app_with(store: Arc<dyn Store>, theme: Theme, options: Options) -> Router {
    let setup_token = Arc::new(std::sync::Mutex::new(options.setup_token.clone()));
    let state = AppState {
        store,
        theme: Arc::new(theme),
        cache: Arc::default(),
        seq: Arc::default(),
        facts: Arc::default(),
        options,
        setup_token,
        token_secret: Arc::default(),
    };
    let (public, admin) = route_books();
    let (public, _) = public.into_parts();
    let (admin, _) = admin.into_parts();
    public
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .merge(admin.layer(RequestBodyLimitLayer::new(ADMIN_BODY_LIMIT)))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::site_layer,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// The public site's routes and the newsroom's (admin pages and the staff
/// API), which take larger bodies.
fn route_books() -> (routes::RouteBook, routes::RouteBook) {
    let public = pages::routes()
        .merge(observe::routes())
        .merge(feeds::routes())
        .merge(search::routes())
        .merge(readers::routes());
    (public, admin::routes())
}

/// Every route the site answers, as method and path pattern (`{name}` for a
/// path parameter), in the order they are added; for tests that must cover
/// every route.
pub fn route_table() -> Vec<(axum::http::Method, &'static str)> {
    let (public, admin) = route_books();
    let mut table = public.into_parts().1;
    table.extend(admin.into_parts().1);
    table
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<dyn Store>,
    theme: Theme,
    options: Options,
) -> Result<(), WebError> {
    serve_with(listener, store, theme, options, ServeLimits::default()).await
}

/// [`serve`] under explicit connection limits.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    store: Arc<dyn Store>,
    theme: Theme,
    options: Options,
    limits: ServeLimits,
) -> Result<(), WebError> {
    // The peer address is the sign-in throttle's per-address key; the server
    // hands it to handlers as `ConnectInfo`.
    let app = app_with(store, theme, options);
    serve_app(listener, app, limits, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
