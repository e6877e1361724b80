//! Dead-lettering as RabbitMQ 3.10's `rabbit_dead_letter` does it: the `x-death` header, the
//! `x-first-death-*` headers, and the cycle rule.
//!
//! - `x-death` is an array of tables, one per (queue, reason), the latest death's first: a repeat death
//!   moves that entry to the front and increments its `count` (its other fields keep their first values).
//!   Behind the front entry, 3.10 groups the old entries by (queue, reason) and, when there are two or
//!   more, reverses them (`group_by_queue_and_reason`), so their order flips on every death — observed
//!   on RabbitMQ 3.10.8 (`tests/scenarios/amqp/x-death-order`).
//! - The first death also sets `x-first-death-reason`, `-queue` and `-exchange`, never changed after.
//! - The dead-lettered copy loses its `expiration` (recorded as `original-expiration`), is published to
//!   the dead-letter exchange with `x-dead-letter-routing-key` if set (and then loses its `CC` header),
//!   else with all its original routing keys (`CC` and `BCC` ones included). The entry's `routing-keys`
//!   are the published key and the `CC` keys.
//! - A copy is not delivered to a queue it already died in, when every death since that one was
//!   automatic (not `rejected`): such a "fully automatic" cycle would loop forever.

use super::event::DropReason;
use super::message::{header_routes, QueuedMessage, Route};
use super::types::{FieldTable, FieldValue, Name};
use crate::clock::VirtualTime;
use std::rc::Rc;

/// Builds the dead-lettered copy of `m`, which died in `queue` for `reason` at `now`, with a route of
/// its own.
pub fn dead_letter_copy(
    m: &QueuedMessage,
    reason: DropReason,
    queue: &str,
    now: VirtualTime,
    dead_letter_exchange: &str,
    dead_letter_routing_key: Option<&str>,
) -> QueuedMessage {
    let routing_key = dead_letter_routing_key.unwrap_or(m.routing_key());
    let route = Route::new(Name::from(dead_letter_exchange), routing_key);
    dead_letter_copy_via(m, reason, queue, now, route, dead_letter_routing_key.is_some())
}

/// As [`dead_letter_copy`], published via `route`: the dead-letter exchange and the routing key the
/// caller chose (`x-dead-letter-routing-key` if set, else `m`'s own), usually shared from a
/// [`RouteCache`](super::message::RouteCache). `by_dead_letter_key`: the queue has
/// `x-dead-letter-routing-key`, so the copy loses its `CC` header (RabbitMQ 3.10 drops it then, and only
/// then).
pub fn dead_letter_copy_via(
    m: &QueuedMessage,
    reason: DropReason,
    queue: &str,
    now: VirtualTime,
    route: Rc<Route>,
    by_dead_letter_key: bool,
) -> QueuedMessage {
    let reason_str = reason.x_death_reason().expect("only x-death reasons dead-letter");
    let mut props = m.properties().into_owned();
    let mut info = FieldTable::new();
    info.insert("reason".into(), FieldValue::Str(reason_str.into()));
    info.insert("queue".into(), FieldValue::Str(queue.into()));
    // AMQP timestamps have second resolution.
    info.insert("time".into(), FieldValue::Int((now.as_millis() / 1000) as i64));
    info.insert("exchange".into(), FieldValue::Str(m.exchange().into()));
    // The published key, then the sender-selected keys still in the headers (`CC`; `BCC` was removed
    // at publish).
    let mut keys = vec![FieldValue::Str(m.routing_key().into())];
    keys.extend(
        header_routes(&props.headers).unwrap_or_default().into_iter().map(|k| FieldValue::Str(k.into())),
    );
    info.insert("routing-keys".into(), FieldValue::Array(keys));
    if let Some(exp) = props.expiration.take() {
        info.insert("original-expiration".into(), FieldValue::Str(exp));
    }
    let headers = &mut props.headers;
    match headers.get("x-death") {
        Some(FieldValue::Array(entries)) => {
            let grouped = group_by_queue_and_reason(entries);
            let mut front = None;
            let mut others = Vec::with_capacity(grouped.len());
            for t in grouped {
                if front.is_none() && entry_is(&t, queue, reason_str) {
                    front = Some(t);
                } else {
                    others.push(FieldValue::Table(t));
                }
            }
            let front = match front {
                Some(mut t) => {
                    let count = match t.get("count") {
                        Some(FieldValue::Int(n)) => n.saturating_add(1),
                        _ => 1,
                    };
                    t.insert("count".into(), FieldValue::Int(count));
                    t
                }
                None => {
                    info.insert("count".into(), FieldValue::Int(1));
                    info
                }
            };
            let mut all = Vec::with_capacity(others.len() + 1);
            all.push(FieldValue::Table(front));
            all.extend(others);
            headers.insert("x-death".into(), FieldValue::Array(all));
        }
        Some(_) => {
            // Not an array (a client rewrote it): RabbitMQ resets it.
            info.insert("count".into(), FieldValue::Int(1));
            headers.insert("x-death".into(), FieldValue::Array(vec![FieldValue::Table(info)]));
        }
        None => {
            headers.insert("x-first-death-reason".into(), FieldValue::Str(reason_str.into()));
            headers.insert("x-first-death-queue".into(), FieldValue::Str(queue.into()));
            headers.insert("x-first-death-exchange".into(), FieldValue::Str(m.exchange().into()));
            info.insert("count".into(), FieldValue::Int(1));
            headers.insert("x-death".into(), FieldValue::Array(vec![FieldValue::Table(info)]));
        }
    }
    if by_dead_letter_key {
        props.headers.remove("CC");
    }
    QueuedMessage::with_route(m.id, route, props, m.body().into())
}

/// RabbitMQ 3.10's `group_by_queue_and_reason`: one table per (queue, reason), the first of each, its
/// `count` set to how many tables had that pair when it has none. A lone table is kept as it is; two or
/// more come out in reverse order (3.10 accumulates by prepending), which is why the entries behind the
/// front one change order on every death. Entries that are not tables are dropped.
fn group_by_queue_and_reason(entries: &[FieldValue]) -> Vec<FieldTable> {
    let tables: Vec<&FieldTable> = entries
        .iter()
        .filter_map(|e| match e {
            FieldValue::Table(t) => Some(t),
            _ => None,
        })
        .collect();
    if let [only] = tables.as_slice() {
        return vec![(*only).clone()];
    }
    let mut grouped: Vec<FieldTable> = Vec::with_capacity(tables.len());
    let mut seen: Vec<(Option<&FieldValue>, Option<&FieldValue>)> = Vec::new();
    for t in &tables {
        let key = (t.get("queue"), t.get("reason"));
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let same = tables.iter().filter(|o| (o.get("queue"), o.get("reason")) == key).count();
        let mut first = (*t).clone();
        if !first.contains_key("count") {
            first.insert("count".into(), FieldValue::Int(same as i64));
        }
        grouped.push(first);
    }
    grouped.reverse();
    grouped
}

fn entry_is(t: &FieldTable, queue: &str, reason: &str) -> bool {
    matches!(t.get("queue"), Some(FieldValue::Str(q)) if q == queue)
        && matches!(t.get("reason"), Some(FieldValue::Str(r)) if r == reason)
}

/// Whether delivering the dead-lettered copy `m` to `queue` would close a fully automatic cycle.
pub fn is_cycle(m: &QueuedMessage, reason: DropReason, queue: &str) -> bool {
    if reason == DropReason::Rejected {
        return false;
    }
    let props = m.properties();
    let Some(FieldValue::Array(deaths)) = props.headers.get("x-death") else { return false };
    let Some(at) = deaths.iter().position(|d| matches!(d, FieldValue::Table(t) if matches!(t.get("queue"), Some(FieldValue::Str(q)) if q == queue)))
    else {
        return false;
    };
    deaths[..=at].iter().all(|d| match d {
        FieldValue::Table(t) => !matches!(t.get("reason"), Some(FieldValue::Str(r)) if r == "rejected"),
        // Something a client put there: not a fully automatic cycle.
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amqp::types::{BasicProperties, MessageId};

    fn deaths(m: &QueuedMessage) -> Vec<FieldTable> {
        match m.properties().headers.get("x-death") {
            Some(FieldValue::Array(a)) => a
                .iter()
                .map(|v| match v {
                    FieldValue::Table(t) => t.clone(),
                    _ => panic!("not a table"),
                })
                .collect(),
            _ => vec![],
        }
    }

    #[test]
    fn repeat_death_increments_and_moves_to_front() {
        let m = QueuedMessage::new(MessageId(1), "", "a", BasicProperties::default(), b"x");
        let m = dead_letter_copy(&m, DropReason::Expired, "a", VirtualTime(1000), "dlx", Some("b"));
        let m = dead_letter_copy(&m, DropReason::Rejected, "b", VirtualTime(2000), "dlx2", Some("a"));
        let m = dead_letter_copy(&m, DropReason::Expired, "a", VirtualTime(3000), "dlx", Some("b"));
        let d = deaths(&m);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].get("queue"), Some(&FieldValue::Str("a".into())));
        assert_eq!(d[0].get("count"), Some(&FieldValue::Int(2)));
        assert_eq!(d[0].get("time"), Some(&FieldValue::Int(1)), "keeps the first time");
        assert_eq!(d[1].get("reason"), Some(&FieldValue::Str("rejected".into())));
        let h = m.properties().headers.clone();
        assert_eq!(h.get("x-first-death-queue"), Some(&FieldValue::Str("a".into())));
        assert_eq!(h.get("x-first-death-exchange"), Some(&FieldValue::Str("".into())));
    }

    #[test]
    fn cycle_only_when_fully_automatic() {
        let m = QueuedMessage::new(MessageId(1), "", "a", BasicProperties::default(), b"x");
        let once = dead_letter_copy(&m, DropReason::Expired, "a", VirtualTime(0), "dlx", None);
        assert!(is_cycle(&once, DropReason::Expired, "a"));
        assert!(!is_cycle(&once, DropReason::Expired, "b"));
        let rejected = dead_letter_copy(&m, DropReason::Rejected, "a", VirtualTime(0), "dlx", None);
        assert!(!is_cycle(&rejected, DropReason::Rejected, "a"));
        let then_expired = dead_letter_copy(&rejected, DropReason::Expired, "b", VirtualTime(0), "dlx", None);
        assert!(!is_cycle(&then_expired, DropReason::Expired, "a"), "a reject breaks the cycle");
        assert!(is_cycle(&then_expired, DropReason::Expired, "b"));
    }
}
