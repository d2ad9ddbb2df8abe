//! Runs the store benchmark's baseline workload on SQLCipher with a raw
//! 256-bit key (as Signal Desktop keeps its history) and prints one line of
//! figures for the benchmark driver.

#[allow(dead_code)]
#[path = "../../../crates/store/benches/common/workload.rs"]
mod workload;

#[path = "../../../crates/store/benches/common/baseline.rs"]
mod baseline;

fn main() {
    let usage = "usage: sqlcipher-baseline <empty folder> <messages>";
    let dir = std::env::args().nth(1).expect(usage);
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .expect(usage);
    let path = std::path::Path::new(&dir).join("sqlcipher.sqlite3");
    let mut conn = rusqlite::Connection::open(&path).expect("open");
    // A raw key: no passphrase derivation, like Signal Desktop.
    conn.execute_batch(
        "PRAGMA key = \"x'2DD29CA851E7B56E4697B0E1F08507293D761A05CE4D1B628663F411A8086D99'\";",
    )
    .expect("key");
    let version: String = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .expect("this build must be SQLCipher");
    eprintln!("SQLCipher {version}");
    let figures = baseline::run(&mut conn, n);
    println!("{}", figures.to_line());
}
