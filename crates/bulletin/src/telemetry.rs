//! `serve --metrics-addr ADDR`: Prometheus metrics at `http://ADDR/metrics`,
//! on a listener of their own (keep it off the public network). The crates
//! record through the `metrics` facade (see `bulletin-web/src/observe.rs` for
//! the names); this module installs the recorder, and at each scrape reads
//! what is cheaper to ask than to track: the store's pool, the send and
//! reader-mail queues, and the search index's lag.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use bulletin_store::Store;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets (seconds) of the `*_duration_seconds` histograms.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
];

/// Installs the recorder and serves `/metrics` on `addr`; the address it
/// listens on (port 0 picks one).
pub async fn serve(
    addr: SocketAddr,
    store: Arc<dyn Store>,
    index: Option<bulletin_search::SearchIndex>,
) -> Result<SocketAddr> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), &BUCKETS)
        .context("cannot set the metrics' buckets")?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for metrics"))?;
    let local = listener.local_addr()?;
    let scrape = Scrape {
        handle,
        store,
        index,
    };
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let scrape = scrape.clone();
            async move { scrape.render().await }
        }),
    );
    // Runs for the life of the process.
    drop(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    }));
    Ok(local)
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Arc<dyn Store>,
    index: Option<bulletin_search::SearchIndex>,
}

impl Scrape {
    async fn render(&self) -> axum::response::Response {
        use axum::response::IntoResponse as _;
        let (open, idle) = self.store.pool_connections();
        metrics::gauge!("bulletin_store_connections", "state" => "in_use")
            .set(f64::from(open) - idle as f64);
        metrics::gauge!("bulletin_store_connections", "state" => "idle").set(idle as f64);
        // A store that does not answer leaves these as they were, and says so.
        let up = match (
            self.store.sends_waiting().await,
            self.store.notices_waiting().await,
        ) {
            (Ok(sends), Ok(notices)) => {
                metrics::gauge!("bulletin_mail_queue_depth", "kind" => "newsletter")
                    .set(sends as f64);
                metrics::gauge!("bulletin_mail_queue_depth", "kind" => "reader")
                    .set(notices as f64);
                true
            }
            _ => false,
        };
        let last = self.store.last_change().await;
        if let (Some(index), Ok(last)) = (&self.index, &last) {
            metrics::gauge!("bulletin_index_lag_changes")
                .set((last - index.applied_seq()).max(0) as f64);
        }
        metrics::gauge!("bulletin_store_up").set(if up && last.is_ok() { 1.0 } else { 0.0 });
        (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            self.handle.render(),
        )
            .into_response()
    }
}
