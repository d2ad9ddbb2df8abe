//! `cargo xtask bench store`: Strongroom's store against plain SQLite and
//! SQLCipher, on the same machine, in one run, at 100,000 and at 1,000,000
//! messages (issue 22: ten years of history).
//!
//! At each size, messages of 50 to 500 bytes over 200 conversations are
//! inserted in batches of 1,000 into Strongroom's store and into plain
//! SQLite, batch for batch in turn (which of the two goes first alternates),
//! so that a busy moment of the shared machine costs both alike. Then the
//! store is closed and unlocked again (timed to the first conversation
//! read), 1,000 conversation opens (latest 50) are timed, the first search
//! (which builds the in-memory index) and 1,000 word or prefix searches.
//! A child process opens the same file, unlocks it and opens every
//! conversation, and reports its resident memory (current and peak), then
//! again after its first search.
//!
//! SQLCipher runs the same workload in its own process (it must never be
//! linked with the workspace's SQLite), at 100,000 messages; its FTS5
//! searches at 1,000,000 would take minutes, as would plain SQLite's, so
//! baselines search at 100,000 only. Ratios: throughput for inserts (higher
//! is better for Strongroom), time for latest-50 (lower is better).

#[allow(dead_code)]
mod common {
    pub mod baseline;
    pub mod workload;
}

use common::{baseline, workload};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use strongroom_store::*;
use workload::Figures;

const ACCOUNT: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

/// The memory a freshly opened store holds, from a process of its own.
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    /// Resident after unlock and opening every conversation, KiB.
    rss_kib: u64,
    /// The peak resident size up to then (unlock included), KiB.
    peak_kib: u64,
    /// Resident after the first search (the index built), KiB.
    after_search_kib: u64,
}

/// What one size measured.
#[derive(Debug, Clone, Default)]
struct SizeFigures {
    insert_per_s: f64,
    plain_insert_per_s: f64,
    /// Reopen, unlock, and the first conversation's newest 50 read.
    unlock_ms: f64,
    first_search_ms: f64,
    latest50_p50_ms: f64,
    latest50_from_file_p50_ms: f64,
    search_p50_ms: f64,
    search_p99_ms: f64,
    plain_latest50_p50_ms: f64,
    /// Plain SQLite's FTS5 search p50 and p99 (at 100,000 only).
    plain_search_ms: Option<(f64, f64)>,
    memory: Memory,
}

fn new_messages(
    chunk: &[workload::GenMessage],
    conversations: &[ConversationId],
) -> Vec<NewMessage> {
    chunk
        .iter()
        .map(|m| NewMessage {
            conversation: conversations[m.conversation],
            direction: Direction::Incoming,
            author: "Ana at the bank".into(),
            body: m.body.clone(),
            sent_at: m.sent_at,
            received_at: Some(m.sent_at + 1),
            delivery: Delivery::Delivered,
            client_id: None,
            bank_message_id: Some(m.bank_id.clone()),
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// One field of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// The child: opens the store, unlocks it, opens every conversation, and
/// prints its memory; then searches once and prints it again.
fn memory_child(path: &str) {
    let master = MasterKeys::from_bytes(&unhex(&std::env::var("BENCH_MASTER").unwrap())).unwrap();
    let key: [u8; 32] = unhex(&std::env::var("BENCH_KEY").unwrap())
        .try_into()
        .unwrap();
    let account = AccountId::from_random(ACCOUNT);
    let mut store = Store::open(path, master).unwrap();
    store.unlock_account(account, &Sensitive::new(key)).unwrap();
    for conversation in store.conversations(account).unwrap().items {
        let page = store.latest_messages(conversation.id, 50).unwrap();
        assert!(page.items.len() >= 50);
    }
    let (rss, peak) = (status_kib("VmRSS"), status_kib("VmHWM"));
    assert!(
        !store
            .search(&workload::queries()[0], 50)
            .unwrap()
            .is_empty()
    );
    println!("{rss} {peak} {}", status_kib("VmRSS"));
}

fn measure_memory(path: &Path, master: &MasterKeys, key: &AccountKey) -> Memory {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--memory-child")
        .arg(path)
        .env("BENCH_MASTER", hex(master.to_bytes().expose()))
        .env("BENCH_KEY", hex(key.expose()))
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("the memory child runs");
    assert!(out.status.success(), "the memory child failed");
    let line = String::from_utf8_lossy(&out.stdout);
    let v: Vec<u64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    Memory {
        rss_kib: v[0],
        peak_kib: v[1],
        after_search_kib: v[2],
    }
}

/// Strongroom and plain SQLite with `n` messages: inserts interleaved, then
/// Strongroom's unlock, reads, searches and memory, and plain SQLite's reads.
fn measure(n: usize, dir: &Path, log: &dyn Fn(&str)) -> SizeFigures {
    log(&format!("{n} messages: generating"));
    let messages = workload::messages(n);
    let path = dir.join(format!("strongroom-{n}.sqlite3"));
    let master = MasterKeys::generate().unwrap();
    let key = random_key().unwrap();
    let account = AccountId::from_random(ACCOUNT);
    let mut store = Store::open(&path, master.clone()).unwrap();
    store
        .add_account(account, &key, "https://bank.example", "Everyday", 0)
        .unwrap();
    let conversations: Vec<ConversationId> = (0..workload::CONVERSATIONS)
        .map(|c| {
            store
                .add_conversation(account, &format!("Conversation {c}"), 0)
                .unwrap()
        })
        .collect();
    // The index is built at the first search; build it now so that every
    // insert below keeps it up to date, as FTS5 does for the baselines.
    assert!(store.search("warm", 1).unwrap().is_empty());
    let mut plain_conn =
        rusqlite::Connection::open(dir.join(format!("plain-{n}.sqlite3"))).unwrap();
    let mut plain = baseline::Baseline::create(&mut plain_conn);

    log(&format!(
        "{n} messages: inserting, Strongroom and plain SQLite in turn"
    ));
    let (mut ours_time, mut plain_time) = (Duration::ZERO, Duration::ZERO);
    for (b, chunk) in messages.chunks(workload::BATCH).enumerate() {
        let batch = new_messages(chunk, &conversations);
        let mut ours = || {
            let t = Instant::now();
            store.insert_messages(&batch).unwrap();
            ours_time += t.elapsed();
        };
        let mut theirs = || {
            let t = Instant::now();
            plain.insert(chunk);
            plain_time += t.elapsed();
        };
        if b % 2 == 0 {
            ours();
            theirs();
        } else {
            theirs();
            ours();
        }
    }
    drop(messages);
    let mut figures = SizeFigures {
        insert_per_s: n as f64 / ours_time.as_secs_f64(),
        plain_insert_per_s: n as f64 / plain_time.as_secs_f64(),
        ..SizeFigures::default()
    };

    log(&format!("{n} messages: unlock, reads and searches"));
    drop(store);
    let opens = workload::opens();
    let t = Instant::now();
    let mut store = Store::open(&path, master.clone()).unwrap();
    let report = store.unlock_account(account, &key).unwrap();
    assert!(report.is_clean());
    let first = store.latest_messages(conversations[opens[0]], 50).unwrap();
    assert_eq!(first.items.len(), 50);
    figures.unlock_ms = ms(t.elapsed());

    let mut latest = Vec::new();
    for &c in &opens {
        let t = Instant::now();
        let page = store.latest_messages(conversations[c], 50).unwrap();
        latest.push(ms(t.elapsed()));
        assert!(page.items.len() >= 50 && page.tampered.is_empty());
    }
    figures.latest50_p50_ms = workload::percentile(&mut latest, 50.0);
    let mut from_file = Vec::new();
    for &c in &opens {
        let t = Instant::now();
        let page = store
            .latest_messages_from_file(conversations[c], 50)
            .unwrap();
        from_file.push(ms(t.elapsed()));
        assert!(page.items.len() >= 50 && page.tampered.is_empty());
    }
    figures.latest50_from_file_p50_ms = workload::percentile(&mut from_file, 50.0);
    let queries = workload::queries();
    let t = Instant::now();
    assert!(!store.search(&queries[0], 50).unwrap().is_empty());
    figures.first_search_ms = ms(t.elapsed());
    let mut search = Vec::new();
    for q in &queries {
        let t = Instant::now();
        let hits = store.search(q, 50).unwrap();
        search.push(ms(t.elapsed()));
        assert!(!hits.is_empty(), "every query word occurs: {q}");
    }
    figures.search_p50_ms = workload::percentile(&mut search, 50.0);
    figures.search_p99_ms = workload::percentile(&mut search, 99.0);
    drop(store);

    figures.plain_latest50_p50_ms = plain.latest50_p50_ms();
    if n <= 100_000 {
        figures.plain_search_ms = Some(plain.search_ms());
    }
    drop(plain_conn);
    log(&format!("{n} messages: memory, in a process of its own"));
    figures.memory = measure_memory(&path, &master, &key);
    figures
}

fn sqlcipher(dir: &Path, n: usize) -> Figures {
    let exe = std::env::var("STRONGROOM_SQLCIPHER_BASELINE").expect(
        "STRONGROOM_SQLCIPHER_BASELINE names the SQLCipher baseline binary; run `cargo xtask bench store`",
    );
    let out = std::process::Command::new(exe)
        .arg(dir)
        .arg(n.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("the SQLCipher baseline runs");
    assert!(out.status.success(), "the SQLCipher baseline failed");
    Figures::from_line(&String::from_utf8_lossy(&out.stdout)).expect("one line of figures")
}

fn round(v: f64, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (v * k).round() / k
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--memory-child") {
        memory_child(&args[i + 1]);
        return;
    }
    let json = args.iter().any(|a| a == "--json");
    let log = |s: &str| {
        if !json {
            eprintln!("{s}")
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let [small, large] = workload::SIZES;
    let a = measure(small, dir.path(), &log);
    log(&format!(
        "{small} messages: SQLCipher (raw key), in its own process"
    ));
    let cipher_dir = dir.path().join("sqlcipher");
    std::fs::create_dir_all(&cipher_dir).unwrap();
    let cipher = sqlcipher(&cipher_dir, small);
    let _ = std::fs::remove_dir_all(&cipher_dir);
    let b = measure(large, dir.path(), &log);

    let mib = |kib: u64| round(kib as f64 / 1024.0, 1);
    let insert_vs_plain = a.insert_per_s / a.plain_insert_per_s;
    let insert_vs_sqlcipher = a.insert_per_s / cipher.insert_per_s;
    let insert_vs_plain_1m = b.insert_per_s / b.plain_insert_per_s;
    let rss_1m_vs_100k = b.memory.rss_kib as f64 / a.memory.rss_kib as f64;
    let (plain_search_p50, plain_search_p99) = a.plain_search_ms.unwrap_or_default();
    let out = json!({
        "insert_vs_plain": round(insert_vs_plain, 3),
        "insert_vs_sqlcipher": round(insert_vs_sqlcipher, 3),
        "insert_vs_plain_1m": round(insert_vs_plain_1m, 3),
        "search_p99_ms_1m": round(b.search_p99_ms, 3),
        "search_p50_ms_1m": round(b.search_p50_ms, 3),
        "store_rss_mib_1m": mib(b.memory.rss_kib),
        "store_peak_rss_mib_1m": mib(b.memory.peak_kib),
        "store_rss_mib_1m_after_first_search": mib(b.memory.after_search_kib),
        "store_rss_mib_100k": mib(a.memory.rss_kib),
        "store_peak_rss_mib_100k": mib(a.memory.peak_kib),
        "store_rss_mib_100k_after_first_search": mib(a.memory.after_search_kib),
        "store_rss_1m_vs_100k": round(rss_1m_vs_100k, 3),
        "unlock_to_first_conversation_ms_100k": round(a.unlock_ms, 1),
        "unlock_to_first_conversation_ms_1m": round(b.unlock_ms, 1),
        "first_search_ms_100k": round(a.first_search_ms, 0),
        "first_search_ms_1m": round(b.first_search_ms, 0),
        "search_p50_ms": round(a.search_p50_ms, 3),
        "search_p99_ms": round(a.search_p99_ms, 3),
        "latest50_vs_plain": round(a.latest50_p50_ms / a.plain_latest50_p50_ms, 3),
        "latest50_vs_sqlcipher": round(a.latest50_p50_ms / cipher.latest50_p50_ms, 3),
        "latest50_from_file_vs_plain": round(a.latest50_from_file_p50_ms / a.plain_latest50_p50_ms, 3),
        "latest50_from_file_vs_plain_1m": round(b.latest50_from_file_p50_ms / b.plain_latest50_p50_ms, 3),
        "insert_per_s": {
            "strongroom": round(a.insert_per_s, 0), "plain": round(a.plain_insert_per_s, 0),
            "sqlcipher": round(cipher.insert_per_s, 0),
            "strongroom_1m": round(b.insert_per_s, 0), "plain_1m": round(b.plain_insert_per_s, 0),
        },
        "latest50_p50_ms": {
            "strongroom": round(a.latest50_p50_ms, 4), "plain": round(a.plain_latest50_p50_ms, 4),
            "sqlcipher": round(cipher.latest50_p50_ms, 4),
            "strongroom_from_file": round(a.latest50_from_file_p50_ms, 4),
            "strongroom_1m": round(b.latest50_p50_ms, 4), "plain_1m": round(b.plain_latest50_p50_ms, 4),
            "strongroom_from_file_1m": round(b.latest50_from_file_p50_ms, 4),
        },
        "fts5_search_ms": {
            "plain_p50": round(plain_search_p50, 3), "plain_p99": round(plain_search_p99, 3),
            "sqlcipher_p50": round(cipher.search_p50_ms, 3), "sqlcipher_p99": round(cipher.search_p99_ms, 3),
        },
        "messages": [small, large],
    });
    if json {
        println!("{out}");
        return;
    }
    println!("\n{}", serde_json::to_string_pretty(&out).unwrap());
    println!("\ntarget                                  value   target");
    let row = |name: &str, v: f64, target: &str, ok: bool| {
        println!(
            "{name:<36} {v:>9.3}   {target:<8} {}",
            if ok { "met" } else { "MISSED" }
        )
    };
    row(
        "insert_vs_plain (100k)",
        insert_vs_plain,
        ">= 0.9",
        insert_vs_plain >= 0.9,
    );
    row(
        "insert_vs_sqlcipher (100k)",
        insert_vs_sqlcipher,
        "> 1",
        insert_vs_sqlcipher > 1.0,
    );
    row(
        "search_p99_ms_1m",
        b.search_p99_ms,
        "<= 20",
        b.search_p99_ms <= 20.0,
    );
    row(
        "store_rss_1m_vs_100k",
        rss_1m_vs_100k,
        "<= 1.25",
        rss_1m_vs_100k <= 1.25,
    );
}
