//! A consumer (`basic.consume`): where it reads from and how many unacknowledged deliveries it may hold.
//!
//! # Reused tags
//! A consumer tag may be reused on a channel once its consumer was cancelled (RabbitMQ refuses a tag only
//! while a consumer holds it). Deliveries made under the old consumer stay unacknowledged on the channel,
//! under the same tag, and may still be settled. What they mean for the new consumer (same channel, same
//! queue) follows the queue type, as in RabbitMQ 3.10:
//! - classic queues: the channel's limiter keeps credit per tag; cancel forgets it
//!   (`rabbit_limiter:forget_consumer/2`), the new consumer gets its full prefetch
//!   (`rabbit_queue_consumers:add/11`), and every settled old delivery adds one credit to it
//!   (`rabbit_limiter:ack_from_queue/3` looks credit up by tag alone) — so it may then hold more than its
//!   prefetch;
//! - quorum queues: the cancelled consumer stays while it has checked-out messages, and the new one with
//!   the same tag takes them over (`rabbit_fifo:merge_consumer/4`: credit = prefetch − checked out), so old
//!   deliveries count against the new prefetch.
//!
//! # Invariants
//! - `unacked` counts the deliveries of this queue (incarnation) under this tag that await an ack on its
//!   channel, old consumers' included (always 0 with `auto_ack`).
//! - `earlier_unacked` ≤ `unacked`: those of them delivered before `first_delivery_tag` (to an earlier
//!   consumer with this tag); always 0 on a quorum queue, where old deliveries are taken over.

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
    /// The channel's next delivery tag when this consumer started: a delivery under its tag with a lower
    /// delivery tag went to an earlier consumer that held the same tag.
    pub first_delivery_tag: u64,
    /// Classic queues: deliveries of `unacked` that went to an earlier consumer with this tag; they do not
    /// use this consumer's prefetch.
    pub earlier_unacked: u32,
    /// Classic queues: one credit beyond the prefetch per earlier delivery settled since this consumer
    /// started (see the module doc).
    pub extra_credit: u32,
    /// Stream queues: the offset this consumer reads next (`None` on other queue types).
    pub stream_offset: Option<u64>,
}

impl Consumer {
    /// Whether the per-consumer limit allows one more delivery.
    pub fn has_credit(&self) -> bool {
        if self.auto_ack || self.prefetch == 0 {
            return true;
        }
        let own = u64::from(self.unacked - self.earlier_unacked);
        own < u64::from(self.prefetch) + u64::from(self.extra_credit)
    }

    /// A delivery under this consumer's tag from its queue is no longer unacknowledged (acked, requeued or
    /// dropped); `delivery_tag` tells whether it went to an earlier consumer with the same tag.
    pub fn settled(&mut self, delivery_tag: u64) {
        self.unacked -= 1;
        if delivery_tag < self.first_delivery_tag && self.earlier_unacked > 0 {
            self.earlier_unacked -= 1;
            self.extra_credit = self.extra_credit.saturating_add(1);
        }
    }
}
