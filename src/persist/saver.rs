//! Batching: the writes asked for during a frame are coalesced by key (the last one wins) and flushed as
//! one atomic batch, so the store sees at most one transaction per animation frame whatever the number
//! of changes. A failed flush (quota exceeded) gives its writes back, under any newer ones, so nothing
//! the page holds is lost and the next frame retries.

use super::Write;
use std::collections::BTreeMap;

/// Pending writes, by key.
///
/// # Invariants
/// - At most one pending write per key; `in_flight` is set between [`Saver::take`] and
///   [`Saver::finished`], and no second batch is taken meanwhile.
#[derive(Debug, Default)]
pub struct Saver {
    pending: BTreeMap<String, Option<String>>,
    in_flight: bool,
    /// Batches flushed (for the status line and tests).
    pub flushed: u64,
}

impl Saver {
    pub fn put(&mut self, key: &str, json: String) {
        self.pending.insert(key.to_string(), Some(json));
    }

    pub fn delete(&mut self, key: &str) {
        self.pending.insert(key.to_string(), None);
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    pub fn in_flight(&self) -> bool {
        self.in_flight
    }

    /// The batch to write this frame, if any (none while the previous one is still being written).
    pub fn take(&mut self) -> Option<Vec<Write>> {
        if self.in_flight || self.pending.is_empty() {
            return None;
        }
        self.in_flight = true;
        let batch = std::mem::take(&mut self.pending)
            .into_iter()
            .map(|(key, json)| match json {
                Some(json) => Write::Put { key, json },
                None => Write::Delete { key },
            })
            .collect();
        Some(batch)
    }

    /// The batch was written (`Ok`) or refused: a refused batch goes back, newer writes taking precedence.
    pub fn finished(&mut self, batch: Vec<Write>, ok: bool) {
        self.in_flight = false;
        if ok {
            self.flushed += 1;
            return;
        }
        for w in batch {
            let (key, json) = match w {
                Write::Put { key, json } => (key, Some(json)),
                Write::Delete { key } => (key, None),
            };
            self.pending.entry(key).or_insert(json);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_coalesce_into_one_batch_and_a_refused_batch_comes_back_under_newer_writes() {
        let mut s = Saver::default();
        for i in 0..100 {
            s.put("workspace/w1", format!("{i}"));
        }
        s.put("workspaces", "index".into());
        let batch = s.take().expect("a batch");
        assert_eq!(batch.len(), 2, "one write per key");
        assert!(batch.contains(&Write::Put { key: "workspace/w1".into(), json: "99".into() }));
        s.put("workspace/w1", "100".into());
        assert_eq!(s.take(), None, "one batch at a time");
        s.finished(batch, false);
        let again = s.take().expect("retried");
        assert!(again.contains(&Write::Put { key: "workspace/w1".into(), json: "100".into() }), "newer wins");
        assert!(again.contains(&Write::Put { key: "workspaces".into(), json: "index".into() }), "kept");
        s.finished(again, true);
        assert!(!s.has_pending());
        assert_eq!(s.flushed, 1);
    }
}
