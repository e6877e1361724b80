//! The browser's [`KvStore`]: one IndexedDB database with one object store of JSON text.

use super::{KvStore, PersistError, Write};
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

fn err(e: impl std::fmt::Debug) -> PersistError {
    // Debug keeps the DOMException's name (`QuotaExceededError`), which `is_quota` looks for.
    PersistError(format!("{e:?}"))
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

    /// Reads several keys in one transaction (a consistent view of all of them).
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<String>>, PersistError> {
        let tx = self.db.transaction(&[STORE], TransactionMode::ReadOnly).map_err(err)?;
        let store = tx.store(STORE).map_err(err)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(store.get(JsValue::from_str(key)).await.map_err(err)?.and_then(|v| v.as_string()));
        }
        tx.done().await.map_err(err)?;
        Ok(out)
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

    async fn write_batch(&self, writes: &[Write]) -> Result<(), PersistError> {
        let tx = self.db.transaction(&[STORE], TransactionMode::ReadWrite).map_err(err)?;
        let store = tx.store(STORE).map_err(err)?;
        let mut rest = writes;
        while let Some(first) = rest.first() {
            let done = match first {
                Write::Put { .. } => {
                    // A run of puts is issued at once and awaited once: no event-loop turn per record.
                    let run = rest.iter().take_while(|w| matches!(w, Write::Put { .. })).count();
                    let puts = rest[..run].iter().filter_map(|w| match w {
                        Write::Put { key, json } => {
                            Some((JsValue::from_str(json), Some(JsValue::from_str(key))))
                        }
                        Write::Delete { .. } => None,
                    });
                    let done = store.put_all(puts).await;
                    rest = &rest[run..];
                    done
                }
                Write::Delete { key } => {
                    rest = &rest[1..];
                    store.delete(JsValue::from_str(key)).await
                }
            };
            if let Err(e) = done {
                // An abort undoes the writes already made in this transaction: all or nothing.
                let _ = tx.abort().await;
                return Err(err(e));
            }
        }
        // A request that failed after the last one awaited (quota) fails the whole transaction here.
        tx.done().await.map_err(err)?;
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<String>, PersistError> {
        let tx = self.db.transaction(&[STORE], TransactionMode::ReadOnly).map_err(err)?;
        let store = tx.store(STORE).map_err(err)?;
        let keys = store.get_all_keys(None, None).await.map_err(err)?;
        tx.done().await.map_err(err)?;
        Ok(keys.into_iter().filter_map(|k| k.as_string()).collect())
    }
}
