//! The regulations the engine runs: the shipped files (compiled in by `build.rs`), optionally
//! overridden or extended by a directory at start-up, and every older version an open instance still
//! runs on, read back from the database by its SHA-256.
//!
//! An administrator may activate another version of a service (the console, migration 0014): the
//! database names it, and it replaces the compiled-in (or directory) file for new applications on
//! every node. A node learns of an activation by [`Catalogue::refresh`]: one primary-key read of the
//! activation counter, and the activations themselves (a row per service) only when the counter
//! moved. The doors that start applications (a submission, a counter's intake) refresh first, and
//! [`Catalogue::watch`] refreshes every second so that the pages follow too. An application keeps
//! the version it started on.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use qyzmet_domain::regulation::{Problem, Regulation, check, parse};
use qyzmet_store::Store;
use sha2::{Digest, Sha256};

use crate::EngineError;

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// A checked regulation and the exact text it came from.
#[derive(Debug)]
pub struct Loaded {
    pub file: String,
    /// Hex SHA-256 of the text.
    pub version: String,
    pub text: String,
    pub regulation: Regulation,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
    #[error("{file}: a regulation with code {code:?} is already loaded from {other}")]
    DuplicateCode {
        file: String,
        code: String,
        other: String,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

pub fn version_of(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[derive(Debug, Default)]
pub struct Catalogue {
    /// The compiled-in files and the directory's: the default of each service.
    current: BTreeMap<String, Arc<Loaded>>,
    versions: RwLock<HashMap<String, Arc<Loaded>>>,
    /// The versions the database activated, by service: they replace `current` for new
    /// applications. Each is lent out for the life of the process (see [`Catalogue::keep`]).
    activated: RwLock<BTreeMap<String, &'static Arc<Loaded>>>,
    /// Every activated version this node has held, by version.
    kept: Mutex<HashMap<String, &'static Arc<Loaded>>>,
    /// The activation counter last read, and when.
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    serial: i64,
    at: Option<Instant>,
}

/// How often [`Catalogue::watch`] reads the activation counter.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);

impl Catalogue {
    /// Every shipped regulation; all must pass `regulation check`.
    pub fn shipped() -> Result<Catalogue, CatalogueError> {
        let mut catalogue = Catalogue::default();
        catalogue.add_all(
            SHIPPED
                .iter()
                .map(|(file, text)| ((*file).to_owned(), (*text).to_owned())),
            false,
        )?;
        Ok(catalogue)
    }

    /// Adds the `*.toml` files of `dir`; a file with the code of a shipped regulation replaces it.
    pub fn with_directory(mut self, dir: &Path) -> Result<Catalogue, CatalogueError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|source| CatalogueError::Read {
                path: dir.display().to_string(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        let files = paths
            .iter()
            .map(|p| Ok((p.display().to_string(), read(p)?)))
            .collect::<Result<Vec<_>, CatalogueError>>()?;
        self.add_all(files, true)?;
        Ok(self)
    }

    fn add_all(
        &mut self,
        files: impl IntoIterator<Item = (String, String)>,
        replace: bool,
    ) -> Result<(), CatalogueError> {
        let mut problems = Vec::new();
        let mut added: BTreeMap<String, String> = BTreeMap::new();
        for (file, text) in files {
            match check(&file, &text) {
                Ok(regulation) => {
                    let code = regulation.code.clone();
                    if let Some(other) = added.get(&code) {
                        return Err(CatalogueError::DuplicateCode {
                            file,
                            code,
                            other: other.clone(),
                        });
                    }
                    if !replace && let Some(other) = self.current.get(&code) {
                        return Err(CatalogueError::DuplicateCode {
                            file,
                            code,
                            other: other.file.clone(),
                        });
                    }
                    added.insert(code.clone(), file.clone());
                    let loaded = Arc::new(Loaded {
                        file,
                        version: version_of(&text),
                        text,
                        regulation,
                    });
                    self.remember(&loaded);
                    self.current.insert(code, loaded);
                }
                Err(found) => problems.extend(found),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CatalogueError::Invalid(problems))
        }
    }

    fn remember(&self, loaded: &Arc<Loaded>) {
        if let Ok(mut versions) = self.versions.write() {
            versions.insert(loaded.version.clone(), loaded.clone());
        }
    }

    /// The current version of a service: the one the database activated, else the default.
    pub fn get(&self, code: &str) -> Option<Arc<Loaded>> {
        let activated = self
            .activated
            .read()
            .ok()
            .and_then(|a| a.get(code).map(|l| Arc::clone(l)));
        activated.or_else(|| self.current.get(code).cloned())
    }

    /// The compiled-in (or directory) version of a service, whatever the database activated.
    pub fn default_version(&self, code: &str) -> Option<Arc<Loaded>> {
        self.current.get(code).cloned()
    }

    /// The current version of every service, by code.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Loaded>> {
        let mut all: BTreeMap<&str, &Arc<Loaded>> = self
            .current
            .iter()
            .map(|(code, loaded)| (code.as_str(), loaded))
            .collect();
        if let Ok(activated) = self.activated.read() {
            for loaded in activated.values() {
                let loaded: &'static Arc<Loaded> = loaded;
                all.insert(loaded.regulation.code.as_str(), loaded);
            }
        }
        all.into_values().collect::<Vec<_>>().into_iter()
    }

    /// An activated version lent out for the rest of the process, once per version. The pages
    /// borrow the catalogue's regulations ([`Catalogue::all`]), so a version that replaces another
    /// while they read must outlive them; a node keeps every version it has seen anyway
    /// (`versions`), and activations are an administrator's rare act, so this holds no more.
    fn keep(&self, loaded: Arc<Loaded>) -> &'static Arc<Loaded> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.entry(loaded.version.clone())
            .or_insert_with(|| Box::leak(Box::new(loaded)))
    }

    /// Reads the activation counter unless it was read within `max_age`, and when it moved, the
    /// activations; true when this node's current versions changed.
    pub async fn refresh(&self, store: &Store, max_age: Duration) -> Result<bool, EngineError> {
        {
            let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.at.is_some_and(|at| at.elapsed() < max_age) {
                return Ok(false);
            }
        }
        let serial = store.activation_serial().await?;
        let known = self.seen.lock().unwrap_or_else(|e| e.into_inner()).serial;
        if serial <= known {
            self.seen.lock().unwrap_or_else(|e| e.into_inner()).at = Some(Instant::now());
            return Ok(false);
        }
        let mut activated = BTreeMap::new();
        for activation in store.activations().await? {
            let loaded = self.version(store, &activation.version).await?;
            activated.insert(activation.code, self.keep(loaded));
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if serial <= seen.serial {
            // Another refresh installed as new a state meanwhile.
            return Ok(false);
        }
        if let Ok(mut current) = self.activated.write() {
            *current = activated;
        }
        *seen = Seen {
            serial,
            at: Some(Instant::now()),
        };
        Ok(true)
    }

    /// Refreshes every [`WATCH_INTERVAL`] until `stop` turns true.
    pub async fn watch(&self, store: &Store, mut stop: tokio::sync::watch::Receiver<bool>) {
        while !*stop.borrow() {
            if let Err(e) = self.refresh(store, WATCH_INTERVAL).await {
                tracing::warn!(error = %e, "regulation activations");
            }
            let _ = tokio::time::timeout(WATCH_INTERVAL, stop.changed()).await;
        }
    }

    /// Records the current versions in the database, so that instances can name them.
    pub async fn register(&self, store: &Store) -> Result<(), EngineError> {
        let mut tx = store.begin_write().await?;
        let mut added = Vec::new();
        for loaded in self.current.values() {
            if qyzmet_store::workflow::put_regulation(
                &mut tx,
                &loaded.regulation.code,
                &loaded.version,
                &loaded.text,
            )
            .await?
            {
                added.push(loaded);
            }
        }
        if added.is_empty() {
            // Every version was recorded already: nothing was written.
            tx.rollback().await?;
            return Ok(());
        }
        let events: Vec<qyzmet_store::audit::Event<'_>> = added
            .iter()
            .map(|loaded| {
                qyzmet_store::audit::Event::new(
                    "system:engine",
                    "regulation.register",
                    "regulation_version",
                    &loaded.version,
                )
                .with_details(serde_json::json!({ "code": loaded.regulation.code }))
            })
            .collect();
        tx.commit(&events).await?;
        Ok(())
    }

    /// The regulation an instance runs on: in memory, or read back from the database.
    pub async fn version(&self, store: &Store, version: &str) -> Result<Arc<Loaded>, EngineError> {
        if let Some(found) = self
            .versions
            .read()
            .ok()
            .and_then(|v| v.get(version).cloned())
        {
            return Ok(found);
        }
        let text = store
            .regulation_text(version)
            .await?
            .ok_or_else(|| EngineError::UnknownVersion(version.to_owned()))?;
        // Checked when it was stored; a rule added since must not strand its applications.
        let regulation = parse(version, &text).map_err(CatalogueError::Invalid)?;
        let loaded = Arc::new(Loaded {
            file: format!("database:{version}"),
            version: version.to_owned(),
            text,
            regulation,
        });
        self.remember(&loaded);
        Ok(loaded)
    }
}
