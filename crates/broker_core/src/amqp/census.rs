//! Message conservation: where every copy of every published message is now.
//!
//! A publish makes one *copy* per queue it is routed to, or a single copy if it is routed nowhere
//! (then returned or dropped as unroutable). Dead-lettering ends a copy (`dead_lettered`) and makes new
//! copies for the queues the dead-letter exchange routes to (or one dropped copy if it routes nowhere).
//!
//! # Invariants
//! - `copies == ready + unacked + acked + dead_lettered + returned + Σ dropped`, always.

use super::event::DropReason;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counts of message copies per place, as [`Broker::census`](super::Broker::census) reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Census {
    /// `basic.publish` methods accepted (not failed with a channel error).
    pub published: u64,
    /// Copies ever made (see the module doc).
    pub copies: u64,
    /// Copies waiting in queues now.
    pub ready: u64,
    /// Copies delivered and awaiting an ack now (including those whose queue has since been deleted).
    pub unacked: u64,
    /// Copies acknowledged (explicitly, or implicitly with `auto_ack`).
    pub acked: u64,
    /// Copies that left a queue for its dead-letter exchange.
    pub dead_lettered: u64,
    /// Unroutable mandatory publishes returned with `basic.return`.
    pub returned: u64,
    /// Copies dropped, by reason.
    pub dropped: BTreeMap<DropReason, u64>,
}

impl Census {
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }

    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped.get(&reason).copied().unwrap_or(0)
    }

    /// Whether every copy is accounted for exactly once.
    pub fn is_conserved(&self) -> bool {
        self.copies
            == self.ready
                + self.unacked
                + self.acked
                + self.dead_lettered
                + self.returned
                + self.dropped_total()
    }
}

/// The running totals the broker keeps (ready and unacked are counted live from the queues/channels).
#[derive(Clone, Debug, Default)]
pub(crate) struct Totals {
    pub published: u64,
    pub copies: u64,
    pub acked: u64,
    pub dead_lettered: u64,
    pub returned: u64,
    pub dropped: [u64; DropReason::ALL.len()],
}

impl Totals {
    pub fn drop(&mut self, reason: DropReason) {
        self.dropped[reason as usize] += 1;
    }

    pub fn to_census(&self, ready: u64, unacked: u64) -> Census {
        Census {
            published: self.published,
            copies: self.copies,
            ready,
            unacked,
            acked: self.acked,
            dead_lettered: self.dead_lettered,
            returned: self.returned,
            // Inserted one by one: `collect` into a map compiles a sort per element type (crate::order).
            dropped: {
                let mut dropped = BTreeMap::new();
                dropped.extend(
                    DropReason::ALL
                        .iter()
                        .filter(|r| self.dropped[**r as usize] > 0)
                        .map(|r| (*r, self.dropped[*r as usize])),
                );
                dropped
            },
        }
    }
}
