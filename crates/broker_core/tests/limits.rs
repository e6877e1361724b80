//! AMQP's limits at the edges (issue 15, items 7 and 9): `channel_max`, short strings (names, keys, tags
//! over 255 bytes), the largest message, and the engine's own counters. Each case was found by a
//! hostile-input run and failed (a panic, an unbounded run or an impossible entity) before its fix.

mod amqp_support;
use amqp_support::*;
use broker_core::amqp::definitions::{import, import_json};
use broker_core::amqp::durable::RecoveryError;
use broker_core::amqp::{
    BasicProperties, Broker, BrokerConfig, ChannelNumber, Method, DEFAULT_MAX_MESSAGE_SIZE, MAX_MESSAGE_ID,
};
use broker_core::scenario::document::Document;
use broker_core::scenario::Scenario;
use broker_core::VirtualTime;

// ------------------------------------------------------------------------------------------------
// channel_max

/// RabbitMQ 3.10 counts a connection's open channels against the negotiated `channel_max` (2047 with
/// pika): the 2048th channel is a 530 connection error (`rabbit_reader:create_channel/2`), whatever its
/// number. Below the count, any number up to 65535 opens.
#[test]
fn the_channel_after_channel_max_closes_the_connection_with_530() {
    let mut t = Sim::new();
    let c = t.broker.connect(VirtualTime(0), "many");
    for n in 1..=2046u16 {
        let r = t.broker.apply(VirtualTime(0), c, ChannelNumber(n), Method::ChannelOpen);
        assert!(r.is_ok(), "channel {n}: {r:?}");
    }
    // The count, not the number, is limited: channel 60000 is the 2047th open channel.
    let r = t.broker.apply(VirtualTime(0), c, ChannelNumber(60000), Method::ChannelOpen);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        t.connection_err(c, ChannelNumber(2047), Method::ChannelOpen),
        "530 NOT_ALLOWED - number of channels opened (2047) has reached the negotiated channel_max (2047)"
    );
}

/// A channel closed frees its place in the count.
#[test]
fn closing_a_channel_makes_room_under_channel_max() {
    let mut broker = Broker::new(BrokerConfig { channel_max: 3, ..BrokerConfig::default() }, 1);
    let c = broker.connect(VirtualTime(0), "few");
    for n in 1..=3 {
        broker.apply(VirtualTime(0), c, ChannelNumber(n), Method::ChannelOpen).expect("opens");
    }
    broker.apply(VirtualTime(0), c, ChannelNumber(2), Method::ChannelClose).expect("closes");
    broker.apply(VirtualTime(0), c, ChannelNumber(9), Method::ChannelOpen).expect("room for one more");
    let e = broker.apply(VirtualTime(0), c, ChannelNumber(10), Method::ChannelOpen).expect_err("full");
    assert_eq!(
        e.to_string(),
        "530 NOT_ALLOWED - number of channels opened (3) has reached the negotiated channel_max (3)"
    );
}

/// Format 1 plays pika: `conn.channel()` takes the lowest free number and raises `NoFreeChannels` on the
/// client once channel_max channels are open, so the check stops at that statement (before the fix
/// every open rescanned all numbers, and 70,000 opens took minutes).
#[test]
fn format_1_runs_out_of_channels_like_pika() {
    let mut text = String::from("brokerlab-scenario 1\nconn = connect(\"many\")\n");
    for _ in 0..2048 {
        text.push_str("ch = conn.channel()\n");
    }
    let e = Scenario::parse(&text).expect_err("the 2048th channel() is refused");
    assert_eq!(e.pos.line, 2 + 2048, "{e}");
    assert_eq!(
        e.message,
        "NoFreeChannels: The connection has run out of free channels (2047 open, the channel_max \
         negotiated with RabbitMQ is 2047)"
    );
}

// ------------------------------------------------------------------------------------------------
// Short strings: names, keys and tags over 255 bytes.

fn long(n: usize) -> String {
    "q".repeat(n)
}

/// A name of 255 bytes is fine; 256 cannot be encoded by any client, so the engine refuses the method as
/// an undecodable frame (501, the connection closes) and nothing is declared.
#[test]
fn the_engine_refuses_names_over_255_bytes() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd(&long(255)));
    let e = t.connection_err(c, ch, qd(&long(256)));
    assert!(
        e.starts_with(
            "501 FRAME_ERROR - ShortStringTooLong: AMQP Short String can contain up to 255 bytes: queue 'qqq"
        ),
        "{e}"
    );
    assert!(e.ends_with("' is 256 bytes"), "{e}");
    assert!(!t.has_queue(&long(256)));
    let cases: Vec<(Method, &str)> = vec![
        (xd(&"x".repeat(300), "direct"), "exchange"),
        (bind("q", "amq.direct", &"k".repeat(256)), "routing_key"),
        (publish("", &"k".repeat(256), "body"), "routing_key"),
        (consume("q", &"t".repeat(256)), "consumer_tag"),
        (cancel(&"t".repeat(256)), "consumer_tag"),
        (qd_args("q", &[(&"a".repeat(256), int(1))]), "arguments key"),
        (
            publish_props(
                "",
                "q",
                "b",
                BasicProperties { message_id: Some("m".repeat(256)), ..Default::default() },
            ),
            "message_id",
        ),
    ];
    for (method, field) in cases {
        let (c, ch) = t.client();
        let e = t.connection_err(c, ch, method);
        assert!(e.contains(&format!("255 bytes: {field} '")), "{field}: {e}");
    }
}

/// Format 1 plays pika, which raises `ShortStringTooLong` before sending: the check (a dry run) already
/// stops at the argument that holds the long string.
#[test]
fn format_1_refuses_a_long_name_at_its_statement() {
    let text = format!(
        "brokerlab-scenario 1\nconn = connect(\"c\")\nch = conn.channel()\nch.queue_declare(queue=\"{}\")\n",
        long(300)
    );
    let e = Scenario::parse(&text).expect_err("refused");
    assert_eq!((e.pos.line, e.pos.col), (4, 24), "at the queue argument's value: {e}");
    assert!(
        e.message.starts_with("ShortStringTooLong: AMQP Short String can contain up to 255 bytes: queue"),
        "{e}"
    );
}

/// definitions.json: refused with the management API's text, at the entity's place in the file.
#[test]
fn definitions_import_refuses_long_names_with_their_place() {
    for (json, path, field) in [
        (
            format!(
                r#"{{"queues":[{{"name":"ok","durable":true}},{{"name":"{}","durable":true}}]}}"#,
                long(256)
            ),
            "queues[1]",
            "queue",
        ),
        (
            format!(r#"{{"exchanges":[{{"name":"{}","type":"direct"}}]}}"#, "x".repeat(256)),
            "exchanges[0]",
            "exchange",
        ),
        (
            format!(
                r#"{{"queues":[{{"name":"q"}}],"bindings":[{{"source":"amq.direct","destination":"q",
                "destination_type":"queue","routing_key":"{}"}}]}}"#,
                "k".repeat(400)
            ),
            "bindings[0]",
            "routing_key",
        ),
    ] {
        let mut broker = Broker::new(BrokerConfig::default(), 1);
        let e = import_json(&mut broker, VirtualTime(0), &json).expect_err("refused");
        assert_eq!(e.path, path, "{e}");
        assert!(e.amqp.is_none(), "{e}");
        assert!(
            e.message.starts_with(&format!("{field} should be less than 255 bytes, actually was ")),
            "{e}"
        );
        broker.assert_invariants();
    }
    // The same through the typed entry point.
    let mut broker = Broker::new(BrokerConfig::default(), 1);
    let defs = broker_core::amqp::definitions::Definitions::from_json(&format!(
        r#"{{"queues":[{{"name":"{}"}}]}}"#,
        long(256)
    ))
    .expect("parses");
    assert!(import(&mut broker, VirtualTime(0), &defs).is_err());
    assert!(broker.queues().is_empty());
}

// ------------------------------------------------------------------------------------------------
// Sizes and counters.

/// RabbitMQ 3.10 refuses a body over `max_message_size` (128 MiB by default) with 406
/// (`rabbit_channel:check_msg_size/3`).
#[test]
fn a_body_over_max_message_size_is_a_406() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    let body = vec![0u8; DEFAULT_MAX_MESSAGE_SIZE as usize + 1];
    let method = Method::BasicPublish {
        exchange: String::new(),
        routing_key: "q".into(),
        mandatory: false,
        properties: BasicProperties::default(),
        body,
        immediate: false,
    };
    assert_eq!(
        t.channel_err(c, ch, method),
        "406 PRECONDITION_FAILED - message size 134217729 is larger than configured max size 134217728"
    );
    assert_eq!(t.ready("q"), 0);
}

/// A document's `body_size` near `u64::MAX` used to abort with `capacity overflow` when the producer
/// allocated the body; it is refused at load with its place.
#[test]
fn a_document_body_size_beyond_max_message_size_is_refused_with_its_place() {
    let text = r#"{
  "brokerlab": 2,
  "name": "huge",
  "duration": "1s",
  "definitions": { "queues": [ { "name": "q", "durable": false } ] },
  "producers": [ { "name": "p", "routing_key": "q", "rate": 1, "body_size": 18446744073709551615 } ]
}"#;
    let e = Document::parse(text).expect_err("refused");
    assert_eq!(e.pos.line, 6, "{e}");
    assert_eq!(
        e.message,
        "producers[0].body_size: body_size 18446744073709551615 is larger than RabbitMQ's max message size \
         134217728 bytes"
    );
}

fn image_with_next_message(next: u64) -> broker_core::amqp::durable::DurableImage {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_durable("q", &[]));
    let mut image = t.broker.durable_image();
    image.next_message = next;
    image
}

/// A stored image whose message id counter is at `u64::MAX` used to overflow on the next publish; ids
/// beyond MAX_MESSAGE_ID are refused when the image is read.
#[test]
fn a_stored_message_id_counter_at_the_edge_is_refused_or_stops_cleanly() {
    let image = image_with_next_message(u64::MAX);
    let e = Broker::from_durable_image(BrokerConfig::default(), 1, &image).expect_err("refused");
    assert!(matches!(e, RecoveryError::IdOutOfRange { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "durable image: the next_message has id {}, beyond the highest message id {MAX_MESSAGE_ID}",
            u64::MAX
        )
    );
    // The last id handed out was the highest: the next publish fails with an error, not a wrap-around.
    let image = image_with_next_message(MAX_MESSAGE_ID + 1);
    let (mut broker, _) = Broker::from_durable_image(BrokerConfig::default(), 1, &image).expect("reads");
    let at = broker.now();
    let c = broker.connect(at, "late");
    broker.apply(at, c, ChannelNumber(1), Method::ChannelOpen).expect("opens");
    let e = broker.apply(at, c, ChannelNumber(1), publish("", "q", "one more")).expect_err("no id left");
    assert_eq!(
        e.to_string(),
        format!("541 INTERNAL_ERROR - message ids are exhausted (the next would be {})", MAX_MESSAGE_ID + 1)
    );
    broker.assert_invariants();
    // Ids below the edge work as always.
    let image = image_with_next_message(MAX_MESSAGE_ID);
    let (mut broker, _) = Broker::from_durable_image(BrokerConfig::default(), 1, &image).expect("reads");
    let at = broker.now();
    let c = broker.connect(at, "last");
    broker.apply(at, c, ChannelNumber(1), Method::ChannelOpen).expect("opens");
    broker.apply(at, c, ChannelNumber(1), publish("", "q", "the last id")).expect("publishes");
    broker.assert_invariants();
}

/// Documents: a long name in the definitions, in a consumer's own declaration, or as a producer's
/// routing key is refused at load with its place, before anything runs.
#[test]
fn documents_refuse_long_names_with_their_place() {
    use broker_core::scenario::sim::{SimOptions, Simulation};
    let long_queue = long(256);
    let cases = [
        (
            format!(
                r#"{{"brokerlab": 2, "name": "n", "duration": "1s",
  "definitions": {{ "queues": [ {{ "name": "{long_queue}" }} ] }} }}"#
            ),
            "definitions.queues[0]",
        ),
        (
            format!(
                r#"{{"brokerlab": 2, "name": "n", "duration": "1s",
  "consumers": [ {{ "name": "c", "declare": {{ "name": "{long_queue}" }} }} ] }}"#
            ),
            "consumers[0]",
        ),
        (
            format!(
                r#"{{"brokerlab": 2, "name": "n", "duration": "1s",
  "definitions": {{ "queues": [ {{ "name": "q" }} ] }},
  "producers": [ {{ "name": "p", "routing_key": "{long_queue}", "rate": 1 }} ] }}"#
            ),
            "producers[0].routing_key",
        ),
    ];
    for (text, path) in cases {
        let e = match Simulation::from_json(&text, SimOptions::default()) {
            Ok(_) => panic!("accepted: {path}"),
            Err(e) => e,
        };
        assert!(e.message.starts_with(path), "{path}: {e}");
        assert!(e.message.contains("255 bytes"), "{path}: {e}");
        assert!(e.pos.line > 0, "{path}: located: {e}");
    }
}

/// A consumer's tag is its actor's name: a name over 255 bytes is refused at load; a routing key that
/// only grows too long when rendered stops the run with the client's error instead of reaching the broker.
#[test]
fn documents_refuse_long_consumer_tags_and_stop_on_long_rendered_keys() {
    use broker_core::scenario::sim::{SimOptions, Simulation};
    let text = format!(
        r#"{{"brokerlab": 2, "name": "n", "duration": "1s",
  "definitions": {{ "queues": [ {{ "name": "q" }} ] }},
  "consumers": [ {{ "name": "{}", "queue": "q" }} ] }}"#,
        "c".repeat(256)
    );
    let e = match Simulation::from_json(&text, SimOptions::default()) {
        Ok(_) => panic!("accepted a 256-byte consumer name"),
        Err(e) => e,
    };
    assert!(e.message.starts_with("consumers[0].name: ShortStringTooLong"), "{e}");
    let producer = "p".repeat(200);
    let text = format!(
        r#"{{"brokerlab": 2, "name": "n", "duration": "1s",
  "definitions": {{ "queues": [ {{ "name": "q" }} ] }},
  "producers": [ {{ "name": "{producer}", "routing_key": "{{actor}}.{{actor}}", "rate": 10 }} ] }}"#
    );
    let options = SimOptions { check_invariants: true, ..SimOptions::default() };
    let mut sim = Simulation::from_json(&text, options).expect("loads: the key's fixed text is short");
    sim.run();
    let stopped = sim.stopped().expect("stopped by the client's refusal");
    assert!(
        stopped.message.starts_with(&format!(
            "{producer}: ShortStringTooLong: AMQP Short String can contain up to 255 bytes: routing_key"
        )),
        "{}",
        stopped.message
    );
}
