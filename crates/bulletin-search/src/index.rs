//! Opening an index: one writer per directory (`writer.lock`), readers that
//! reload what it commits, and schema versions set aside.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tantivy::directory::MmapDirectory;
use tantivy::{Index, ReloadPolicy};

use crate::schema::{self, build_schema};
use crate::{Inner, SCHEMA_VERSION, SearchError, SearchIndex, Snapshot, Writer};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SearchError + '_ {
    move |source| SearchError::Io {
        path: path.to_owned(),
        source,
    }
}

fn lock_file(root: &Path) -> Result<Option<File>, SearchError> {
    let path = root.join("writer.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
    }
}

fn writer_for(index: &Index, lock: File) -> Result<Writer, SearchError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    Ok(Writer {
        writer: index.writer_with_num_threads(threads, 64_000_000 * threads)?,
        _lock: lock,
    })
}

fn payload_seq(index: &Index) -> i64 {
    index
        .load_metas()
        .ok()
        .and_then(|m| m.payload)
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        .and_then(|v| v.get("seq").and_then(serde_json::Value::as_i64))
        .unwrap_or(0)
}

impl SearchIndex {
    /// Opens (creating if need be) the index in `root`, as its writer if no other
    /// process is. An index of another schema version is removed by the writer.
    pub fn open(root: &Path) -> Result<SearchIndex, SearchError> {
        std::fs::create_dir_all(root).map_err(io(root))?;
        let lock = lock_file(root)?;
        let dir = root.join(format!("v{SCHEMA_VERSION}"));
        let (schema, fields) = build_schema();
        let index = if lock.is_some() {
            remove_other_versions(root, &dir);
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let open = MmapDirectory::open(&dir)
                .map_err(|e| SearchError::Index(e.into()))
                .and_then(|d| Ok(Index::open_or_create(d, schema.clone())?));
            match open {
                Ok(index) => index,
                Err(e) => {
                    tracing::warn!(error = %e, dir = %dir.display(), "search index unreadable; rebuilding it");
                    std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
                    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
                    Index::create_in_dir(&dir, schema)?
                }
            }
        } else {
            // The writer creates the index as it starts; give a process started at
            // the same moment a few seconds to do so.
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while !dir.join("meta.json").exists() {
                if std::time::Instant::now() > deadline {
                    return Err(SearchError::NotBuilt(root.to_owned()));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Index::open_in_dir(&dir)?
        };
        schema::register_analyzer(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = match lock {
            Some(lock) => Some(writer_for(&index, lock)?),
            None => None,
        };
        let snapshot = Snapshot {
            searcher: reader.searcher(),
            seq: payload_seq(&index),
        };
        Ok(SearchIndex {
            inner: Arc::new(Inner {
                root: root.to_owned(),
                index,
                fields,
                reader,
                snapshot: RwLock::new(Arc::new(snapshot)),
                writer: Mutex::new(writer),
                updating: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Whether this process writes the index.
    pub fn is_writer(&self) -> bool {
        self.inner.writer.lock().is_ok_and(|w| w.is_some())
    }

    /// The last change of the store's log that searches see.
    pub fn applied_seq(&self) -> i64 {
        self.snapshot().seq
    }

    /// Stories searchable now.
    pub fn num_stories(&self) -> u64 {
        self.snapshot().searcher.num_docs()
    }

    /// Bytes the index takes on disk.
    pub fn size_on_disk(&self) -> u64 {
        fn walk(path: &Path) -> u64 {
            std::fs::read_dir(path).map_or(0, |entries| {
                entries
                    .flatten()
                    .map(|e| match e.metadata() {
                        Ok(m) if m.is_dir() => walk(&e.path()),
                        Ok(m) => m.len(),
                        Err(_) => 0,
                    })
                    .sum()
            })
        }
        walk(&self.inner.root)
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        match self.inner.snapshot.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub(crate) fn set_snapshot(&self, seq: i64) -> Result<(), SearchError> {
        self.inner.reader.reload()?;
        let snapshot = Arc::new(Snapshot {
            searcher: self.inner.reader.searcher(),
            seq,
        });
        match self.inner.snapshot.write() {
            Ok(mut s) => *s = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        Ok(())
    }

    /// A reader (not the writer) picks up what the writer committed, and takes
    /// over the lock when the writer has gone.
    pub(crate) fn refresh_from_disk(&self) -> Result<bool, SearchError> {
        if let Some(lock) = lock_file(&self.inner.root)? {
            let writer = writer_for(&self.inner.index, lock)?;
            if let Ok(mut w) = self.inner.writer.lock() {
                *w = Some(writer);
            }
            tracing::info!(dir = %self.inner.root.display(), "took over writing the search index");
            return Ok(true);
        }
        // The payload first: the searcher loaded after it is at least as new.
        let seq = payload_seq(&self.inner.index);
        self.set_snapshot(seq)?;
        Ok(false)
    }
}

pub(crate) fn payload(seq: i64) -> String {
    serde_json::json!({ "seq": seq, "schema": SCHEMA_VERSION }).to_string()
}

fn remove_other_versions(root: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path != keep
            && path.is_dir()
            && name.starts_with('v')
            && name[1..].bytes().all(|b| b.is_ascii_digit())
        {
            tracing::info!(dir = %path.display(), "removing a search index of another schema version");
            if let Err(e) = std::fs::remove_dir_all(&path) {
                tracing::warn!(dir = %path.display(), error = %e, "cannot remove an old search index");
            }
        }
    }
}
