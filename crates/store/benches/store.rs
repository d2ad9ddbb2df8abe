//! `cargo xtask bench store`: Strongroom's store against plain SQLite and
//! SQLCipher, on the same machine, in one run.
//!
//! 100,000 messages of 50 to 500 bytes over 200 conversations are inserted in
//! batches of 1,000; then 1,000 conversation opens (latest 50) and 1,000 word
//! or prefix searches are timed. The plain and SQLCipher baselines use the
//! same schema and queries and search with FTS5; Strongroom searches its
//! in-memory index. Ratios: throughput for inserts (higher is better for
//! Strongroom), time for latest-50 (lower is better).

#[allow(dead_code)]
mod common {
    pub mod baseline;
    pub mod workload;
}

use common::{baseline, workload};
use std::time::Instant;
use strongroom_store::*;
use workload::Figures;

struct StrongroomFigures {
    figures: Figures,
    unlock_ms: f64,
    /// Latest-50 read from the file, every message opened on the spot,
    /// bypassing the in-memory window: the cost of per-field encryption.
    latest50_from_file_p50_ms: f64,
}

fn strongroom(dir: &std::path::Path) -> StrongroomFigures {
    let path = dir.join("strongroom.sqlite3");
    let master = MasterKeys::generate().unwrap();
    let key = random_key().unwrap();
    let account = AccountId::from_random([1, 2, 3, 4, 5, 6, 7, 8]);
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
    let messages: Vec<NewMessage> = workload::messages()
        .into_iter()
        .map(|m| NewMessage {
            conversation: conversations[m.conversation],
            direction: Direction::Incoming,
            author: "Ana at the bank".into(),
            body: m.body,
            sent_at: m.sent_at,
            received_at: Some(m.sent_at + 1),
            delivery: Delivery::Delivered,
            client_id: None,
            bank_message_id: Some(m.bank_id),
        })
        .collect();
    // The index is built at the first search; build it now so that every
    // insert below keeps it up to date, as FTS5 does for the baselines.
    assert!(store.search("warm", 1).unwrap().is_empty());
    let started = Instant::now();
    for chunk in messages.chunks(workload::BATCH) {
        store.insert_messages(chunk).unwrap();
    }
    let insert_per_s = messages.len() as f64 / started.elapsed().as_secs_f64();
    drop(messages);

    // Unlock cost: reopening opens every body to verify it, and the first
    // search opens them again to build the index. Both are timed.
    drop(store);
    let t = Instant::now();
    let mut store = Store::open(&path, master).unwrap();
    let report = store.unlock_account(account, &key).unwrap();
    assert_eq!(report.opened, workload::MESSAGES);
    assert!(!store.search(&workload::queries()[0], 1).unwrap().is_empty());
    let unlock_ms = t.elapsed().as_secs_f64() * 1e3;

    let mut latest = Vec::new();
    for c in workload::opens() {
        let t = Instant::now();
        let page = store.latest_messages(conversations[c], 50).unwrap();
        latest.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(page.items.len() >= 50 && page.tampered.is_empty());
    }
    let mut from_file = Vec::new();
    for c in workload::opens() {
        let t = Instant::now();
        let page = store
            .latest_messages_from_file(conversations[c], 50)
            .unwrap();
        from_file.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(page.items.len() >= 50 && page.tampered.is_empty());
    }
    let mut search = Vec::new();
    for q in workload::queries() {
        let t = Instant::now();
        let hits = store.search(&q, 50).unwrap();
        search.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(!hits.is_empty(), "every query word occurs: {q}");
    }
    StrongroomFigures {
        figures: Figures {
            insert_per_s,
            latest50_p50_ms: workload::percentile(&mut latest, 50.0),
            search_p50_ms: workload::percentile(&mut search, 50.0),
            search_p99_ms: workload::percentile(&mut search, 99.0),
        },
        unlock_ms,
        latest50_from_file_p50_ms: workload::percentile(&mut from_file, 50.0),
    }
}

fn sqlcipher(dir: &std::path::Path) -> Figures {
    let exe = std::env::var("STRONGROOM_SQLCIPHER_BASELINE").expect(
        "STRONGROOM_SQLCIPHER_BASELINE names the SQLCipher baseline binary; run `cargo xtask bench store`",
    );
    let out = std::process::Command::new(exe)
        .arg(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("the SQLCipher baseline runs");
    assert!(out.status.success(), "the SQLCipher baseline failed");
    Figures::from_line(&String::from_utf8_lossy(&out.stdout)).expect("one line of figures")
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let log = |s: &str| {
        if !json {
            eprintln!("{s}")
        }
    };
    let dir = tempfile::tempdir().unwrap();
    log("(a) Strongroom: rusqlite + per-field AES-256-GCM + in-memory index");
    let ours = strongroom(&dir.path().join("a").tap_mkdir());
    log("(b) plain rusqlite, same schema and queries, FTS5 search");
    let plain = {
        let mut conn = rusqlite_plain(&dir.path().join("b").tap_mkdir());
        baseline::run(&mut conn)
    };
    log("(c) SQLCipher (raw key), same schema and queries, FTS5 search");
    let cipher = sqlcipher(&dir.path().join("c").tap_mkdir());

    let a = ours.figures;
    let insert_vs_plain = a.insert_per_s / plain.insert_per_s;
    let insert_vs_sqlcipher = a.insert_per_s / cipher.insert_per_s;
    let latest50_vs_plain = a.latest50_p50_ms / plain.latest50_p50_ms;
    let latest50_vs_sqlcipher = a.latest50_p50_ms / cipher.latest50_p50_ms;
    let from_file_vs_plain = ours.latest50_from_file_p50_ms / plain.latest50_p50_ms;
    let from_file_vs_sqlcipher = ours.latest50_from_file_p50_ms / cipher.latest50_p50_ms;
    if json {
        println!(
            "{{\"insert_vs_plain\": {insert_vs_plain:.3}, \"insert_vs_sqlcipher\": {insert_vs_sqlcipher:.3}, \
             \"latest50_vs_plain\": {latest50_vs_plain:.3}, \"latest50_vs_sqlcipher\": {latest50_vs_sqlcipher:.3}, \
             \"search_p50_ms\": {:.3}, \"search_p99_ms\": {:.3}, \
             \"insert_per_s\": {{\"strongroom\": {:.0}, \"plain\": {:.0}, \"sqlcipher\": {:.0}}}, \
             \"latest50_p50_ms\": {{\"strongroom\": {:.4}, \"plain\": {:.4}, \"sqlcipher\": {:.4}}}, \
             \"fts5_search_p50_ms\": {{\"plain\": {:.3}, \"sqlcipher\": {:.3}}}, \
             \"fts5_search_p99_ms\": {{\"plain\": {:.3}, \"sqlcipher\": {:.3}}}, \
             \"latest50_from_file_vs_plain\": {from_file_vs_plain:.3}, \"latest50_from_file_vs_sqlcipher\": {from_file_vs_sqlcipher:.3}, \"latest50_from_file_p50_ms\": {:.4}, \"unlock_index_build_ms\": {:.0}, \"messages\": {}}}",
            a.search_p50_ms,
            a.search_p99_ms,
            a.insert_per_s,
            plain.insert_per_s,
            cipher.insert_per_s,
            a.latest50_p50_ms,
            plain.latest50_p50_ms,
            cipher.latest50_p50_ms,
            plain.search_p50_ms,
            cipher.search_p50_ms,
            plain.search_p99_ms,
            cipher.search_p99_ms,
            ours.latest50_from_file_p50_ms,
            ours.unlock_ms,
            workload::MESSAGES,
        );
        return;
    }
    println!(
        "\n{:<22} {:>14} {:>14} {:>14}",
        "", "Strongroom", "plain SQLite", "SQLCipher"
    );
    println!(
        "{:<22} {:>14.0} {:>14.0} {:>14.0}",
        "insert msgs/s", a.insert_per_s, plain.insert_per_s, cipher.insert_per_s
    );
    println!(
        "{:<22} {:>14.4} {:>14.4} {:>14.4}",
        "latest-50 p50 ms", a.latest50_p50_ms, plain.latest50_p50_ms, cipher.latest50_p50_ms
    );
    println!(
        "{:<22} {:>14.3} {:>14.3} {:>14.3}",
        "search p50 ms", a.search_p50_ms, plain.search_p50_ms, cipher.search_p50_ms
    );
    println!(
        "{:<22} {:>14.3} {:>14.3} {:>14.3}",
        "search p99 ms", a.search_p99_ms, plain.search_p99_ms, cipher.search_p99_ms
    );
    println!(
        "{:<22} {:>14.4}   (window bypassed: every message opened from the file)",
        "latest-50 file p50 ms", ours.latest50_from_file_p50_ms
    );
    println!("{:<22} {:>14.0}", "unlock + index ms", ours.unlock_ms);
    println!("\nratio                     value   target");
    let row = |name: &str, v: f64, target: &str, ok: bool| {
        println!(
            "{name:<22} {v:>9.3}   {target:<8} {}",
            if ok { "met" } else { "MISSED" }
        )
    };
    row(
        "insert_vs_plain",
        insert_vs_plain,
        ">= 0.85",
        insert_vs_plain >= 0.85,
    );
    row(
        "insert_vs_sqlcipher",
        insert_vs_sqlcipher,
        "> 1",
        insert_vs_sqlcipher > 1.0,
    );
    row(
        "latest50_vs_plain",
        latest50_vs_plain,
        "<= 1.1",
        latest50_vs_plain <= 1.1,
    );
    row(
        "latest50_vs_sqlcipher",
        latest50_vs_sqlcipher,
        "<= 1",
        latest50_vs_sqlcipher <= 1.0,
    );
    println!(
        "{:<22} {:>9.3}   (no target: latest-50 read from the file, over plain)",
        "from_file_vs_plain", from_file_vs_plain
    );
    row(
        "search_p50_ms",
        a.search_p50_ms,
        "<= 5",
        a.search_p50_ms <= 5.0,
    );
    row(
        "search_p99_ms",
        a.search_p99_ms,
        "<= 20",
        a.search_p99_ms <= 20.0,
    );
}

fn rusqlite_plain(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("plain.sqlite3")).unwrap()
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for std::path::PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}
