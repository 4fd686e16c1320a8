//! Storage: one schema on SQLite (the embedded default) and PostgreSQL, through sqlx's `Any`
//! driver so that every query is written once and runs on both.
//!
//! Every change of state is made in a write transaction, [`Tx`], whose only way to commit takes the
//! audit events ([`Tx::commit`]): they are appended to the hash-chained log in the same transaction,
//! so a change and its record commit or vanish together, and a change without a record cannot
//! commit. The functions that write take a `&mut Tx`; those that read take a connection, which a
//! `Tx` is too.

pub mod audit;
pub mod backup;
pub mod bench;
pub mod booking;
pub mod calendar;
pub mod directory;
pub mod documents;
pub mod health;
pub mod mail;
pub mod pki;
pub mod portal;
pub mod queue;
pub mod register_entry;
pub mod registry;
pub mod registry_csv;
pub mod regulation;
pub mod statistics;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod trust;
pub mod workflow;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor};

pub use sqlx::Error as SqlError;

/// A write transaction, from [`Store::begin_write`]. On SQLite it is `BEGIN IMMEDIATE`, so that it
/// holds the write lock from the start and never fails half-way for a lock upgrade.
///
/// Its only public way to commit is [`Tx::commit`], which takes the audit events of what it did and
/// appends them to the chain in the same transaction; an empty list is refused and nothing is
/// written. A `Tx` dropped without a commit rolls back. The store's functions that write take a
/// `&mut Tx`; a `Tx` derefs to its connection for the reads made inside it (whatever is written
/// through it commits with the events or not at all).
pub struct Tx {
    inner: sqlx::Transaction<'static, sqlx::Any>,
}

impl Tx {
    /// Appends `events` to the audit chain inside this transaction and commits; returns the last
    /// entry's sequence number. Without events nothing is written: the transaction is rolled back
    /// and [`StoreError::Unaudited`] returned.
    pub async fn commit(mut self, events: &[audit::Event<'_>]) -> Result<i64> {
        if events.is_empty() {
            self.inner.rollback().await?;
            return Err(StoreError::Unaudited);
        }
        let seq = audit::append(&mut self, events).await?;
        self.inner.commit().await?;
        Ok(seq)
    }

    /// Ends the transaction without writing anything it did.
    pub async fn rollback(self) -> Result<()> {
        self.inner.rollback().await?;
        Ok(())
    }

    /// Commits without an audit entry: only for the bookkeeping the store names as not business
    /// state (sign-in challenges and throttle counters, mail delivery leases, the TSA's serial
    /// counter, the load runs' scratch table). `tests/audit_invariant.rs` holds the list of the
    /// functions that may call it and fails on any other.
    pub(crate) async fn commit_unaudited(self) -> Result<()> {
        self.inner.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tx")
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--database-url must start with postgres:// or postgresql:// (got {0:?})")]
    UnsupportedUrl(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error(
        "no qyzmet deployment at {0}; nothing was created (name the --data directory or \
         --database-url of a deployment) [rule store.no_deployment]"
    )]
    NoDeployment(String),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "a write transaction commits only with the audit entries of what it did; none were given, \
         so nothing was written [rule store.audit_required]"
    )]
    Unaudited,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `qyzmet.db` in this directory, created if missing.
    DataDir(PathBuf),
    /// A PostgreSQL server.
    Postgres(String),
}

impl Location {
    /// `--database-url` wins over `--data`.
    pub fn from_args(data: &Path, database_url: Option<&str>) -> Location {
        match database_url {
            Some(url) => Location::Postgres(url.to_owned()),
            None => Location::DataDir(data.to_owned()),
        }
    }

    /// What to print for a person: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Location::DataDir(dir) => dir.join(DB_FILE).display().to_string(),
            Location::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    parsed.to_string()
                }
                _ => url.clone(),
            },
        }
    }
}

const DB_FILE: &str = "qyzmet.db";

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Where write transactions begin. On SQLite a pool of one connection, so that writers of this
    /// process queue for it in order instead of meeting at the file lock, where SQLite's busy
    /// handler sleeps up to 100 ms between tries (the tail latency of signed submissions). On
    /// PostgreSQL the same pool.
    writer: AnyPool,
    backend: Backend,
    location: Location,
}

impl Store {
    /// Opens (creating if needed) and migrates the database.
    pub async fn open(location: &Location) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (url, backend, max) = match location {
            Location::DataDir(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                    path: dir.clone(),
                    source,
                })?;
                let file = dir.join(DB_FILE);
                (
                    format!("sqlite://{}?mode=rwc", file.display()),
                    Backend::Sqlite,
                    4,
                )
            }
            Location::Postgres(url) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(StoreError::UnsupportedUrl(url.clone()));
                }
                (url.clone(), Backend::Postgres, 10)
            }
        };
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool = Self::pool_options(backend, max)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let writer = match backend {
            Backend::Sqlite => Self::pool_options(backend, 1).connect_with(options).await?,
            Backend::Postgres => pool.clone(),
        };
        Ok(Store {
            pool,
            writer,
            backend,
            location: location.clone(),
        })
    }

    /// Opens a deployment that exists, and refuses — creating nothing — a data directory without
    /// its database or a PostgreSQL database without the platform's tables: a mistyped `--data`
    /// must not be verified, backed up or listed as an empty deployment.
    pub async fn open_existing(location: &Location) -> Result<Store> {
        match location {
            Location::DataDir(dir) if !dir.join(DB_FILE).is_file() => {
                return Err(StoreError::NoDeployment(location.describe()));
            }
            Location::DataDir(_) => {}
            Location::Postgres(url) => {
                sqlx::any::install_default_drivers();
                let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
                let mut probe = options.connect().await?;
                let found = sqlx::query("SELECT seq FROM audit_head WHERE id = 1")
                    .fetch_optional(&mut probe)
                    .await;
                let _ = probe.close().await;
                if found.is_err() {
                    return Err(StoreError::NoDeployment(location.describe()));
                }
            }
        }
        Store::open(location).await
    }

    fn pool_options(backend: Backend, max: u32) -> AnyPoolOptions {
        let mut pool = AnyPoolOptions::new().max_connections(max);
        if backend == Backend::Sqlite {
            // WAL lets readers run beside the writer; FULL makes each commit durable on disk;
            // the busy timeout makes a second writer wait instead of failing.
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    // Pages read through a memory map and a 64 MiB cache per connection, instead of
                    // a read() system call per page missed (the engine's profile showed them).
                    conn.execute("PRAGMA mmap_size = 268435456").await?;
                    conn.execute("PRAGMA cache_size = -65536").await?;
                    Ok(())
                })
            });
        }
        pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction (see [`Tx`]).
    pub async fn begin_write(&self) -> Result<Tx> {
        let inner = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(Tx { inner })
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Rows per multi-row `INSERT`: a round trip per row is what a batched write costs otherwise, but
/// SQLite finds a numbered parameter's name by a linear search, so a statement's binding grows with
/// the square of its parameters (measured: 100 rows of 11 columns spent more in binding than 20).
pub(crate) const ROWS_PER_INSERT: usize = 20;

/// `head VALUES ($1, …), (…)`: `rows` groups of `columns` numbered parameters.
pub(crate) fn insert_values(head: &str, columns: usize, rows: usize) -> String {
    let mut sql = format!("{head} VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * columns + column + 1));
        }
        sql.push(')');
    }
    sql
}

/// The current time as stored: RFC 3339 in UTC.
pub fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}
