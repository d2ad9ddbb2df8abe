//! Bank staff: their accounts, their console sessions, and the audit log of
//! everything they do.
//!
//! Plain functions over a SQLite connection, so that the console (through
//! the database writer) and the `strongroom-gateway staff` administration
//! command share one implementation. Passwords are Argon2id (the same
//! parameters as the customers' web banking passwords, `web.rs`); a session
//! token is 256 random bits of which only the SHA-256 is stored; sessions
//! end after [`SESSION_IDLE_S`] without use or [`SESSION_MAX_S`] in all;
//! the audit log refuses updates and deletes at the database level.

use crate::sql::{Connection, OptionalExtension, params};
use ring::rand::SystemRandom;
use strongroom_core::protocol::call::MAX_FIELD_BYTES;

use crate::crypto::{now_ms, now_s, random_token, sha256};
use crate::error::GatewayError;
use crate::passwords::{hash_password, verify_password};

/// A session ends after this long without a request.
pub const SESSION_IDLE_S: i64 = 30 * 60;
/// A session ends this long after sign-in, used or not.
pub const SESSION_MAX_S: i64 = 8 * 60 * 60;
/// The shortest password a staff account may have.
pub const MIN_PASSWORD_LEN: usize = 12;

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Answers customers and sends alerts.
    Agent,
    /// Also manages staff accounts and pilot flags.
    Admin,
}

impl Role {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    /// Parses `agent` or `admin`.
    ///
    /// # Errors
    /// [`GatewayError::Invalid`] for anything else.
    pub fn parse(text: &str) -> Result<Role, GatewayError> {
        match text {
            "agent" => Ok(Role::Agent),
            "admin" => Ok(Role::Admin),
            other => Err(GatewayError::Invalid(format!(
                "a role is agent or admin, not {other:?}"
            ))),
        }
    }
}

/// A staff account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// Row id.
    pub id: i64,
    /// What they sign in with.
    pub username: String,
    /// What customers and the audit log see.
    pub display_name: String,
    /// What they may do.
    pub role: Role,
    /// When the account was disabled (seconds since the epoch), if it was.
    pub disabled_at: Option<i64>,
}

/// A signed-in console session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The cookie's value. Only its hash is stored.
    pub token: String,
    /// The token every form of this session must carry (CSRF).
    pub csrf: String,
    /// Who signed in.
    pub staff: StaffMember,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the log.
    pub id: i64,
    /// When, in milliseconds since the epoch.
    pub at_ms: i64,
    /// Who (a username, or `admin-command` for the command line).
    pub staff_username: String,
    /// What, as a stable dotted name (`staff.add`, `console.sign_in`).
    pub action: String,
    /// The particulars.
    pub detail: String,
}

/// The name the audit log gives to the administration command.
pub const ADMIN_COMMAND: &str = "admin-command";

/// The name the audit log gives to someone not signed in (a refused
/// sign-in): never the administration command, which it is not.
pub const NOT_SIGNED_IN: &str = "(not signed in)";

fn role_from_row(text: &str) -> Role {
    // The CHECK constraint allows only these two; anything else is read as
    // the lesser role.
    Role::parse(text).unwrap_or(Role::Agent)
}

const STAFF_COLUMNS: &str = "id, username, display_name, role, disabled_at";

fn staff_from_row(row: &crate::sql::Row) -> Result<StaffMember, crate::sql::Error> {
    let role: String = row.get(3)?;
    Ok(StaffMember {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
        role: role_from_row(&role),
        disabled_at: row.get(4)?,
    })
}

/// Appends to the audit log.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn audit(
    conn: &Connection,
    by: Option<&StaffMember>,
    action: &str,
    detail: &str,
) -> Result<(), GatewayError> {
    conn.execute(
        "INSERT INTO audit_log (at_ms, staff_id, staff_username, action, detail)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            now_ms(),
            by.map(|s| s.id),
            by.map_or(ADMIN_COMMAND, |s| s.username.as_str()),
            action,
            detail
        ],
    )?;
    Ok(())
}

/// The audit log, newest first, at most `limit` lines.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn audit_entries(conn: &Connection, limit: usize) -> Result<Vec<AuditEntry>, GatewayError> {
    let mut stmt = conn.prepare(
        "SELECT id, at_ms, staff_username, action, detail FROM audit_log
         ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        Ok(AuditEntry {
            id: r.get(0)?,
            at_ms: r.get(1)?,
            staff_username: r.get(2)?,
            action: r.get(3)?,
            detail: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether a username is 3 to 64 letters, digits, `.`, `-` or `_`.
pub fn valid_username(username: &str) -> bool {
    (3..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Checks a staff display name (already trimmed).
///
/// # Errors
/// [`GatewayError::Invalid`] saying what is wrong.
pub fn valid_display_name(display_name: &str) -> Result<(), GatewayError> {
    // The name goes into signed call statements, whose agent field devices
    // take only up to MAX_FIELD_BYTES bytes and without control characters:
    // a longer name (100 characters of most scripts but Latin) would make
    // every call this agent starts fail on the customer's device.
    if display_name.is_empty()
        || display_name.chars().count() > 100
        || display_name.len() > MAX_FIELD_BYTES
    {
        return Err(GatewayError::Invalid(format!(
            "a display name is 1 to 100 characters and at most {MAX_FIELD_BYTES} bytes"
        )));
    }
    if display_name.chars().any(char::is_control) {
        return Err(GatewayError::Invalid(
            "a display name may not hold control characters".into(),
        ));
    }
    if let Some(c) = strongroom_core::text::first_spoofing_char(display_name) {
        return Err(GatewayError::Invalid(format!(
            "a display name may not hold U+{:04X} (a bidirectional or invisible format character)",
            c as u32
        )));
    }
    Ok(())
}

/// The staff account with row id `id`.
///
/// # Errors
/// [`GatewayError::Storage`], or [`GatewayError::Invalid`] if there is
/// none.
pub fn member(conn: &Connection, id: i64) -> Result<StaffMember, GatewayError> {
    conn.query_row(
        &format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = ?1"),
        [id],
        staff_from_row,
    )
    .optional()?
    .ok_or_else(|| GatewayError::Invalid(format!("no staff account {id}")))
}

/// Creates a staff account (slow: hashes the password). `by` is the admin
/// doing it, or `None` for the administration command.
///
/// # Errors
/// [`GatewayError::Invalid`] for a bad username, an empty name, a short
/// password or a username already taken; [`GatewayError::Storage`].
pub fn add(
    conn: &Connection,
    rng: &SystemRandom,
    by: Option<&StaffMember>,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
) -> Result<StaffMember, GatewayError> {
    if !valid_username(username) {
        return Err(GatewayError::Invalid(
            "a username is 3 to 64 letters, digits, '.', '-' or '_'".into(),
        ));
    }
    let display_name = display_name.trim();
    valid_display_name(display_name)?;
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(GatewayError::Invalid(format!(
            "a staff password has at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    let taken: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM staff WHERE username = ?1)",
        [username],
        |r| r.get(0),
    )?;
    if taken {
        return Err(GatewayError::Invalid(format!(
            "the username {username:?} is taken"
        )));
    }
    let hash = hash_password(password, rng)?;
    let id: i64 = conn.query_row(
        "INSERT INTO staff (username, display_name, role, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![username, display_name, role.as_str(), hash, now_s()],
        |r| r.get(0),
    )?;
    let member = StaffMember {
        id,
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        role,
        disabled_at: None,
    };
    audit(
        conn,
        by,
        "staff.add",
        &format!("{username} ({})", role.as_str()),
    )?;
    Ok(member)
}

/// Every staff account, in username order.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn list(conn: &Connection) -> Result<Vec<StaffMember>, GatewayError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {STAFF_COLUMNS} FROM staff ORDER BY username"
    ))?;
    let rows = stmt.query_map((), staff_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Disables an account and ends its sessions at once. The account and its
/// audit trail stay.
///
/// # Errors
/// [`GatewayError::Invalid`] for an unknown username;
/// [`GatewayError::Storage`].
pub fn disable(
    conn: &Connection,
    by: Option<&StaffMember>,
    username: &str,
) -> Result<(), GatewayError> {
    let id: Option<i64> = conn
        .query_row(
            "SELECT id FROM staff WHERE username = ?1",
            [username],
            |r| r.get(0),
        )
        .optional()?;
    let id = id.ok_or_else(|| GatewayError::Invalid(format!("no staff account {username:?}")))?;
    conn.execute(
        "UPDATE staff SET disabled_at = COALESCE(disabled_at, ?1) WHERE id = ?2",
        params![now_s(), id],
    )?;
    conn.execute("DELETE FROM staff_sessions WHERE staff_id = ?1", [id])?;
    audit(conn, by, "staff.disable", username)
}

/// Checks a username and password and opens a session. A wrong password,
/// an unknown username and a disabled account all answer `None` after the
/// same Argon2 work (`dummy_hash` stands in for a missing account), and
/// each attempt is in the audit log. The console does the same in three
/// steps ([`sign_in_candidate`], the hash check off the runtime, then
/// [`open_session`] or [`refuse_sign_in`]).
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn sign_in(
    conn: &Connection,
    rng: &SystemRandom,
    dummy_hash: &str,
    source: &str,
    username: &str,
    password: &str,
) -> Result<Option<Session>, GatewayError> {
    let found = sign_in_candidate(conn, username)?;
    let hash = found.as_ref().map_or(dummy_hash, |(_, h)| h.as_str());
    let password_ok = verify_password(password, hash);
    match found {
        Some((member, _)) if password_ok && member.disabled_at.is_none() => {
            open_session(conn, rng, &member).map(Some)
        }
        _ => refuse_sign_in(conn, username, source).map(|()| None),
    }
}

/// The account a sign-in names and its password hash, if it exists.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn sign_in_candidate(
    conn: &Connection,
    username: &str,
) -> Result<Option<(StaffMember, String)>, GatewayError> {
    Ok(conn
        .query_row(
            &format!("SELECT {STAFF_COLUMNS}, password_hash FROM staff WHERE username = ?1"),
            [username],
            |r| Ok((staff_from_row(r)?, r.get(5)?)),
        )
        .optional()?)
}

/// Records a refused sign-in: the username as typed (bounded) and the
/// address it came from, by [`NOT_SIGNED_IN`].
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn refuse_sign_in(conn: &Connection, username: &str, source: &str) -> Result<(), GatewayError> {
    let shown: String = username.chars().take(64).collect();
    conn.execute(
        "INSERT INTO audit_log (at_ms, staff_id, staff_username, action, detail)
         VALUES (?1, NULL, ?2, ?3, ?4)",
        params![
            now_ms(),
            NOT_SIGNED_IN,
            "console.sign_in_refused",
            format!("username {shown:?} from {source}")
        ],
    )?;
    Ok(())
}

/// Opens a session for an account whose password was checked.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn open_session(
    conn: &Connection,
    rng: &SystemRandom,
    member: &StaffMember,
) -> Result<Session, GatewayError> {
    open_session_via(conn, rng, member, "")
}

/// Opens a session, audited with `via` (for a sign-in through the bank's
/// identity provider: its issuer and the person's `sub` there).
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn open_session_via(
    conn: &Connection,
    rng: &SystemRandom,
    member: &StaffMember,
    via: &str,
) -> Result<Session, GatewayError> {
    let token = random_token(rng);
    let csrf = random_token(rng);
    let now = now_s();
    conn.execute(
        "INSERT INTO staff_sessions (token_hash, staff_id, csrf, created_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
        params![sha256(token.as_bytes()), member.id, csrf, now],
    )?;
    audit(conn, Some(member), "console.sign_in", via)?;
    Ok(Session {
        token,
        csrf,
        staff: member.clone(),
    })
}

/// The session a cookie's token belongs to, if it is still valid at `now`
/// (seconds); a valid session's idle clock restarts. An expired session is
/// removed.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn session(conn: &Connection, token: &str, now: i64) -> Result<Option<Session>, GatewayError> {
    let hash = sha256(token.as_bytes());
    let found: Option<(StaffMember, String, i64, i64)> = conn
        .query_row(
            "SELECT s.id, s.username, s.display_name, s.role, s.disabled_at,
                    x.csrf, x.created_at, x.last_seen_at
             FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
             WHERE x.token_hash = ?1",
            [&hash],
            |r| Ok((staff_from_row(r)?, r.get(5)?, r.get(6)?, r.get(7)?)),
        )
        .optional()?;
    let Some((staff, csrf, created, last_seen)) = found else {
        return Ok(None);
    };
    if staff.disabled_at.is_some()
        || now - last_seen > SESSION_IDLE_S
        || now - created > SESSION_MAX_S
    {
        conn.execute("DELETE FROM staff_sessions WHERE token_hash = ?1", [&hash])?;
        return Ok(None);
    }
    conn.execute(
        "UPDATE staff_sessions SET last_seen_at = ?1 WHERE token_hash = ?2",
        params![now, hash],
    )?;
    Ok(Some(Session {
        token: token.to_owned(),
        csrf,
        staff,
    }))
}

/// Ends a session.
///
/// # Errors
/// [`GatewayError::Storage`].
pub fn sign_out(conn: &Connection, session: &Session) -> Result<(), GatewayError> {
    conn.execute(
        "DELETE FROM staff_sessions WHERE token_hash = ?1",
        [sha256(session.token.as_bytes())],
    )?;
    audit(conn, Some(&session.staff), "console.sign_out", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> (tempfile::TempDir, crate::db::AdminConnection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_for_admin(&crate::db::Database::Sqlite(dir.path().join("g.db")))
            .unwrap();
        (dir, conn)
    }

    #[test]
    fn accounts_are_checked_and_every_step_is_audited() {
        let (_dir, mut admin) = conn();
        let conn = admin.connection();
        let rng = SystemRandom::new();
        let dummy = hash_password("not anyone's password", &rng).unwrap();
        let long_name = "\u{e9}".repeat(100);
        for (username, name, password) in [
            ("a", "Ana", "long enough password"),
            ("ana", " ", "long enough password"),
            ("ana", "Ana", "short"),
            ("ana;drop", "Ana", "long enough password"),
            // 100 characters but 200 bytes: a device would refuse every
            // call statement naming this agent.
            ("ana", long_name.as_str(), "long enough password"),
            // A tab: a control character the spoofing check lets through.
            ("ana", "Ana\tSilva", "long enough password"),
        ] {
            let refused = add(&conn, &rng, None, username, name, Role::Agent, password);
            assert!(
                matches!(refused, Err(GatewayError::Invalid(_))),
                "{username:?} / {name:?} must be refused"
            );
        }
        let ana = add(
            &conn,
            &rng,
            None,
            "ana",
            "Ana Silva",
            Role::Agent,
            "correct horse battery",
        )
        .unwrap();
        assert!(matches!(
            add(
                &conn,
                &rng,
                None,
                "ana",
                "Other",
                Role::Admin,
                "correct horse battery"
            ),
            Err(GatewayError::Invalid(_))
        ));
        assert_eq!(list(&conn).unwrap(), vec![ana.clone()]);

        assert!(
            sign_in(&conn, &rng, &dummy, "192.0.2.7", "ana", "wrong password!!")
                .unwrap()
                .is_none()
        );
        assert!(
            sign_in(
                &conn,
                &rng,
                &dummy,
                "192.0.2.7",
                "nobody",
                "correct horse battery"
            )
            .unwrap()
            .is_none()
        );
        let session = sign_in(
            &conn,
            &rng,
            &dummy,
            "192.0.2.7",
            "ana",
            "correct horse battery",
        )
        .unwrap()
        .expect("the right password signs in");
        assert_eq!(session.staff, ana);
        assert_ne!(session.token, session.csrf);
        // Only the token's hash is stored.
        let stored: Vec<u8> = conn
            .query_row("SELECT token_hash FROM staff_sessions", (), |r| r.get(0))
            .unwrap();
        assert_ne!(stored, session.token.as_bytes());

        let actions: Vec<(String, String)> = audit_entries(&conn, 10)
            .unwrap()
            .into_iter()
            .rev()
            .map(|e| (e.staff_username, e.action))
            .collect();
        // Attack (adversarial review, finding 6): refused sign-ins were
        // put on the administration command, without the name tried or
        // where from.
        assert_eq!(
            actions,
            [
                (ADMIN_COMMAND, "staff.add"),
                (NOT_SIGNED_IN, "console.sign_in_refused"),
                (NOT_SIGNED_IN, "console.sign_in_refused"),
                ("ana", "console.sign_in"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        let refused: Vec<String> = audit_entries(&conn, 10)
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "console.sign_in_refused")
            .map(|e| e.detail)
            .collect();
        assert_eq!(
            refused,
            [
                "username \"nobody\" from 192.0.2.7",
                "username \"ana\" from 192.0.2.7"
            ]
        );
    }

    #[test]
    fn sessions_expire_idle_or_old_and_end_when_the_account_is_disabled() {
        let (_dir, mut admin) = conn();
        let conn = admin.connection();
        let rng = SystemRandom::new();
        let dummy = hash_password("not anyone's password", &rng).unwrap();
        add(
            &conn,
            &rng,
            None,
            "ana",
            "Ana",
            Role::Admin,
            "correct horse battery",
        )
        .unwrap();
        let s = sign_in(
            &conn,
            &rng,
            &dummy,
            "192.0.2.7",
            "ana",
            "correct horse battery",
        )
        .unwrap()
        .unwrap();
        let t0 = now_s();
        // Used every 29 minutes it lives on, until its eighth hour.
        let mut t = t0;
        while t + SESSION_IDLE_S - 60 < t0 + SESSION_MAX_S {
            t += SESSION_IDLE_S - 60;
            assert!(
                session(&conn, &s.token, t).unwrap().is_some(),
                "alive at {}",
                t - t0
            );
        }
        assert!(
            session(&conn, &s.token, t0 + SESSION_MAX_S + 1)
                .unwrap()
                .is_none()
        );
        // Gone for good once expired.
        assert!(session(&conn, &s.token, t0).unwrap().is_none());

        let idle = sign_in(
            &conn,
            &rng,
            &dummy,
            "192.0.2.7",
            "ana",
            "correct horse battery",
        )
        .unwrap()
        .unwrap();
        assert!(
            session(&conn, &idle.token, now_s() + SESSION_IDLE_S + 1)
                .unwrap()
                .is_none()
        );

        let live = sign_in(
            &conn,
            &rng,
            &dummy,
            "192.0.2.7",
            "ana",
            "correct horse battery",
        )
        .unwrap()
        .unwrap();
        assert!(session(&conn, "not a token", now_s()).unwrap().is_none());
        disable(&conn, None, "ana").unwrap();
        assert!(session(&conn, &live.token, now_s()).unwrap().is_none());
        assert!(
            sign_in(
                &conn,
                &rng,
                &dummy,
                "192.0.2.7",
                "ana",
                "correct horse battery"
            )
            .unwrap()
            .is_none(),
            "a disabled account cannot sign in"
        );
    }

    #[test]
    fn the_audit_log_refuses_changes() {
        let (_dir, mut sqlite) = conn();
        let mut databases = vec![sqlite.connection()];
        // And PostgreSQL's migration, in `cargo xtask test`'s second pass.
        let mut postgres = std::env::var("STRONGROOM_TEST_POSTGRES").ok().map(|admin| {
            let name = format!("audit_{}", std::process::id());
            let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .unwrap();
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
            crate::db::open_for_admin(&crate::db::Database::parse_url(&url).unwrap()).unwrap()
        });
        if let Some(pg) = postgres.as_mut() {
            databases.push(pg.connection());
        }
        for conn in &databases {
            audit(conn, None, "flags.set", "beta for cohort pilot-1").unwrap();
            for sql in [
                "UPDATE audit_log SET detail = 'nothing happened'",
                "DELETE FROM audit_log",
            ] {
                let err = conn.execute(sql, ()).expect_err(sql);
                assert!(
                    err.to_string().contains("append-only"),
                    "{conn:?} {sql}: {err}"
                );
            }
            if conn.is_postgres() {
                let err = conn
                    .execute_batch("TRUNCATE audit_log")
                    .expect_err("TRUNCATE");
                assert!(err.to_string().contains("append-only"), "{err}");
            }
            assert_eq!(audit_entries(conn, 10).unwrap().len(), 1);
        }
    }
}
