//! bulletin's web site: an axum app over the [`Store`], rendering minijinja
//! templates. The default theme is compiled in; a theme folder overrides any
//! template by name, so a publisher restyles without recompiling.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn bulletin_store::Store>) -> Result<(), bulletin_web::WebError> {
//! let theme = bulletin_web::Theme::load(None)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! bulletin_web::serve(listener, store, theme).await?;
//! # Ok(()) }
//! ```

mod pages;
mod theme;

use std::sync::Arc;

use axum::Router;
use bulletin_store::Store;

pub use theme::Theme;

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
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub theme: Arc<Theme>,
}

/// The site's routes (WordPress-compatible URLs, DESIGN.md).
pub fn app(store: Arc<dyn Store>, theme: Theme) -> Router {
    pages::routes().with_state(AppState {
        store,
        theme: Arc::new(theme),
    })
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<dyn Store>,
    theme: Theme,
) -> Result<(), WebError> {
    axum::serve(listener, app(store, theme))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
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
