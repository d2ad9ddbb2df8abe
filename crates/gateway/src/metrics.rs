//! The gateway's Prometheus metrics, served on the admin listener
//! (`--admin-listen`, `GET /metrics`) in the OpenMetrics text format,
//! beside its health checks (`/healthz`, `/readyz`).
//!
//! The metrics are the process's (one gateway per process in production).
//! Their labels are codes and reasons only: never a customer, a device, an
//! address or any other value a request carries, so that a scrape reveals
//! nothing about customers and the number of series stays fixed.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A label set: one name, one value, both fixed strings.
type Label = [(&'static str, &'static str); 1];

/// Every metric the gateway keeps.
pub struct Metrics {
    registry: Registry,
    /// Devices with a stream open now (set when scraped).
    pub streams_open: Gauge,
    /// Client connections open now, and the most allowed (set when
    /// scraped).
    pub connections_open: Gauge,
    /// The connection cap (`--max-connections`).
    pub connections_max: Gauge,
    /// Alerts the bank posted (bank API, rules and the demo), as signed.
    pub alerts_posted: Counter,
    /// Alert frames written to devices' streams.
    pub alerts_delivered: Counter,
    /// Events devices acknowledged as durably stored.
    pub events_acknowledged: Counter,
    /// Acknowledgement frames that moved a device's position: fewer than
    /// the events they cover when devices store bursts together.
    pub acknowledgements: Counter,
    /// Answers customers gave to fraud checks and security alerts.
    pub alerts_answered: Counter,
    /// Security Event Tokens the bank's receivers accepted (push, 202).
    pub events_pushed: Counter,
    /// From an alert frame written to a stream to the device's
    /// acknowledgement that it is stored.
    pub delivery_seconds: Histogram,
    /// How long each database write batch took, from BEGIN to COMMIT.
    pub batch_seconds: Histogram,
    /// Batches run together that a failing write sent round again, each
    /// write in a savepoint of its own (see `db::batch::run_batch`).
    pub batches_run_again: Counter,
    /// Committed batches whose announcement to the other gateways could
    /// not be sent (their streams hear of it at the next `*`).
    pub announcements_unsent: Counter,
    /// Announcements heard that no gateway of this database made (their
    /// MAC did not verify), dropped.
    pub announcements_refused: Counter,
    refusals: Family<Label, Counter>,
    errors: Family<Label, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("strongroom_gateway");
        let m = Metrics {
            streams_open: Gauge::default(),
            connections_open: Gauge::default(),
            connections_max: Gauge::default(),
            alerts_posted: Counter::default(),
            alerts_delivered: Counter::default(),
            events_acknowledged: Counter::default(),
            acknowledgements: Counter::default(),
            alerts_answered: Counter::default(),
            events_pushed: Counter::default(),
            // 1 ms to about 16 s.
            delivery_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            // 0.25 ms to about 4 s.
            batch_seconds: Histogram::new(exponential_buckets(0.00025, 2.0, 15)),
            batches_run_again: Counter::default(),
            announcements_unsent: Counter::default(),
            announcements_refused: Counter::default(),
            refusals: Family::default(),
            errors: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "streams_open",
            "Devices with a stream open now",
            m.streams_open.clone(),
        );
        registry.register(
            "connections_open",
            "Client connections open now",
            m.connections_open.clone(),
        );
        registry.register(
            "connections_max",
            "The most client connections held at once (--max-connections)",
            m.connections_max.clone(),
        );
        registry.register(
            "alerts_posted",
            "Alerts signed for customers (bank API, rules, demo)",
            m.alerts_posted.clone(),
        );
        registry.register(
            "alerts_delivered",
            "Alert frames written to devices' streams",
            m.alerts_delivered.clone(),
        );
        registry.register(
            "events_acknowledged",
            "Events devices acknowledged as stored",
            m.events_acknowledged.clone(),
        );
        registry.register(
            "acknowledgements",
            "Acknowledgement frames that moved a device's stream position",
            m.acknowledgements.clone(),
        );
        registry.register(
            "alerts_answered",
            "Customers' answers to fraud checks and security alerts",
            m.alerts_answered.clone(),
        );
        registry.register(
            "events_pushed",
            "Security Event Tokens the bank's Shared Signals receivers accepted",
            m.events_pushed.clone(),
        );
        registry.register(
            "delivery_seconds",
            "From an alert frame written to its stream to the device's acknowledgement",
            m.delivery_seconds.clone(),
        );
        registry.register(
            "db_batch_seconds",
            "Database write batches, BEGIN to COMMIT",
            m.batch_seconds.clone(),
        );
        registry.register(
            "db_batches_run_again",
            "Database write batches run again, a savepoint per write, after a write failed",
            m.batches_run_again.clone(),
        );
        registry.register(
            "announcements_unsent",
            "Committed batches whose announcement to the other gateways failed",
            m.announcements_unsent.clone(),
        );
        registry.register(
            "announcements_refused",
            "Announcements heard whose MAC did not verify, dropped",
            m.announcements_refused.clone(),
        );
        registry.register(
            "refusals",
            "Requests refused, by reason (rate_limit, dpop, auth)",
            m.refusals.clone(),
        );
        registry.register(
            "errors",
            "Error answers, by problem or OAuth error code",
            m.errors.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts an error answer with its stable `code` (`too_many_requests`,
    /// `invalid_dpop_proof`...), and a refusal by its reason when the code
    /// is one.
    pub fn error_answered(&self, code: &'static str) {
        self.errors.get_or_create(&[("code", code)]).inc();
        let reason = match code {
            "too_many_requests" | "slow_down" => "rate_limit",
            "invalid_dpop_proof" | "use_dpop_nonce" => "dpop",
            "invalid_token" | "link_revoked" | "invalid_client" | "unauthorized"
            | "insufficient_scope" => "auth",
            _ => return,
        };
        self.refusals.get_or_create(&[("reason", reason)]).inc();
    }

    /// Counts a connection closed because the connection cap was reached.
    pub fn connection_refused(&self) {
        self.refusals
            .get_or_create(&[("reason", "connection_limit")])
            .inc();
    }

    /// Counts a connection closed because it waited too long for its TLS
    /// handshake (a reconnect storm larger than the gateway can take).
    pub fn handshake_abandoned(&self) {
        self.refusals
            .get_or_create(&[("reason", "handshake_queue")])
            .inc();
    }

    /// Records one alert's delivery time.
    pub fn delivered_in(&self, took: Duration) {
        self.delivery_seconds.observe(took.as_secs_f64());
    }

    /// The metrics in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The media type of [`Metrics::render`]'s text.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_names_every_metric_and_carries_only_codes() {
        let m = metrics();
        m.alerts_posted.inc();
        m.error_answered("too_many_requests");
        m.error_answered("bad_request");
        m.delivered_in(Duration::from_millis(3));
        let text = m.render();
        for name in [
            "strongroom_gateway_streams_open ",
            "strongroom_gateway_connections_open ",
            "strongroom_gateway_connections_max ",
            "strongroom_gateway_alerts_posted_total ",
            "strongroom_gateway_alerts_delivered_total ",
            "strongroom_gateway_events_acknowledged_total ",
            "strongroom_gateway_acknowledgements_total ",
            "strongroom_gateway_alerts_answered_total ",
            "strongroom_gateway_delivery_seconds_bucket{le=\"0.004\"}",
            "strongroom_gateway_db_batch_seconds_count ",
            "strongroom_gateway_db_batches_run_again_total ",
            "strongroom_gateway_announcements_unsent_total ",
            "strongroom_gateway_announcements_refused_total ",
            "strongroom_gateway_refusals_total{reason=\"rate_limit\"}",
            "strongroom_gateway_errors_total{code=\"bad_request\"}",
        ] {
            assert!(text.contains(name), "{name} in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with EOF");
    }
}
