//! The baselines: plain rusqlite with Strongroom's schema and queries and no
//! encryption, searched with FTS5. The SQLCipher baseline runs exactly this
//! code on a keyed SQLCipher connection.

use rusqlite::{Connection, params};
use std::time::Instant;

use super::workload::{self, BATCH, Figures};

const SCHEMA: &str = "
CREATE TABLE accounts (id INTEGER PRIMARY KEY, key_check BLOB NOT NULL, bank TEXT NOT NULL,
    display_name TEXT NOT NULL, linked_at INTEGER NOT NULL, key_version INTEGER NOT NULL) STRICT;
CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    title TEXT NOT NULL, created_at INTEGER NOT NULL, key_version INTEGER NOT NULL) STRICT;
CREATE INDEX conversations_by_account ON conversations(account_id);
CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    sender TEXT NOT NULL, body TEXT NOT NULL, sent_at INTEGER NOT NULL, received_at INTEGER,
    delivery INTEGER NOT NULL, client_id TEXT UNIQUE, bank_id TEXT UNIQUE,
    key_version INTEGER NOT NULL) STRICT;
CREATE INDEX messages_latest ON messages(conversation_id, sent_at DESC, id DESC);
CREATE INDEX messages_by_account ON messages(account_id);
CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3');
";

/// A message row as the plain baseline reads it.
#[allow(dead_code)]
struct BaselineMessage {
    id: i64,
    account: i64,
    conversation: i64,
    sender: String,
    body: String,
    sent_at: i64,
    received_at: Option<i64>,
    delivery: i64,
    key_version: i64,
}

/// Applies the same pragmas as Strongroom's store.
pub fn configure(conn: &Connection) {
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
        .unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    conn.pragma_update(None, "secure_delete", "ON").unwrap();
    conn.pragma_update(None, "temp_store", "MEMORY").unwrap();
}

/// A baseline store being measured step by step, so that its inserts can
/// be interleaved batch by batch with Strongroom's (noise on a shared
/// machine then hits both alike).
pub struct Baseline<'a> {
    conn: &'a mut Connection,
}

impl<'a> Baseline<'a> {
    /// Creates the schema, the account and the conversations.
    pub fn create(conn: &'a mut Connection) -> Self {
        configure(conn);
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute(
            "INSERT INTO accounts VALUES (1, x'00', 'https://bank.example', 'Everyday', 0, 1)",
            [],
        )
        .unwrap();
        for c in 0..workload::CONVERSATIONS {
            conn.execute(
                "INSERT INTO conversations (id, account_id, title, created_at, key_version) \
                 VALUES (?1, 1, ?2, 0, 1)",
                params![c as i64 + 1, format!("Conversation {c}")],
            )
            .unwrap();
        }
        Baseline { conn }
    }

    /// Inserts one batch in one transaction, with its FTS5 rows.
    pub fn insert(&mut self, chunk: &[workload::GenMessage]) {
        let tx = self.conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO messages (account_id, conversation_id, sender, body, \
                     sent_at, received_at, delivery, client_id, bank_id, key_version) \
                     VALUES (1, ?1, ?2, ?3, ?4, ?5, 2, NULL, ?6, 1)",
                )
                .unwrap();
            let mut fts = tx
                .prepare_cached("INSERT INTO messages_fts (rowid, body) VALUES (?1, ?2)")
                .unwrap();
            for m in chunk {
                insert
                    .execute(params![
                        m.conversation as i64 + 1,
                        "IAna at the bank",
                        m.body,
                        m.sent_at,
                        m.sent_at + 1,
                        m.bank_id
                    ])
                    .unwrap();
                fts.execute(params![tx.last_insert_rowid(), m.body])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }

    /// Conversation opens (latest 50): the p50 in milliseconds.
    pub fn latest50_p50_ms(&mut self) -> f64 {
        let mut latest = Vec::new();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, account_id, conversation_id, sender, body, sent_at, received_at, \
                 delivery, key_version FROM messages WHERE conversation_id = ?1 \
                 ORDER BY sent_at DESC, id DESC LIMIT 50",
            )
            .unwrap();
        for c in workload::opens() {
            let t = Instant::now();
            // Read every selected column, as Strongroom's store does to build
            // its `Message` values, so both pay for the same row decoding.
            let rows: Vec<BaselineMessage> = stmt
                .query_map([c as i64 + 1], |r| {
                    Ok(BaselineMessage {
                        id: r.get(0)?,
                        account: r.get(1)?,
                        conversation: r.get(2)?,
                        sender: r.get(3)?,
                        body: r.get(4)?,
                        sent_at: r.get(5)?,
                        received_at: r.get(6)?,
                        delivery: r.get(7)?,
                        key_version: r.get(8)?,
                    })
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            std::hint::black_box(&rows);
            latest.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(rows.len() >= 50, "every conversation has 50 messages");
        }
        workload::percentile(&mut latest, 50.0)
    }

    /// FTS5 searches, top 50 newest first: p50 and p99 in milliseconds.
    pub fn search_ms(&mut self) -> (f64, f64) {
        let mut search = Vec::new();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT m.id FROM messages_fts f JOIN messages m ON m.id = f.rowid \
                 WHERE messages_fts MATCH ?1 ORDER BY m.sent_at DESC, m.id DESC LIMIT 50",
            )
            .unwrap();
        for q in workload::queries() {
            let fts_query = format!("\"{q}\"*");
            let t = Instant::now();
            let ids: Vec<i64> = stmt
                .query_map([fts_query], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            search.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(!ids.is_empty(), "every query word occurs: {q}");
        }
        (
            workload::percentile(&mut search, 50.0),
            workload::percentile(&mut search, 99.0),
        )
    }
}

/// Runs the whole workload with `n` messages on `conn` and returns its
/// figures (the SQLCipher baseline, in its own process).
pub fn run(conn: &mut Connection, n: usize) -> Figures {
    let messages = workload::messages(n);
    let mut baseline = Baseline::create(conn);
    let started = Instant::now();
    for chunk in messages.chunks(BATCH) {
        baseline.insert(chunk);
    }
    let insert_per_s = messages.len() as f64 / started.elapsed().as_secs_f64();
    let latest50_p50_ms = baseline.latest50_p50_ms();
    let (search_p50_ms, search_p99_ms) = baseline.search_ms();
    Figures {
        insert_per_s,
        latest50_p50_ms,
        search_p50_ms,
        search_p99_ms,
    }
}
