//! The browser's [`KvStore`]: one IndexedDB database with one object store of JSON text.

use super::{KvStore, PersistError};
use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::JsValue;

/// The object store every key lives in.
const STORE: &str = "kv";
/// The schema version; raising it is a migration (a newer stored version is reported, not overwritten).
pub const SCHEMA_VERSION: u32 = 1;

/// An open IndexedDB database.
pub struct IdbStore {
    db: Rexie,
}

fn err(e: impl std::fmt::Display) -> PersistError {
    PersistError(e.to_string())
}

impl IdbStore {
    /// Opens (creating if needed) the database `name`. Fails when IndexedDB is unavailable.
    pub async fn open(name: &str) -> Result<Self, PersistError> {
        let db = Rexie::builder(name)
            .version(SCHEMA_VERSION)
            .add_object_store(ObjectStore::new(STORE))
            .build()
            .await
            .map_err(err)?;
        Ok(IdbStore { db })
    }

    /// Deletes the whole database `name` (tests start from nothing).
    pub async fn delete_database(name: &str) -> Result<(), PersistError> {
        Rexie::delete(name).await.map_err(err)
    }

    pub fn close(self) {
        self.db.close();
    }
}

impl KvStore for IdbStore {
    async fn put(&self, key: &str, json: &str) -> Result<(), PersistError> {
        let tx = self.db.transaction(&[STORE], TransactionMode::ReadWrite).map_err(err)?;
        let store = tx.store(STORE).map_err(err)?;
        store.put(&JsValue::from_str(json), Some(&JsValue::from_str(key))).await.map_err(err)?;
        tx.done().await.map_err(err)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<String>, PersistError> {
        let tx = self.db.transaction(&[STORE], TransactionMode::ReadOnly).map_err(err)?;
        let store = tx.store(STORE).map_err(err)?;
        let value = store.get(JsValue::from_str(key)).await.map_err(err)?;
        tx.done().await.map_err(err)?;
        match value {
            None => Ok(None),
            Some(v) => v.as_string().map(Some).ok_or_else(|| err(format!("value at '{key}' is not text"))),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), PersistError> {
        let tx = self.db.transaction(&[STORE], TransactionMode::ReadWrite).map_err(err)?;
        let store = tx.store(STORE).map_err(err)?;
        store.delete(JsValue::from_str(key)).await.map_err(err)?;
        tx.done().await.map_err(err)?;
        Ok(())
    }
}
