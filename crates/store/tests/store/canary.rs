//! The canary: no plaintext word, prefix or body of a searched history
//! reaches the database, its WAL or SQLite's temporary files.

use crate::support::*;
use std::path::{Path, PathBuf};
use strongroom_store::*;

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn canary_no_plaintext_word_prefix_or_body_reaches_the_disk() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store
        .add_conversation(fx.account, "Canary conversation", 1)
        .unwrap();
    let canaries: Vec<String> = (0..50)
        .map(|i| format!("zqcanary{i:03}xylophone"))
        .collect();
    let batch: Vec<NewMessage> = canaries
        .iter()
        .enumerate()
        .map(|(i, c)| {
            incoming(
                conv,
                &format!("Your code word is {c} today"),
                i as i64,
                &format!("b{i}"),
            )
        })
        .collect();
    store.insert_messages(&batch).unwrap();
    store
        .insert_alert(&alert(fx.account, "j", "zqcanaryalert merchant", 100))
        .unwrap();
    for c in &canaries {
        assert_eq!(store.search(c, 5).unwrap().len(), 1, "{c} must be found");
        assert_eq!(store.search(&c[..9], 100).unwrap().len(), 50);
    }
    assert_eq!(store.search("zqcanaryale", 5).unwrap().len(), 1);
    // Do not checkpoint: the WAL must be scanned while it holds the writes.
    let mut scanned = Vec::new();
    let mut needles: Vec<&[u8]> = canaries.iter().map(|c| c.as_bytes()).collect();
    needles.push(b"zqcanary");
    needles.push(b"xylophone");
    needles.push(b"Your code word");
    needles.push(b"Canary conversation");
    needles.push(b"zqcanaryalert");
    // The store's folder, plus any SQLite temporary file ("etilqs_*") in the
    // folders SQLite would use for them (temp_store=MEMORY should mean none).
    let mut files = files_under(fx.dir.path());
    for tmp in [
        std::env::temp_dir(),
        PathBuf::from("/var/tmp"),
        PathBuf::from("/tmp"),
    ] {
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            files.extend(entries.flatten().map(|e| e.path()).filter(|p| {
                p.is_file()
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("etilqs_"))
            }));
        }
    }
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for needle in &needles {
            assert!(
                !contains(&bytes, needle),
                "{} contains plaintext {:?}",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
        scanned.push(file.file_name().unwrap().to_string_lossy().into_owned());
    }
    scanned.sort();
    assert!(
        scanned.iter().any(|f| f.ends_with(".sqlite3")),
        "database scanned: {scanned:?}"
    );
    assert!(
        scanned.iter().any(|f| f.ends_with("-wal")),
        "WAL scanned: {scanned:?}"
    );
    assert!(
        scanned.iter().any(|f| f.ends_with("-shm")),
        "SHM scanned: {scanned:?}"
    );
    println!(
        "canary: scanned {} files ({}), 0 plaintext hits",
        scanned.len(),
        scanned.join(", ")
    );
    drop(store);
}
