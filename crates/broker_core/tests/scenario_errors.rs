//! Malformed scenario documents: each gives an error with a location (and, for semantic problems, the
//! JSON path), never a panic — down to every truncation of a valid document.

use broker_core::scenario::document::Document;
use broker_core::scenario::sim::{SimOptions, Simulation};
use broker_core::scenario::{Pos, ScenarioError};

fn error(text: &str) -> ScenarioError {
    match Simulation::from_json(text, SimOptions::default()) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e,
    }
}

const VALID: &str = r#"{
  "brokerlab": 2,
  "name": "valid",
  "duration": "2s",
  "definitions": {
    "exchanges": [ { "name": "logs", "type": "fanout", "durable": false } ],
    "queues": [ { "name": "q", "durable": false, "arguments": { "x-message-ttl": 500 } } ],
    "bindings": [ { "source": "logs", "destination": "q", "destination_type": "queue", "routing_key": "" } ]
  },
  "producers": [ { "name": "p", "exchange": "logs", "rate": 5, "confirms": { "strategy": "async" } } ],
  "consumers": [ { "name": "c", "queue": "q", "prefetch": 2, "processing": { "uniform": ["1ms", "9ms"] },
                   "decisions": [ { "every": 4, "action": "reject", "requeue": false } ] } ],
  "faults": [ { "at": "1s", "drop_connection": "c" } ],
  "checks": [ { "at": "1500ms", "queue": "q", "messages": "<= 10" } ]
}"#;

#[test]
fn the_valid_document_runs() {
    let mut s = Simulation::from_json(VALID, SimOptions::default()).expect("valid");
    s.run();
    assert!(s.stopped().is_none());
}

#[test]
fn bad_json_is_located() {
    let e = error("{\n  \"brokerlab\": 2,\n  \"name\": \"x\"\n  \"seed\": 1\n}");
    assert_eq!(e.pos, Pos::new(4, 3), "{e}");
    assert!(e.message.contains("expected `,` or `}`"), "{e}");
    let e = error("{ \"brokerlab\": 2, ");
    assert!(e.message.contains("EOF"), "{e}");
    let e = error("[1, 2]");
    assert_eq!(e.to_string(), "1:1: a scenario document is a JSON object");
}

#[test]
fn unknown_fields_are_refused_where_they_are() {
    let text = VALID.replace("\"prefetch\": 2", "\"prefetch\": 2, \"prefech_count\": 3");
    let e = error(&text);
    assert_eq!(e.pos.line, 11, "{e}");
    assert!(e.message.starts_with("unknown field `prefech_count`, expected one of"), "{e}");
    let e = error("{ \"brokerlab\": 2, \"producer\": [] }");
    assert!(e.message.starts_with("unknown field `producer`"), "{e}");
    assert_eq!(e.pos, Pos::new(1, 28), "serde_json points at the end of the key");
}

#[test]
fn wrong_types_and_bad_values_are_located() {
    let e = error(&VALID.replace("\"rate\": 5", "\"rate\": \"fast\""));
    assert_eq!(e.pos.line, 10, "{e}");
    assert!(e.message.contains("invalid type"), "{e}");
    let e = error(&VALID.replace("\"duration\": \"2s\"", "\"duration\": \"2 parsecs\""));
    assert_eq!(e.pos.line, 4, "{e}");
    assert!(e.message.contains("unknown duration unit 'parsecs'"), "{e}");
    let e = error(&VALID.replace("\"<= 10\"", "\"about 10\""));
    assert_eq!(e.pos.line, 14, "{e}");
    let e = error(&VALID.replace("\"action\": \"reject\"", "\"action\": \"explode\""));
    assert!(e.message.contains("unknown variant `explode`"), "{e}");
    let e =
        error(&VALID.replace("\"strategy\": \"async\"", "\"strategy\": \"async\", \"max_outstanding\": 0"));
    assert!(e.message.starts_with("producers[0].confirms.max_outstanding: "), "{e}");
}

#[test]
fn an_unknown_queue_names_its_path_and_position() {
    let e = error(&VALID.replace("\"queue\": \"q\"", "\"queue\": \"qq\""));
    assert_eq!(e.message, "consumers[0].queue: no queue 'qq' in the definitions or declared by a consumer");
    assert_eq!(e.pos, Pos::new(11, 42), "{e}");
}

#[test]
fn a_refused_argument_gets_rabbitmqs_error_at_the_entity() {
    let text = VALID.replace("\"x-message-ttl\": 500", "\"x-message-ttl\": -5");
    let e = error(&text);
    assert!(
        e.message
            .starts_with("definitions.queues[0]: 'q': 406 PRECONDITION_FAILED - invalid arg 'x-message-ttl'"),
        "{e}"
    );
    assert_eq!(e.pos, Pos::new(7, 17), "{e}");
    // `Document::parse` alone does not run the import; the simulation does.
    assert!(Document::parse(&text).is_ok());
}

#[test]
fn references_and_kinds_are_checked() {
    for (from, to, expected) in [
        (
            "\"drop_connection\": \"c\"",
            "\"drop_connection\": \"nobody\"",
            "faults[0].drop_connection: no actor named 'nobody'",
        ),
        (
            "\"drop_connection\": \"c\"",
            "\"drop_connection\": \"c\", \"restart_broker\": true",
            "faults[0]: a fault needs exactly one",
        ),
        (
            "\"messages\": \"<= 10\"",
            "\"messages\": 1, \"ready\": 1",
            "checks[0].queue: a queue check needs exactly one",
        ),
        (
            "\"queue\": \"q\", \"messages\"",
            "\"queue\": \"nope\", \"messages\"",
            "checks[0].queue: no queue 'nope'",
        ),
        ("\"exchange\": \"logs\"", "\"exchange\": \"log\"", "producers[0].exchange: no exchange 'log'"),
        ("\"name\": \"c\"", "\"name\": \"p\"", "consumers[0].name: two actors are named 'p'"),
        (
            "\"prefetch\": 2",
            "\"prefetch\": 2, \"script\": \"missing\"",
            "consumers[0].script: no script named 'missing'",
        ),
        (
            "\"rate\": 5",
            "\"rate\": 5, \"routing_key\": \"k.{sequence}\"",
            "producers[0].routing_key: unknown placeholder '{sequence}'",
        ),
        ("\"every\": 4", "\"every\": 0", "consumers[0].decisions[0].every: every must be at least 1"),
    ] {
        let text = VALID.replace(from, to);
        assert_ne!(text, VALID, "{from}");
        let e = error(&text);
        assert!(e.message.starts_with(expected), "expected '{expected}', got '{e}'");
        assert!(e.pos.line > 1, "located: {e}");
    }
}

#[test]
fn the_version_is_checked_first() {
    let e = error("{ \"brokerlab\": 3, \"teleport\": true }");
    assert_eq!(e.to_string(), "1:16: brokerlab: unsupported format version 3; this runner reads 2");
    let e = error("{ \"name\": \"x\" }");
    assert!(e.message.starts_with("missing \"brokerlab\": 2"), "{e}");
}

#[test]
fn no_truncation_or_corruption_panics() {
    for cut in 0..VALID.len() {
        if VALID.is_char_boundary(cut) {
            let _ = Simulation::from_json(&VALID[..cut], SimOptions::default());
        }
    }
    for (i, _) in VALID.char_indices().step_by(7) {
        let mut text = VALID.to_string();
        text.replace_range(i..=i, "\"");
        let _ = Simulation::from_json(&text, SimOptions::default());
    }
}
