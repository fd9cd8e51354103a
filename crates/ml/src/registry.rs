//! The model registry: versioned artefacts on disk, each with what it was trained on (date
//! range, features, horizon), its parameters and its out-of-sample metrics, and one promoted
//! version that serving uses. Crash-safe: an artefact is written to a temporary file, synced
//! and renamed into place, so a crash leaves either the whole artefact or none (a stray
//! temporary file, which is ignored); the promotion pointer is replaced the same way.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::validate::Scores;

/// Why the registry could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// An artefact file is not an artefact.
    #[error("{path} is not a model artefact: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parse error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// No artefact has this version.
    #[error("no model version {0}")]
    NotFound(u32),
}

/// A trained model and everything needed to trust and reuse it without retraining.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artefact {
    /// Assigned by [`Registry::save`].
    pub version: u32,
    /// When it was saved (Unix seconds).
    pub created: i64,
    /// The model.
    pub model: Model,
    /// Feature names, in the model's column order.
    pub features: Vec<String>,
    /// Label horizon (dates).
    pub horizon: usize,
    /// First and last date key of the training data.
    pub trained_on: (i64, i64),
    /// Out-of-sample scores of the walk-forward that chose it, if one ran.
    pub metrics: Option<Scores>,
    /// How it was trained (absent from artefacts saved before recipes were recorded).
    #[serde(default)]
    pub recipe: Option<crate::train::Recipe>,
}

/// A directory of artefacts `model-000001.json`, ... and the pointer `current`.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError + '_ {
    move |source| RegistryError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Registry {
    /// The registry in `dir`, created if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, RegistryError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(Self { dir })
    }

    fn file(&self, version: u32) -> PathBuf {
        self.dir.join(format!("model-{version:06}.json"))
    }

    /// Versions present, ascending (stray temporary files are not versions).
    pub fn versions(&self) -> Result<Vec<u32>, RegistryError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let name = entry.map_err(io(&self.dir))?.file_name();
            let name = name.to_string_lossy();
            if let Some(v) = name
                .strip_prefix("model-")
                .and_then(|rest| rest.strip_suffix(".json"))
                .and_then(|v| v.parse().ok())
            {
                out.push(v);
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Saves `artefact` as the next version and returns it.
    pub fn save(&self, mut artefact: Artefact) -> Result<u32, RegistryError> {
        let version = self.versions()?.last().map_or(1, |v| v + 1);
        artefact.version = version;
        let text = serde_json::to_vec_pretty(&artefact).map_err(|e| RegistryError::Corrupt {
            path: self.file(version),
            source: e,
        })?;
        self.write_atomically(&self.file(version), &text)?;
        Ok(version)
    }

    /// The artefact of `version`.
    pub fn load(&self, version: u32) -> Result<Artefact, RegistryError> {
        let path = self.file(version);
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RegistryError::NotFound(version));
            }
            Err(e) => return Err(io(&path)(e)),
        };
        serde_json::from_slice(&text).map_err(|source| RegistryError::Corrupt { path, source })
    }

    /// Makes `version` the one serving uses.
    pub fn promote(&self, version: u32) -> Result<(), RegistryError> {
        if !self.file(version).exists() {
            return Err(RegistryError::NotFound(version));
        }
        self.write_atomically(&self.dir.join("current"), version.to_string().as_bytes())
    }

    /// The promoted artefact, if any.
    pub fn current(&self) -> Result<Option<Artefact>, RegistryError> {
        let path = self.dir.join("current");
        match fs::read_to_string(&path) {
            Ok(text) => match text.trim().parse() {
                Ok(v) => self.load(v).map(Some),
                Err(_) => Err(RegistryError::Io {
                    path,
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{text:?} is not a version number"),
                    ),
                }),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Temporary file, fsync, rename, fsync of the directory.
    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(io(path))?;
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn artefact(lambda: f64) -> Artefact {
        let rows: [&[f64]; 3] = [&[1.0, 0.5], &[2.0, -0.25], &[3.0, 0.125]];
        Artefact {
            version: 0,
            created: 1_764_547_200,
            model: Model::Ridge(
                crate::linear::Ridge::fit(&rows, &[0.1, 0.2, 0.35], lambda).unwrap(),
            ),
            features: vec!["ret_1".into(), "ret_5".into()],
            horizon: 1,
            trained_on: (100, 200),
            metrics: Some(crate::validate::score(&[1.0, 2.0], &[1.0, 2.0], 2, 0..1, 1)),
            recipe: None,
        }
    }

    #[test]
    fn versions_round_trip_exactly_and_one_is_promoted() {
        let dir = tempfile::tempdir().unwrap();
        let r = Registry::open(dir.path()).unwrap();
        assert!(r.current().unwrap().is_none());
        assert_eq!(r.save(artefact(0.1)).unwrap(), 1);
        assert_eq!(r.save(artefact(0.2)).unwrap(), 2);
        let two = r.load(2).unwrap();
        assert_eq!(two.version, 2);
        // Bit for bit: the saved model predicts exactly what the trained one did. Scores of
        // too few dates are NaN, kept as JSON null.
        assert_eq!(two.model, artefact(0.2).model);
        assert!(two.metrics.unwrap().ic.is_nan());
        r.promote(1).unwrap();
        // Reopened (a restart), the promotion holds.
        let r = Registry::open(dir.path()).unwrap();
        assert_eq!(r.current().unwrap().unwrap().version, 1);
        assert!(matches!(r.promote(9), Err(RegistryError::NotFound(9))));
        assert!(matches!(r.load(9), Err(RegistryError::NotFound(9))));
    }

    #[test]
    fn a_crash_mid_write_leaves_no_half_artefact_and_a_corrupt_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let r = Registry::open(dir.path()).unwrap();
        r.save(artefact(0.1)).unwrap();
        // What a crash between create and rename leaves behind.
        fs::write(
            dir.path().join("model-000002.tmp-77"),
            b"{\"version\": 2, \"creat",
        )
        .unwrap();
        assert_eq!(r.versions().unwrap(), [1]);
        assert_eq!(r.save(artefact(0.3)).unwrap(), 2);
        fs::write(dir.path().join("model-000003.json"), b"{}").unwrap();
        let err = r.load(3).unwrap_err().to_string();
        assert!(
            err.contains("model-000003.json is not a model artefact"),
            "{err}"
        );
    }
}
