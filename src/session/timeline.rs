//! The session's history: snapshots and deterministic replay behind rewind and scrubbing, fast-forward, and
//! the per-queue series behind the charts. (Work in progress.)
