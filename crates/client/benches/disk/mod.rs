//! A probe of the disk's flush latency, run beside the delivery benchmark.
//!
//! Every commit on the delivery path (the gateway's, then the client's)
//! waits for a flush of this disk (`synchronous=FULL`). On a virtual disk
//! with a write-back cache, a flush can stall for tens of milliseconds for
//! every file at once: the stall is the host's, and no process on the
//! machine gets past it. So that a slow run can be told apart from a slow
//! program, this probe writes 4 KiB into its own file on the same disk and
//! flushes it (`fdatasync`) every [`EVERY`], and keeps when each flush
//! began and ended, so that a run can ask which flushes overlapped it.
//! Its load is small beside the benchmark's own (50 flushes a second
//! against hundreds).

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the probe flushes: often enough that a stall of 50 ms or
/// more is always caught while it lasts.
const EVERY: Duration = Duration::from_millis(20);

/// A flush this slow counts as a stall.
const STALL: Duration = Duration::from_millis(20);

/// What the probe saw while some alerts were in flight.
#[derive(Debug, Clone, Default)]
pub struct FlushWindow {
    /// Flushes that overlapped the window.
    pub flushes: u64,
    /// The slowest of them, in milliseconds. A lower bound of the disk's
    /// longest stall: the probe may begin its flush up to [`EVERY`] after
    /// a stall began.
    pub worst_ms: f64,
    /// When each of them that took [`STALL`] or more began and ended.
    pub stalls: Vec<(Instant, Instant)>,
}

impl FlushWindow {
    /// Whether a stall overlapped the time from `from` to `to`: the
    /// probe's flush waited at least [`STALL`] then, and so would any
    /// commit made in it.
    pub fn stalled_during(&self, from: Instant, to: Instant) -> bool {
        self.stalls.iter().any(|&(s, e)| s <= to && e >= from)
    }
}

/// Flushes kept for [`DiskFlushProbe::window`]: a minute's.
const KEPT: Duration = Duration::from_secs(60);

/// The probe's thread; stopped when dropped.
pub struct DiskFlushProbe {
    stop: Arc<AtomicBool>,
    /// Each flush's start and end, the last minute's.
    flushes: Arc<Mutex<Vec<(Instant, Instant)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DiskFlushProbe {
    /// Starts flushing a file of its own in `dir`.
    pub fn start(dir: &Path) -> std::io::Result<Self> {
        let mut file = File::create(dir.join("disk-flush-probe"))?;
        // The blocks are written once before timing, so a timed flush
        // writes data only, never a new block's metadata.
        let block = [0x5a_u8; 4096];
        for _ in 0..64 {
            file.write_all(&block)?;
        }
        file.sync_all()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flushes = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, flushes) = (stop.clone(), flushes.clone());
            std::thread::spawn(move || {
                let mut slot = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let flushed = file
                        .seek(SeekFrom::Start((slot % 64) * 4096))
                        .and_then(|_| file.write_all(&block))
                        .and_then(|()| file.sync_data());
                    let ended = Instant::now();
                    if let Err(e) = flushed {
                        eprintln!("bench: the disk flush probe stopped: {e}");
                        return;
                    }
                    slot += 1;
                    {
                        let mut all = flushes.lock().unwrap_or_else(|p| p.into_inner());
                        all.retain(|&(_, e): &(Instant, Instant)| ended.duration_since(e) < KEPT);
                        all.push((started, ended));
                    }
                    std::thread::sleep(EVERY.saturating_sub(ended - started));
                }
            })
        };
        Ok(Self {
            stop,
            flushes,
            thread: Some(thread),
        })
    }

    /// The flushes that overlapped the time from `from` to `to`. It first
    /// waits (up to 5 s) for a flush begun after `to` to end, so that one
    /// still running at `to` (a stall not over yet) is counted whole.
    pub async fn window(&self, from: Instant, to: Instant) -> FlushWindow {
        let give_up = Instant::now() + Duration::from_secs(5);
        loop {
            let past = self
                .flushes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .last()
                .is_some_and(|&(s, _)| s > to);
            if past
                || Instant::now() > give_up
                || self.thread.as_ref().is_none_or(|t| t.is_finished())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let all = self.flushes.lock().unwrap_or_else(|p| p.into_inner());
        let mut window = FlushWindow::default();
        for &(s, e) in all.iter().filter(|&&(s, e)| s <= to && e >= from) {
            window.flushes += 1;
            window.worst_ms = window.worst_ms.max((e - s).as_secs_f64() * 1e3);
            if e - s >= STALL {
                window.stalls.push((s, e));
            }
        }
        window
    }
}

impl Drop for DiskFlushProbe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
