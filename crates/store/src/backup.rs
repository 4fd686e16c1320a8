//! Backup and restore of a whole deployment (issue 7): `qyzmet backup` and `qyzmet restore`.
//!
//! **Design: a portable logical backup through the store**, not a copy of database files. Every
//! table of the schema ([`TABLES`], every `CREATE TABLE` of `migrations/*.sql`, parents before the
//! tables that refer to them) is read inside ONE read transaction, so the backup is one consistent
//! moment of a running deployment: on SQLite a read transaction in WAL mode sees the snapshot of its
//! first read while the node keeps committing; on PostgreSQL the transaction is
//! `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`, one snapshot for every statement in it. Rows
//! are written as JSON lines (`{"t": table, "r": [values]}`; integers and text as JSON, `NULL` as
//! `null`, and — not used by the schema today — `{"real": x}`, `{"blob": base64}`), which is exactly
//! what sqlx's `Any` driver gives on both backends, so a SQLite backup restores into PostgreSQL and
//! back. Why not `VACUUM INTO` and `pg_dump`: two formats, two tools to install on the node, and no
//! way from one database to the other — and the audit chain proves the logical content, not pages.
//!
//! **The file** is gzip (flate2) in two members, which `gzip -dc` reads as one text: the first is the
//! [`Header`] line (format and its version, the schema's migration version, the source backend, the
//! time, per table its columns and row count, the total, and the SHA-256 of the rows' bytes as
//! decompressed), the second the rows, table after table in [`TABLES`] order. The rows are written to
//! a side file first (the header needs their counts and hash), then header and rows to
//! `FILE.partial`, synced and renamed to `FILE`: a backup that fails leaves no `FILE`.
//!
//! **Restore** reads the whole file once before touching any database: gzip's CRC, the JSON of every
//! line, the tables, their order and column counts, the row counts and the hash must all be as the
//! header says, otherwise the file is refused and nothing is created or written. Then it opens the
//! target (which applies the migrations), refuses a database that holds any data (the migrations'
//! own seed rows, `audit_head` and `pki_counter` at their initial values, are not data), and inserts
//! every row in one write transaction — the self-referencing tables (`organisation`,
//! `pki_authority`) parents first — reading the file a second time and checking its hash again before
//! the commit. The restore is itself recorded: one audit entry `backup.restore` (the backup's hash,
//! time and source) is appended to the restored chain in the same transaction, so `audit_log` holds
//! the header's count plus one and `qyzmet audit verify` walks the restored chain and the new entry.
//!
//! The backup's migration version must be this binary's: restore with the version that made the
//! backup, then upgrade (`Store::open` migrates).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyArguments, AnyRow, AnyTypeInfoKind};
use sqlx::{Column, Row, ValueRef};

use crate::{Backend, Location, Store, StoreError};

/// The first field of every backup header.
pub const FORMAT: &str = "qyzmet-backup";
/// The version of the file layout this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Every table of the schema, each after the tables it refers to (a unit test checks the list
/// against the `CREATE TABLE`s of the migrations).
pub const TABLES: &[&str] = &[
    // 0001
    "audit_head",
    "audit_log",
    "person",
    "legal_entity",
    "power_of_attorney",
    "organisation",
    "organisation_service",
    "organisation_topic",
    "staff",
    "calendar_rules",
    // 0002
    "pki_authority",
    "pki_certificate",
    "pki_crl",
    "pki_counter",
    // 0003
    "regulation_version",
    "workflow_instance",
    "workflow_job",
    "gateway_message",
    "notification",
    // 0004
    "account",
    "web_session",
    "login_throttle",
    "login_challenge",
    "draft",
    "attachment",
    "register_counter",
    "questionnaire",
    // 0005
    "mail_delivery",
    // 0006
    "public_document",
    // 0007
    "real_estate",
    "real_estate_right",
    // 0008
    "queue_ticket",
    // 0010
    "identity_code",
    // 0011
    "pki_trust",
    "pki_trust_crl",
    "pki_trust_host",
    // 0012
    "queue_booking",
    // 0013
    "register_entry",
    // 0014
    "regulation_upload",
    "regulation_activation",
    "regulation_activation_counter",
    // 0015
    "ca_request",
];

/// Tables whose rows refer to rows of the same table: (table, key column, parent column).
const SELF_REFERENCES: &[(&str, &str, &str)] = &[
    ("organisation", "code", "parent"),
    ("pki_authority", "code", "parent"),
];

/// Tables the migrations fill with a row, and the query counting rows that differ from it.
const SEEDED: &[(&str, &str)] = &[
    (
        "audit_head",
        "SELECT COUNT(*) FROM audit_head WHERE NOT (id = 1 AND seq = 0)",
    ),
    (
        "pki_counter",
        "SELECT COUNT(*) FROM pki_counter WHERE NOT (name = 'tsa_serial' AND value = 0)",
    ),
];

/// The first line of a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// The schema's migration version the rows belong to.
    pub migration: i64,
    /// `sqlite` or `postgres`.
    pub source: String,
    /// When the snapshot was taken (RFC 3339, UTC).
    pub created_at: String,
    pub tables: Vec<TableCount>,
    /// All rows.
    pub rows: u64,
    /// SHA-256 (hex) of the rows' lines as decompressed, from the line after the header to the end.
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableCount {
    pub name: String,
    /// The columns of each row, in order (empty for a table without rows).
    pub columns: Vec<String>,
    pub rows: u64,
}

/// Why a backup or a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The input broke a rule: a corrupt file, a non-empty target, another schema version.
    #[error("{message} [rule {rule}]")]
    Refused { rule: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Store(StoreError::Sql(e))
    }
}

type Result<T, E = BackupError> = std::result::Result<T, E>;

fn refused(rule: &'static str, message: impl Into<String>) -> BackupError {
    BackupError::Refused {
        rule,
        message: message.into(),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub header: Header,
    /// The file's size.
    pub bytes: u64,
    pub elapsed: Duration,
}

/// The migration version this binary's schema ends at.
pub fn latest_migration() -> i64 {
    crate::MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Writes a consistent backup of `store` to `out` (which must not exist).
pub async fn backup(store: &Store, out: &Path) -> Result<Written> {
    let started = Instant::now();
    if out.exists() {
        return Err(refused(
            "backup.out_exists",
            format!("{} exists; a backup never overwrites a file", out.display()),
        ));
    }
    let body_path = side_path(out, "rows.partial");
    let partial = side_path(out, "partial");
    let result = write_backup(store, out, &body_path, &partial).await;
    let _ = std::fs::remove_file(&body_path);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    let (header, bytes) = result?;
    Ok(Written {
        header,
        bytes,
        elapsed: started.elapsed(),
    })
}

fn side_path(out: &Path, suffix: &str) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

async fn write_backup(
    store: &Store,
    out: &Path,
    body_path: &Path,
    partial: &Path,
) -> Result<(Header, u64)> {
    let body_file = File::create(body_path).map_err(io(body_path))?;
    let mut body = Hashing {
        inner: GzEncoder::new(BufWriter::new(body_file), Compression::default()),
        hasher: Sha256::new(),
    };
    let mut tx = match store.backend() {
        Backend::Sqlite => store.pool().begin().await?,
        Backend::Postgres => {
            store
                .pool()
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?
        }
    };
    // The first read fixes the snapshot (SQLite); the time is taken just before it.
    let created_at = crate::now_text();
    let migration: Option<i64> = sqlx::query("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    let mut total = 0;
    let mut line = Vec::new();
    for table in TABLES {
        let mut rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}"))).fetch(&mut *tx);
        let mut count = TableCount {
            name: (*table).to_owned(),
            columns: Vec::new(),
            rows: 0,
        };
        while let Some(row) = rows.try_next().await? {
            if count.rows == 0 {
                count.columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
            }
            let values = (0..row.columns().len())
                .map(|i| value_of(&row, i))
                .collect::<Result<Vec<_>>>()?;
            line.clear();
            serde_json::to_writer(
                &mut line,
                &Line {
                    t: table,
                    r: values,
                },
            )
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            line.push(b'\n');
            body.write_all(&line).map_err(io(body_path))?;
            count.rows += 1;
        }
        total += count.rows;
        tables.push(count);
    }
    tx.rollback().await?;
    let sha256 = hex::encode(body.hasher.finalize());
    let body_file = body
        .inner
        .finish()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .map_err(io(body_path))?;
    body_file.sync_all().map_err(io(body_path))?;
    drop(body_file);

    let header = Header {
        format: FORMAT.to_owned(),
        version: FORMAT_VERSION,
        migration: migration.unwrap_or(0),
        source: match store.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .to_owned(),
        created_at,
        tables,
        rows: total,
        sha256,
    };
    let file = File::create(partial).map_err(io(partial))?;
    let mut head = GzEncoder::new(BufWriter::new(file), Compression::default());
    serde_json::to_writer(&mut head, &header).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    head.write_all(b"\n").map_err(io(partial))?;
    let mut writer = head.finish().map_err(io(partial))?;
    let mut rows = File::open(body_path).map_err(io(body_path))?;
    std::io::copy(&mut rows, &mut writer).map_err(io(partial))?;
    let file = writer
        .into_inner()
        .map_err(|e| e.into_error())
        .map_err(io(partial))?;
    file.sync_all().map_err(io(partial))?;
    let bytes = file.metadata().map_err(io(partial))?.len();
    drop(file);
    std::fs::rename(partial, out).map_err(io(out))?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself is durable once the directory is synced (best effort elsewhere).
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok((header, bytes))
}

/// A writer that hashes what it is given before compressing it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[derive(Serialize)]
struct Line<'a> {
    t: &'a str,
    r: Vec<Value>,
}

#[derive(Deserialize)]
struct OwnedLine {
    t: String,
    r: Vec<Value>,
}

fn value_of(row: &AnyRow, i: usize) -> Result<Value> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().kind();
    Ok(match kind {
        AnyTypeInfoKind::Null => Value::Null,
        AnyTypeInfoKind::Bool => Value::Bool(row.try_get::<bool, _>(i)?),
        AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
            Value::from(row.try_get::<i64, _>(i)?)
        }
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => {
            serde_json::json!({ "real": row.try_get::<f64, _>(i)? })
        }
        AnyTypeInfoKind::Text => Value::String(row.try_get::<String, _>(i)?),
        AnyTypeInfoKind::Blob => serde_json::json!({
            "blob": base64::engine::general_purpose::STANDARD.encode(row.try_get::<Vec<u8>, _>(i)?)
        }),
    })
}

/// A value read back from a line.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Real,
    Text,
    Blob,
}

impl Cell {
    fn from_json(value: Value) -> Option<Cell> {
        Some(match value {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Bool(b),
            Value::Number(n) => Cell::Int(n.as_i64()?),
            Value::String(s) => Cell::Text(s),
            Value::Object(mut map) if map.len() == 1 => {
                if let Some(real) = map.remove("real") {
                    Cell::Real(real.as_f64()?)
                } else {
                    let blob = map.remove("blob")?;
                    Cell::Blob(
                        base64::engine::general_purpose::STANDARD
                            .decode(blob.as_str()?)
                            .ok()?,
                    )
                }
            }
            _ => return None,
        })
    }

    fn kind(&self) -> Option<Kind> {
        match self {
            Cell::Null => None,
            Cell::Bool(_) => Some(Kind::Bool),
            Cell::Int(_) => Some(Kind::Int),
            Cell::Real(_) => Some(Kind::Real),
            Cell::Text(_) => Some(Kind::Text),
            Cell::Blob(_) => Some(Kind::Blob),
        }
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, AnyArguments>;

/// Binds a value; a `NULL` is bound with the type the column's other values have (PostgreSQL
/// checks a parameter's type even when it is null), as an integer when none has one (PostgreSQL
/// casts an integer to a text column on assignment).
fn bind(query: AnyQuery<'_>, cell: Cell, kind: Option<Kind>) -> AnyQuery<'_> {
    match cell {
        Cell::Null => match kind {
            Some(Kind::Text) => query.bind(None::<String>),
            Some(Kind::Real) => query.bind(None::<f64>),
            Some(Kind::Bool) => query.bind(None::<bool>),
            Some(Kind::Blob) => query.bind(None::<Vec<u8>>),
            Some(Kind::Int) | None => query.bind(None::<i64>),
        },
        Cell::Bool(b) => query.bind(b),
        Cell::Int(i) => query.bind(i),
        Cell::Real(f) => query.bind(f),
        Cell::Text(s) => query.bind(s),
        Cell::Blob(b) => query.bind(b),
    }
}

/// The rows of a backup file, decompressed, hashed as they are read.
struct RowReader {
    path: PathBuf,
    lines: BufReader<MultiGzDecoder<File>>,
    hasher: Sha256,
    buf: Vec<u8>,
    /// Line number (1 is the header).
    line: u64,
}

fn corrupt(path: &Path, what: impl std::fmt::Display) -> BackupError {
    refused(
        "backup.corrupt",
        format!(
            "{} is not an intact backup: {what}; nothing was written",
            path.display()
        ),
    )
}

impl RowReader {
    /// Opens the file and reads its header.
    fn open(path: &Path) -> Result<(RowReader, Header)> {
        let file = File::open(path).map_err(io(path))?;
        let mut reader = RowReader {
            path: path.to_owned(),
            lines: BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)),
            hasher: Sha256::new(),
            buf: Vec::new(),
            line: 0,
        };
        if !reader.next_raw()? {
            return Err(corrupt(path, "it is empty"));
        }
        let header: Header = serde_json::from_slice(&reader.buf).map_err(|e| {
            refused(
                "backup.format",
                format!(
                    "{} does not start with a qyzmet backup header ({e})",
                    path.display()
                ),
            )
        })?;
        if header.format != FORMAT || header.version != FORMAT_VERSION {
            return Err(refused(
                "backup.format",
                format!(
                    "{} is format {:?} version {}; this qyzmet reads {FORMAT:?} version {FORMAT_VERSION}",
                    path.display(),
                    header.format,
                    header.version
                ),
            ));
        }
        reader.hasher = Sha256::new();
        Ok((reader, header))
    }

    /// The next line into `buf` (without hashing); false at the end.
    fn next_raw(&mut self) -> Result<bool> {
        self.buf.clear();
        let n = self
            .lines
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidData
                | std::io::ErrorKind::InvalidInput
                | std::io::ErrorKind::UnexpectedEof => corrupt(&self.path, e),
                _ => BackupError::Io {
                    path: self.path.clone(),
                    source: e,
                },
            })?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.buf.last() != Some(&b'\n') {
            return Err(corrupt(
                &self.path,
                format!("line {} is cut off", self.line),
            ));
        }
        Ok(true)
    }

    /// The next row: its table and values; `None` at the end.
    fn next_row(&mut self) -> Result<Option<(String, Vec<Cell>)>> {
        if !self.next_raw()? {
            return Ok(None);
        }
        self.hasher.update(&self.buf);
        let line: OwnedLine = serde_json::from_slice(&self.buf)
            .map_err(|e| corrupt(&self.path, format!("line {}: {e}", self.line)))?;
        let cells = line
            .r
            .into_iter()
            .map(Cell::from_json)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                corrupt(
                    &self.path,
                    format!("line {}: a value of no known kind", self.line),
                )
            })?;
        Ok(Some((line.t, cells)))
    }

    fn finish_hash(&mut self) -> String {
        hex::encode(std::mem::take(&mut self.hasher).finalize())
    }
}

/// What [`check`] found: the header, and per table of the header the kind of each column's values.
#[derive(Debug, Clone)]
pub struct Checked {
    pub header: Header,
    kinds: Vec<Vec<Option<Kind>>>,
}

/// Reads the whole file and checks it against its header: every line whole and of a table of the
/// header in order, with its columns, the counts and the hash. Touches no database.
pub fn check(path: &Path) -> Result<Checked> {
    let (mut reader, header) = RowReader::open(path)?;
    for table in &header.tables {
        if !TABLES.contains(&table.name.as_str()) {
            return Err(refused(
                "backup.format",
                format!(
                    "{} has table {:?}, which this qyzmet's schema does not",
                    path.display(),
                    table.name
                ),
            ));
        }
    }
    let mut kinds: Vec<Vec<Option<Kind>>> = header
        .tables
        .iter()
        .map(|t| vec![None; t.columns.len()])
        .collect();
    let mut counts = vec![0u64; header.tables.len()];
    let mut current = 0;
    while let Some((table, cells)) = reader.next_row()? {
        let line = reader.line;
        let Some(index) = header.tables[current..]
            .iter()
            .position(|t| t.name == table)
            .map(|i| i + current)
        else {
            return Err(corrupt(
                path,
                format!("line {line}: table {table:?} is not in the header or out of order"),
            ));
        };
        current = index;
        let expected = &header.tables[index];
        if cells.len() != expected.columns.len() {
            return Err(corrupt(
                path,
                format!(
                    "line {line}: {} values where {table} has {} columns",
                    cells.len(),
                    expected.columns.len()
                ),
            ));
        }
        for (kind, cell) in kinds[index].iter_mut().zip(&cells) {
            if kind.is_none() {
                *kind = cell.kind();
            }
        }
        counts[index] += 1;
    }
    for (table, count) in header.tables.iter().zip(&counts) {
        if table.rows != *count {
            return Err(corrupt(
                path,
                format!(
                    "table {} has {count} rows where the header says {}",
                    table.name, table.rows
                ),
            ));
        }
    }
    if counts.iter().sum::<u64>() != header.rows {
        return Err(corrupt(
            path,
            "the rows do not add up to the header's total",
        ));
    }
    let sha256 = reader.finish_hash();
    if sha256 != header.sha256 {
        return Err(corrupt(
            path,
            format!(
                "the rows' SHA-256 is {sha256} where the header says {}",
                header.sha256
            ),
        ));
    }
    Ok(Checked { header, kinds })
}

/// What a restore wrote.
#[derive(Debug, Clone)]
pub struct Restored {
    pub header: Header,
    pub elapsed: Duration,
}

/// Restores the backup `path` into the empty database at `location` (created and migrated if need
/// be); `actor` is recorded in the audit entry of the restore.
pub async fn restore(location: &Location, path: &Path, actor: &str) -> Result<Restored> {
    let started = Instant::now();
    let checked = check(path)?;
    let header = &checked.header;
    if header.migration != latest_migration() {
        return Err(refused(
            "restore.migration",
            format!(
                "the backup's schema is at migration {} and this qyzmet's at {}; restore with the \
                 qyzmet version that made the backup, then upgrade",
                header.migration,
                latest_migration()
            ),
        ));
    }
    let store = Store::open(location).await?;
    let result = load(&store, &checked, path, actor).await;
    store.close().await;
    result?;
    Ok(Restored {
        header: checked.header,
        elapsed: started.elapsed(),
    })
}

/// The tables of the database that hold data, with their counts (empty: none).
pub async fn occupied_tables(store: &Store) -> Result<Vec<(String, i64)>> {
    let mut conn = store.pool().acquire().await?;
    occupied_in(&mut conn).await
}

async fn occupied_in(conn: &mut sqlx::AnyConnection) -> Result<Vec<(String, i64)>> {
    let mut occupied = Vec::new();
    for table in TABLES {
        let sql = SEEDED
            .iter()
            .find(|(name, _)| name == table)
            .map(|(_, sql)| (*sql).to_owned())
            .unwrap_or_else(|| format!("SELECT COUNT(*) FROM {table}"));
        let count: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        if count > 0 {
            occupied.push(((*table).to_owned(), count));
        }
    }
    Ok(occupied)
}

async fn load(store: &Store, checked: &Checked, path: &Path, actor: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    // Checked inside the write transaction, so that nothing is written meanwhile (SQLite holds the
    // write lock; on PostgreSQL a concurrent writer would meet the primary keys).
    let occupied = occupied_in(&mut tx).await?;
    if !occupied.is_empty() {
        let list = occupied
            .iter()
            .take(5)
            .map(|(t, n)| format!("{t}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(refused(
            "restore.target_not_empty",
            format!(
                "{} already holds data ({list}{}); a backup is restored only into an empty \
                 database, nothing was written",
                store.location().describe(),
                if occupied.len() > 5 { ", …" } else { "" }
            ),
        ));
    }
    for (table, _) in SEEDED {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(&mut *tx)
            .await?;
    }
    let header = &checked.header;
    let (mut reader, again) = RowReader::open(path)?;
    if &again != header {
        return Err(corrupt(path, "the file changed while it was restored"));
    }
    let mut batch: Vec<Vec<Cell>> = Vec::new();
    let mut batch_table: Option<usize> = None;
    while let Some((table, cells)) = reader.next_row()? {
        let Some(index) = header.tables.iter().position(|t| t.name == table) else {
            return Err(corrupt(path, "the file changed while it was restored"));
        };
        if batch_table != Some(index) {
            if let Some(previous) = batch_table {
                insert(&mut tx, checked, previous, std::mem::take(&mut batch)).await?;
            }
            batch_table = Some(index);
        }
        batch.push(cells);
        let self_referencing = SELF_REFERENCES.iter().any(|(t, _, _)| *t == table);
        if !self_referencing && batch.len() >= crate::ROWS_PER_INSERT {
            insert(&mut tx, checked, index, std::mem::take(&mut batch)).await?;
        }
    }
    if let Some(previous) = batch_table {
        insert(&mut tx, checked, previous, batch).await?;
    }
    if reader.finish_hash() != header.sha256 {
        return Err(corrupt(path, "the file changed while it was restored"));
    }
    tx.commit(&[crate::audit::Event {
        actor,
        action: "backup.restore",
        object_kind: "backup",
        object_id: &header.sha256,
        details: serde_json::json!({
            "created_at": header.created_at,
            "source": header.source,
            "migration": header.migration,
            "rows": header.rows,
        }),
    }])
    .await?;
    Ok(())
}

/// Inserts rows of the header's table `index`, many per statement; the rows of a self-referencing
/// table (all of them at once) parents first.
async fn insert(
    tx: &mut crate::Tx,
    checked: &Checked,
    index: usize,
    mut rows: Vec<Vec<Cell>>,
) -> Result<()> {
    let table = &checked.header.tables[index];
    let kinds = &checked.kinds[index];
    if let Some((_, key, parent)) = SELF_REFERENCES.iter().find(|(t, _, _)| *t == table.name) {
        let key = table.columns.iter().position(|c| c == key);
        let parent = table.columns.iter().position(|c| c == parent);
        if let (Some(key), Some(parent)) = (key, parent) {
            rows = parents_first(rows, key, parent);
        }
    }
    let columns = table
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(", ");
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(crate::ROWS_PER_INSERT).collect();
        let sql = crate::insert_values(
            &format!("INSERT INTO {} ({columns})", table.name),
            table.columns.len(),
            chunk.len(),
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for (cell, kind) in row.into_iter().zip(kinds) {
                query = bind(query, cell, *kind);
            }
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Orders rows so that each comes after the row its `parent` column names (rows whose parent is
/// missing keep their place at the end, for the database to refuse).
fn parents_first(rows: Vec<Vec<Cell>>, key: usize, parent: usize) -> Vec<Vec<Cell>> {
    let mut placed = std::collections::HashSet::new();
    let mut ordered = Vec::with_capacity(rows.len());
    let mut remaining = rows;
    loop {
        let before = remaining.len();
        let mut next = Vec::new();
        for row in remaining {
            let ready = match &row[parent] {
                Cell::Null => true,
                value => placed.contains(&format!("{value:?}")),
            };
            if ready {
                placed.insert(format!("{:?}", row[key]));
                ordered.push(row);
            } else {
                next.push(row);
            }
        }
        remaining = next;
        if remaining.is_empty() || remaining.len() == before {
            ordered.extend(remaining);
            return ordered;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table the migrations create is backed up, and no other.
    #[test]
    fn the_table_list_is_the_schema() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut created = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("migrations")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read");
            for line in text.lines() {
                if let Some(rest) = line.trim().strip_prefix("CREATE TABLE ") {
                    let name = rest
                        .split(|c: char| c.is_whitespace() || c == '(')
                        .next()
                        .expect("name");
                    created.push(name.to_owned());
                }
            }
        }
        let mut listed: Vec<String> = TABLES.iter().map(|t| (*t).to_owned()).collect();
        created.sort();
        listed.sort();
        assert_eq!(created, listed);
    }

    #[test]
    fn parents_come_first() {
        let row = |k: &str, p: Option<&str>| {
            vec![
                Cell::Text(k.to_owned()),
                p.map_or(Cell::Null, |p| Cell::Text(p.to_owned())),
            ]
        };
        let rows = vec![
            row("c", Some("b")),
            row("b", Some("a")),
            row("a", None),
            row("d", Some("a")),
        ];
        let ordered = parents_first(rows, 0, 1);
        let keys: Vec<_> = ordered.iter().map(|r| r[0].clone()).collect();
        assert_eq!(
            keys,
            vec![
                Cell::Text("a".into()),
                Cell::Text("d".into()),
                Cell::Text("b".into()),
                Cell::Text("c".into())
            ]
        );
    }
}
