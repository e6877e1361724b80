//! The SQS engine against what AWS's SQS Developer Guide and API Reference document: bounds, error codes
//! and messages, visibility, delays, long polling, FIFO groups and deduplication, dead-letter queues.

use std::collections::BTreeMap;

use broker_core::sqs::types::{AttributeData, AttributeValue, ReceiveMessage, SendMessage};
use broker_core::sqs::{Sqs, SqsError};
use broker_core::VirtualTime;

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn body(text: &str) -> SendMessage {
    SendMessage { body: text.into(), ..SendMessage::default() }
}

fn fifo_body(text: &str, group: &str) -> SendMessage {
    SendMessage { body: text.into(), group_id: Some(group.into()), ..SendMessage::default() }
}

fn receive(max: i64) -> ReceiveMessage {
    ReceiveMessage { max_number_of_messages: Some(max), ..ReceiveMessage::default() }
}

fn at(sqs: &mut Sqs, seconds: u64) {
    sqs.advance_to(VirtualTime::from_millis(seconds * 1000));
    sqs.check_invariants().unwrap();
}

fn bodies(got: &[broker_core::sqs::types::Received]) -> Vec<String> {
    got.iter().map(|m| m.body.clone()).collect()
}

fn engine() -> Sqs {
    let mut sqs = Sqs::new(7);
    sqs.set_short_poll_sampling(false);
    sqs
}

#[test]
fn queue_names_urls_and_reuse_after_sixty_seconds() {
    let mut sqs = engine();
    let url = sqs.create_queue("orders", &BTreeMap::new()).unwrap();
    assert_eq!(url, "https://sqs.us-east-1.amazonaws.com/123456789012/orders");
    assert_eq!(sqs.get_queue_url("orders").unwrap(), url);
    // Same name, same attributes: the same URL; a different value: QueueNameExists.
    assert_eq!(sqs.create_queue("orders", &attrs(&[("VisibilityTimeout", "30")])).unwrap(), url);
    let e = sqs.create_queue("orders", &attrs(&[("VisibilityTimeout", "60")])).unwrap_err();
    assert_eq!(e.exception.as_deref(), Some("QueueNameExists"));
    let e = sqs.create_queue("bad name", &BTreeMap::new()).unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue");
    let e = sqs.create_queue(&"a".repeat(81), &BTreeMap::new()).unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue");
    sqs.create_queue(&"a".repeat(80), &BTreeMap::new()).unwrap();
    let e = sqs.get_queue_url("nope").unwrap_err();
    assert_eq!(e, SqsError::queue_does_not_exist());
    assert_eq!(e.code, "AWS.SimpleQueueService.NonExistentQueue");
    assert_eq!(e.message, "The specified queue does not exist.");
    sqs.delete_queue(&url).unwrap();
    assert_eq!(
        sqs.create_queue("orders", &BTreeMap::new()).unwrap_err().exception.as_deref(),
        Some("QueueDeletedRecently")
    );
    at(&mut sqs, 59);
    assert!(sqs.create_queue("orders", &BTreeMap::new()).is_err());
    at(&mut sqs, 60);
    assert_eq!(sqs.create_queue("orders", &BTreeMap::new()).unwrap(), url);
}

#[test]
fn list_queues_prefix_and_pages() {
    let mut sqs = engine();
    for n in ["b", "a1", "a2", "a3"] {
        sqs.create_queue(n, &BTreeMap::new()).unwrap();
    }
    let (urls, token) = sqs.list_queues(Some("a"), None, None).unwrap();
    assert_eq!(urls.len(), 3);
    assert_eq!(token, None);
    let (page, token) = sqs.list_queues(None, Some(2), None).unwrap();
    assert!(page[0].ends_with("/a1") && page[1].ends_with("/a2"));
    let (rest, last) = sqs.list_queues(None, Some(2), token.as_deref()).unwrap();
    assert!(rest[0].ends_with("/a3") && rest[1].ends_with("/b"));
    assert_eq!(last, None);
    assert_eq!(sqs.list_queues(None, Some(0), None).unwrap_err().code, "InvalidParameterValue");
}

#[test]
fn attribute_bounds_as_the_api_reference_lists_them() {
    let mut sqs = engine();
    for (name, ok, bad) in [
        ("DelaySeconds", "900", "901"),
        ("MaximumMessageSize", "1024", "1023"),
        ("MessageRetentionPeriod", "60", "59"),
        ("MessageRetentionPeriod", "1209600", "1209601"),
        ("ReceiveMessageWaitTimeSeconds", "20", "21"),
        ("VisibilityTimeout", "43200", "43201"),
    ] {
        let url = sqs.create_queue(&format!("q-{name}-{ok}"), &attrs(&[(name, ok)])).unwrap();
        let e = sqs.create_queue(&format!("r-{name}-{bad}"), &attrs(&[(name, bad)])).unwrap_err();
        assert_eq!(e.code, "InvalidAttributeValue", "{name}={bad}");
        assert_eq!(e.message, format!("Invalid value for the parameter {name}."));
        assert!(sqs.set_queue_attributes(&url, &attrs(&[(name, bad)])).is_err());
    }
    let url = sqs.create_queue("plain", &BTreeMap::new()).unwrap();
    let e = sqs.set_queue_attributes(&url, &attrs(&[("ContentBasedDeduplication", "true")])).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("InvalidAttributeName", "Unknown Attribute ContentBasedDeduplication.")
    );
    let all: BTreeMap<String, String> =
        sqs.get_queue_attributes(&url, &["All".into()]).unwrap().into_iter().collect();
    assert_eq!(all["VisibilityTimeout"], "30");
    assert_eq!(all["MessageRetentionPeriod"], "345600");
    assert_eq!(all["QueueArn"], "arn:aws:sqs:us-east-1:123456789012:plain");
    assert!(!all.contains_key("FifoQueue"));
    assert_eq!(sqs.get_queue_attributes(&url, &["Nope".into()]).unwrap_err().code, "InvalidAttributeName");
}

#[test]
fn visibility_timeout_receipt_handles_and_receive_counts() {
    let mut sqs = engine();
    let url = sqs.create_queue("work", &attrs(&[("VisibilityTimeout", "10")])).unwrap();
    let sent = sqs.send_message(&url, &body("job")).unwrap();
    // MD5 of the body (coreutils' `printf job | md5sum`).
    assert_eq!(sent.md5_of_body, "9dddd5ce1b1375bc497feeb871842d4b");
    let all = ReceiveMessage { system_attribute_names: vec!["All".into()], ..receive(1) };
    let first = sqs.receive_message(&url, &all).unwrap();
    assert_eq!(first[0].attributes["ApproximateReceiveCount"], "1");
    assert!(sqs.receive_message(&url, &receive(1)).unwrap().is_empty(), "in flight");
    at(&mut sqs, 10);
    let second = sqs.receive_message(&url, &all).unwrap();
    assert_eq!(second[0].message_id, first[0].message_id);
    assert_eq!(second[0].attributes["ApproximateReceiveCount"], "2");
    assert_eq!(second[0].attributes["ApproximateFirstReceiveTimestamp"], "0");
    assert_ne!(second[0].receipt_handle, first[0].receipt_handle, "a new handle per receive");
    // The old handle: success, message kept (DeleteMessage, API Reference).
    sqs.delete_message(&url, &first[0].receipt_handle).unwrap();
    assert_eq!(sqs.census("work").in_flight, 1);
    // ChangeMessageVisibility(0): visible at once.
    sqs.change_message_visibility(&url, &second[0].receipt_handle, 0).unwrap();
    assert_eq!(sqs.census("work").visible, 1);
    let e = sqs.change_message_visibility(&url, &second[0].receipt_handle, 5).unwrap_err();
    assert_eq!(e.exception.as_deref(), Some("MessageNotInflight"));
    let third = sqs.receive_message(&url, &receive(1)).unwrap();
    let e = sqs.change_message_visibility(&url, &third[0].receipt_handle, 43_201).unwrap_err();
    assert_eq!(e.message, "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds].");
    at(&mut sqs, 15);
    // 12 hours from the receive (at 10 s) at most.
    let e = sqs.change_message_visibility(&url, &third[0].receipt_handle, 43_200).unwrap_err();
    assert_eq!(
        e.message,
        "Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]."
    );
    sqs.change_message_visibility(&url, &third[0].receipt_handle, 43_195).unwrap();
    sqs.delete_message(&url, &third[0].receipt_handle).unwrap();
    assert_eq!(sqs.census("work").in_flight, 0);
    assert_eq!(sqs.queue("work").unwrap().messages.len(), 0);
    let e = sqs.delete_message(&url, "garbage").unwrap_err();
    assert_eq!(e.message, "The input receipt handle 'garbage' is not a valid receipt handle.");
}

#[test]
fn body_md5_and_limits() {
    let mut sqs = engine();
    let url = sqs.create_queue("q", &attrs(&[("MaximumMessageSize", "1024")])).unwrap();
    // md5("abc") from RFC 1321.
    assert_eq!(sqs.send_message(&url, &body("abc")).unwrap().md5_of_body, "900150983cd24fb0d6963f7d28e17f72");
    sqs.send_message(&url, &body(&"x".repeat(1024))).unwrap();
    let e = sqs.send_message(&url, &body(&"x".repeat(1025))).unwrap_err();
    assert_eq!(
        e.message,
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
    );
    assert_eq!(sqs.send_message(&url, &body("")).unwrap_err().code, "MissingParameter");
    assert_eq!(sqs.send_message(&url, &body("a\u{0}b")).unwrap_err().code, "InvalidMessageContents");
    let mut with = body("x");
    with.attributes.insert(
        "attribName1".into(),
        AttributeValue { data_type: "String".into(), value: AttributeData::String("attribValue 1".into()) },
    );
    assert_eq!(
        sqs.send_message(&url, &with).unwrap().md5_of_attributes.as_deref(),
        Some("19e27d4e946b072f3f58da80d94fd778")
    );
    for i in 0..10 {
        with.attributes.insert(
            format!("n{i}"),
            AttributeValue { data_type: "Number".into(), value: AttributeData::String("1".into()) },
        );
    }
    assert_eq!(
        sqs.send_message(&url, &with).unwrap_err().message,
        "Number of message attributes [11] exceeds the allowed maximum [10]."
    );
    let e = sqs.send_message(&url, &SendMessage { delay_seconds: Some(901), ..body("x") }).unwrap_err();
    assert_eq!(
        e.message,
        "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
    );
}

#[test]
fn delay_seconds_per_queue_and_per_message() {
    let mut sqs = engine();
    let url = sqs.create_queue("d", &attrs(&[("DelaySeconds", "5")])).unwrap();
    sqs.send_message(&url, &body("queue-delay")).unwrap();
    sqs.send_message(&url, &SendMessage { delay_seconds: Some(1), ..body("own-delay") }).unwrap();
    assert_eq!(sqs.census("d").delayed, 2);
    assert!(sqs.receive_message(&url, &receive(10)).unwrap().is_empty());
    at(&mut sqs, 1);
    assert_eq!(bodies(&sqs.receive_message(&url, &receive(10)).unwrap()), ["own-delay"]);
    at(&mut sqs, 5);
    assert_eq!(bodies(&sqs.receive_message(&url, &receive(10)).unwrap()), ["queue-delay"]);
}

#[test]
fn long_polling_returns_when_a_message_becomes_visible() {
    let mut sqs = engine();
    let url = sqs.create_queue("lp", &BTreeMap::new()).unwrap();
    sqs.send_message(&url, &SendMessage { delay_seconds: Some(3), ..body("later") }).unwrap();
    let got =
        sqs.receive_message(&url, &ReceiveMessage { wait_time_seconds: Some(20), ..receive(1) }).unwrap();
    assert_eq!(bodies(&got), ["later"]);
    assert_eq!(sqs.now(), VirtualTime::from_millis(3000));
    let got =
        sqs.receive_message(&url, &ReceiveMessage { wait_time_seconds: Some(5), ..receive(1) }).unwrap();
    assert!(got.is_empty());
    assert_eq!(sqs.now(), VirtualTime::from_millis(8000));
    let e =
        sqs.receive_message(&url, &ReceiveMessage { wait_time_seconds: Some(21), ..receive(1) }).unwrap_err();
    assert_eq!(
        e.message,
        "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
    );
    let e = sqs.receive_message(&url, &receive(11)).unwrap_err();
    assert_eq!(e.message, "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.");
}

#[test]
fn short_polling_samples_servers_and_can_come_back_empty() {
    let mut sqs = Sqs::new(1);
    let url = sqs.create_queue("sp", &BTreeMap::new()).unwrap();
    sqs.send_message(&url, &body("only")).unwrap();
    let mut empties = 0;
    for _ in 0..40 {
        let got =
            sqs.receive_message(&url, &ReceiveMessage { visibility_timeout: Some(0), ..receive(1) }).unwrap();
        if got.is_empty() {
            empties += 1;
        }
    }
    assert!(empties > 0 && empties < 40, "{empties} empty receives of 40");
    // A long poll asks every server.
    let got =
        sqs.receive_message(&url, &ReceiveMessage { wait_time_seconds: Some(1), ..receive(1) }).unwrap();
    assert_eq!(bodies(&got), ["only"]);
}

#[test]
fn fifo_groups_in_order_and_blocked_while_in_flight() {
    let mut sqs = engine();
    assert_eq!(
        sqs.create_queue("f", &attrs(&[("FifoQueue", "true")])).unwrap_err().code,
        "InvalidParameterValue"
    );
    let url = sqs
        .create_queue("f.fifo", &attrs(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]))
        .unwrap();
    for (b, g) in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("b2", "B")] {
        sqs.send_message(&url, &fifo_body(b, g)).unwrap();
    }
    let e = sqs.send_message(&url, &body("no-group")).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("MissingParameter", "The request must contain the parameter MessageGroupId.")
    );
    let e =
        sqs.send_message(&url, &SendMessage { delay_seconds: Some(1), ..fifo_body("x", "A") }).unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue");
    // As many of one group as possible first.
    let got = sqs.receive_message(&url, &receive(2)).unwrap();
    assert_eq!(bodies(&got), ["a1", "a2"]);
    let got_b = sqs.receive_message(&url, &receive(1)).unwrap();
    assert_eq!(bodies(&got_b), ["b1"]);
    // Both groups have a message in flight: nothing else comes.
    assert!(sqs.receive_message(&url, &receive(10)).unwrap().is_empty());
    sqs.delete_message(&url, &got_b[0].receipt_handle).unwrap();
    assert_eq!(bodies(&sqs.receive_message(&url, &receive(10)).unwrap()), ["b2"]);
    // A FIFO receipt handle expires with its visibility timeout ("sqs-receipt-handle-error").
    at(&mut sqs, 30);
    let late =
        sqs.receive_message(&url, &ReceiveMessage { visibility_timeout: Some(1), ..receive(1) }).unwrap();
    assert_eq!(bodies(&late), ["a1"]);
    at(&mut sqs, 31);
    let e = sqs.delete_message(&url, &late[0].receipt_handle).unwrap_err();
    assert_eq!(
        e.message,
        format!(
            "Value '{}' for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
            late[0].receipt_handle
        )
    );
    // Sequence numbers increase.
    let s1: u128 =
        sqs.send_message(&url, &fifo_body("s1", "C")).unwrap().sequence_number.unwrap().parse().unwrap();
    let s2: u128 =
        sqs.send_message(&url, &fifo_body("s2", "C")).unwrap().sequence_number.unwrap().parse().unwrap();
    assert!(s2 > s1);
}

#[test]
fn fifo_deduplication_over_five_minutes_even_after_deletion() {
    let mut sqs = engine();
    let url = sqs.create_queue("d.fifo", &attrs(&[("FifoQueue", "true")])).unwrap();
    let e = sqs.send_message(&url, &fifo_body("x", "g")).unwrap_err();
    assert_eq!(
        e.message,
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    );
    let with_id = |b: &str| SendMessage { deduplication_id: Some("id-1".into()), ..fifo_body(b, "g") };
    let first = sqs.send_message(&url, &with_id("one")).unwrap();
    let again = sqs.send_message(&url, &with_id("two")).unwrap();
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(again.sequence_number, first.sequence_number);
    let got = sqs.receive_message(&url, &receive(10)).unwrap();
    assert_eq!(bodies(&got), ["one"]);
    sqs.delete_message(&url, &got[0].receipt_handle).unwrap();
    at(&mut sqs, 299);
    sqs.send_message(&url, &with_id("three")).unwrap();
    assert!(sqs.receive_message(&url, &receive(10)).unwrap().is_empty(), "deduplicated after deletion");
    at(&mut sqs, 300);
    sqs.send_message(&url, &with_id("four")).unwrap();
    assert_eq!(bodies(&sqs.receive_message(&url, &receive(10)).unwrap()), ["four"]);
    // Content-based: SHA-256 of the body is the deduplication id.
    let cbd = sqs
        .create_queue("c.fifo", &attrs(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]))
        .unwrap();
    sqs.send_message(&cbd, &fifo_body("abc", "g")).unwrap();
    sqs.send_message(&cbd, &fifo_body("abc", "g")).unwrap();
    let got = sqs
        .receive_message(
            &cbd,
            &ReceiveMessage { system_attribute_names: vec!["MessageDeduplicationId".into()], ..receive(10) },
        )
        .unwrap();
    assert_eq!(got.len(), 1);
    // FIPS 180-4's SHA-256("abc").
    assert_eq!(
        got[0].attributes["MessageDeduplicationId"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn dead_letter_queue_after_max_receive_count() {
    let mut sqs = engine();
    let dlq = sqs.create_queue("dlq", &BTreeMap::new()).unwrap();
    let policy = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":"2"}"#;
    let e = sqs
        .create_queue("src", &attrs(&[("RedrivePolicy", &policy.replace(":dlq", ":missing"))]))
        .unwrap_err();
    assert!(e.message.ends_with("Reason: Dead letter target does not exist."), "{}", e.message);
    let url =
        sqs.create_queue("src", &attrs(&[("RedrivePolicy", policy), ("VisibilityTimeout", "1")])).unwrap();
    let id = sqs.send_message(&url, &body("poison")).unwrap().message_id;
    for second in 1..=2 {
        assert_eq!(sqs.receive_message(&url, &receive(1)).unwrap().len(), 1);
        at(&mut sqs, second);
    }
    assert!(sqs.receive_message(&url, &receive(1)).unwrap().is_empty(), "moved instead of a third receive");
    let all = ReceiveMessage { system_attribute_names: vec!["All".into()], ..receive(1) };
    let got = sqs.receive_message(&dlq, &all).unwrap();
    assert_eq!(got[0].message_id, id);
    // The moved message keeps its count (2) and this receive adds one.
    assert_eq!(got[0].attributes["ApproximateReceiveCount"], "3");
    let e = sqs
        .create_queue(
            "bad",
            &attrs(&[(
                "RedrivePolicy",
                r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":0}"#,
            )]),
        )
        .unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue");
}

#[test]
fn purge_once_a_minute_and_retention() {
    let mut sqs = engine();
    let url = sqs.create_queue("p", &attrs(&[("MessageRetentionPeriod", "60")])).unwrap();
    sqs.send_message(&url, &body("a")).unwrap();
    sqs.purge_queue(&url).unwrap();
    assert_eq!(sqs.census("p").visible, 0);
    let e = sqs.purge_queue(&url).unwrap_err();
    assert_eq!(e.message, "Only one PurgeQueue operation on p is allowed every 60 seconds.");
    at(&mut sqs, 60);
    sqs.purge_queue(&url).unwrap();
    sqs.send_message(&url, &body("old")).unwrap();
    at(&mut sqs, 119);
    assert_eq!(sqs.census("p").visible, 1);
    at(&mut sqs, 120);
    assert_eq!(sqs.census("p").visible, 0, "past the retention period");
}

#[test]
fn batches_validate_and_fail_per_entry() {
    let mut sqs = engine();
    let url = sqs.create_queue("b", &BTreeMap::new()).unwrap();
    let e = sqs.send_message_batch(&url, &[]).unwrap_err();
    assert_eq!(e.message, "There should be at least one SendMessageBatchRequestEntry in the request.");
    let eleven: Vec<_> = (0..11).map(|i| (format!("m{i}"), body("x"))).collect();
    assert_eq!(
        sqs.send_message_batch(&url, &eleven).unwrap_err().message,
        "Maximum number of entries per request are 10. You have sent 11."
    );
    let twice = vec![("a".to_string(), body("x")), ("a".to_string(), body("y"))];
    assert_eq!(sqs.send_message_batch(&url, &twice).unwrap_err().message, "Id a repeated.");
    let bad_id = vec![("a b".to_string(), body("x"))];
    assert_eq!(
        sqs.send_message_batch(&url, &bad_id).unwrap_err().exception.as_deref(),
        Some("InvalidBatchEntryId")
    );
    let mixed = vec![
        ("ok".to_string(), body("x")),
        ("bad".to_string(), SendMessage { delay_seconds: Some(1000), ..body("y") }),
    ];
    let r = sqs.send_message_batch(&url, &mixed).unwrap();
    assert_eq!(r.successful.len(), 1);
    assert_eq!(r.failed[0].id, "bad");
    assert_eq!(r.failed[0].code, "InvalidParameterValue");
    assert!(r.failed[0].sender_fault);
    let got = sqs.receive_message(&url, &receive(10)).unwrap();
    let r = sqs
        .change_message_visibility_batch(
            &url,
            &[("1".into(), got[0].receipt_handle.clone(), 60), ("2".into(), "junk".into(), 60)],
        )
        .unwrap();
    assert_eq!((r.successful.len(), r.failed[0].code.as_str()), (1, "ReceiptHandleIsInvalid"));
    let r = sqs.delete_message_batch(&url, &[("1".into(), got[0].receipt_handle.clone())]).unwrap();
    assert_eq!(r.successful.len(), 1);
    assert_eq!(sqs.queue("b").unwrap().messages.len(), 0);
}

#[test]
fn receive_request_attempt_id_retries_the_same_receive() {
    let mut sqs = engine();
    let mut attrs = std::collections::BTreeMap::new();
    attrs.insert("FifoQueue".to_string(), "true".to_string());
    attrs.insert("VisibilityTimeout".to_string(), "10".to_string());
    let url = sqs.create_queue("q.fifo", &attrs).unwrap();
    for body in ["a1", "a2"] {
        let send = SendMessage {
            body: body.into(),
            group_id: Some("g".into()),
            deduplication_id: Some(body.into()),
            ..SendMessage::default()
        };
        sqs.send_message(&url, &send).unwrap();
    }
    let attempt = |id: &str| ReceiveMessage { receive_request_attempt_id: Some(id.into()), ..receive(1) };
    let first = sqs.receive_message(&url, &attempt("r1")).unwrap();
    at(&mut sqs, 8);
    let again = sqs.receive_message(&url, &attempt("r1")).unwrap();
    // The same message and handle; the visibility timeout restarted at 8 s.
    assert_eq!(again, first);
    at(&mut sqs, 16);
    assert!(sqs.receive_message(&url, &receive(1)).unwrap().is_empty());
    sqs.delete_message(&url, &first[0].receipt_handle).unwrap();
    let e = sqs.receive_message(&url, &attempt("r1")).unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue");
    assert_eq!(bodies(&sqs.receive_message(&url, &attempt("r2")).unwrap()), ["a2"]);
    // After 5 minutes the id is forgotten: a new receive (a2 is visible again by then).
    at(&mut sqs, 16 + 300);
    let later = sqs.receive_message(&url, &attempt("r1")).unwrap();
    assert_eq!(bodies(&later), ["a2"]);
    sqs.check_invariants().unwrap();
}

#[test]
fn high_throughput_needs_message_group_scope() {
    let mut sqs = engine();
    let mut attrs = std::collections::BTreeMap::new();
    attrs.insert("FifoQueue".to_string(), "true".to_string());
    attrs.insert("FifoThroughputLimit".to_string(), "perMessageGroupId".to_string());
    let e = sqs.create_queue("q.fifo", &attrs).unwrap_err();
    assert_eq!(e.code, "InvalidAttributeValue");
    attrs.insert("DeduplicationScope".to_string(), "messageGroup".to_string());
    let url = sqs.create_queue("q.fifo", &attrs).unwrap();
    let mut scope = std::collections::BTreeMap::new();
    scope.insert("DeduplicationScope".to_string(), "queue".to_string());
    assert_eq!(sqs.set_queue_attributes(&url, &scope).unwrap_err().code, "InvalidAttributeValue");
    for group in ["a", "b", "b"] {
        let send = SendMessage {
            body: "x".into(),
            group_id: Some(group.into()),
            deduplication_id: Some("same".into()),
            ..SendMessage::default()
        };
        sqs.send_message(&url, &send).unwrap();
    }
    assert_eq!(sqs.census("q.fifo").visible, 2);
}

#[test]
fn redrive_allow_policy_decides_the_sources() {
    let mut sqs = engine();
    let one = |k: &str, v: &str| {
        let mut m = std::collections::BTreeMap::new();
        m.insert(k.to_string(), v.to_string());
        m
    };
    let dlq = sqs
        .create_queue(
            "dlq",
            &one(
                "RedriveAllowPolicy",
                r#"{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:123456789012:a"]}"#,
            ),
        )
        .unwrap();
    let redrive = one(
        "RedrivePolicy",
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":1}"#,
    );
    sqs.create_queue("a", &redrive).unwrap();
    assert_eq!(sqs.create_queue("b", &redrive).unwrap_err().code, "InvalidParameterValue");
    sqs.set_queue_attributes(&dlq, &one("RedriveAllowPolicy", r#"{"redrivePermission":"denyAll"}"#)).unwrap();
    assert!(sqs.create_queue("b", &redrive).is_err());
    for bad in [
        r#"{"redrivePermission":"byQueue"}"#,
        r#"{"redrivePermission":"denyAll","sourceQueueArns":["x"]}"#,
        r#"{"redrivePermission":"nobody"}"#,
        "not json",
    ] {
        assert!(sqs.set_queue_attributes(&dlq, &one("RedriveAllowPolicy", bad)).is_err(), "{bad}");
    }
    sqs.set_queue_attributes(&dlq, &one("RedriveAllowPolicy", r#"{"redrivePermission":"allowAll"}"#))
        .unwrap();
    sqs.create_queue("b", &redrive).unwrap();
    sqs.check_invariants().unwrap();
}

/// A queue with `in_flight` messages in flight: one received through the API (its handle is returned),
/// then copied under fresh arrival keys and message ids in the engine's saved state. Reaching 120,000
/// through the API would take 12,000 receives, each looking at every message: minutes in a debug build.
fn with_in_flight(mut sqs: Sqs, url: &str, template: SendMessage, in_flight: usize) -> (Sqs, String) {
    sqs.send_message(url, &template).unwrap();
    let handle = sqs.receive_message(url, &receive(1)).unwrap().remove(0).receipt_handle;
    let name = url.rsplit('/').next().unwrap();
    let mut state = serde_json::to_value(&sqs).unwrap();
    let next = state["next_arrival"].as_u64().unwrap();
    let messages = state["queues"][name]["messages"].as_object_mut().unwrap();
    let (_, original) = messages.iter().next().map(|(k, v)| (k.clone(), v.clone())).unwrap();
    for i in 1..in_flight as u64 {
        let mut copy = original.clone();
        copy["message_id"] = format!("copy-{i}").into();
        messages.insert((next + i).to_string(), copy);
    }
    state["next_arrival"] = (next + in_flight as u64).into();
    let sqs: Sqs = serde_json::from_value(state).unwrap();
    assert_eq!(sqs.census(name).in_flight, in_flight);
    sqs.check_invariants().unwrap();
    (sqs, handle)
}

/// The in-flight quotas. Standard queues ("Amazon SQS standard queue quotas", Messages per queue (in
/// flight): https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html):
/// about 120,000; "If you reach this quota while using short polling, Amazon SQS returns the OverLimit
/// error message. If you use long polling, Amazon SQS returns no error messages." FIFO queues ("Amazon
/// SQS FIFO queue quotas": https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-fifo.html):
/// 120,000; "If this limit is reached, Amazon SQS does not return an error". Not compared with an
/// emulator (no golden program): neither moto nor ElasticMQ can reasonably be made to hold 120,000
/// messages in flight within a CI step, and moto 5.2 has no such quota at all.
#[test]
fn in_flight_quotas_overlimit_on_short_polls_and_nothing_on_long_polls_and_fifo() {
    let mut sqs = engine();
    let url = sqs.create_queue("busy", &BTreeMap::new()).unwrap();
    let (mut sqs, handle) = with_in_flight(sqs, &url, body("work"), 120_000);
    sqs.send_message(&url, &body("one more")).unwrap();
    let e = sqs.receive_message(&url, &receive(1)).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("OverLimit", "The maximum number of in flight messages (120000) is reached.")
    );
    // A long poll: no error, nothing, for its whole wait (no message becomes visible meanwhile).
    let long = ReceiveMessage { wait_time_seconds: Some(2), ..receive(10) };
    assert!(sqs.receive_message(&url, &long).unwrap().is_empty());
    assert_eq!(sqs.now(), VirtualTime::from_millis(2000));
    assert_eq!(
        sqs.census("busy"),
        broker_core::sqs::service::Census { visible: 1, in_flight: 120_000, delayed: 0 }
    );
    // One deletion makes room for one.
    sqs.delete_message(&url, &handle).unwrap();
    assert_eq!(bodies(&sqs.receive_message(&url, &receive(10)).unwrap()), ["one more"]);
    let e = sqs.receive_message(&url, &receive(1));
    assert!(e.is_ok_and(|got| got.is_empty()), "nothing visible left: an empty receive, no OverLimit");
    sqs.check_invariants().unwrap();

    // FIFO: group a holds 120,000 messages in flight; group b's message waits, without an error.
    let mut sqs = engine();
    let url = sqs
        .create_queue("busy.fifo", &attrs(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]))
        .unwrap();
    let (mut sqs, handle) = with_in_flight(sqs, &url, fifo_body("a", "a"), 120_000);
    sqs.send_message(&url, &fifo_body("b", "b")).unwrap();
    assert!(sqs.receive_message(&url, &receive(10)).unwrap().is_empty());
    let long = ReceiveMessage { wait_time_seconds: Some(1), ..receive(10) };
    assert!(sqs.receive_message(&url, &long).unwrap().is_empty());
    sqs.delete_message(&url, &handle).unwrap();
    assert_eq!(bodies(&sqs.receive_message(&url, &receive(10)).unwrap()), ["b"]);
    sqs.check_invariants().unwrap();
}
