//! The embed protocol (version 1, [`super::protocol`]) for Redis documents: the model sandboxes' shared
//! requests ([`super::model`]) with Redis's own — `command`, a redis-cli line sent now on the sandbox's
//! console connection (the Redis page's console: [`RedisSession::type_command`]), and `counters`: per
//! list its length and the clients blocked on it, per stream its length and each group's pending entries,
//! lag, last-delivered id and entries read, per channel its publishes, the subscribers they reached, those
//! that reached nobody and the messages the document's subscribers missed, per pattern its subscribers.
//! Plain Rust (no DOM), tested natively; the Redis sandbox's module (`src/embed_redis_main.rs`,
//! index.html's `embed-redis/`) wires it to the page ([`super::redis_view`]).
//!
//! Invariants: the sandbox's run is a [`RedisSession`] (the document and the page's commands, each kept at
//! its instant), so the state at a time never depends on how the page got there; a reply is
//! redis-server's as redis-cli prints it; the clock only moves forward through requests and play.

use super::model::{self, EmbedSession, ModelEmbed, ModelIncoming, ModelRequest};
use super::protocol::{self, clip};
use crate::redis_page::model::{KeyKind, RedisSession, BUNDLED};
use broker_core::VirtualTime;
use serde_json::{json, Map, Value};

/// Virtual milliseconds one `step` plays (one tenth of a second, as the other sandboxes').
pub const STEP_MS: u64 = 100;

/// Redis's own requests.
#[derive(Clone, Debug, PartialEq)]
pub enum RedisOwn {
    /// A redis-cli line, sent on the console's connection.
    Command { line: String },
    /// Counters of one key or channel, or of all.
    Counters { key: Option<String> },
}

/// A validated request to a Redis sandbox.
pub type RedisRequest = ModelRequest<RedisOwn>;
/// What an incoming message is, for a Redis sandbox.
pub type RedisIncoming = ModelIncoming<RedisOwn>;
/// The Redis sandbox's state: the run (once a document is loaded), play and speed, the last outcome.
pub type RedisEmbed = ModelEmbed<RedisSession>;

/// Classifies and validates one incoming message's data.
pub fn parse(data: &Value) -> RedisIncoming {
    model::parse::<RedisSession>(data)
}

fn command(o: &Map<String, Value>) -> Result<RedisOwn, String> {
    let line = match o.get("line") {
        Some(Value::String(s)) if s.len() > protocol::MAX_TEXT_BYTES => {
            return Err(format!("'line' is larger than {} bytes", protocol::MAX_TEXT_BYTES))
        }
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return Err(
                "'command' needs a 'line' (a redis-cli command line, e.g. \"LPUSH jobs job-1\")".into()
            )
        }
        Some(_) => return Err("'line' must be a string".into()),
    };
    Ok(RedisOwn::Command { line })
}

fn counters_request(o: &Map<String, Value>) -> Result<RedisOwn, String> {
    let key = match o.get("key") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("'key' must be a string".into()),
    };
    Ok(RedisOwn::Counters { key })
}

/// What a command's output says when it is one error reply (`(error) WRONGTYPE …`).
fn error_reply(output: &str) -> Option<&str> {
    let line = output.trim_end_matches('\n');
    (line.starts_with("(error) ") && !line.contains('\n')).then_some(line)
}

impl EmbedSession for RedisSession {
    const REQUESTS: &'static [(&'static str, &'static [&'static str])] = &[
        ("info", &[]),
        ("load", &["scenario", "document"]),
        ("play", &[]),
        ("pause", &[]),
        ("step", &[]),
        ("runUntil", &["time"]),
        ("setSpeed", &["speed"]),
        ("command", &["line"]),
        ("counters", &["key"]),
        ("checks", &[]),
        ("subscribe", &["events"]),
        ("unsubscribe", &[]),
    ];
    const STEP_MS: u64 = STEP_MS;
    type Own = RedisOwn;

    fn parse_own(kind: &str, o: &Map<String, Value>) -> Option<Result<RedisOwn, String>> {
        Some(match kind {
            "command" => command(o),
            "counters" => counters_request(o),
            _ => return None,
        })
    }

    fn handle_own(embed: &mut RedisEmbed, request: RedisOwn) -> Result<Value, String> {
        match request {
            RedisOwn::Command { line } => {
                let session = embed.session_mut()?;
                let said = session.type_command(&line)?;
                let typed = line.trim();
                match said {
                    Some(output) => {
                        // An error reply rejects the request with redis-cli's words; the command was
                        // still sent (and is kept), as redis-cli sent it.
                        if let Some(error) = error_reply(&output) {
                            return Err(error.to_string());
                        }
                        let shown = output.trim_end_matches('\n').to_string();
                        embed.notice = Some((false, format!("{typed} → {}", clip(&shown))));
                        Ok(json!({"output": shown, "waiting": false}))
                    }
                    None => {
                        embed.notice = Some((false, format!("{typed} → waiting (a blocking command)")));
                        Ok(json!({"output": null, "waiting": true}))
                    }
                }
            }
            RedisOwn::Counters { key } => counters(embed, key.as_deref()),
        }
    }

    fn bundled() -> Vec<(&'static str, &'static str)> {
        BUNDLED.iter().map(|b| (b.id, b.text)).collect()
    }
}

/// The counters now: `lists` (each list's `length` and `blocked`, the clients waiting on it), `streams`
/// (`length`, `lastId` and per group `pending`, `lag` — `null` where `XINFO GROUPS` replies nil —,
/// `lastDeliveredId`, `entriesRead`, `consumers`), `channels` (`publishes`, `receivers`: the subscribers
/// they reached in all, `toNobody`, `missed` by the document's subscribers, `subscribers` now) and
/// `patterns` (`subscribers`). With `key`, only what has that name; nothing with it is refused (an empty
/// list does not exist in Redis).
pub fn counters(embed: &RedisEmbed, only: Option<&str>) -> Result<Value, String> {
    let s = embed.session()?;
    let wanted = |name: &str| only.is_none_or(|o| o == name);
    let (mut lists, mut streams) = (Map::new(), Map::new());
    for k in s.keys().into_iter().filter(|k| wanted(&k.name)) {
        match &k.kind {
            KeyKind::List(items) => {
                lists.insert(k.name.clone(), json!({"length": items.len(), "blocked": k.blocked.len()}));
            }
            KeyKind::Stream(st) => {
                let mut groups = Map::new();
                for g in &st.groups {
                    groups.insert(
                        g.name.clone(),
                        json!({
                            "pending": g.pending.len(),
                            "lag": g.lag,
                            "lastDeliveredId": g.last_delivered,
                            "entriesRead": g.entries_read,
                            "consumers": g.consumers.len(),
                        }),
                    );
                }
                streams.insert(
                    k.name.clone(),
                    json!({"length": st.length, "lastId": st.last_id, "groups": groups}),
                );
            }
            KeyKind::String(_) => {}
        }
    }
    let subscribed = s.channels();
    let subscribers = |kind: &str, name: &str| {
        subscribed.iter().find(|c| c.kind == kind && c.name == name).map_or(0, |c| c.subscribers.len())
    };
    let mut channels = Map::new();
    let tallies = s.channel_tallies();
    for (name, t) in &tallies {
        if wanted(name) {
            let numsub = subscribers("channel", name) + subscribers("shard channel", name);
            channels.insert(
                name.clone(),
                json!({
                    "publishes": t.publishes,
                    "receivers": t.receivers,
                    "toNobody": t.to_nobody,
                    "missed": t.missed,
                    "subscribers": numsub,
                }),
            );
        }
    }
    let mut patterns = Map::new();
    for c in &subscribed {
        if c.kind == "pattern" {
            if wanted(&c.name) {
                patterns.insert(c.name.clone(), json!({"subscribers": c.subscribers.len()}));
            }
        } else if !tallies.contains_key(&c.name) && wanted(&c.name) {
            channels.insert(
                c.name.clone(),
                json!({"publishes": 0, "receivers": 0, "toNobody": 0, "missed": 0, "subscribers": c.subscribers.len()}),
            );
        }
    }
    if let Some(key) = only {
        if lists.is_empty() && streams.is_empty() && channels.is_empty() && patterns.is_empty() {
            return Err(format!(
                "no list, stream, channel or pattern '{}' at {} (an empty list does not exist in Redis)",
                clip(key),
                VirtualTime::from_millis(s.time_ms())
            ));
        }
    }
    Ok(json!({"lists": lists, "streams": streams, "channels": channels, "patterns": patterns}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::protocol::Request;

    fn req(v: Value) -> RedisRequest {
        match parse(&v) {
            RedisIncoming::Request { request, .. } => request,
            other => panic!("{v} is not a valid request: {other:?}"),
        }
    }

    fn bad(v: Value) -> String {
        match parse(&v) {
            RedisIncoming::Bad { error, .. } => error,
            other => panic!("{v} should be refused: {other:?}"),
        }
    }

    fn run(s: &mut RedisEmbed, v: Value) -> Result<Value, String> {
        s.handle(req(v))
    }

    #[test]
    fn redis_requests_parse_and_bad_ones_name_the_problem() {
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "step"})),
            RedisRequest::Shared(Request::Step)
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "command", "line": "LPUSH jobs a"})),
            RedisRequest::Own(RedisOwn::Command { line: "LPUSH jobs a".into() })
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "counters", "key": "jobs"})),
            RedisRequest::Own(RedisOwn::Counters { key: Some("jobs".into()) })
        );
        assert_eq!(
            req(json!({"brokerlab": 1, "id": 1, "type": "counters"})),
            RedisRequest::Own(RedisOwn::Counters { key: None })
        );
        let e = bad(json!({"brokerlab": 1, "id": 1, "type": "publish", "exchange": "x"}));
        assert!(e.starts_with("unknown request type 'publish'; known: info, load, play"), "{e}");
        assert!(e.contains("command, counters, checks"), "{e}");
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "command", "line": "  "})),
            "'command' needs a 'line' (a redis-cli command line, e.g. \"LPUSH jobs job-1\")"
        );
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "command", "line": 3})),
            "'line' must be a string"
        );
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "command", "line": "PING", "queue": "q"})),
            "'command' takes no field 'queue'"
        );
        assert_eq!(
            bad(json!({"brokerlab": 1, "id": 1, "type": "counters", "key": 1})),
            "'key' must be a string"
        );
    }

    #[test]
    fn the_streams_tutorial_driven_through_requests() {
        let mut s = RedisEmbed::default();
        let e = run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "counters"})).unwrap_err();
        assert_eq!(e, "no document is loaded: send 'load' first");
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "nope"})).unwrap_err();
        assert!(
            e.starts_with(
                "no bundled Redis document 'nope'; known: streams-and-consumer-groups, streams-consumer-groups-and-xautoclaim, "
            ),
            "{e}"
        );
        let info = run(
            &mut s,
            json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "streams-consumer-groups-and-xautoclaim"}),
        )
        .unwrap();
        assert_eq!(info["model"], "redis");
        assert_eq!(info["scenario"]["bundled"], "streams-consumer-groups-and-xautoclaim");
        assert_eq!((info["timeMillis"].clone(), info["endMillis"].clone()), (json!(0), json!(20_000)));

        // At 6 s (tests/scenarios/redis-tutorials/streams-consumer-groups-and-xautoclaim/expected.txt) bob,
        // crashed at 3.2 s, still holds book-2 and alice just read book-5: two pending; book-6, added at
        // the same instant, is not delivered yet (lag 1).
        run(&mut s, json!({"brokerlab": 1, "id": 2, "type": "runUntil", "time": "6s"})).unwrap();
        let c = run(&mut s, json!({"brokerlab": 1, "id": 3, "type": "counters", "key": "orders"})).unwrap();
        let g = &c["streams"]["orders"]["groups"]["shipping"];
        assert_eq!(c["streams"]["orders"]["length"], 6, "{c}");
        assert_eq!((g["pending"].clone(), g["lag"].clone()), (json!(2), json!(1)), "{c}");
        assert_eq!(g["lastDeliveredId"], "1700000005000-0", "{c}");
        assert_eq!(c["timeMillis"], 6_000);
        // The same counts as the console's XPENDING and XINFO GROUPS say, through `command`.
        let out = run(
            &mut s,
            json!({"brokerlab": 1, "id": 4, "type": "command", "line": "XPENDING orders shipping"}),
        )
        .unwrap();
        assert!(out["output"].as_str().unwrap().starts_with("1) (integer) 2\n"), "{out}");
        assert_eq!(out["waiting"], false);
        // A command: redis-server's reply; an error reply rejects with redis-cli's words.
        let out =
            run(&mut s, json!({"brokerlab": 1, "id": 5, "type": "command", "line": "XADD audit * who page"}))
                .unwrap();
        assert_eq!(out["output"], "\"1700000006000-0\"");
        let e = run(&mut s, json!({"brokerlab": 1, "id": 6, "type": "command", "line": "LPUSH orders x"}))
            .unwrap_err();
        assert_eq!(e, "(error) WRONGTYPE Operation against a key holding the wrong kind of value");
        let e = run(&mut s, json!({"brokerlab": 1, "id": 7, "type": "command", "line": "SET x \"open"}))
            .unwrap_err();
        assert_eq!(e, "Invalid argument(s)");
        let e = run(&mut s, json!({"brokerlab": 1, "id": 8, "type": "counters", "key": "nope"})).unwrap_err();
        assert_eq!(
            e,
            "no list, stream, channel or pattern 'nope' at 6.000s (an empty list does not exist in Redis)"
        );
        // To the end: the rescuer claimed bob's entry and acknowledged it; every check passes, and the
        // entry the page added is still there (the page's command was kept at its instant).
        let end = run(&mut s, json!({"brokerlab": 1, "id": 9, "type": "runUntil", "time": "20s"})).unwrap();
        assert_eq!((end["timeMillis"].clone(), end["finished"].clone()), (json!(20_000), json!(true)));
        let c = run(&mut s, json!({"brokerlab": 1, "id": 10, "type": "counters"})).unwrap();
        let g = &c["streams"]["orders"]["groups"]["shipping"];
        assert_eq!(
            (g["pending"].clone(), g["lag"].clone(), g["consumers"].clone()),
            (json!(0), json!(0), json!(3)),
            "{c}"
        );
        assert_eq!(c["streams"]["audit"]["length"], 1, "{c}");
        let checks = run(&mut s, json!({"brokerlab": 1, "id": 11, "type": "checks"})).unwrap();
        assert_eq!((checks["failed"].clone(), checks["pending"].clone()), (json!(0), json!(0)), "{checks}");
        let records = s.event_records(0);
        assert_eq!(records.len(), s.event_count());
        assert!(records.iter().all(|r| r["event"].is_string() && r["at"].is_u64() && r["text"].is_string()));
        assert!(records.iter().any(|r| r["event"] == "typed" && r["command"] == "XADD audit * who page"));
    }

    #[test]
    fn lists_and_channels_counters_and_a_blocking_command() {
        let mut s = RedisEmbed::default();
        run(
            &mut s,
            json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "job-queue-brpop-and-blmove"}),
        )
        .unwrap();
        run(&mut s, json!({"brokerlab": 1, "id": 2, "type": "runUntil", "time": 2_500})).unwrap();
        // tests/scenarios/redis-tutorials/job-queue-brpop-and-blmove/expected.txt: at 2 s LPUSH jobs
        // replied 2 (job-2 and job-3 wait; worker-a works on job-1).
        let c = run(&mut s, json!({"brokerlab": 1, "id": 3, "type": "counters", "key": "jobs"})).unwrap();
        assert_eq!(c["lists"]["jobs"], json!({"length": 2, "blocked": 0}), "{c}");
        let out = run(&mut s, json!({"brokerlab": 1, "id": 4, "type": "command", "line": "LPUSH jobs page"}))
            .unwrap();
        assert_eq!(out["output"], "(integer) 3");
        // A blocking command waits on the run's clock; the console cannot send another meanwhile.
        let out = run(&mut s, json!({"brokerlab": 1, "id": 5, "type": "command", "line": "BLPOP nothing 1"}))
            .unwrap();
        assert_eq!((out["output"].clone(), out["waiting"].clone()), (Value::Null, json!(true)));
        let e = run(&mut s, json!({"brokerlab": 1, "id": 6, "type": "command", "line": "PING"})).unwrap_err();
        assert!(e.contains("waits in BLPOP nothing 1"), "{e}");
        run(&mut s, json!({"brokerlab": 1, "id": 7, "type": "runUntil", "time": "4s"})).unwrap();
        let out = run(&mut s, json!({"brokerlab": 1, "id": 8, "type": "command", "line": "PING"})).unwrap();
        assert_eq!(out["output"], "PONG");

        let mut p = RedisEmbed::default();
        run(&mut p, json!({"brokerlab": 1, "id": 1, "type": "load", "scenario": "pubsub-fire-and-forget"}))
            .unwrap();
        run(&mut p, json!({"brokerlab": 1, "id": 2, "type": "runUntil", "time": "10s"})).unwrap();
        // The golden transcript: PUBLISH replied 0, 2, 2, 1, 1, 2, 2, 3, 3, 3; 11 messages missed.
        let c = run(&mut p, json!({"brokerlab": 1, "id": 3, "type": "counters"})).unwrap();
        assert_eq!(
            c["channels"]["scores.football"],
            json!({"publishes": 10, "receivers": 19, "toNobody": 1, "missed": 11, "subscribers": 2}),
            "{c}"
        );
        assert_eq!(c["channels"]["scores.tennis"]["subscribers"], 1, "{c}");
        assert_eq!(c["patterns"]["scores.*"], json!({"subscribers": 1}), "{c}");
        assert_eq!(c["lists"], json!({}));
    }

    #[test]
    fn a_rabbitmq_sandbox_sends_a_redis_document_to_the_redis_sandbox_and_the_other_way_round() {
        let mut state = crate::state::AppState::new(crate::session::Session::new(1));
        let text = BUNDLED[0].text;
        let request =
            match protocol::parse(&json!({"brokerlab": 1, "id": 1, "type": "load", "document": text})) {
                protocol::Incoming::Request { request, .. } => request,
                other => panic!("{other:?}"),
            };
        assert_eq!(protocol::handle(&mut state, request), Err(protocol::REDIS_ELSEWHERE.to_string()));
        let mut s = RedisEmbed::default();
        let sqs = crate::sqs_page::model::BUNDLED[0].text;
        let e = run(&mut s, json!({"brokerlab": 1, "id": 2, "type": "load", "document": sqs})).unwrap_err();
        assert!(e.starts_with("this document's model is 'sqs', not 'redis'"), "{e}");
        let e =
            run(&mut s, json!({"brokerlab": 1, "id": 3, "type": "load", "document": "{\"brokerlab\": 2, "}))
                .unwrap_err();
        assert!(e.starts_with("This scenario cannot be loaded: 1:"), "{e}");
        assert!(s.session.is_none());
    }
}
