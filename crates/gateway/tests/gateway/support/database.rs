//! The PostgreSQL pass: with `STRONGROOM_TEST_POSTGRES` set, every test
//! gateway keeps its data in a database of its own instead of SQLite, so
//! the same tests prove both back ends.

use std::path::Path;

/// With `STRONGROOM_TEST_POSTGRES` set (a PostgreSQL superuser's URL, as
/// `cargo xtask test` sets it for its second pass), every gateway of these
/// tests keeps its data in PostgreSQL: one fresh database per data folder,
/// the same one again when a test restarts a gateway on the same folder.
pub async fn postgres_database(dir: &Path) -> Option<strongroom_gateway::db::Database> {
    static DATABASES: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
        std::sync::Mutex::new(Vec::new());
    let admin = std::env::var("STRONGROOM_TEST_POSTGRES").ok()?;
    let server = admin
        .rsplit_once('/')
        .expect("a URL ending in /dbname")
        .0
        .to_owned();
    let (name, fresh) = {
        let mut databases = DATABASES.lock().unwrap();
        match databases.iter().find(|(d, _)| d == dir) {
            Some((_, name)) => (name.clone(), false),
            None => {
                let name = format!("gw_{}_{}", std::process::id(), databases.len());
                databases.push((dir.to_owned(), name.clone()));
                (name, true)
            }
        }
    };
    if fresh {
        let name = name.clone();
        tokio::task::spawn_blocking(move || {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                .expect("STRONGROOM_TEST_POSTGRES reaches a PostgreSQL server");
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .expect("an old database of this name goes");
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("a fresh database");
        })
        .await
        .unwrap();
    }
    Some(strongroom_gateway::db::Database::parse_url(&format!("{server}/{name}")).unwrap())
}

/// The files the gateway's own database adds to the data folder: none with
/// PostgreSQL.
pub fn database_files() -> &'static [&'static str] {
    if std::env::var_os("STRONGROOM_TEST_POSTGRES").is_some() {
        &[]
    } else {
        &["gateway.db"]
    }
}

/// The database a test gateway in `dir` uses, for the admin commands.
pub async fn database_of(dir: &Path) -> strongroom_gateway::db::Database {
    match postgres_database(dir).await {
        Some(database) => database,
        None => strongroom_gateway::db::Database::Sqlite(dir.join("gateway.db")),
    }
}
