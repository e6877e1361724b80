//! One delivery run of a classic or quorum queue: its ready messages to the consumers in its line that
//! have credit. The run borrows the queue and, apart from it, the parts of the broker a delivery touches
//! ([`Deliverer`]), so a caller that already holds the queue (a publish's enqueue, an ack) runs it
//! without looking the queue up again by name.
//!
//! # Invariants
//! - Consumers are served from the front of the line (highest priority first) and go to the end of
//!   their priority; one found without credit leaves the line for the queue's `blocked` list (a
//!   single-active-consumer queue serves only its front consumer and keeps it in place).
//! - Blocked consumers rejoin the line, in the order they were blocked, when they have credit again:
//!   checked at the start of a run unless they were checked with no credit given back since (the caller
//!   says so, or [`BlockedCheck`] remembers it).
//! - A run ends when the queue has no ready message, no consumer in its line, or (single active
//!   consumer) an active consumer without credit; or early, when a delivery left a head with an expiry
//!   ([`Delivered::HeadsToExpire`]): expiring needs the whole broker, so the broker expires heads and
//!   runs again.
//! - A stream queue is never run here (the broker reads its log instead).

use super::broker::BrokerConfig;
use super::census::Totals;
use super::channel::{consumer_mut, Channel, Connection, Unacked};
use super::event::{Event, LoggedEvent};
use super::queue::{ConsumerKey, Queue};
use super::types::{ConnectionId, DeliveryTag, Name};
use super::vec_map::VecMap;
use crate::clock::VirtualTime;
use std::rc::Rc;

/// Remembers that one queue's blocked consumers were all found without credit, and when: at a count of
/// the moments credit may have come back to some consumer. While the count stands the finding holds
/// (a consumer blocked since was found without credit too), so a run need not check them again: a publish
/// into a queue whose consumers are all blocked (a full prefetch) skips the check. Speed only.
///
/// # Invariants
/// - The broker calls [`credit_may_return`](BlockedCheck::credit_may_return) wherever a consumer or a
///   channel may get credit back: a consumer delivery settled (`Channel::forget_consumer_unacked`) and a
///   channel's global prefetch set. Nothing else gives credit (a consumer's prefetch is fixed when it
///   starts; new consumers enter the line, not the blocked list).
#[derive(Clone, Debug, Default)]
pub(super) struct BlockedCheck {
    /// The count of moments credit may have come back.
    epoch: u64,
    /// The queue last checked (its name, kept alive so its address is not reused, and incarnation) and
    /// the count then.
    last: Option<(Name, u64, u64)>,
}

impl BlockedCheck {
    /// Some consumer may have credit again: every finding so far is stale.
    pub fn credit_may_return(&mut self) {
        self.epoch += 1;
    }

    /// Whether `q`'s blocked consumers were found without credit with none given back since.
    pub fn holds(&self, q: &Queue) -> bool {
        matches!(&self.last, Some((name, incarnation, epoch))
            if *epoch == self.epoch && *incarnation == q.incarnation && Rc::ptr_eq(name, &q.name))
    }

    /// `q`'s blocked consumers were just all found without credit.
    pub fn checked(&mut self, q: &Queue) {
        if !self.holds(q) {
            self.last = Some((Name::clone(&q.name), q.incarnation, self.epoch));
        }
    }
}

/// How a delivery run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Delivered {
    /// Nothing more to deliver now: no ready message, or no consumer that can take one.
    AllItCould,
    /// A delivery left a head that may expire: the broker expires heads, then runs again.
    HeadsToExpire,
}

/// What a delivery run borrows of the broker besides the queue.
pub(super) struct Deliverer<'a> {
    pub config: &'a BrokerConfig,
    pub now: VirtualTime,
    pub events: &'a mut Vec<LoggedEvent>,
    pub connections: &'a mut VecMap<ConnectionId, Connection>,
    pub totals: &'a mut Totals,
    pub blocked_check: &'a mut BlockedCheck,
}

/// Whether the consumer at `key` may take a delivery now (auto-ack, or credit on the consumer and its
/// channel); `false` if it is gone.
pub(super) fn can_take_in(connections: &VecMap<ConnectionId, Connection>, key: &ConsumerKey) -> bool {
    let Some(ch) = connections.get(&key.connection).and_then(|c| c.channels.get(&key.channel)) else {
        return false;
    };
    let Some(c) = ch.consumer(&key.tag) else { return false };
    c.auto_ack || (c.has_credit() && ch.has_global_credit())
}

/// Consumers that got credit back rejoin the end of their priority in the line, in the order they were
/// blocked (`rabbit_queue_consumers:unblock`).
pub(super) fn unblock_in(q: &mut Queue, connections: &VecMap<ConnectionId, Connection>) {
    let Some(first) = q.blocked.iter().position(|c| can_take_in(connections, &c.key)) else {
        return;
    };
    // In place, so the list keeps its allocation: a consumer blocks and unblocks once per ack when its
    // prefetch is full. Those before `first` were just found blocked still.
    let mut blocked = std::mem::take(&mut q.blocked);
    // Usually the only one blocked: taken off the end without shifting the rest.
    let entry =
        if first + 1 == blocked.len() { blocked.pop().expect("first is in") } else { blocked.remove(first) };
    q.enter_line(entry);
    let mut i = first;
    while i < blocked.len() {
        if can_take_in(connections, &blocked[i].key) {
            q.enter_line(blocked.remove(i));
        } else {
            i += 1;
        }
    }
    q.blocked = blocked;
}

impl Deliverer<'_> {
    /// Delivers `q`'s ready messages (a classic or quorum queue) until none is left, no consumer can
    /// take one, or a head may need expiring. `unblocked`: the blocked consumers were just checked and
    /// no credit came back since.
    pub(super) fn deliver_ready(self, q: &mut Queue, unblocked: bool) -> Delivered {
        debug_assert!(!q.is_stream(), "a stream is read, not run");
        if !unblocked && !self.blocked_check.holds(q) {
            unblock_in(q, self.connections);
            self.blocked_check.checked(q);
        }
        // The consumer last served, when its delivery used up its credit: found at the front again (the
        // only consumer in the line, say), it is known to be blocked without looking it up. Nothing
        // between two turns of the loop below gives credit back.
        let mut spent: Option<ConsumerKey> = None;
        loop {
            if q.is_empty() {
                return Delivered::AllItCould;
            }
            let Some(front) = q.consumers.front() else { return Delivered::AllItCould };
            let single_active = q.args.single_active_consumer;
            let known_spent = spent.as_ref().is_some_and(|k| k.same_as(&front.key));
            // The consumer and its channel, found once for the credit check (`can_take_in`) and the
            // delivery. (A labelled block rather than `Option` combinators: at opt-level "s" `zip` was
            // a call of its own that copied the key and the channel through the stack.)
            let taker = 'find: {
                if known_spent {
                    break 'find None;
                }
                let key = front.key.clone();
                let Some(ch) =
                    self.connections.get_mut(&key.connection).and_then(|c| c.channels.get_mut(&key.channel))
                else {
                    break 'find None;
                };
                let global_credit = ch.has_global_credit();
                let Channel {
                    consumers, next_delivery_tag, consumer_unacked, unacked, global_prefetch, ..
                } = ch;
                let Some(consumer) = consumer_mut(consumers, &key.tag) else { break 'find None };
                let can_take = consumer.auto_ack || (consumer.has_credit() && global_credit);
                can_take.then_some((
                    key,
                    consumer,
                    next_delivery_tag,
                    consumer_unacked,
                    unacked,
                    *global_prefetch,
                ))
            };
            let Some((key, consumer, next_delivery_tag, channel_unacked, unacked, global_prefetch)) = taker
            else {
                if single_active {
                    return Delivered::AllItCould;
                }
                let front = q.consumers.pop_front().expect("just looked at");
                q.blocked.push(front);
                continue;
            };
            if !single_active && q.consumers.len() > 1 {
                // Served: to the end of its priority (with one priority, the back of the line). Alone in
                // the line it is there already.
                let served = q.consumers.pop_front().expect("just looked at");
                q.enter_line(served);
            }
            let m = q.pop().expect("not empty");
            // No head left with an expiry: expiring would find nothing to drop and no timer to arm.
            let heads_quiet = q.next_head_expiry().is_none() && self.now < VirtualTime::NEVER;
            let qname = q.name.clone();
            let incarnation = q.incarnation;
            let quorum_count = (q.is_quorum() && m.delivery_count > 0).then_some(m.delivery_count);
            let tag = *next_delivery_tag;
            *next_delivery_tag += 1;
            let auto_ack = consumer.auto_ack;
            if self.config.record_events {
                let event = Event::Delivered {
                    connection: key.connection,
                    channel: key.channel,
                    queue: qname.clone(),
                    delivery: Box::new(m.to_delivery(DeliveryTag(tag), Some(&key.tag), None, quorum_count)),
                };
                self.events.push(LoggedEvent { at: self.now, event });
            }
            if auto_ack {
                self.totals.acked += 1;
            } else {
                consumer.unacked += 1;
                *channel_unacked += 1;
                if !(consumer.has_credit() && Channel::global_credit(global_prefetch, *channel_unacked)) {
                    spent = Some(key.clone());
                }
                unacked.push_newest(
                    tag,
                    Unacked {
                        message: m,
                        queue: qname,
                        queue_incarnation: incarnation,
                        consumer_tag: Some(key.tag),
                    },
                );
                q.unacked += 1;
            }
            if !heads_quiet {
                return Delivered::HeadsToExpire;
            }
        }
    }
}
