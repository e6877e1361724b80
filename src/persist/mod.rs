//! Persistence behind a narrow interface: a key–value store of JSON documents.
//!
//! The app saves workspaces and durable broker state through [`KvStore`]. In the browser the store is
//! IndexedDB ([`idb::IdbStore`]); native tests use [`MemoryStore`]. Values are JSON text so the same serde
//! types serve IndexedDB, permalinks and reports. [`KvStore::write_batch`] is atomic (one IndexedDB
//! transaction), which is what makes a reload in the middle of a save show the state before or after it.
//!
//! Submodules: [`catalog`] (the store's schema, its version and migrations, the workspace list),
//! [`workspace`] (a workspace as stored and as a file), [`permalink`] (scenarios in the URL fragment),
//! [`saver`] (one write per animation frame), [`pages`] (the Kafka, SQS and Redis pages' workspaces), `lock` (tab ownership through Web Locks, browser only).

pub mod catalog;
#[cfg(target_arch = "wasm32")]
pub mod idb;
pub mod import;
#[cfg(target_arch = "wasm32")]
pub mod lock;
pub mod pages;
pub mod permalink;
pub mod saver;
pub mod workspace;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

/// Why a store operation failed, with the underlying platform's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistError(pub String);

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage error: {}", self.0)
    }
}

impl std::error::Error for PersistError {}

impl PersistError {
    /// Whether the browser refused the write for lack of space (`QuotaExceededError`).
    pub fn is_quota(&self) -> bool {
        self.0.contains("QuotaExceeded") || self.0.contains("quota")
    }
}

/// One change in a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    Put { key: String, json: String },
    Delete { key: String },
}

/// A key–value store of JSON text. Implementations must not lose a value they reported as written.
#[allow(async_fn_in_trait)] // used within the app only, on one thread; no Send bound is wanted
pub trait KvStore {
    async fn put(&self, key: &str, json: &str) -> Result<(), PersistError>;
    async fn get(&self, key: &str) -> Result<Option<String>, PersistError>;
    async fn delete(&self, key: &str) -> Result<(), PersistError>;
    /// Applies every write or none (one transaction).
    async fn write_batch(&self, writes: &[Write]) -> Result<(), PersistError>;
    /// Every key, in order (exports and checks).
    async fn keys(&self) -> Result<Vec<String>, PersistError>;
}

/// An in-memory store for native tests and for pages that run without storage.
#[derive(Default)]
pub struct MemoryStore {
    map: RefCell<BTreeMap<String, String>>,
}

impl KvStore for MemoryStore {
    async fn put(&self, key: &str, json: &str) -> Result<(), PersistError> {
        self.map.borrow_mut().insert(key.to_string(), json.to_string());
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<String>, PersistError> {
        Ok(self.map.borrow().get(key).cloned())
    }

    async fn delete(&self, key: &str) -> Result<(), PersistError> {
        self.map.borrow_mut().remove(key);
        Ok(())
    }

    async fn write_batch(&self, writes: &[Write]) -> Result<(), PersistError> {
        let mut map = self.map.borrow_mut();
        for w in writes {
            match w {
                Write::Put { key, json } => map.insert(key.clone(), json.clone()),
                Write::Delete { key } => map.remove(key),
            };
        }
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<String>, PersistError> {
        Ok(self.map.borrow().keys().cloned().collect())
    }
}
