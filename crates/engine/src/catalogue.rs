//! The regulations the engine runs: the shipped files (compiled in by `build.rs`), optionally
//! overridden or extended by a directory at start-up, and every older version an open instance still
//! runs on, read back from the database by its SHA-256.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock};

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
    current: BTreeMap<String, Arc<Loaded>>,
    versions: RwLock<HashMap<String, Arc<Loaded>>>,
}

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

    /// The current version of a service.
    pub fn get(&self, code: &str) -> Option<Arc<Loaded>> {
        self.current.get(code).cloned()
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Loaded>> {
        self.current.values()
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
