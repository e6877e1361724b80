//! The Redis page's explanations, plain Rust (the panel that shows them is [`super::view`]'s):
//!
//! - "why is this entry still pending": a pending entry's delivery (to whom, when, how many times), that
//!   nobody `XACK`ed it, and what would free it (`XACK`, `XCLAIM` / `XAUTOCLAIM` once idle long enough,
//!   `XGROUP DELCONSUMER`, `XGROUP DESTROY`), with the document's claimers and the consumer's crash if the
//!   run shows one;
//! - "what does XAUTOCLAIM take next": the engine's own scan ([`Redis::autoclaim_scan`], which the command
//!   applies, so the preview cannot differ from what the command does) with a min-idle time, start and
//!   COUNT, and for every pending entry why it is or is not taken;
//! - "who got this message": for a `PUBLISH` (or a delivery or a miss, which lead to their `PUBLISH`),
//!   each of the document's subscribers and what happened to the message for it — delivered (by its
//!   channel or a pattern, matched with Redis's glob rules), held while it did not read and then read or
//!   lost when `client-output-buffer-limit pubsub` cut it off, missed because it was not subscribed at
//!   that instant (not yet, disconnected, cut off, and when it subscribed again), or not following the
//!   channel at all — as far as the run's events tell.
//!
//! Invariant: every explanation is computed from the run at the page's time and its events up to it;
//! nothing is kept between calls.

use broker_core::redis::glob;
use broker_core::redis::program::parse::split_args;
use broker_core::redis::scenario::{RedisEvent, RedisRun};
use broker_core::redis::server::{Redis, Value};
use broker_core::redis::stream::{AutoclaimScan, StreamId};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Seconds with a tenth, as the page writes times.
pub fn secs(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    format!("{sign}{}.{} s", ms / 1000, ms % 1000 / 100)
}

/// Why a pending entry is still pending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingWhy {
    pub key: String,
    pub group: String,
    pub id: String,
    pub consumer: String,
    /// The page's time of the last delivery (negative when `XCLAIM … IDLE` dated it before the start).
    pub delivered_at_ms: i64,
    pub idle_ms: i64,
    pub deliveries: u64,
    /// The entry was deleted from the stream (`XDEL`, trimming) and stays in the PEL until claimed.
    pub entry_deleted: bool,
    /// Sentences: what happened, then what would free it.
    pub reasons: Vec<String>,
}

/// What `XAUTOCLAIM` would do to one pending entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Idle long enough: it moves to the claiming consumer.
    Claimed,
    /// Its entry is gone from the stream: dropped from the PEL and replied as deleted.
    Deleted,
    /// Idle less than min-idle by this many milliseconds.
    TooYoung(i64),
    /// Before the start id.
    BeforeStart,
    /// At or after the cursor: not looked at this time (COUNT reached or ten attempts per COUNT used).
    NotReached,
}

/// One pending entry in the preview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewRow {
    pub id: String,
    pub consumer: String,
    pub idle_ms: i64,
    pub deliveries: u64,
    pub verdict: Verdict,
}

/// What `XAUTOCLAIM key group <consumer> min-idle start COUNT count` takes now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoclaimPreview {
    pub command: String,
    pub scan: AutoclaimScan,
    pub rows: Vec<PreviewRow>,
    /// A sentence on where the walk stopped and what the next call would do.
    pub summary: String,
}

/// What happened to a published message for one subscriber of the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fate {
    pub subscriber: String,
    /// `got`, `held`, `lost`, `missed` or `not-following`.
    pub kind: &'static str,
    pub why: String,
}

/// Who got a published message and who did not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishWhy {
    pub at_ms: u64,
    pub publisher: String,
    pub command: String,
    pub channel: String,
    pub message: String,
    /// `PUBLISH`'s reply: the clients it reached, `None` when it was not answered with a count.
    pub receivers: Option<i64>,
    pub fates: Vec<Fate>,
    /// Sentences about the publish as a whole.
    pub notes: Vec<String>,
}

/// "Why is this entry still pending": `None` when the key, group or pending entry does not exist now.
pub fn pending_why(run: &RedisRun, now_ms: u64, key: &str, group: &str, id: &str) -> Option<PendingWhy> {
    let redis = run.server();
    let Value::Stream(s) = &redis.keys.get(key.as_bytes())?.value else { return None };
    let g = s.groups.get(group.as_bytes())?;
    let sid = g.pel.keys().find(|i| i.to_string() == id)?;
    let p = &g.pel[sid];
    let consumer = text(&p.consumer);
    let idle_ms = now_ms as i64 - p.delivered_at;
    let entry_deleted = !s.entries.contains_key(sid);
    let mut reasons = vec![format!(
        "Delivered to consumer {consumer} at {} ({} time{}); idle {idle_ms} ms.",
        secs(p.delivered_at),
        p.deliveries,
        if p.deliveries == 1 { "" } else { "s" },
    )];
    reasons.push(format!(
        "Nobody sent XACK {key} {group} {id}: an entry read with XREADGROUP stays in the group's pending \
         entries list (PEL) until it is acknowledged, whatever happens to the consumer."
    ));
    // What the run says of the consumer's process.
    let events = run.events();
    let worker = run
        .document()
        .workers
        .iter()
        .find(|w| w.consumer.as_deref().unwrap_or(&w.name) == consumer && w.stream.as_deref() == Some(key))
        .map(|w| w.name.clone());
    let crashed = events.iter().rev().find_map(|(t, e)| match e {
        RedisEvent::Crashed { worker: w, .. } if Some(w) == worker.as_ref() => Some(t.as_millis()),
        _ => None,
    });
    if let Some(at) = crashed.filter(|at| *at as i64 >= p.delivered_at) {
        reasons.push(format!(
            "{} (consumer {consumer}) crashed at {} holding it: it will never acknowledge it; only a claim moves it.",
            worker.as_deref().unwrap_or(&consumer),
            secs(at as i64)
        ));
    }
    if entry_deleted {
        reasons.push(
            "Its entry was deleted from the stream (XDEL or trimming) after the delivery: the PEL keeps the id \
             until XAUTOCLAIM meets it (and replies it among the deleted ids) or XCLAIM names it; XACK \
             removes it too."
                .to_string(),
        );
    }
    reasons.push(format!("What would free it: XACK {key} {group} {id} (by anyone, not only {consumer})."));
    let claimers: Vec<String> = run
        .document()
        .workers
        .iter()
        .filter(|w| w.stream.as_deref() == Some(key) && w.group.as_deref() == Some(group))
        .filter_map(|w| {
            let (how, spec) = match (&w.xautoclaim, &w.xclaim) {
                (Some(a), _) => ("XAUTOCLAIM", a),
                (None, Some(c)) => ("XCLAIM", c),
                _ => return None,
            };
            let min = spec.min_idle.0 as i64;
            let wait = if idle_ms >= min {
                "idle long enough now".to_string()
            } else {
                format!("idle long enough in {} ms", min - idle_ms)
            };
            Some(format!("{} claims with {how} min-idle {min} ms: this entry is {wait}.", w.name))
        })
        .collect();
    if claimers.is_empty() {
        reasons.push(format!(
            "Or a claim once it is idle long enough: XCLAIM {key} {group} <consumer> <min-idle> {id}, or \
             XAUTOCLAIM {key} {group} <consumer> <min-idle> 0 — no worker of this document claims."
        ));
    } else {
        reasons.push(format!(
            "Or a claim once it is idle long enough (XCLAIM or XAUTOCLAIM with a min-idle time of at most \
             {idle_ms} ms takes it now); it stays pending, counted again, under the claimer."
        ));
        reasons.extend(claimers);
    }
    reasons.push(format!(
        "Or XGROUP DELCONSUMER {key} {group} {consumer} (its pending entries are dropped with it, unacknowledged) \
         or XGROUP DESTROY {key} {group}."
    ));
    Some(PendingWhy {
        key: key.into(),
        group: group.into(),
        id: id.into(),
        consumer,
        delivered_at_ms: p.delivered_at,
        idle_ms,
        deliveries: p.deliveries,
        entry_deleted,
        reasons,
    })
}

/// Parses a start id as `XAUTOCLAIM` does (`-`, `ms`, `ms-seq`, `(` for exclusive).
pub fn parse_start(start: &str) -> Result<StreamId, String> {
    let t = start.trim();
    if t == "-" {
        return Ok(StreamId::MIN);
    }
    let (exclusive, t) = match t.strip_prefix('(') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let id = broker_core::redis::args::stream_id(t.as_bytes(), 0, true)
        .map_err(|_| "ERR Invalid stream ID specified as stream command argument".to_string())?;
    if !exclusive {
        return Ok(id);
    }
    let next = if id.seq == u64::MAX {
        (id.ms != u64::MAX).then(|| StreamId { ms: id.ms + 1, seq: 0 })
    } else {
        Some(StreamId { ms: id.ms, seq: id.seq + 1 })
    };
    next.ok_or_else(|| "ERR invalid start ID for the interval".to_string())
}

/// The min-idle-time field as `XAUTOCLAIM` reads its argument: an integer (a negative one counts as 0), or
/// Redis's error.
pub fn parse_min_idle(text: &str) -> Result<i64, String> {
    text.trim()
        .parse::<i64>()
        .map(|n| n.max(0))
        .map_err(|_| "ERR Invalid min-idle-time argument for XAUTOCLAIM".to_string())
}

/// The COUNT field as `XAUTOCLAIM` reads it: an integer of at least 1, or Redis's error.
pub fn parse_count(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("ERR COUNT must be > 0".to_string()),
    }
}

/// "What does XAUTOCLAIM take next" with these arguments, `None` when the key or group does not exist.
pub fn autoclaim_preview(
    redis: &Redis,
    key: &str,
    group: &str,
    consumer: &str,
    min_idle_ms: i64,
    start: StreamId,
    count: i64,
) -> Option<AutoclaimPreview> {
    let scan = redis.autoclaim_scan(key.as_bytes(), group.as_bytes(), min_idle_ms, start, count)?;
    let Value::Stream(s) = &redis.keys.get(key.as_bytes())?.value else { return None };
    let g = s.groups.get(group.as_bytes())?;
    let now = redis.now as i64;
    let rows = g
        .pel
        .iter()
        .map(|(id, p)| {
            let verdict = if *id < start {
                Verdict::BeforeStart
            } else if scan.claimed.contains(id) {
                Verdict::Claimed
            } else if scan.deleted.contains(id) {
                Verdict::Deleted
            } else if let Some((_, idle)) = scan.too_young.iter().find(|(y, _)| y == id) {
                Verdict::TooYoung(min_idle_ms - idle)
            } else {
                Verdict::NotReached
            };
            PreviewRow {
                id: id.to_string(),
                consumer: text(&p.consumer),
                idle_ms: now - p.delivered_at,
                deliveries: p.deliveries,
                verdict,
            }
        })
        .collect();
    let count = count.max(1);
    let command = format!("XAUTOCLAIM {key} {group} {consumer} {} {start} COUNT {count}", min_idle_ms.max(0));
    let took = format!(
        "It claims {} entr{} and drops {} deleted id{}",
        scan.claimed.len(),
        if scan.claimed.len() == 1 { "y" } else { "ies" },
        scan.deleted.len(),
        if scan.deleted.len() == 1 { "" } else { "s" },
    );
    let summary = if scan.next == StreamId::MIN {
        format!("{took}, and replies the cursor 0-0: it looked at every pending entry from {start}.")
    } else if scan.attempts_ran_out {
        format!(
            "{took}, and replies the cursor {}: it stops after 10 × COUNT = {} entries looked at; the next call \
             from {} goes on.",
            scan.next,
            count.saturating_mul(10),
            scan.next
        )
    } else {
        format!(
            "{took}, and replies the cursor {}: COUNT {count} is reached; the next call from {} goes on.",
            scan.next, scan.next
        )
    };
    Some(AutoclaimPreview { command, scan, rows, summary })
}

/// A `PUBLISH` or `SPUBLISH` event: (publisher, command, channel, message, reply count).
fn publish_of(e: &RedisEvent) -> Option<(String, String, String, String, Option<i64>)> {
    let (by, command, reply) = match e {
        RedisEvent::Sent { producer, command, reply, .. } => (producer, command, reply),
        RedisEvent::Typed { by, command, reply } => (by, command, reply),
        _ => return None,
    };
    let argv = split_args(command).ok()?;
    let publish = argv
        .first()
        .is_some_and(|c| c.eq_ignore_ascii_case(b"publish") || c.eq_ignore_ascii_case(b"spublish"));
    if !publish || argv.len() != 3 {
        return None;
    }
    let n = reply.strip_prefix("(integer) ").and_then(|n| n.parse().ok());
    Some((by.clone(), command.clone(), text(&argv[1]), text(&argv[2]), n))
}

/// Whether the event is a `PUBLISH` or `SPUBLISH` (a producer's or one typed on the console).
pub fn is_publish(e: &RedisEvent) -> bool {
    publish_of(e).is_some()
}

/// Whether the event can be explained as a publish: a `PUBLISH` itself, or a delivery or a
/// miss (which lead to their `PUBLISH`).
pub fn explains_publish(e: &RedisEvent) -> bool {
    matches!(e, RedisEvent::Message { .. } | RedisEvent::Missed { .. }) || publish_of(e).is_some()
}

/// The index of the `PUBLISH` a delivery or a miss at `index` came from (the latest one before it on the
/// same channel with the same message), or `index` itself for a `PUBLISH`.
pub fn publish_index(events: &[(broker_core::VirtualTime, RedisEvent)], index: usize) -> Option<usize> {
    let (channel, message) = match &events.get(index)?.1 {
        RedisEvent::Message { channel, message, .. } | RedisEvent::Missed { channel, message, .. } => {
            (channel.clone(), message.clone())
        }
        e => return publish_of(e).map(|_| index),
    };
    (0..index).rev().find(|&i| publish_of(&events[i].1).is_some_and(|p| p.2 == channel && p.3 == message))
}

/// "Who got this message": the publish at event `index` (see [`publish_index`]).
pub fn publish_why(run: &RedisRun, index: usize) -> Option<PublishWhy> {
    let events = run.events();
    let index = publish_index(events, index)?;
    let (at, e) = &events[index];
    let (publisher, command, channel, message, receivers) = publish_of(e)?;
    let at_ms = at.as_millis();
    let sharded = command.get(..1).is_some_and(|c| c.eq_ignore_ascii_case("s"));
    // The events this publish caused: those after it at the same instant, up to the next command sent.
    let caused: Vec<&RedisEvent> = events[index + 1..]
        .iter()
        .take_while(|(t, e)| *t == *at && publish_of(e).is_none() && !matches!(e, RedisEvent::Sent { .. }))
        .map(|(_, e)| e)
        .collect();
    let mut fates = Vec::new();
    let (mut got, mut held) = (0i64, 0i64);
    for spec in &run.document().subscribers {
        let name = &spec.name;
        let by_channel = spec.channels.contains(&channel);
        let by_pattern: Vec<&String> = if sharded {
            Vec::new()
        } else {
            spec.patterns.iter().filter(|p| glob::matches(p.as_bytes(), channel.as_bytes())).collect()
        };
        let delivered = caused.iter().find_map(|e| match e {
            RedisEvent::Message { subscriber, channel: c, message: m, pattern }
                if subscriber == name && *c == channel && *m == message =>
            {
                Some(pattern.clone())
            }
            _ => None,
        });
        let missed =
            caused.iter().any(|e| matches!(e, RedisEvent::Missed { subscriber, .. } if subscriber == name));
        let before = &events[..index];
        let after = &events[index + 1..];
        got += caused
            .iter()
            .filter(|e| matches!(e, RedisEvent::Message { subscriber, .. } if subscriber == name))
            .count() as i64;
        let subscriptions = i64::from(by_channel) + by_pattern.len() as i64;
        let (kind, why) = if let Some(pattern) = delivered {
            let how = match pattern {
                Some(p) => format!("through its pattern {p}, which matches {channel} by Redis's glob rules"),
                None => format!("subscribed to {channel}"),
            };
            ("got", format!("Got it at {}: {how}.", secs(at_ms as i64)))
        } else if missed {
            let gone = before.iter().rev().find_map(|(t, e)| match e {
                RedisEvent::Disconnected { subscriber } if subscriber == name => {
                    Some(format!("its connection dropped at {}", secs(t.as_millis() as i64)))
                }
                RedisEvent::CutOff { subscriber, .. } if subscriber == name => Some(format!(
                    "redis-server cut it off at {} (its output buffer passed client-output-buffer-limit pubsub)",
                    secs(t.as_millis() as i64)
                )),
                RedisEvent::Subscribed { subscriber, .. } if subscriber == name => Some(String::new()),
                _ => None,
            });
            let cause = match gone {
                Some(g) if !g.is_empty() => format!("not subscribed at that instant: {g}"),
                _ if spec.start.0 > at_ms => {
                    format!("not subscribed yet: it subscribes at {}", secs(spec.start.0 as i64))
                }
                _ => "not subscribed at that instant".to_string(),
            };
            let again = after.iter().find_map(|(t, e)| match e {
                RedisEvent::Subscribed { subscriber, .. } if subscriber == name => {
                    Some(format!("; it subscribed only after, at {}", secs(t.as_millis() as i64)))
                }
                _ => None,
            });
            (
                "missed",
                format!(
                    "Missed it: {cause}{}. Pub/sub keeps nothing for an absent subscriber.",
                    again.unwrap_or_default()
                ),
            )
        } else if by_channel || !by_pattern.is_empty() {
            // Subscribed and sent the message, but not reading: the server held it.
            let end = after.iter().find_map(|(t, e)| match e {
                RedisEvent::CutOff { subscriber, unread } if subscriber == name => Some((
                    "lost",
                    format!(
                    "redis-server held it in its output buffer while it did not read, then cut it off at {} \
                     (client-output-buffer-limit pubsub): the {unread} unread message(s) were lost.",
                    secs(t.as_millis() as i64)
                ),
                )),
                RedisEvent::Resumed { subscriber, .. } if subscriber == name => Some((
                    "held",
                    format!(
                        "redis-server held it in its output buffer while it did not read; it read it at {}.",
                        secs(t.as_millis() as i64)
                    ),
                )),
                _ => None,
            });
            end.unwrap_or((
                "held",
                "Sent to it, but it is not reading: redis-server holds it in its output buffer for now."
                    .into(),
            ))
        } else {
            let mut follows: Vec<String> = spec.channels.iter().map(|c| format!("channel {c}")).collect();
            follows.extend(spec.patterns.iter().map(|p| format!("pattern {p}")));
            let what = if follows.is_empty() { "nothing".to_string() } else { follows.join(", ") };
            let patterns = if sharded && !spec.patterns.is_empty() {
                " (patterns never match a shard channel)"
            } else if spec.patterns.is_empty() {
                ""
            } else {
                " (no pattern matches it by Redis's glob rules: * any run, ? one byte, [...] a class, \\ escapes)"
            };
            ("not-following", format!("Not for it: it follows {what}, not {channel}{patterns}."))
        };
        if matches!(kind, "held" | "lost") {
            held += subscriptions;
        }
        fates.push(Fate { subscriber: name.clone(), kind, why });
    }
    let mut notes = Vec::new();
    match receivers {
        Some(0) => notes.push(
            "PUBLISH replied 0: nobody was subscribed to the channel or a matching pattern at that instant, so \
             the message went nowhere and is not kept."
                .to_string(),
        ),
        Some(n) => {
            notes.push(format!(
                "PUBLISH replied {n}: the number of subscriptions it reached at that instant (a client following \
                 the channel and a matching pattern counts twice)."
            ));
            if n > got + held {
                notes.push(format!(
                    "{} of them are not among the document's subscribers (the console's own subscriptions).",
                    n - got - held
                ));
            }
        }
        None => {}
    }
    Some(PublishWhy { at_ms, publisher, command, channel, message, receivers, fates, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xautoclaim_fields_are_read_as_redis_reads_the_arguments() {
        assert_eq!(parse_min_idle("5000"), Ok(5000));
        assert_eq!(parse_min_idle(" -3 "), Ok(0), "a negative min-idle-time counts as 0");
        let min_error = Err("ERR Invalid min-idle-time argument for XAUTOCLAIM".to_string());
        assert_eq!(parse_min_idle(""), min_error, "an emptied field is no number");
        assert_eq!(parse_min_idle("1.5"), min_error);
        assert_eq!(parse_count("1"), Ok(1));
        assert_eq!(parse_count("0"), Err("ERR COUNT must be > 0".to_string()));
        assert_eq!(parse_count(""), Err("ERR COUNT must be > 0".to_string()));
        assert_eq!(parse_start("(1-1"), Ok(StreamId { ms: 1, seq: 2 }));
    }
}
