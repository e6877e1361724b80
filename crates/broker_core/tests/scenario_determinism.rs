//! Same document and seed ⇒ the same transcript and JSON report, byte for byte; another seed changes
//! the seeded parts (random keys, processing times, probabilistic decisions).

use broker_core::scenario::report::EventFilter;
use broker_core::scenario::sim::{run_document_transcript, SimOptions, Simulation};

const DOC: &str = r##"{
  "brokerlab": 2, "seed": 11, "duration": "20s",
  "definitions": {
    "exchanges": [ { "name": "x", "type": "topic" }, { "name": "dlx", "type": "fanout" } ],
    "queues": [ { "name": "work", "arguments": { "x-dead-letter-exchange": "dlx" } }, { "name": "dlq" } ],
    "bindings": [ { "source": "x", "destination": "work", "destination_type": "queue", "routing_key": "#" },
                  { "source": "dlx", "destination": "dlq", "destination_type": "queue" } ]
  },
  "producers": [ { "name": "p", "exchange": "x", "routing_key": "k.{random:100}", "body": "{seq}:{random:1000}",
                   "rate_schedule": [ { "rate": 20, "duration": "2s" }, { "rate": 2, "duration": "1s" } ],
                   "latency": "3ms", "confirms": { "strategy": "async", "max_outstanding": 5 } } ],
  "consumers": [
    { "name": "a", "queue": "work", "prefetch": 3, "processing": { "exponential": "40ms" },
      "decisions": [ { "probability": "1/5", "action": "nack", "requeue": true },
                     { "probability": "1/10", "action": "reject", "requeue": false } ] },
    { "name": "b", "queue": "work", "prefetch": 1, "processing": { "uniform": ["10ms", "90ms"] }, "latency": "7ms" }
  ],
  "faults": [ { "at": "5s", "crash": "b" }, { "at": "9s", "restart_broker": true } ],
  "checks": [ { "count": { "event": "dead_lettered" }, "is": ">= 1" } ]
}"##;

fn transcript(seed: u64) -> (String, String) {
    let options = SimOptions { seed: Some(seed), ..SimOptions::default() };
    let mut s = Simulation::from_json(DOC, options).expect("valid");
    s.run();
    (s.transcript_filtered(&EventFilter::All), s.to_json(&EventFilter::All))
}

#[test]
fn same_document_and_seed_same_transcript() {
    let (a, a_json) = transcript(11);
    let (b, b_json) = transcript(11);
    assert_eq!(a, b);
    assert_eq!(a_json, b_json);
    assert!(a.lines().count() > 1_000, "a busy run");
    assert_eq!(run_document_transcript(DOC).expect("runs"), run_document_transcript(DOC).expect("runs"));
}

#[test]
fn another_seed_changes_the_seeded_parts() {
    let (a, _) = transcript(11);
    let (c, _) = transcript(12);
    assert_ne!(a, c);
}
