//! One SQL interface over the gateway's two databases: the embedded SQLite
//! file (rusqlite) and PostgreSQL (the `postgres` crate).
//!
//! Every handler writes one SQL text in the dialect both understand:
//! numbered parameters `?1`, `ON CONFLICT`, `RETURNING`, no SQLite-only
//! functions (PostgreSQL's migrations define the one we use, `instr`). For
//! PostgreSQL the parameters are renumbered `$1` once per statement text and
//! the prepared statement is kept per connection. Values cross as [`Value`],
//! converted to the column's type on PostgreSQL's side, so one Rust type
//! (`i64`, `String`, `Vec<u8>`) serves both databases.
//!
//! The API mirrors the subset of rusqlite's that the gateway used before it
//! spoke PostgreSQL (`execute`, `query_row`, `prepare(..).query_map`,
//! `optional()`), so handlers read the same as before.

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::types::{IsNull, Type};

/// A value as the gateway stores it: SQLite's five storage classes, which
/// map onto the PostgreSQL types our migrations use (`BIGINT`,
/// `DOUBLE PRECISION`, `TEXT`, `BYTEA`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (also booleans, as 0 and 1).
    Integer(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Integer(_) => "integer",
            Value::Real(_) => "real",
            Value::Text(_) => "text",
            Value::Blob(_) => "blob",
        }
    }
}

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `query_row` found no row.
    #[error("the query returned no rows")]
    QueryReturnedNoRows,
    /// A column held a value of another type than the one asked for.
    #[error("column {index}: expected {expected}, found {found}")]
    InvalidType {
        /// The column.
        index: usize,
        /// The Rust type asked for.
        expected: &'static str,
        /// What the column held.
        found: &'static str,
    },
    /// A row has no such column.
    #[error("there is no column {0}")]
    InvalidColumnIndex(usize),
    /// A value does not fit the type it is stored as or read into.
    #[error("{0}")]
    OutOfRange(String),
    /// SQLite refused.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused, or the connection failed.
    #[error("PostgreSQL: {}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
}

/// PostgreSQL's own message and SQLSTATE rather than the driver's bare
/// "db error".
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

/// A Rust value that can be bound as a parameter.
pub trait ToSql {
    /// The value to bind.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for an integer over `i64::MAX`.
    fn to_value(&self) -> Result<Value, Error>;
}

/// A Rust value that a column can be read into.
pub trait FromSql: Sized {
    /// Converts the column's value, or says why it cannot.
    ///
    /// # Errors
    /// [`Error::InvalidType`] (with `index` 0; [`Row::get`] fills it in).
    fn from_value(value: Value) -> Result<Self, Error>;
}

fn mismatch(expected: &'static str, value: &Value) -> Error {
    Error::InvalidType {
        index: 0,
        expected,
        found: value.kind(),
    }
}

impl ToSql for Value {
    fn to_value(&self) -> Result<Value, Error> {
        Ok(self.clone())
    }
}
impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_value(&self) -> Result<Value, Error> {
        (**self).to_value()
    }
}
impl<T: ToSql> ToSql for Option<T> {
    fn to_value(&self) -> Result<Value, Error> {
        match self {
            Some(v) => v.to_value(),
            None => Ok(Value::Null),
        }
    }
}
impl ToSql for str {
    fn to_value(&self) -> Result<Value, Error> {
        Ok(Value::Text(self.to_owned()))
    }
}
impl ToSql for String {
    fn to_value(&self) -> Result<Value, Error> {
        Ok(Value::Text(self.clone()))
    }
}
impl ToSql for [u8] {
    fn to_value(&self) -> Result<Value, Error> {
        Ok(Value::Blob(self.to_vec()))
    }
}
impl ToSql for Vec<u8> {
    fn to_value(&self) -> Result<Value, Error> {
        Ok(Value::Blob(self.clone()))
    }
}
impl<const N: usize> ToSql for [u8; N] {
    fn to_value(&self) -> Result<Value, Error> {
        Ok(Value::Blob(self.to_vec()))
    }
}
impl ToSql for bool {
    fn to_value(&self) -> Result<Value, Error> {
        Ok(Value::Integer(i64::from(*self)))
    }
}
impl ToSql for f64 {
    fn to_value(&self) -> Result<Value, Error> {
        Ok(Value::Real(*self))
    }
}

macro_rules! integer_types {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_value(&self) -> Result<Value, Error> {
                i64::try_from(*self)
                    .map(Value::Integer)
                    .map_err(|_| Error::OutOfRange(format!("{self} does not fit a 64-bit integer")))
            }
        }
        impl FromSql for $t {
            fn from_value(value: Value) -> Result<Self, Error> {
                match value {
                    Value::Integer(i) => <$t>::try_from(i).map_err(|_| {
                        Error::OutOfRange(format!("{i} does not fit {}", stringify!($t)))
                    }),
                    other => Err(mismatch(stringify!($t), &other)),
                }
            }
        }
    )*};
}
integer_types!(i64, i32, u32, u64, usize);

impl FromSql for Value {
    fn from_value(value: Value) -> Result<Self, Error> {
        Ok(value)
    }
}
impl<T: FromSql> FromSql for Option<T> {
    fn from_value(value: Value) -> Result<Self, Error> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}
impl FromSql for bool {
    fn from_value(value: Value) -> Result<Self, Error> {
        match value {
            Value::Integer(i) => Ok(i != 0),
            other => Err(mismatch("bool", &other)),
        }
    }
}
impl FromSql for f64 {
    fn from_value(value: Value) -> Result<Self, Error> {
        match value {
            Value::Real(f) => Ok(f),
            Value::Integer(i) => Ok(i as f64),
            other => Err(mismatch("f64", &other)),
        }
    }
}
impl FromSql for String {
    fn from_value(value: Value) -> Result<Self, Error> {
        match value {
            Value::Text(s) => Ok(s),
            other => Err(mismatch("String", &other)),
        }
    }
}
impl FromSql for Vec<u8> {
    fn from_value(value: Value) -> Result<Self, Error> {
        match value {
            Value::Blob(b) => Ok(b),
            other => Err(mismatch("Vec<u8>", &other)),
        }
    }
}

/// Parameters for one statement: `()`, an array of one type, or
/// [`params!`]'s list of mixed types.
pub trait Params {
    /// The values, in order.
    ///
    /// # Errors
    /// A value that cannot be bound.
    fn into_values(self) -> Result<Vec<Value>, Error>;
}
impl Params for () {
    fn into_values(self) -> Result<Vec<Value>, Error> {
        Ok(Vec::new())
    }
}
impl<T: ToSql, const N: usize> Params for [T; N] {
    fn into_values(self) -> Result<Vec<Value>, Error> {
        self.iter().map(ToSql::to_value).collect()
    }
}
impl Params for Result<Vec<Value>, Error> {
    fn into_values(self) -> Result<Vec<Value>, Error> {
        self
    }
}

/// A list of parameters of mixed types, as rusqlite's macro of the same name.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        (|| -> Result<Vec<$crate::sql::Value>, $crate::sql::Error> {
            Ok(vec![$($crate::sql::ToSql::to_value(&$value)?),*])
        })()
    };
}
pub(crate) use params;

/// `.optional()` on a `query_row` result: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    /// `Ok(None)` for [`Error::QueryReturnedNoRows`].
    ///
    /// # Errors
    /// Any other error.
    fn optional(self) -> Result<Option<T>, Error>;
}
impl<T> OptionalExtension<T> for Result<T, Error> {
    fn optional(self) -> Result<Option<T>, Error> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One row of a result, its values already read.
#[derive(Debug)]
pub struct Row {
    values: Vec<Value>,
}

/// A column index (only positions; the gateway never reads by name).
pub trait RowIndex {
    /// The position.
    fn position(&self) -> usize;
}
impl RowIndex for usize {
    fn position(&self) -> usize {
        *self
    }
}

impl Row {
    /// The value of column `index` as a `T`.
    ///
    /// # Errors
    /// [`Error::InvalidColumnIndex`] or [`Error::InvalidType`].
    pub fn get<I: RowIndex, T: FromSql>(&self, index: I) -> Result<T, Error> {
        let index = index.position();
        let value = self
            .values
            .get(index)
            .cloned()
            .ok_or(Error::InvalidColumnIndex(index))?;
        T::from_value(value).map_err(|e| match e {
            Error::InvalidType {
                expected, found, ..
            } => Error::InvalidType {
                index,
                expected,
                found,
            },
            other => other,
        })
    }
}

/// A PostgreSQL connection and its prepared statements, kept by SQL text.
pub(crate) struct PgSession {
    pub(crate) client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
    /// The functions this session defined in its own temporary schema.
    pub(crate) functions: Vec<&'static str>,
}

impl PgSession {
    pub(crate) fn new(client: postgres::Client) -> PgSession {
        PgSession {
            client,
            statements: HashMap::new(),
            functions: Vec::new(),
        }
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&dollar_parameters(sql))?;
        // Statement texts are the program's own constants, so this map
        // stays as small as the program.
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// `?1`, `?2`... (and bare `?`) renumbered as PostgreSQL's `$1`, `$2`...,
/// leaving quoted text alone.
pub(crate) fn dollar_parameters(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    let mut next_bare = 1;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    digits = next_bare.to_string();
                    next_bare += 1;
                }
                out.push('$');
                out.push_str(&digits);
            }
            None => out.push(c),
        }
    }
    out
}

enum Inner<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(RefCell<&'a mut PgSession>),
}

/// A connection handed to a read or a write: the same methods whichever
/// database is behind it.
pub struct Connection<'a> {
    inner: Inner<'a>,
    announcements: RefCell<Vec<String>>,
}

impl std::fmt::Debug for Connection<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_postgres() {
            "Connection(PostgreSQL)"
        } else {
            "Connection(SQLite)"
        })
    }
}

/// A statement about to run; see [`Connection::prepare`].
pub struct Statement<'c, 'a> {
    conn: &'c Connection<'a>,
    sql: String,
}

impl<'a> Connection<'a> {
    pub(crate) fn sqlite(conn: &'a rusqlite::Connection) -> Connection<'a> {
        Connection {
            inner: Inner::Sqlite(conn),
            announcements: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn postgres(session: &'a mut PgSession) -> Connection<'a> {
        Connection {
            inner: Inner::Postgres(RefCell::new(session)),
            announcements: RefCell::new(Vec::new()),
        }
    }

    /// Whether PostgreSQL is behind this connection.
    pub fn is_postgres(&self) -> bool {
        matches!(self.inner, Inner::Postgres(_))
    }

    /// Queues `message` for the other gateway processes sharing this
    /// database, sent once the write's batch has committed (and never if it
    /// did not), so that they hear of exactly what committed. Nothing to do
    /// with SQLite, which one process owns.
    pub fn announce(&self, message: String) {
        if self.is_postgres() {
            self.announcements.borrow_mut().push(message);
        }
    }

    /// Whether this is a PostgreSQL session that defined `function` in
    /// its temporary schema (see `PgSession::functions`).
    pub(crate) fn has_session_function(&self, function: &str) -> bool {
        match &self.inner {
            Inner::Sqlite(_) => false,
            Inner::Postgres(session) => session.borrow().functions.contains(&function),
        }
    }

    pub(crate) fn take_announcements(&self) -> Vec<String> {
        std::mem::take(&mut *self.announcements.borrow_mut())
    }

    /// Runs statements with no parameters and no results (transaction
    /// control, migrations).
    ///
    /// # Errors
    /// The database's refusal.
    pub fn execute_batch(&self, sql: &str) -> Result<(), Error> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(s) => Ok(s.borrow_mut().client.batch_execute(sql)?),
        }
    }

    /// Runs one statement; returns how many rows it changed.
    ///
    /// # Errors
    /// The database's refusal, or a parameter that cannot be bound.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize, Error> {
        let values = params.into_values()?;
        match &self.inner {
            Inner::Sqlite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(values.iter()))?),
            Inner::Postgres(s) => {
                let mut session = s.borrow_mut();
                let statement = session.statement(sql)?;
                let bound: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    values.iter().map(|v| v as _).collect();
                let changed = session.client.execute(&statement, &bound)?;
                usize::try_from(changed).map_err(|_| Error::OutOfRange(changed.to_string()))
            }
        }
    }

    /// Every row of a query.
    ///
    /// # Errors
    /// The database's refusal, or a parameter that cannot be bound.
    pub fn query<P: Params>(&self, sql: &str, params: P) -> Result<Vec<Row>, Error> {
        let values = params.into_values()?;
        match &self.inner {
            Inner::Sqlite(c) => {
                let mut statement = c.prepare_cached(sql)?;
                let columns = statement.column_count();
                let mut rows = statement.query(rusqlite::params_from_iter(values.iter()))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let values = (0..columns)
                        .map(|i| row.get_ref(i).map(Value::from))
                        .collect::<Result<Vec<_>, _>>()?;
                    out.push(Row { values });
                }
                Ok(out)
            }
            Inner::Postgres(s) => {
                let mut session = s.borrow_mut();
                let statement = session.statement(sql)?;
                let bound: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    values.iter().map(|v| v as _).collect();
                let rows = session.client.query(&statement, &bound)?;
                rows.iter()
                    .map(|row| {
                        let values = (0..row.len())
                            .map(|i| row.try_get::<_, Value>(i))
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok(Row { values })
                    })
                    .collect()
            }
        }
    }

    /// The first row of a query, through `f`.
    ///
    /// # Errors
    /// [`Error::QueryReturnedNoRows`] when there is none; `f`'s error.
    pub fn query_row<T, P: Params, F: FnOnce(&Row) -> Result<T, Error>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> Result<T, Error> {
        let rows = self.query(sql, params)?;
        let first = rows.first().ok_or(Error::QueryReturnedNoRows)?;
        f(first)
    }

    /// A statement to run with [`Statement::query_map`] and friends.
    /// Statements are kept per connection whichever method is used, so this
    /// and [`Connection::prepare_cached`] are the same.
    ///
    /// # Errors
    /// None today; kept fallible as rusqlite's is.
    pub fn prepare<'c>(&'c self, sql: &str) -> Result<Statement<'c, 'a>, Error> {
        Ok(Statement {
            conn: self,
            sql: sql.to_owned(),
        })
    }

    /// See [`Connection::prepare`].
    ///
    /// # Errors
    /// None today.
    pub fn prepare_cached<'c>(&'c self, sql: &str) -> Result<Statement<'c, 'a>, Error> {
        self.prepare(sql)
    }
}

impl Statement<'_, '_> {
    /// See [`Connection::execute`].
    ///
    /// # Errors
    /// As there.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize, Error> {
        self.conn.execute(&self.sql, params)
    }

    /// See [`Connection::query_row`].
    ///
    /// # Errors
    /// As there.
    pub fn query_row<T, P: Params, F: FnOnce(&Row) -> Result<T, Error>>(
        &mut self,
        params: P,
        f: F,
    ) -> Result<T, Error> {
        self.conn.query_row(&self.sql, params, f)
    }

    /// Every row through `f`.
    ///
    /// # Errors
    /// The query's error; `f`'s errors come out of the iterator.
    pub fn query_map<T, P: Params, F: FnMut(&Row) -> Result<T, Error>>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T, Error>>, Error> {
        let rows = self.conn.query(&self.sql, params)?;
        Ok(rows.iter().map(&mut f).collect::<Vec<_>>().into_iter())
    }
}

impl From<rusqlite::types::ValueRef<'_>> for Value {
    fn from(v: rusqlite::types::ValueRef<'_>) -> Value {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

fn refuse(ty: &Type, value: &Value) -> BoxError {
    format!("cannot store a {} value in a {ty} column", value.kind()).into()
}

/// Binds a [`Value`] to whatever type PostgreSQL inferred for the
/// parameter, as SQLite's column affinity would convert it.
impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => i.to_string().to_sql(ty, out),
                _ => Err(refuse(ty, self)),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(refuse(ty, self)),
            },
            Value::Text(t) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    t.as_str().to_sql(ty, out)
                }
                _ => Err(refuse(ty, self)),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(refuse(ty, self)),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Reads any column our migrations declare into a [`Value`].
impl<'r> postgres::types::FromSql<'r> for Value {
    fn from_sql(ty: &Type, raw: &'r [u8]) -> Result<Value, BoxError> {
        Ok(match *ty {
            Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Integer(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Value::Integer(i64::from(i16::from_sql(ty, raw)?)),
            Type::BOOL => Value::Integer(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::BYTEA => Value::Blob(<Vec<u8>>::from_sql(ty, raw)?),
            Type::VOID => Value::Null,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                Value::Text(String::from_sql(ty, raw)?)
            }
            _ => return Err(format!("the gateway does not read {ty} columns").into()),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Value, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renumbered_outside_quotes_only() {
        assert_eq!(
            dollar_parameters("SELECT ?1, '?2', \"a?\" FROM t WHERE x = ?12 AND y = ?"),
            "SELECT $1, '?2', \"a?\" FROM t WHERE x = $12 AND y = $1"
        );
    }

    #[test]
    fn values_convert_or_say_why_not() {
        let row = Row {
            values: vec![Value::Integer(7), Value::Text("x".into()), Value::Null],
        };
        assert_eq!(row.get::<_, i64>(0).unwrap(), 7);
        assert_eq!(row.get::<_, Option<String>>(2).unwrap(), None);
        assert!(matches!(
            row.get::<_, i64>(1),
            Err(Error::InvalidType { index: 1, .. })
        ));
        assert!(matches!(
            row.get::<_, u32>(5),
            Err(Error::InvalidColumnIndex(5))
        ));
        assert!(matches!(u64::MAX.to_value(), Err(Error::OutOfRange(_))));
        let row = Row {
            values: vec![Value::Integer(-1)],
        };
        assert!(matches!(row.get::<_, u64>(0), Err(Error::OutOfRange(_))));
    }
}
