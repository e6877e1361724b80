//! Every run is bounded: the run budget is charged per message and per event (not per wake-up), the
//! format-1 parser refuses deep nesting instead of overflowing the stack, and the error says where.

use broker_core::scenario::sim::{RunBudget, SimOptions, Simulation};

fn options(budget: RunBudget) -> SimOptions {
    SimOptions { keep_log: false, budget, ..SimOptions::default() }
}

/// One wake-up of a script producer publishes 2,000 messages; the run stops at the message past the
/// budget, inside that wake-up, and points at the producer.
#[test]
fn the_budget_counts_messages_not_wake_ups() {
    let text = r#"{
  "brokerlab": 2,
  "duration": "10s",
  "definitions": { "queues": [ { "name": "q" } ] },
  "producers": [
    { "name": "fanout-script", "count": 1, "script": "many" }
  ],
  "scripts": { "many": "fn on_tick() { for i in 0..2000 { publish(\"\", \"q\", \"m\"); } }" }
}"#;
    let budget = RunBudget { messages: 1_500, ..RunBudget::DEFAULT };
    let mut sim = Simulation::from_json(text, options(budget)).expect("within the static estimate");
    sim.run();
    let stop = sim.stopped().expect("stopped by the budget");
    assert_eq!(
        stop.message,
        "budget: producer 'fanout-script' (producers[0]) would publish message 1,501 of the run, past the \
         budget of 1,500 messages per run; the run was stopped"
    );
    assert_eq!((stop.pos.line, stop.pos.col), (6, 5), "at the producer");
    assert_eq!(stop.at.as_millis(), 0, "in the first wake-up");
    assert_eq!(sim.broker().queues()[0].messages_ready, 1_500, "nothing past the budget was published");
}

/// A consumer that republishes every message twice to its own queue grows without end; the budget stops
/// it at the consumer.
#[test]
fn a_consumer_that_republishes_for_ever_is_stopped_at_the_budget() {
    let text = r#"{
  "brokerlab": 2,
  "duration": "1000000h",
  "definitions": { "queues": [ { "name": "q" } ] },
  "producers": [ { "name": "seed", "routing_key": "q", "count": 1 } ],
  "consumers": [
    { "name": "echo", "queue": "q", "processing": "1ms", "script": "twice" }
  ],
  "scripts": { "twice": "fn on_message(msg) { publish(\"\", \"q\", msg.body); publish(\"\", \"q\", msg.body); ack(); }" }
}"#;
    let budget = RunBudget { messages: 5_000, ..RunBudget::DEFAULT };
    let mut sim = Simulation::from_json(text, options(budget)).expect("valid");
    sim.run();
    let stop = sim.stopped().expect("stopped by the budget");
    assert!(
        stop.message.starts_with("budget: consumer 'echo' (consumers[0]) would publish message 5,001"),
        "{}",
        stop.message
    );
    assert_eq!(stop.pos.line, 7, "at the consumer");
}

/// A message requeued for ever publishes nothing; the event budget stops it.
#[test]
fn endless_redeliveries_are_stopped_by_the_event_budget() {
    let text = r#"{
  "brokerlab": 2,
  "duration": "1000000h",
  "definitions": { "queues": [ { "name": "q" } ] },
  "producers": [ { "name": "p", "routing_key": "q", "count": 1 } ],
  "consumers": [ { "name": "c", "queue": "q", "processing": "1ms", "default_decision": "nack" } ]
}"#;
    let budget = RunBudget { events: 3_000, ..RunBudget::DEFAULT };
    let mut sim = Simulation::from_json(text, options(budget)).expect("valid");
    sim.run();
    let stop = sim.stopped().expect("stopped by the budget");
    assert_eq!(stop.message, "budget: more than 3,000 broker events in this run; the run was stopped");
}

/// The default budget holds a document far beyond memory before anything runs.
#[test]
fn a_count_of_a_trillion_is_refused_before_the_run() {
    let text = r#"{ "brokerlab": 2, "producers": [ { "name": "flood", "count": 1000000000000 } ] }"#;
    let e = Simulation::from_json(text, SimOptions::default()).err().expect("refused");
    assert_eq!((e.pos.line, e.pos.col), (1, 62), "{e}");
    assert!(e
        .message
        .starts_with("producers[0].count: producer 'flood' can publish 1,000,000,000,000 messages"));
}

/// The default budget is generous: every bundled scenario uses at most 1% of each part of it.
#[test]
fn every_bundled_scenario_stays_far_inside_the_default_budget() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/scenarios");
    let mut paths: Vec<_> =
        std::fs::read_dir(&dir).expect("the library").map(|e| e.expect("entry").path()).collect();
    paths.sort();
    let budget = RunBudget::DEFAULT;
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let text = std::fs::read_to_string(path).expect("readable");
        let mut sim = Simulation::from_json(&text, options(budget)).expect("a bundled scenario loads");
        sim.run();
        let used = sim.budget_used();
        println!("{}: {used:?}", path.display());
        assert!(sim.stopped().is_none(), "{}", path.display());
        assert!(used.messages * 100 <= budget.messages, "{}: {used:?}", path.display());
        assert!(used.body_bytes * 100 <= budget.body_bytes, "{}: {used:?}", path.display());
        assert!(used.events * 100 <= budget.events, "{}: {used:?}", path.display());
    }
}
