//! The CPU time the processes behind a benchmark phase spent in it (user
//! and system, from `/proc/PID/stat`): the gateways by process id, and
//! every `postgres` and `redis-server` process on the machine (the
//! benchmark's private servers are the only ones where it runs), so that
//! the cost of an alert can be split between gateway, database and broker.

/// Clock ticks per second of `/proc/PID/stat`'s times (`CLK_TCK`, 100 on
/// Linux's every common architecture).
const TICKS_PER_S: f64 = 100.0;

/// CPU time used so far, in ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTicks {
    pub gateways: u64,
    pub postgres: u64,
    pub redis: u64,
}

impl CpuTicks {
    /// The times now of `gateways` and of the database and broker
    /// processes.
    pub fn now(gateways: &[u32]) -> CpuTicks {
        let mut sample = CpuTicks {
            gateways: gateways
                .iter()
                .filter_map(|&pid| ticks(pid).map(|(_, t)| t))
                .sum(),
            ..CpuTicks::default()
        };
        for pid in std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        {
            match ticks(pid) {
                Some((name, t)) if name == "postgres" => sample.postgres += t,
                Some((name, t)) if name == "redis-server" => sample.redis += t,
                _ => {}
            }
        }
        sample
    }

    /// Milliseconds of CPU per `alerts` since `earlier`, as JSON:
    /// `{gateways, postgres, redis}`.
    pub fn ms_per_alert_since(&self, earlier: &CpuTicks, alerts: usize) -> serde_json::Value {
        let per = |now: u64, then: u64| {
            now.saturating_sub(then) as f64 * 1000.0 / TICKS_PER_S / alerts.max(1) as f64
        };
        serde_json::json!({
            "gateways": per(self.gateways, earlier.gateways),
            "postgres": per(self.postgres, earlier.postgres),
            "redis": per(self.redis, earlier.redis),
        })
    }
}

/// Milliseconds of CPU process `pid` has used so far (user and system).
pub fn process_ms(pid: u32) -> f64 {
    ticks(pid).map_or(0.0, |(_, t)| t as f64 * 1000.0 / TICKS_PER_S)
}

/// A process's name and its user plus system time in ticks.
fn ticks(pid: u32) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name is in parentheses and may hold spaces; the fields after it
    // are space-separated, utime and stime the 12th and 13th.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    let mut rest = stat.get(close + 2..)?.split(' ');
    let utime: u64 = rest.nth(11)?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some((name, utime + stime))
}

/// What the server at `database` (a PostgreSQL URL) has written so far:
/// WAL bytes (`pg_stat_wal`, PostgreSQL 14 and later: what its disk and
/// replicas must carry) and the transactions committed in the database,
/// reads included (each autocommit statement is one: the rate limits'
/// upserts, the API key and idempotency look-ups, the streams' reads, and
/// the writers' group commits). PostgreSQL reports both at most once a
/// second per session, so over a 5 s phase they are good to about 20%.
pub fn wal_and_transactions(database: &str) -> Option<(u64, u64)> {
    let out = std::process::Command::new("psql")
        .args([
            database,
            "-Atqc",
            "SELECT pg_stat_clear_snapshot(); SELECT (SELECT wal_bytes FROM pg_stat_wal) || ' ' || \
             (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.lines().last()?.split(' ');
    let wal = parts.next()?.trim().parse::<f64>().ok()?;
    let transactions = parts.next()?.trim().parse().ok()?;
    Some((wal as u64, transactions))
}
