//! Scratch databases for tests, so that every test suite runs the same cases on SQLite and on
//! PostgreSQL. Compiled only with the `test-support` feature.
//!
//! PostgreSQL is used when `QYZMET_TEST_DATABASE_URL` names a server (an administrative
//! database such as `postgres://postgres@127.0.0.1:5432/postgres`); each scratch store gets a
//! database of its own, dropped by [`Scratch::finish`]. Without the variable the PostgreSQL
//! cases are skipped with a note, unless `QYZMET_REQUIRE_POSTGRES=1` (set by CI) makes that a
//! failure.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor, PgConnection};

use crate::{Backend, Location, Store};

/// Name prefix of scratch databases, so that leftovers of aborted runs can be found.
pub const SCRATCH_PREFIX: &str = "qyzmet_scratch_";

pub struct Scratch {
    pub store: Store,
    pub location: Location,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Scratch {
    /// A fresh, migrated store on `backend`; `None` when PostgreSQL is not configured.
    pub async fn new(backend: Backend) -> Option<Scratch> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let location = Location::DataDir(dir.path().join("data"));
                let store = Store::open(&location).await.expect("open SQLite");
                Some(Scratch {
                    store,
                    location,
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let Ok(admin) = std::env::var("QYZMET_TEST_DATABASE_URL") else {
                    assert!(
                        std::env::var("QYZMET_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                        "QYZMET_REQUIRE_POSTGRES=1 but QYZMET_TEST_DATABASE_URL is not set"
                    );
                    eprintln!(
                        "note: QYZMET_TEST_DATABASE_URL is not set; skipping the PostgreSQL case"
                    );
                    return None;
                };
                let name = format!(
                    "{SCRATCH_PREFIX}{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed),
                    jiff::Timestamp::now().as_millisecond()
                );
                let mut conn = PgConnection::connect(&admin)
                    .await
                    .expect("connect to QYZMET_TEST_DATABASE_URL");
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("create scratch database");
                conn.close().await.expect("close");
                let mut url = url::Url::parse(&admin).expect("QYZMET_TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                let location = Location::Postgres(url.to_string());
                let store = Store::open(&location).await.expect("open PostgreSQL");
                Some(Scratch {
                    store,
                    location,
                    _dir: None,
                    postgres: Some((admin, name)),
                })
            }
        }
    }

    /// Closes the store and drops its PostgreSQL database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.postgres {
            let mut conn = PgConnection::connect(&admin)
                .await
                .expect("connect to QYZMET_TEST_DATABASE_URL");
            conn.execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await
            .expect("drop scratch database");
        }
    }
}

/// Defines `mod sqlite` and `mod postgres`, each with one `#[tokio::test]` per case, so that
/// every case runs on both backends: `both_backends!(case_a, case_b);` where each case is an
/// `async fn(&Store)` in scope.
#[macro_export]
macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let scratch = $crate::testing::Scratch::new($crate::Backend::Sqlite).await.expect("SQLite");
                    super::$case(&scratch.store).await;
                    scratch.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(scratch) = $crate::testing::Scratch::new($crate::Backend::Postgres).await {
                        super::$case(&scratch.store).await;
                        scratch.finish().await;
                    }
                }
            )*
        }
    };
}

/// Commits a test's fixture rows with the audit entry every write needs (`test.seed`, naming
/// `what` was seeded).
pub async fn commit_seed(tx: crate::Tx, what: &str) {
    tx.commit(&[crate::audit::Event::new(
        "test",
        "test.seed",
        "fixture",
        what,
    )])
    .await
    .expect("the fixture commits");
}
