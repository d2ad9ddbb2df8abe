//! The kill test: a writer SIGKILLed at random points loses nothing it
//! reported committed and stores nothing twice.

use crate::support::*;
use strongroom_store::*;

const KILL_ROUNDS: usize = 200;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

/// A tiny xorshift generator: the kill points only need to be spread out.
struct Jitter(u64);

impl Jitter {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// The child of the kill test: writes and commits messages in small batches
/// and prints each one's id after its commit returned, until it is killed
/// (or, so that it always stops, after ten seconds).
#[test]
#[ignore = "run as a child process by kill_test_sigkill_at_random_points"]
fn kill_test_child_writer() {
    let db = std::env::var("STRONGROOM_KILL_DB").expect("run by the kill test");
    let round = std::env::var("STRONGROOM_KILL_ROUND").unwrap();
    let master = MasterKeys::from_key(
        1,
        Sensitive::new(unhex(&std::env::var("STRONGROOM_KILL_MASTER").unwrap())),
    );
    let key: AccountKey = Sensitive::new(unhex(
        &std::env::var("STRONGROOM_KILL_ACCOUNT_KEY").unwrap(),
    ));
    let account: AccountId = std::env::var("STRONGROOM_KILL_ACCOUNT")
        .unwrap()
        .parse()
        .unwrap();
    let mut store = Store::open(&db, master).unwrap();
    store.unlock_account(account, &key).unwrap();
    let conv = store.conversations(account).unwrap().items[0].id;
    let mut jitter = Jitter(round.parse::<u64>().unwrap() * 7919 + 1);
    let started = std::time::Instant::now();
    let mut n = 0u64;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // The parent starts its kill timer from here, so kills land among writes
    // and not while the store is still opening.
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    while started.elapsed() < std::time::Duration::from_secs(10) {
        let size = 1 + jitter.next(5);
        let batch: Vec<NewMessage> = (0..size)
            .map(|i| {
                let tag = format!("r{round}-m{}", n + i);
                incoming(conv, &format!("kill test {tag}"), (n + i) as i64, &tag)
            })
            .collect();
        store.insert_messages(&batch).unwrap();
        // Now and then the same batch goes again, as a retry after a lost
        // acknowledgement would: it must not be stored twice.
        if jitter.next(4) == 0 {
            let again = store.insert_messages(&batch).unwrap();
            assert!(again.iter().all(|i| matches!(i, Inserted::Duplicate(_))));
        }
        for i in 0..size {
            writeln!(out, "committed r{round}-m{}", n + i).unwrap();
        }
        out.flush().unwrap();
        n += size;
    }
}

#[test]
fn kill_test_sigkill_at_random_points() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let fx = Fixture::new();
    let master_bytes = [0x5au8; KEY_LEN];
    let key_bytes = *fx.key.expose();
    let master = MasterKeys::from_key(1, Sensitive::new(master_bytes));
    {
        let mut store = Store::open(fx.path(), master.clone()).unwrap();
        store
            .add_account(fx.account, &fx.key, "https://bank.example", "Kill", 1)
            .unwrap();
        store.add_conversation(fx.account, "kill", 1).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let mut jitter = Jitter(0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id()));
    let mut committed = std::collections::HashSet::new();
    let mut killed_mid_write = 0;
    let mut rounds_with_commits = 0;
    for round in 0..KILL_ROUNDS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill::kill_test_child_writer",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("STRONGROOM_KILL_DB", fx.path())
            .env("STRONGROOM_KILL_ROUND", round.to_string())
            .env("STRONGROOM_KILL_MASTER", hex(&master_bytes))
            .env("STRONGROOM_KILL_ACCOUNT_KEY", hex(&key_bytes))
            .env("STRONGROOM_KILL_ACCOUNT", fx.account.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut committed = Vec::new();
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                // libtest may print "test <name> ... " on the same line first.
                if line.ends_with("ready") {
                    let _ = ready_tx.send(());
                } else if let Some((_, tag)) = line.split_once("committed ") {
                    committed.push(tag.to_owned());
                }
            }
            committed
        });
        ready_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the writer opens the store");
        std::thread::sleep(std::time::Duration::from_millis(1 + jitter.next(40)));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        if status.code().is_none() {
            killed_mid_write += 1;
        }
        let this_round = reader.join().unwrap();
        if !this_round.is_empty() {
            rounds_with_commits += 1;
        }
        committed.extend(this_round);

        // After every kill: everything reported committed is there, once.
        let store = {
            let mut s = Store::open(fx.path(), master.clone()).unwrap();
            s.unlock_account(fx.account, &fx.key).unwrap();
            s
        };
        let conv = store.conversations(fx.account).unwrap().items[0].id;
        let page = store.latest_messages(conv, usize::MAX).unwrap();
        assert!(
            page.tampered.is_empty(),
            "round {round}: tampered rows {:?}",
            page.tampered
        );
        let mut seen = std::collections::HashSet::new();
        for m in &page.items {
            let tag = m.body.strip_prefix("kill test ").unwrap().to_owned();
            assert!(
                seen.insert(tag.clone()),
                "round {round}: {tag} stored twice"
            );
        }
        for tag in &committed {
            assert!(
                seen.contains(tag),
                "round {round}: {tag} was reported committed but is missing"
            );
        }
        drop(store);
        let ok: String = raw(&fx.path())
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok", "round {round}: integrity_check");
    }
    assert!(
        killed_mid_write >= KILL_ROUNDS * 9 / 10,
        "the children must die by SIGKILL, not exit: {killed_mid_write}"
    );
    assert!(
        rounds_with_commits >= KILL_ROUNDS * 3 / 4,
        "most kills must land among commits: {rounds_with_commits} of {KILL_ROUNDS}"
    );
    assert!(
        committed.len() > KILL_ROUNDS,
        "the children must commit work before dying: {}",
        committed.len()
    );
    println!(
        "kill test: {KILL_ROUNDS} SIGKILLs after the writer was ready ({killed_mid_write} while running, {rounds_with_commits} after at least one commit), {} messages reported committed, all present once, integrity ok",
        committed.len()
    );
}
