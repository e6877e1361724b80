//! Calls made by hand on a running SQS document (the page's forms): `SendMessage`, `ReceiveMessage`,
//! `DeleteMessage` and `ChangeMessageVisibility` at the run's current instant get SQS's answers and
//! errors (texts as the engine's goldens have them, from AWS's API Reference and knowledge-center
//! articles), keep the run's ledger whole (no run stops), reach waiting consumers at once, and a long
//! poll by hand stays open on the run's clock. The same calls at the same instants replay the same run,
//! receipt handles included.

use broker_core::sqs::scenario::{HandDelete, SqsEvent, SqsRun, SqsRunOptions, HAND};
use broker_core::sqs::types::{ReceiveMessage, SendMessage};
use broker_core::VirtualTime;
use std::path::Path;

fn tutorial(name: &str) -> SqsRun {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scenarios/sqs-tutorials")
        .join(name)
        .join("document.json");
    let text = std::fs::read_to_string(path).expect("the tutorial");
    SqsRun::from_json(&text, SqsRunOptions::default()).expect("opens")
}

fn send(body: &str) -> SendMessage {
    SendMessage { body: body.into(), ..SendMessage::default() }
}

fn receive(max: i64, visibility: Option<i64>, wait: Option<i64>) -> ReceiveMessage {
    ReceiveMessage {
        max_number_of_messages: Some(max),
        visibility_timeout: visibility,
        wait_time_seconds: wait,
        system_attribute_names: vec!["All".into()],
        message_attribute_names: vec!["All".into()],
        receive_request_attempt_id: None,
    }
}

fn census(run: &SqsRun, queue: &str) -> (usize, usize, usize) {
    let c = run.service().census(queue);
    (c.visible, c.in_flight, c.delayed)
}

fn hand_lines(run: &SqsRun) -> Vec<String> {
    run.events()
        .iter()
        .filter(|(_, e)| e.to_string().starts_with(HAND))
        .map(|(t, e)| format!("{t} {e}"))
        .collect()
}

#[test]
fn a_message_sent_received_and_deleted_by_hand_with_sqs_errors_on_the_way() {
    // The dead-letter queue of the redrive tutorial has no consumer: only the hand touches it.
    let mut run = tutorial("dead-letter-queue-and-redrive");
    run.run_until(VirtualTime::from_millis(2_000));
    let sent = run.hand_send("payments-dlq", &send("by-hand-1")).expect("sent");
    // `printf by-hand-1 | md5sum`.
    assert_eq!(sent.md5_of_body, "b5176b2bf09bd0408b04d193411341b1");
    assert_eq!(census(&run, "payments-dlq"), (1, 0, 0));

    // VisibilityTimeout above 12 hours: refused, nothing received.
    let e = run.hand_receive("payments-dlq", &receive(1, Some(43_201), None)).unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue");
    assert_eq!(
        e.message,
        "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
    );
    assert!(run.hand_receives().is_empty(), "a refused receive is not kept");

    let i = run.hand_receive("payments-dlq", &receive(10, Some(60), None)).expect("received");
    let r = run.hand_receives()[i].clone();
    assert_eq!(r.answered_at, Some(VirtualTime::from_millis(2_000)));
    assert_eq!(r.messages.len(), 1);
    let m = &r.messages[0];
    assert_eq!((m.body.as_str(), m.message_id.as_str()), ("by-hand-1", sent.message_id.as_str()));
    assert_eq!(m.attributes.get("ApproximateReceiveCount").map(String::as_str), Some("1"));
    assert_eq!(census(&run, "payments-dlq"), (0, 1, 0), "in flight");
    let stored = run.service().queue("payments-dlq").unwrap().messages.values().next().unwrap().clone();
    assert_eq!(stored.visible_at, VirtualTime::from_millis(62_000), "its 60 s visibility clock");

    // ChangeMessageVisibility beyond 12 hours in total: refused; within: the clock restarts.
    let e = run.hand_change_visibility("payments-dlq", &m.receipt_handle, 43_201).unwrap_err();
    assert_eq!(
        e.message,
        "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]."
    );
    run.run_until(VirtualTime::from_millis(3_000));
    assert_eq!(
        run.hand_change_visibility("payments-dlq", &m.receipt_handle, 5),
        Ok(Some("by-hand-1".into()))
    );
    let stored = run.service().queue("payments-dlq").unwrap().messages.values().next().unwrap().clone();
    assert_eq!(stored.visible_at, VirtualTime::from_millis(8_000));

    // A handle that is not one: ReceiptHandleIsInvalid with the handle quoted.
    let e = run.hand_delete("payments-dlq", "not-a-handle").unwrap_err();
    assert_eq!(e.code, "ReceiptHandleIsInvalid");
    assert_eq!(e.message, "The input receipt handle 'not-a-handle' is not a valid receipt handle.");
    assert_eq!(
        e.client_error("DeleteMessage"),
        "An error occurred (ReceiptHandleIsInvalid) when calling the DeleteMessage operation: The input \
         receipt handle 'not-a-handle' is not a valid receipt handle."
    );

    // Deleted with its handle; deleting again succeeds without deleting (a standard queue), and changing
    // its visibility is MessageNotInflight.
    let done = run.hand_delete("payments-dlq", &m.receipt_handle).expect("deleted");
    assert_eq!(done, HandDelete::Deleted { message_id: sent.message_id.clone(), body: "by-hand-1".into() });
    assert_eq!(census(&run, "payments-dlq"), (0, 0, 0));
    assert_eq!(run.hand_delete("payments-dlq", &m.receipt_handle), Ok(HandDelete::Nothing));
    let e = run.hand_change_visibility("payments-dlq", &m.receipt_handle, 10).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.exception.as_deref()),
        ("AWS.SimpleQueueService.MessageNotInflight", Some("MessageNotInflight"))
    );
    assert_eq!(e.message, "Message does not exist or is not available for visibility timeout change.");
    // A queue that does not exist.
    let e = run.hand_send("nowhere", &send("x")).unwrap_err();
    assert_eq!(e.message, "The specified queue does not exist.");

    assert_eq!(
        hand_lines(&run),
        [
            format!("2.000s you send #1 \"by-hand-1\" -> payments-dlq id={}", &sent.message_id[..8]),
            format!("2.000s you <- payments-dlq \"by-hand-1\" id={} receive-count=1", &sent.message_id[..8]),
            "3.000s you change_message_visibility \"by-hand-1\" VisibilityTimeout=5".to_string(),
            "3.000s you deleted \"by-hand-1\"".to_string(),
            "3.000s you delete_message on payments-dlq: accepted, no message deleted (already gone)"
                .to_string(),
        ]
    );
    run.run();
    assert!(run.stopped().is_none(), "the ledger holds: {:?}", run.stopped());
    assert!(run.transcript().contains("messages deleted="), "{}", run.transcript());
}

#[test]
fn fifo_sends_by_hand_need_a_group_and_a_deduplication_id() {
    let mut run = tutorial("fifo-order-and-deduplication");
    run.run_until(VirtualTime::from_millis(1_000));
    let e = run.hand_send("orders.fifo", &send("loose")).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("MissingParameter", "The request must contain the parameter MessageGroupId.")
    );
    let grouped = SendMessage { group_id: Some("customer-9".into()), ..send("grouped") };
    let e = run.hand_send("orders.fifo", &grouped).unwrap_err();
    assert_eq!(
        e.message,
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    );
    let delayed = SendMessage { delay_seconds: Some(5), ..grouped.clone() };
    let e = run.hand_send("orders.fifo", &delayed).unwrap_err();
    assert_eq!(
        e.message,
        "Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
    );
    let with_id = SendMessage { deduplication_id: Some("d-1".into()), ..grouped };
    let first = run.hand_send("orders.fifo", &with_id).expect("sent");
    assert!(first.sequence_number.is_some());
    // The same deduplication id within 5 minutes: accepted, the first copy's ids, nothing stored.
    let again = run.hand_send("orders.fifo", &with_id).expect("accepted");
    assert_eq!((again.message_id, again.sequence_number), (first.message_id.clone(), first.sequence_number));
    let lines = hand_lines(&run);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].ends_with("(deduplicated: the id of the earlier copy, nothing stored)"), "{lines:?}");
    run.run();
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

#[test]
fn a_message_sent_by_hand_reaches_a_waiting_consumer_at_once_and_a_hand_long_poll_waits() {
    // worker-b long-polls jobs from 10 s while worker-a holds the job: a message sent by hand at 12 s
    // is received by worker-b at 12 s.
    let mut run = tutorial("visibility-timeout");
    run.run_until(VirtualTime::from_millis(12_000));
    run.hand_send("jobs", &send("urgent")).expect("sent");
    let got = run.events().iter().find(|(_, e)| {
        matches!(e, SqsEvent::Received { consumer, body, .. } if consumer == "worker-b" && body == "urgent")
    });
    assert_eq!(got.map(|(t, _)| *t), Some(VirtualTime::from_millis(12_000)), "{:#?}", run.events());

    // A long poll by hand on the empty queue: open until a message comes (sent by hand at 15 s).
    let mut run = tutorial("dead-letter-queue-and-redrive");
    run.run_until(VirtualTime::from_millis(1_000));
    let i = run.hand_receive("payments-dlq", &receive(1, None, Some(20))).expect("open");
    assert_eq!(run.hand_receives()[i].answered_at, None);
    run.run_until(VirtualTime::from_millis(15_000));
    assert_eq!(run.hand_receives()[i].answered_at, None);
    run.hand_send("payments-dlq", &send("late")).expect("sent");
    let r = &run.hand_receives()[i];
    assert_eq!(r.answered_at, Some(VirtualTime::from_millis(15_000)));
    assert_eq!(r.messages[0].body, "late");
    // Another one returns as soon as the malformed payment is moved in by the redrive policy (15.5 s).
    let j = run.hand_receive("payments-dlq", &receive(1, None, Some(3))).expect("open");
    run.run_until(VirtualTime::from_millis(20_000));
    let r = &run.hand_receives()[j];
    assert_eq!(r.answered_at, Some(VirtualTime::from_millis(15_500)));
    assert_eq!(r.messages[0].body, "payment-1-malformed");
    assert!(run
        .events()
        .iter()
        .any(|(t, e)| t.as_millis() == 15_500 && e.to_string().contains("moved payments -> payments-dlq")));
    // One with nothing to come (both messages in flight) returns empty when its wait ends.
    let k = run.hand_receive("payments-dlq", &receive(1, None, Some(3))).expect("open");
    run.run_until(VirtualTime::from_millis(25_000));
    let r = &run.hand_receives()[k];
    assert_eq!((r.answered_at, r.messages.len()), (Some(VirtualTime::from_millis(23_000)), 0));
    assert!(
        hand_lines(&run).last().unwrap().ends_with("you <- payments-dlq nothing (waited 3.000s)"),
        "{:?}",
        hand_lines(&run)
    );
    run.run();
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

#[test]
fn the_same_calls_at_the_same_instants_replay_the_same_run_and_handles() {
    let play = || {
        let mut run = tutorial("visibility-timeout");
        run.run_until(VirtualTime::from_millis(5_000));
        run.hand_send("jobs-heartbeat", &send("h1")).unwrap();
        run.run_until(VirtualTime::from_millis(7_000));
        run.hand_receive("jobs", &receive(10, Some(2), Some(0))).unwrap();
        run.run_until(VirtualTime::from_millis(100_000));
        (run.transcript(), run.hand_receives().to_vec())
    };
    let (a, b) = (play(), play());
    assert_eq!(a, b);
}
