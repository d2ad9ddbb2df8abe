//! A probe of the disk's flush latency, run beside the delivery benchmark.
//!
//! Every commit on the delivery path (the gateway's, then the client's)
//! waits for a flush of this disk (`synchronous=FULL`). On a virtual disk
//! with a write-back cache, a flush can stall for tens of milliseconds for
//! every file at once: the stall is the host's, and no process on the
//! machine gets past it. So that a slow run can be told apart from a slow
//! program, this probe writes 4 KiB into its own file on the same disk and
//! flushes it (`fdatasync`) every [`EVERY`], and keeps the slowest flush
//! since it was last read. Its load is small beside the benchmark's own
//! (50 flushes a second against hundreds).

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

/// What the probe saw since it was last read.
#[derive(Debug, Clone, Default)]
pub struct FlushWindow {
    /// Flushes made.
    pub flushes: u64,
    /// The slowest flush, in milliseconds.
    pub worst_ms: f64,
    /// When each flush that took [`STALL`] or more began and ended.
    pub stalls: Vec<(Instant, Instant)>,
}

impl FlushWindow {
    /// Whether a stall overlapped the time from `from` to `to`: some
    /// commit made in it waited for the disk at least that long.
    pub fn stalled_during(&self, from: Instant, to: Instant) -> bool {
        self.stalls.iter().any(|&(s, e)| s <= to && e >= from)
    }
}

/// The probe's thread; stopped when dropped.
pub struct DiskFlushProbe {
    stop: Arc<AtomicBool>,
    window: Arc<Mutex<FlushWindow>>,
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
        let window = Arc::new(Mutex::new(FlushWindow::default()));
        let thread = {
            let (stop, window) = (stop.clone(), window.clone());
            std::thread::spawn(move || {
                let mut slot = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let flushed = file
                        .seek(SeekFrom::Start((slot % 64) * 4096))
                        .and_then(|_| file.write_all(&block))
                        .and_then(|()| file.sync_data());
                    let took = started.elapsed();
                    if let Err(e) = flushed {
                        eprintln!("bench: the disk flush probe stopped: {e}");
                        return;
                    }
                    slot += 1;
                    {
                        let mut w = window.lock().unwrap_or_else(|p| p.into_inner());
                        w.flushes += 1;
                        w.worst_ms = w.worst_ms.max(took.as_secs_f64() * 1e3);
                        if took >= STALL {
                            w.stalls.push((started, started + took));
                        }
                    }
                    std::thread::sleep(EVERY.saturating_sub(took));
                }
            })
        };
        Ok(Self {
            stop,
            window,
            thread: Some(thread),
        })
    }

    /// What the probe saw since the last call, and a fresh window.
    pub fn take(&self) -> FlushWindow {
        std::mem::take(&mut *self.window.lock().unwrap_or_else(|p| p.into_inner()))
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
