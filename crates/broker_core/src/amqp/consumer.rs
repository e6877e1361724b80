//! A consumer (`basic.consume`): where it reads from and how many unacknowledged deliveries it may hold.
//!
//! # Invariants
//! - `unacked` counts this consumer's deliveries that await an ack on its channel (always 0 with
//!   `auto_ack`).

use super::types::Name;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    pub queue: Name,
    /// The queue's incarnation when the consumer started (a consumer never outlives its queue).
    pub queue_incarnation: u64,
    /// `no-ack`: deliveries count as acknowledged when sent, and prefetch does not apply.
    pub auto_ack: bool,
    pub exclusive: bool,
    /// Per-consumer prefetch (`basic.qos global=false` in force when the consumer started); 0 = unlimited.
    pub prefetch: u16,
    pub unacked: u32,
    /// `x-priority` (default 0): the queue serves higher priorities first while they have credit.
    pub priority: i64,
}

impl Consumer {
    /// Whether the per-consumer limit allows one more delivery.
    pub fn has_credit(&self) -> bool {
        self.auto_ack || self.prefetch == 0 || self.unacked < u32::from(self.prefetch)
    }
}
