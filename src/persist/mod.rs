//! Persistence behind a narrow interface: a key–value store of JSON documents.
//!
//! The app saves workspaces and durable broker state through [`KvStore`]. In the browser the store is
//! IndexedDB ([`idb::IdbStore`]); native tests use [`MemoryStore`]. Values are JSON text so the same serde
//! types serve IndexedDB, permalinks and reports.

#[cfg(target_arch = "wasm32")]
pub mod idb;

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

/// A key–value store of JSON text. Implementations must not lose a value they reported as written.
#[allow(async_fn_in_trait)] // used within the app only, on one thread; no Send bound is wanted
pub trait KvStore {
    async fn put(&self, key: &str, json: &str) -> Result<(), PersistError>;
    async fn get(&self, key: &str) -> Result<Option<String>, PersistError>;
    async fn delete(&self, key: &str) -> Result<(), PersistError>;
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
}
