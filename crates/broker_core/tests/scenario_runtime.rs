//! Scenario documents (format 2) run end to end: producers, consumers, faults, latency and checks, each
//! observed through the event log, the broker's counters and the checks' own results.

use broker_core::amqp::{Event, LoggedEvent};
use broker_core::scenario::report::event_kind;
use broker_core::scenario::sim::{run_document_transcript, CheckStatus, SimOptions, Simulation};
use broker_core::VirtualTime;

fn sim(doc: &str) -> Simulation {
    let options = SimOptions { check_invariants: true, ..SimOptions::default() };
    match Simulation::from_json(doc, options) {
        Ok(s) => s,
        Err(e) => panic!("document refused: {e}"),
    }
}

fn run(doc: &str) -> Simulation {
    let mut s = sim(doc);
    s.run();
    assert!(s.stopped().is_none(), "stopped: {:?}", s.stopped());
    s
}

fn events(s: &Simulation, kind: &str) -> Vec<LoggedEvent> {
    s.report().events.into_iter().filter(|e| event_kind(&e.event) == kind).collect()
}

fn statuses(s: &Simulation) -> Vec<CheckStatus> {
    s.check_results().iter().map(|r| r.status).collect()
}

fn deliveries_to(s: &Simulation, ctag: &str) -> usize {
    events(s, "delivered")
        .iter()
        .filter(|e| matches!(&e.event, Event::Delivered { delivery, .. } if delivery.consumer_tag.as_deref() == Some(ctag)))
        .count()
}

#[test]
fn work_queue_with_prefetch_one_dispatches_fairly_and_checks_pass() {
    let s = run(r#"{
      "brokerlab": 2, "seed": 1, "duration": "20s",
      "definitions": { "queues": [ { "name": "tasks", "durable": true } ] },
      "producers": [ { "name": "new_task", "routing_key": "tasks", "rate": 10, "count": 40 } ],
      "consumers": [
        { "name": "slow", "queue": "tasks", "prefetch": 1, "processing": "1s" },
        { "name": "fast", "queue": "tasks", "prefetch": 1, "processing": "100ms" }
      ],
      "checks": [
        { "queue": "tasks", "messages": 0 },
        { "all_published_acked": true },
        { "count": { "event": "acked", "actor": "fast" }, "is": ">= 30" }
      ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 3], "{:#?}", s.check_results());
    assert!(deliveries_to(&s, "fast") > 3 * deliveries_to(&s, "slow"));
    assert_eq!(events(&s, "published").len(), 40);
}

#[test]
fn rate_schedule_cycles_and_bursts_add_messages() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "4s",
      "definitions": { "queues": [ { "name": "q" } ] },
      "producers": [ { "name": "p", "routing_key": "q",
                       "rate_schedule": [ { "rate": 10, "duration": "1s" }, { "rate": 0, "duration": "1s" } ],
                       "bursts": [ { "at": "1500ms", "count": 7 } ] } ]
    }"#);
    let times: Vec<u64> = events(&s, "published").iter().map(|e| e.at.as_millis()).collect();
    // 10 in [0,1s), 7 at 1.5s, 10 in [2s,3s), and the slot at 4.000s is the end of the run.
    assert_eq!(times.len(), 10 + 7 + 10 + 1, "{times:?}");
    assert_eq!(times.iter().filter(|t| **t == 1_500).count(), 7);
    assert!(times.iter().all(|t| !(1_000..1_500).contains(t) && !(1_501..2_000).contains(t)));
    assert_eq!(times[..3], [0, 100, 200]);
}

#[test]
fn start_duration_templates_size_and_properties() {
    let s = run(r##"{
      "brokerlab": 2, "seed": 7, "duration": "5s",
      "definitions": {
        "exchanges": [ { "name": "x", "type": "topic" } ],
        "queues": [ { "name": "all", "arguments": { "x-max-priority": 5 } } ],
        "bindings": [ { "source": "x", "destination": "all", "destination_type": "queue", "routing_key": "#" } ]
      },
      "producers": [ { "name": "p", "exchange": "x", "routing_key": "k.{random:3}.{actor}", "body": "n{seq}",
                       "body_size": 16, "rate": 10, "start": "1s", "duration": "2s",
                       "properties": { "persistent": true, "expiration": "60s", "priority": 3,
                                       "reply_to": "back", "correlation_id": "c-{seq}",
                                       "headers": { "tenant": "a", "n": 1 } } } ],
      "checks": [ { "queue": "all", "ready": 20 } ]
    }"##);
    assert_eq!(statuses(&s), [CheckStatus::Pass]);
    let published = events(&s, "published");
    assert_eq!(published.len(), 20);
    assert_eq!(published[0].at, VirtualTime(1_000));
    for e in &published {
        let Event::Published { routing_key, size, .. } = &e.event else { unreachable!() };
        assert_eq!(*size, 16);
        let parts: Vec<&str> = routing_key.split('.').collect();
        assert_eq!(parts[0], "k");
        assert!(["0", "1", "2"].contains(&parts[1]), "{routing_key}");
        assert_eq!(parts[2], "p");
    }
    let head = s.broker().peek("all").expect("queue")[0].clone();
    assert_eq!(head.body, b"n1..............".to_vec());
    let p = &head.properties;
    assert_eq!(p.delivery_mode, Some(2));
    assert_eq!(p.expiration.as_deref(), Some("60000"));
    assert_eq!(p.priority, Some(3));
    assert_eq!(p.reply_to.as_deref(), Some("back"));
    assert_eq!(p.correlation_id.as_deref(), Some("c-1"));
    assert_eq!(p.headers.len(), 2);
}

#[test]
fn mandatory_unroutable_messages_come_back() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "1s",
      "definitions": { "exchanges": [ { "name": "x", "type": "direct" } ] },
      "producers": [ { "name": "p", "exchange": "x", "routing_key": "nowhere", "count": 3, "mandatory": true } ],
      "checks": [ { "count": { "event": "returned", "actor": "p" }, "is": 3 } ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass]);
}

#[test]
fn every_third_message_is_dead_lettered_and_order_checks_see_it() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "5s",
      "definitions": {
        "exchanges": [ { "name": "dlx", "type": "fanout" } ],
        "queues": [ { "name": "work", "arguments": { "x-dead-letter-exchange": "dlx" } }, { "name": "dlq" } ],
        "bindings": [ { "source": "dlx", "destination": "dlq", "destination_type": "queue" } ]
      },
      "producers": [ { "name": "p", "routing_key": "work", "rate": 10, "count": 9 } ],
      "consumers": [ { "name": "w", "queue": "work", "prefetch": 1, "processing": "10ms",
                       "decisions": [ { "every": 3, "action": "nack", "requeue": false } ] } ],
      "checks": [
        { "queue": "dlq", "messages": 3 },
        { "count": { "event": "dead_lettered", "queue": "work", "reason": "rejected" }, "is": 3 },
        { "first": { "event": "acked" }, "then": { "event": "dead_lettered" } },
        { "first": { "event": "dead_lettered" }, "then": { "event": "published" } },
        { "queue": "dlq", "messages": 4 }
      ]
    }"#);
    let st = statuses(&s);
    assert_eq!(st[..3], [CheckStatus::Pass; 3], "{:#?}", s.check_results());
    assert_eq!(st[3], CheckStatus::Fail, "published came first");
    let r = &s.check_results()[4];
    assert_eq!((r.status, r.observed.as_str()), (CheckStatus::Fail, "3"));
    assert!(r.line().contains("check 5 FAIL"), "{}", r.line());
}

#[test]
fn nack_then_ack_on_redelivery_is_redelivered_at_most_once() {
    let doc = |most: u64| {
        format!(
            r#"{{
          "brokerlab": 2, "duration": "5s",
          "definitions": {{ "queues": [ {{ "name": "q" }} ] }},
          "producers": [ {{ "name": "p", "routing_key": "q", "count": 5 }} ],
          "consumers": [ {{ "name": "c", "queue": "q", "prefetch": 1, "processing": "50ms",
                           "decisions": [ {{ "redelivered": false, "action": "nack", "requeue": true }} ] }} ],
          "checks": [ {{ "consumer": "c", "redelivered_at_most": {most} }}, {{ "all_published_acked": true }} ]
        }}"#
        )
    };
    let s = run(&doc(1));
    assert_eq!(statuses(&s), [CheckStatus::Pass, CheckStatus::Pass]);
    assert_eq!(events(&s, "delivered").len(), 10);
    let s = run(&doc(0));
    let r = &s.check_results()[0];
    assert_eq!((r.status, r.observed.as_str()), (CheckStatus::Fail, "1"));
}

#[test]
fn probability_decisions_are_seeded() {
    let doc = |seed: u64| {
        format!(
            r#"{{ "brokerlab": 2, "seed": {seed}, "duration": "10s",
          "definitions": {{ "queues": [ {{ "name": "q" }} ] }},
          "producers": [ {{ "name": "p", "routing_key": "q", "count": 200 }} ],
          "consumers": [ {{ "name": "c", "queue": "q", "prefetch": 10,
                           "processing": {{ "exponential": "5ms" }},
                           "decisions": [ {{ "probability": "1/4", "action": "reject", "requeue": false }} ] }} ] }}"#
        )
    };
    let rejected = |seed| events(&run(&doc(seed)), "rejected").len();
    let a = rejected(3);
    assert_eq!(a, rejected(3));
    assert!((25..=75).contains(&a), "about a quarter of 200: {a}");
}

#[test]
fn a_crash_at_a_time_requeues_and_another_worker_gets_it_redelivered() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "10s",
      "definitions": { "queues": [ { "name": "q", "durable": true } ] },
      "producers": [ { "name": "p", "routing_key": "q", "count": 1 } ],
      "consumers": [
        { "name": "a", "queue": "q", "prefetch": 1, "processing": "2s" },
        { "name": "b", "queue": "q", "prefetch": 1, "processing": "2s", "start": "100ms" }
      ],
      "faults": [ { "at": "1s", "crash": "a" } ],
      "checks": [
        { "at": "999ms", "queue": "q", "unacked": 1 },
        { "count": { "event": "delivered", "actor": "b" }, "is": 1 },
        { "consumer": "b", "redelivered_at_most": 1 },
        { "first": { "event": "requeued" }, "then": { "event": "acked", "actor": "b" } },
        { "count": { "event": "acked", "actor": "a" }, "is": 0 }
      ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 5], "{:#?}", s.check_results());
    let d = events(&s, "delivered");
    assert!(matches!(&d[1].event, Event::Delivered { delivery, .. } if delivery.redelivered));
    assert!(s.transcript().contains("a crashes (fault) -> connection closed"));
}

#[test]
fn crash_after_n_messages_and_restart() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "10s",
      "definitions": { "queues": [ { "name": "q" } ] },
      "producers": [ { "name": "p", "routing_key": "q", "count": 5 } ],
      "consumers": [ { "name": "c", "queue": "q", "prefetch": 1, "processing": "100ms", "restart_after": "1s" } ],
      "faults": [ { "crash": "c", "after_messages": 3 } ],
      "checks": [ { "all_published_acked": true }, { "count": { "event": "connection_opened", "actor": "c" }, "is": 2 },
                  { "consumer": "c", "redelivered_at_most": 1 } ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 3], "{:#?}", s.check_results());
    // The third message was held when the consumer crashed at 0.2 s; after the restart at 1.2 s it
    // comes again, redelivered.
    let d = events(&s, "delivered");
    assert_eq!(d.len(), 6);
    assert!(matches!(&d[3].event, Event::Delivered { delivery, .. } if delivery.redelivered));
    assert_eq!(d[3].at, VirtualTime(1_200));
}

#[test]
fn a_decision_to_crash_closes_without_acking() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "3s",
      "definitions": { "queues": [ { "name": "q" } ] },
      "producers": [ { "name": "p", "routing_key": "q", "count": 4 } ],
      "consumers": [ { "name": "c", "queue": "q", "prefetch": 1, "processing": "10ms",
                       "decisions": [ { "every": 2, "action": "crash" } ] } ],
      "checks": [ { "queue": "q", "ready": 3 }, { "count": { "event": "acked" }, "is": 1 } ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 2], "{:#?}", s.check_results());
}

#[test]
fn a_dropped_producer_reconnects_and_goes_on() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "3s",
      "definitions": { "queues": [ { "name": "q" } ] },
      "producers": [ { "name": "p", "routing_key": "q", "rate": 10, "reconnect_after": "500ms" } ],
      "faults": [ { "at": "1050ms", "drop_connection": "p" } ],
      "checks": [ { "count": { "event": "connection_opened", "actor": "p" }, "is": 2 } ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass]);
    let times: Vec<u64> = events(&s, "published").iter().map(|e| e.at.as_millis()).collect();
    // Slots 1.1 s .. 1.5 s fall while disconnected and are lost; publishing resumes at 1.6 s.
    assert!(!times.iter().any(|t| (1_100..1_550).contains(t)), "{times:?}");
    assert!(times.contains(&1_600) && times.contains(&1_000));
}

#[test]
fn broker_restart_keeps_durable_persistent_and_redelivers_unacked() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "10s",
      "definitions": { "queues": [ { "name": "durable_q", "durable": true }, { "name": "transient_q", "durable": false } ] },
      "producers": [
        { "name": "persistent", "routing_key": "durable_q", "count": 3, "properties": { "persistent": true } },
        { "name": "transient", "routing_key": "durable_q", "count": 2 },
        { "name": "other", "routing_key": "transient_q", "count": 2, "properties": { "persistent": true } }
      ],
      "consumers": [ { "name": "c", "queue": "durable_q", "prefetch": 1, "processing": "10s", "start": "1s",
                       "reconnect_after": "2s" } ],
      "faults": [ { "at": "2s", "restart_broker": true } ],
      "checks": [
        { "at": "1500ms", "queue": "durable_q", "unacked": 1 },
        { "at": "2500ms", "queue": "durable_q", "ready": 3 },
        { "count": { "event": "dropped", "reason": "restart" }, "is": 2 },
        { "count": { "event": "queue_deleted", "queue": "transient_q" }, "is": 1 },
        { "at": "4s", "queue": "durable_q", "unacked": 1 }
      ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 5], "{:#?}", s.check_results());
    let d = events(&s, "delivered");
    let last = d.last().expect("a delivery after the restart");
    assert_eq!(last.at, VirtualTime(4_000));
    assert!(matches!(&last.event, Event::Delivered { delivery, .. } if delivery.redelivered));
}

#[test]
fn rpc_server_replies_with_the_correlation_id() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "2s",
      "definitions": { "queues": [ { "name": "rpc_queue" }, { "name": "callback" } ] },
      "producers": [ { "name": "client", "routing_key": "rpc_queue", "body": "fib({seq})", "count": 3,
                       "properties": { "reply_to": "callback", "correlation_id": "id-{seq}" } } ],
      "consumers": [
        { "name": "server", "queue": "rpc_queue", "prefetch": 1, "processing": "20ms",
          "reply": { "body": "{correlation_id}: {body} done by {actor}" } },
        { "name": "client_replies", "queue": "callback", "auto_ack": true }
      ],
      "checks": [ { "count": { "event": "delivered", "queue": "callback" }, "is": 3 }, { "all_published_acked": true } ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 2], "{:#?}", s.check_results());
    let replies: Vec<(String, String)> = events(&s, "delivered")
        .iter()
        .filter_map(|e| match &e.event {
            Event::Delivered { queue, delivery, .. } if &**queue == "callback" => Some((
                delivery.properties.correlation_id.clone().unwrap_or_default(),
                String::from_utf8_lossy(&delivery.body).into_owned(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(replies[1], ("id-2".to_string(), "id-2: fib(2) done by server".to_string()));
}

#[test]
fn pubsub_with_server_named_exclusive_queues() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "2s",
      "definitions": { "exchanges": [ { "name": "logs", "type": "fanout" } ] },
      "producers": [ { "name": "emit_log", "exchange": "logs", "count": 2, "start": "100ms" } ],
      "consumers": [
        { "name": "r1", "declare": { "exclusive": true }, "bind": [ { "exchange": "logs" } ], "auto_ack": true },
        { "name": "r2", "declare": { "exclusive": true }, "bind": [ { "exchange": "logs" } ], "auto_ack": true,
          "stop": "1s" }
      ],
      "checks": [ { "count": { "event": "delivered" }, "is": 4 },
                  { "count": { "event": "queue_deleted" }, "is": 1 } ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 2], "{:#?}", s.check_results());
    assert!(s
        .transcript()
        .contains("queue.declare queue=\"\" exclusive -> queue.declare-ok queue=\"amq.gen-"));
}

#[test]
fn single_active_consumer_and_exclusive_consume() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "3s",
      "definitions": { "queues": [ { "name": "sac", "arguments": { "x-single-active-consumer": true } },
                                   { "name": "solo" } ] },
      "producers": [ { "name": "p", "routing_key": "sac", "count": 6, "start": "100ms" } ],
      "consumers": [
        { "name": "first", "queue": "sac", "prefetch": 1, "processing": "10ms" },
        { "name": "second", "queue": "sac", "prefetch": 1, "processing": "10ms" },
        { "name": "owner", "queue": "solo", "exclusive": true },
        { "name": "intruder", "queue": "solo", "start": "1s" }
      ],
      "checks": [ { "count": { "event": "delivered", "actor": "first" }, "is": 6 },
                  { "count": { "event": "channel_closed", "actor": "intruder" }, "is": 1 } ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 2], "{:#?}", s.check_results());
    assert!(
        s.transcript().contains("intruder gives up after a channel error -> 403 ACCESS_REFUSED"),
        "{}",
        s.transcript()
    );
}

#[test]
/// One channel-wide limit of 3 for two consumers: the first queue's consumer takes all three (with a
/// per-consumer limit each would hold three).
fn global_prefetch_limits_the_channel_and_several_queues_share_it() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "500ms",
      "definitions": { "queues": [ { "name": "a" }, { "name": "b" } ] },
      "producers": [ { "name": "pa", "routing_key": "a", "count": 5 }, { "name": "pb", "routing_key": "b", "count": 5 } ],
      "consumers": [ { "name": "c", "queues": [ "a", "b" ], "prefetch": 3, "prefetch_global": true, "processing": "1h" } ],
      "checks": [ { "queue": "a", "unacked": 3 }, { "queue": "b", "unacked": 0 },
                  { "count": { "event": "delivered" }, "is": 3 } ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 3], "{:#?}", s.check_results());
}

#[test]
fn stop_and_cancel_end_consumption() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "5s",
      "definitions": { "queues": [ { "name": "q" }, { "name": "r" } ] },
      "producers": [ { "name": "p", "routing_key": "q", "rate": 2 }, { "name": "pr", "routing_key": "r", "rate": 2 } ],
      "consumers": [ { "name": "c", "queue": "q", "stop": "2100ms" },
                     { "name": "k", "queue": "r", "decisions": [ { "every": 3, "action": "cancel" } ] } ],
      "checks": [ { "count": { "event": "delivered", "actor": "c" }, "is": 5 },
                  { "count": { "event": "acked", "actor": "k" }, "is": 3 },
                  { "count": { "event": "consumer_cancelled", "actor": "k" }, "is": 1 },
                  { "queue": "q", "ready": 6 } ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 4], "{:#?}", s.check_results());
}

/// Tutorial 7 under 20 ms of one-way latency: publishing 500 messages one confirm at a time needs a
/// round trip each; batches of 50 and 50 messages in flight need ten round trips.
#[test]
fn confirm_strategies_rank_as_in_tutorial_seven_under_latency() {
    let finish = |strategy: &str, latency: &str| {
        let doc = format!(
            r#"{{ "brokerlab": 2, "duration": "1h",
              "definitions": {{ "queues": [ {{ "name": "q" }} ] }},
              "producers": [ {{ "name": "p", "routing_key": "q", "count": 500, "latency": "{latency}",
                               "confirms": {{ "strategy": "{strategy}", "batch_size": 50, "max_outstanding": 50 }} }} ],
              "checks": [ {{ "all_published_confirmed": true }} ] }}"#
        );
        let s = run(&doc);
        assert_eq!(statuses(&s), [CheckStatus::Pass]);
        events(&s, "confirmed").last().expect("confirms").at.as_millis()
    };
    let individual = finish("individual", "20ms");
    let batch = finish("batch", "20ms");
    let asynchronous = finish("async", "20ms");
    assert_eq!(individual, 500 * 40 - 20, "one round trip per message");
    assert!(batch * 10 < individual, "batch {batch} vs individual {individual}");
    assert!(asynchronous * 10 < individual, "async {asynchronous} vs individual {individual}");
    // Without latency the strategies cannot differ: nothing costs time.
    assert_eq!(finish("individual", "0ms"), 0);
}

#[test]
fn a_latency_fault_slows_a_client_from_its_time_on() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "3s",
      "definitions": { "queues": [ { "name": "q" } ] },
      "producers": [ { "name": "p", "routing_key": "q", "rate": 1 } ],
      "faults": [ { "at": "1500ms", "latency": "300ms", "client": "p" } ]
    }"#);
    let times: Vec<u64> = events(&s, "published").iter().map(|e| e.at.as_millis()).collect();
    assert_eq!(times, [0, 1_000, 2_300]);
}

#[test]
fn checks_are_pending_until_their_time_and_settle_once() {
    let mut s = sim(r#"{
      "brokerlab": 2, "duration": "10s",
      "definitions": { "queues": [ { "name": "q" } ] },
      "producers": [ { "name": "p", "routing_key": "q", "rate": 1 } ],
      "checks": [ { "at": "2s", "queue": "q", "ready": 3 }, { "queue": "q", "ready": ">= 10" } ]
    }"#);
    s.run_until(VirtualTime(1_000));
    let r = s.check_results();
    assert_eq!((r[0].status, r[0].observed.as_str()), (CheckStatus::Pending, "2"));
    s.run_until(VirtualTime(5_000));
    assert_eq!(s.check_results()[0].status, CheckStatus::Pass, "3 ready at 2 s (0, 1, 2 s)");
    assert_eq!(s.check_results()[1].status, CheckStatus::Pending);
    s.run();
    assert!(s.finished());
    assert_eq!(statuses(&s), [CheckStatus::Pass, CheckStatus::Pass]);
    assert!(s.step().is_none(), "nothing after the end");
}

#[test]
fn the_runaway_guard_stops_a_requeue_loop() {
    let mut s = Simulation::from_json(
        r#"{ "brokerlab": 2, "duration": "1s",
          "definitions": { "queues": [ { "name": "q" } ] },
          "producers": [ { "name": "p", "routing_key": "q", "count": 1 } ],
          "consumers": [ { "name": "c", "queue": "q", "default_decision": "nack" } ],
          "checks": [ { "queue": "q", "messages": 1 } ] }"#,
        SimOptions { max_firings_per_instant: 1_000, ..SimOptions::default() },
    )
    .expect("valid");
    s.run();
    let stop = s.stopped().expect("stopped by the guard");
    assert!(stop.message.starts_with("runaway: more than 1000 firings at 0.000s"), "{}", stop.message);
    assert_eq!(statuses(&s), [CheckStatus::Pending]);
}

#[test]
fn run_document_transcript_prints_checks_or_the_error() {
    let t = run_document_transcript(
        r#"{ "brokerlab": 2, "duration": "1s", "definitions": { "queues": [ { "name": "q" } ] },
             "producers": [ { "name": "p", "routing_key": "q", "count": 1 } ],
             "checks": [ { "queue": "q", "messages": 2, "description": "two waiting" } ] }"#,
    )
    .expect("runs");
    assert!(t.ends_with("1.000s check 1 FAIL: two waiting; observed 1 (1 ready, 0 unacked)\n"), "{t}");
    let e = run_document_transcript("{ \"brokerlab\": 2, \"producers\": 3 }").unwrap_err();
    assert!(e.starts_with("1:"), "{e}");
}

#[test]
fn every_nth_counts_messages_in_delivery_order_with_a_deep_prefetch() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "2s",
      "definitions": { "queues": [ { "name": "q" } ] },
      "producers": [ { "name": "p", "routing_key": "q", "count": 20, "body": "m{seq}" } ],
      "consumers": [ { "name": "c", "queue": "q", "prefetch": 10, "processing": "5ms",
                       "decisions": [ { "every": 2, "action": "reject", "requeue": false } ] } ]
    }"#);
    let rejected: Vec<String> = events(&s, "rejected")
        .iter()
        .map(|e| match &e.event {
            Event::Rejected { message, .. } => message.to_string(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(rejected, ["m2", "m4", "m6", "m8", "m10", "m12", "m14", "m16", "m18", "m20"]);
}

#[test]
fn scripted_consumer_and_producer_decide_publish_log_and_sleep() {
    let s = run(r#"{
      "brokerlab": 2, "duration": "2s",
      "definitions": { "queues": [ { "name": "q" }, { "name": "out" } ] },
      "scripts": {
        "flaky": "fn on_message(msg) { log(`got ${msg.body}`); sleep(100); if msg.seq % 2 == 0 { nack(false) } else { publish(\"\", \"out\", \"copy \" + msg.body); ack() } }",
        "gen": "fn on_tick(seq) { if seq < 3 { publish(\"\", \"q\", `m${seq}`) } }"
      },
      "producers": [ { "name": "p", "script": "gen", "rate": 10, "count": 5 } ],
      "consumers": [ { "name": "c", "queue": "q", "prefetch": 1, "script": "flaky" } ],
      "checks": [ { "queue": "out", "ready": 2 }, { "count": { "event": "nacked" }, "is": 1 },
                  { "count": { "event": "published", "actor": "p" }, "is": 3 } ]
    }"#);
    assert_eq!(statuses(&s), [CheckStatus::Pass; 3], "{:#?}", s.check_results());
    let acks: Vec<u64> = events(&s, "acked").iter().map(|e| e.at.as_millis()).collect();
    assert_eq!(acks, [100, 300], "sleep(100) is the processing time");
    assert!(s.transcript().contains("0.100s c log -> got m1"), "{}", s.transcript());
}

#[test]
fn script_errors_are_located_or_stop_the_run() {
    let e = Simulation::from_json(
        r#"{ "brokerlab": 2, "definitions": { "queues": [ { "name": "q" } ] },
             "scripts": { "broken": "fn on_message(msg) { ack( }" },
             "consumers": [ { "name": "c", "queue": "q", "script": "broken" } ] }"#,
        SimOptions::default(),
    )
    .err()
    .expect("refused");
    assert!(e.message.starts_with("scripts.broken: script 'broken' line 1"), "{e}");
    assert_eq!(e.pos.line, 2);
    let e = Simulation::from_json(
        r#"{ "brokerlab": 2, "definitions": { "queues": [ { "name": "q" } ] },
             "scripts": { "gen": "fn on_tick(seq) { }" },
             "consumers": [ { "name": "c", "queue": "q", "script": "gen" } ] }"#,
        SimOptions::default(),
    )
    .err()
    .expect("refused");
    assert_eq!(e.message, "consumers[0].script: script 'gen' has no `fn on_message(…)`");
    let mut s = sim(r#"{ "brokerlab": 2, "duration": "1s", "definitions": { "queues": [ { "name": "q" } ] },
             "scripts": { "spin": "fn on_message(msg) {\n  loop { }\n}" },
             "producers": [ { "name": "p", "routing_key": "q", "count": 1 } ],
             "consumers": [ { "name": "c", "queue": "q", "script": "spin" } ] }"#);
    s.run();
    let stop = s.stopped().expect("the runaway script stops the run");
    assert!(stop.message.starts_with("script 'spin' line 2"), "{}", stop.message);
    assert!(!s.finished());
}
