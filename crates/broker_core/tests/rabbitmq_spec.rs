//! One test per behaviour listed in `shared/spec/rabbitmq.md` (observed on RabbitMQ 3.10.8), checking
//! exact codes and texts. The driver in `amqp_support` asserts the broker's invariants after every step.

mod amqp_support;

use amqp_support::*;
use broker_core::amqp::{BasicProperties, Event, FieldValue, Method, Reply};

const LOCKED: &str = "405 RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'q' in vhost '/'. It \
                      could be originally declared on another connection or the exclusive property value does \
                      not match that of the original declaration.";

// ---- Channel errors: code, name and text ---------------------------------------------------------

#[test]
fn declare_exchange_with_reserved_prefix() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.channel_err(c, ch, xd("amq.foo", "direct")),
        "403 ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'"
    );
}

#[test]
fn declare_queue_with_reserved_prefix() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.channel_err(c, ch, qd("amq.foo")),
        "403 ACCESS_REFUSED - queue name 'amq.foo' contains reserved prefix 'amq.*'"
    );
}

#[test]
fn passive_declare_of_missing_queue() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(t.channel_err(c, ch, qd_passive("q")), "404 NOT_FOUND - no queue 'q' in vhost '/'");
}

#[test]
fn passive_declare_of_missing_exchange() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let m = Method::ExchangeDeclare {
        exchange: "x".into(),
        exchange_type: "direct".into(),
        passive: true,
        durable: false,
        auto_delete: false,
        internal: false,
        arguments: Default::default(),
    };
    assert_eq!(t.channel_err(c, ch, m), "404 NOT_FOUND - no exchange 'x' in vhost '/'");
}

#[test]
fn publish_to_missing_exchange_closes_the_channel() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(t.channel_err(c, ch, publish("x", "k", "hi")), "404 NOT_FOUND - no exchange 'x' in vhost '/'");
    // The channel is gone: using it again is a connection error, as with RabbitMQ.
    let other = t.channel(c);
    t.ok(c, other, qd("q"));
    assert_eq!(t.connection_err(c, ch, get("q")), "504 CHANNEL_ERROR - expected 'channel.open'");
}

#[test]
fn bind_missing_queue() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.channel_err(c, ch, bind("q", "amq.direct", "k")),
        "404 NOT_FOUND - no queue 'q' in vhost '/'"
    );
}

#[test]
fn bind_queue_to_default_exchange() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    assert_eq!(
        t.channel_err(c, ch, bind("q", "", "q")),
        "403 ACCESS_REFUSED - operation not permitted on the default exchange"
    );
}

#[test]
fn delete_default_exchange() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let m = Method::ExchangeDelete { exchange: "".into(), if_unused: false };
    assert_eq!(
        t.channel_err(c, ch, m),
        "403 ACCESS_REFUSED - operation not permitted on the default exchange"
    );
}

#[test]
fn redeclare_queue_with_other_message_ttl() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_args("q", &[("x-message-ttl", int(1000))]));
    assert_eq!(
        t.channel_err(c, ch, qd_args("q", &[("x-message-ttl", int(2000))])),
        "406 PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received '2000' \
         but current is '1000'"
    );
}

#[test]
fn redeclare_queue_durable() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    assert_eq!(
        t.channel_err(c, ch, qd_durable("q", &[])),
        "406 PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but \
         current is 'false'"
    );
}

#[test]
fn redeclare_exchange_with_other_type() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, xd("x", "direct"));
    assert_eq!(
        t.channel_err(c, ch, xd("x", "topic")),
        "406 PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'x' in vhost '/': received 'topic' but \
         current is 'direct'"
    );
}

fn exclusive_q(t: &mut Sim) {
    let (c, ch) = t.client();
    let m = Method::QueueDeclare {
        queue: "q".into(),
        passive: false,
        durable: false,
        exclusive: true,
        auto_delete: false,
        arguments: Default::default(),
    };
    t.ok(c, ch, m);
}

#[test]
fn another_connections_exclusive_queue_passive_declare() {
    let mut t = Sim::new();
    exclusive_q(&mut t);
    let (c2, ch2) = t.client();
    assert_eq!(t.channel_err(c2, ch2, qd_passive("q")), LOCKED);
}

#[test]
fn another_connections_exclusive_queue_consume() {
    let mut t = Sim::new();
    exclusive_q(&mut t);
    let (c2, ch2) = t.client();
    assert_eq!(t.channel_err(c2, ch2, consume("q", "c")), LOCKED);
}

#[test]
fn x_max_priority_256() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.channel_err(c, ch, qd_args("q", &[("x-max-priority", int(256))])),
        "406 PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'q' in vhost '/': {max_value_exceeded,256}"
    );
}

#[test]
fn x_overflow_bogus() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.channel_err(c, ch, qd_args("q", &[("x-overflow", s("bogus"))])),
        "406 PRECONDITION_FAILED - invalid arg 'x-overflow' for queue 'q' in vhost '/': invalid_overflow"
    );
}

#[test]
fn x_expires_zero() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.channel_err(c, ch, qd_args("q", &[("x-expires", int(0))])),
        "406 PRECONDITION_FAILED - invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}"
    );
}

#[test]
fn x_message_ttl_negative() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.channel_err(c, ch, qd_args("q", &[("x-message-ttl", int(-1))])),
        "406 PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"
    );
}

#[test]
fn ack_of_unknown_delivery_tag() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(t.channel_err(c, ch, ack(999)), "406 PRECONDITION_FAILED - unknown delivery tag 999");
}

#[test]
fn publish_with_invalid_expiration() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    assert_eq!(
        t.channel_err(c, ch, publish_props("", "q", "x", expiring("abc"))),
        "406 PRECONDITION_FAILED - invalid expiration 'abc': no_integer"
    );
    assert_eq!(t.broker.census().published, 0, "the refused publish did not happen");
}

#[test]
fn consume_missing_queue() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(t.channel_err(c, ch, consume("q", "c")), "404 NOT_FOUND - no queue 'q' in vhost '/'");
}

#[test]
fn second_consumer_on_exclusively_consumed_queue() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, consume_exclusive("q", "first"));
    let (c2, ch2) = t.client();
    assert_eq!(
        t.channel_err(c2, ch2, consume("q", "second")),
        "403 ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use"
    );
}

#[test]
fn quorum_queue_exclusive() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let m = Method::QueueDeclare {
        queue: "q".into(),
        passive: false,
        durable: true,
        exclusive: true,
        auto_delete: false,
        arguments: args(&[("x-queue-type", s("quorum"))]),
    };
    assert_eq!(
        t.channel_err(c, ch, m),
        "406 PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'q' in vhost '/'"
    );
}

#[test]
fn quorum_queue_non_durable() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.channel_err(c, ch, qd_args("q", &[("x-queue-type", s("quorum"))])),
        "406 PRECONDITION_FAILED - invalid property 'non-durable' for queue 'q' in vhost '/'"
    );
}

#[test]
fn redeclare_amq_direct_as_durable_direct_succeeds() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let m = Method::ExchangeDeclare {
        exchange: "amq.direct".into(),
        exchange_type: "direct".into(),
        passive: false,
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: Default::default(),
    };
    assert_eq!(t.ok(c, ch, m), Reply::ExchangeDeclareOk);
    assert!(t.broker.is_channel_open(c, ch));
}

// ---- Routing -------------------------------------------------------------------------------------

#[test]
fn default_exchange_routes_by_queue_name_and_drops_the_rest_silently() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("hello"));
    t.ok(c, ch, publish("", "hello", "a"));
    t.ok(c, ch, publish("", "nobody", "b"));
    t.ok(c, ch, publish("", "", "c"));
    assert!(t.broker.is_channel_open(c, ch));
    assert_eq!(t.drain(c, ch, "hello"), ["a"]);
    assert_eq!(t.broker.census().dropped(broker_core::amqp::DropReason::Unroutable), 2);
}

#[test]
fn mandatory_unroutable_is_returned_and_still_confirmed() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, Method::ConfirmSelect);
    t.ok(c, ch, xd("x", "direct"));
    t.ok(c, ch, publish_mandatory("x", "nowhere", "m"));
    let returned: Vec<_> = t
        .log
        .iter()
        .filter_map(|e| match &e.event {
            Event::Returned { reply_code, reply_text, exchange, routing_key, .. } => {
                Some((*reply_code, reply_text.clone(), exchange.to_string(), routing_key.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(returned, [(312, "NO_ROUTE".to_string(), "x".to_string(), "nowhere".to_string())]);
    assert_eq!(t.confirms(c, ch), [(1, true)]);
    let lines = t.lines();
    let ret = lines.iter().position(|l| l.starts_with("return")).unwrap();
    let conf = lines.iter().position(|l| l.starts_with("confirm ack")).unwrap();
    assert!(ret < conf, "basic.return comes before the confirm: {lines:#?}");
}

#[test]
fn non_mandatory_unroutable_is_confirmed_and_dropped() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, Method::ConfirmSelect);
    t.ok(c, ch, xd("x", "direct"));
    t.ok(c, ch, publish("x", "nowhere", "m"));
    assert_eq!(t.confirms(c, ch), [(1, true)]);
    assert!(!t.log.iter().any(|e| matches!(e.event, Event::Returned { .. })));
    assert!(t.lines().contains(&"drop m1 (unroutable)".to_string()));
}

#[test]
fn alternate_exchange_takes_unroutable_and_mandatory_is_not_returned() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, xd("ae", "fanout"));
    t.ok(c, ch, qd("unrouted"));
    t.ok(c, ch, bind("unrouted", "ae", ""));
    t.ok(c, ch, xd_args("x", "direct", &[("alternate-exchange", s("ae"))]));
    t.ok(c, ch, qd("routed"));
    t.ok(c, ch, bind("routed", "x", "k"));
    t.ok(c, ch, publish_mandatory("x", "k", "to-routed"));
    t.ok(c, ch, publish_mandatory("x", "other", "to-ae"));
    assert!(!t.log.iter().any(|e| matches!(e.event, Event::Returned { .. })));
    assert_eq!(t.drain(c, ch, "routed"), ["to-routed"]);
    assert_eq!(t.drain(c, ch, "unrouted"), ["to-ae"]);
}

#[test]
fn topic_patterns_of_tutorial_five() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, xd("topic_logs", "topic"));
    for (q, pattern) in [("orange", "*.orange.*"), ("lazy", "lazy.#"), ("rabbit", "*.*.rabbit"), ("all", "#")]
    {
        t.ok(c, ch, qd(q));
        t.ok(c, ch, bind(q, "topic_logs", pattern));
    }
    let keys = [
        "quick.orange.rabbit",
        "lazy.orange.elephant",
        "quick.orange.fox",
        "lazy.brown.fox",
        "lazy.pink.rabbit",
        "lazy.orange.male.rabbit",
        "lazy",
        "",
        "quick.brown.fox",
    ];
    for k in keys {
        t.ok(c, ch, publish("topic_logs", k, k));
    }
    assert_eq!(t.drain(c, ch, "orange"), ["quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox"]);
    assert_eq!(
        t.drain(c, ch, "lazy"),
        ["lazy.orange.elephant", "lazy.brown.fox", "lazy.pink.rabbit", "lazy.orange.male.rabbit", "lazy"]
    );
    assert_eq!(t.drain(c, ch, "rabbit"), ["quick.orange.rabbit", "lazy.pink.rabbit"]);
    assert_eq!(t.drain(c, ch, "all"), keys);
}

// ---- TTL and dead-lettering ----------------------------------------------------------------------

/// `src` dead-letters to fanout `dlx`, which feeds `dlq`.
fn dlx_setup(
    t: &mut Sim,
    src_args: &[(&str, FieldValue)],
) -> (broker_core::amqp::ConnectionId, broker_core::amqp::ChannelNumber) {
    let (c, ch) = t.client();
    t.ok(c, ch, xd("dlx", "fanout"));
    t.ok(c, ch, qd("dlq"));
    t.ok(c, ch, bind("dlq", "dlx", ""));
    let mut a = vec![("x-dead-letter-exchange", s("dlx"))];
    a.extend(src_args.iter().cloned());
    t.ok(c, ch, qd_args("src", &a));
    (c, ch)
}

fn assert_x_death(d: &broker_core::amqp::Delivery, reason: &str, time_s: i64) {
    let deaths = x_death(d);
    assert_eq!(deaths.len(), 1);
    let e = &deaths[0];
    assert_eq!(e.get("count"), Some(&int(1)));
    assert_eq!(e.get("reason"), Some(&s(reason)));
    assert_eq!(e.get("queue"), Some(&s("src")));
    assert_eq!(e.get("time"), Some(&int(time_s)));
    assert_eq!(e.get("exchange"), Some(&s("")));
    assert_eq!(e.get("routing-keys"), Some(&FieldValue::Array(vec![s("src")])));
    let h = &d.properties.headers;
    assert_eq!(h.get("x-first-death-exchange"), Some(&s("")));
    assert_eq!(h.get("x-first-death-queue"), Some(&s("src")));
    assert_eq!(h.get("x-first-death-reason"), Some(&s(reason)));
}

#[test]
fn expired_message_is_dead_lettered_with_x_death() {
    let mut t = Sim::new();
    let (c, ch) = dlx_setup(&mut t, &[("x-message-ttl", int(1000))]);
    t.at(1500);
    t.ok(c, ch, publish("", "src", "m"));
    t.at(2499);
    assert_eq!(t.ready("dlq"), 0, "not before its TTL");
    t.at(2500);
    assert_eq!(t.ready("src"), 0);
    let d = t.get(c, ch, "dlq").expect("dead-lettered");
    assert_x_death(&d, "expired", 2);
    assert!(!x_death(&d)[0].contains_key("original-expiration"));
    assert!(t.lines().contains(&"dead-letter m1 from queue 'src' (expired) -> exchange 'dlx'".to_string()));
}

#[test]
fn rejected_message_is_dead_lettered_with_x_death() {
    let mut t = Sim::new();
    let (c, ch) = dlx_setup(&mut t, &[]);
    t.ok(c, ch, publish("", "src", "m"));
    let d = t.get(c, ch, "src").unwrap();
    t.ok(c, ch, reject(d.delivery_tag.0, false));
    let d = t.get(c, ch, "dlq").unwrap();
    assert_x_death(&d, "rejected", 0);
}

#[test]
fn maxlen_message_is_dead_lettered_with_x_death() {
    let mut t = Sim::new();
    let (c, ch) = dlx_setup(&mut t, &[("x-max-length", int(1))]);
    t.ok(c, ch, publish("", "src", "old"));
    t.ok(c, ch, publish("", "src", "new"));
    let d = t.get(c, ch, "dlq").unwrap();
    assert_eq!(body(&d), "old");
    assert_x_death(&d, "maxlen", 0);
}

#[test]
fn per_message_ttl_adds_original_expiration() {
    let mut t = Sim::new();
    let (c, ch) = dlx_setup(&mut t, &[]);
    t.ok(c, ch, publish_props("", "src", "m", expiring("300")));
    t.at(300);
    let d = t.get(c, ch, "dlq").unwrap();
    assert_eq!(x_death(&d)[0].get("original-expiration"), Some(&s("300")));
    assert_eq!(d.properties.expiration, None, "the dead-lettered copy no longer expires");
}

#[test]
fn nack_with_requeue_redelivers_and_does_not_dead_letter() {
    let mut t = Sim::new();
    let (c, ch) = dlx_setup(&mut t, &[]);
    t.ok(c, ch, publish("", "src", "m"));
    let d = t.get(c, ch, "src").unwrap();
    assert!(!d.redelivered);
    t.ok(c, ch, nack(d.delivery_tag.0, true));
    let again = t.get(c, ch, "src").unwrap();
    assert!(again.redelivered);
    assert_eq!(again.message, d.message);
    assert_eq!(t.ready("dlq"), 0);
    assert!(!again.properties.headers.contains_key("x-death"));
}

#[test]
fn zero_message_ttl_without_consumer_is_gone_before_get() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_args("q", &[("x-message-ttl", int(0))]));
    t.ok(c, ch, publish("", "q", "m"));
    assert_eq!(t.get(c, ch, "q"), None);
    // With a consumer ready, the message is delivered instead.
    t.ok(c, ch, consume("q", "c"));
    t.ok(c, ch, publish("", "q", "m2"));
    assert_eq!(t.delivered_to("c").len(), 1);
}

// ---- Length limits (x-max-length 2, four publishes "0".."3", confirms on) --------------------------

/// Confirms `(seq, ack)`, bodies left in the queue, bodies dead-lettered.
type LimitOutcome = (Vec<(u64, bool)>, Vec<String>, Vec<String>);

fn length_limit(overflow: Option<&str>) -> LimitOutcome {
    let mut t = Sim::new();
    let mut a = vec![("x-max-length", int(2))];
    if let Some(o) = overflow {
        a.push(("x-overflow", s(o)));
    }
    let (c, ch) = dlx_setup(&mut t, &a);
    t.ok(c, ch, Method::ConfirmSelect);
    for i in 0..4 {
        t.ok(c, ch, publish("", "src", &i.to_string()));
    }
    let confirms = t.confirms(c, ch);
    let left = t.drain(c, ch, "src");
    let dead: Vec<String> = {
        let mut out = Vec::new();
        let mut reasons = Vec::new();
        while let Some(d) = t.get(c, ch, "dlq") {
            out.push(body(&d));
            reasons.push(match x_death(&d)[0].get("reason") {
                Some(FieldValue::Str(r)) => r.clone(),
                other => panic!("{other:?}"),
            });
        }
        assert!(reasons.iter().all(|r| r == "maxlen"), "{reasons:?}");
        out
    };
    (confirms, left, dead)
}

#[test]
fn drop_head_overflow() {
    let (confirms, left, dead) = length_limit(None);
    assert_eq!(confirms, [(1, true), (2, true), (3, true), (4, true)]);
    assert_eq!(left, ["2", "3"]);
    assert_eq!(dead, ["0", "1"]);
}

#[test]
fn reject_publish_overflow() {
    let (confirms, left, dead) = length_limit(Some("reject-publish"));
    assert_eq!(confirms, [(1, true), (2, true), (3, false), (4, false)]);
    assert_eq!(left, ["0", "1"]);
    assert!(dead.is_empty());
}

#[test]
fn reject_publish_dlx_overflow() {
    let (confirms, left, dead) = length_limit(Some("reject-publish-dlx"));
    assert_eq!(confirms, [(1, true), (2, true), (3, false), (4, false)]);
    assert_eq!(left, ["0", "1"]);
    assert_eq!(dead, ["2", "3"]);
}

// ---- Consumers -----------------------------------------------------------------------------------

#[test]
fn prefetch_three_without_acks() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, qos(3, false));
    t.ok(c, ch, consume("q", "c"));
    for i in 0..10 {
        t.ok(c, ch, publish("", "q", &i.to_string()));
    }
    assert_eq!(t.delivered(c, ch).len(), 3);
    t.at(1000);
    assert_eq!(t.delivered(c, ch).len(), 3, "nothing more until an ack");
    t.ok(c, ch, ack(2));
    let d = t.delivered(c, ch);
    assert_eq!(d.len(), 4);
    assert_eq!(body(&d[3]), "3");
}

#[test]
fn per_consumer_prefetch_two_consumers_on_one_channel() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, qos(2, false));
    t.ok(c, ch, consume("q", "a"));
    t.ok(c, ch, consume("q", "b"));
    for i in 0..10 {
        t.ok(c, ch, publish("", "q", &i.to_string()));
    }
    assert_eq!(t.delivered_to("a").len(), 2);
    assert_eq!(t.delivered_to("b").len(), 2);
    assert_eq!(t.ready("q"), 6);
}

#[test]
fn closing_a_channel_requeues_unacked_in_order_ahead_of_the_rest() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    let (c2, ch2) = t.client();
    t.ok(c2, ch2, qos(3, false));
    t.ok(c2, ch2, consume("q", "worker"));
    for i in 0..6 {
        t.ok(c, ch, publish("", "q", &i.to_string()));
    }
    assert_eq!(t.delivered_to("worker").len(), 3);
    t.ok(c2, ch2, Method::ChannelClose);
    let mut got = Vec::new();
    while let Some(d) = t.get(c, ch, "q") {
        got.push((body(&d), d.redelivered));
    }
    let expect: Vec<(String, bool)> = (0..6).map(|i| (i.to_string(), i < 3)).collect();
    assert_eq!(got, expect);
}

#[test]
fn single_active_consumer() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_args("q", &[("x-single-active-consumer", FieldValue::Bool(true))]));
    t.ok(c, ch, consume_auto("q", "A"));
    t.ok(c, ch, consume_auto("q", "B"));
    for i in 0..4 {
        t.ok(c, ch, publish("", "q", &i.to_string()));
    }
    assert_eq!(t.delivered_to("A").len(), 4);
    assert_eq!(t.delivered_to("B").len(), 0);
    t.ok(c, ch, cancel("A"));
    t.ok(c, ch, publish("", "q", "after"));
    assert_eq!(t.delivered_to("B").iter().map(body).collect::<Vec<_>>(), ["after"]);
}

#[test]
fn quorum_delivery_limit() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, xd("dlx", "fanout"));
    t.ok(c, ch, qd("dlq"));
    t.ok(c, ch, bind("dlq", "dlx", ""));
    t.ok(
        c,
        ch,
        qd_durable(
            "q",
            &[
                ("x-queue-type", s("quorum")),
                ("x-delivery-limit", int(2)),
                ("x-dead-letter-exchange", s("dlx")),
            ],
        ),
    );
    t.ok(c, ch, publish("", "q", "m"));
    let mut counts = Vec::new();
    for _ in 0..3 {
        let d = t.get(c, ch, "q").expect("still in the queue");
        counts.push(d.properties.headers.get("x-delivery-count").cloned());
        t.ok(c, ch, nack(d.delivery_tag.0, true));
    }
    assert_eq!(counts, [Some(int(0)), Some(int(1)), Some(int(2))]);
    assert_eq!(t.get(c, ch, "q"), None);
    let d = t.get(c, ch, "dlq").expect("dead-lettered");
    assert_eq!(x_death(&d)[0].get("reason"), Some(&s("delivery_limit")));
    assert_eq!(x_death(&d)[0].get("queue"), Some(&s("q")));
}

#[test]
fn auto_delete_queue_lives_until_its_last_consumer_cancels() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let m = Method::QueueDeclare {
        queue: "q".into(),
        passive: false,
        durable: false,
        exclusive: false,
        auto_delete: true,
        arguments: Default::default(),
    };
    t.ok(c, ch, m);
    t.at(10_000);
    assert!(t.has_queue("q"), "kept while it never had a consumer");
    t.ok(c, ch, consume("q", "a"));
    t.ok(c, ch, consume("q", "b"));
    t.ok(c, ch, cancel("a"));
    assert!(t.has_queue("q"), "one consumer left");
    t.ok(c, ch, cancel("b"));
    assert!(!t.has_queue("q"), "deleted when the last consumer cancels");
}

#[test]
fn x_expires_deletes_an_unused_queue() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_args("q", &[("x-expires", int(200))]));
    t.at(199);
    assert!(t.has_queue("q"));
    t.at(600);
    assert_eq!(t.channel_err(c, ch, qd_passive("q")), "404 NOT_FOUND - no queue 'q' in vhost '/'");
}

#[test]
fn events_read_like_a_log() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("hello"));
    t.ok(c, ch, consume("hello", "ctag1"));
    t.ok(c, ch, publish_props("", "hello", "hello world", BasicProperties::default()));
    t.ok(c, ch, ack(1));
    let lines = t.lines();
    for expected in [
        "open conn1 'test'",
        "open channel conn1/1",
        "declare queue 'hello'",
        "consume queue 'hello' on conn1/1 ctag 'ctag1'",
        "publish m1 on conn1/1 to exchange '' key 'hello' (11 bytes)",
        "route m1 via exchange '' -> queue 'hello'",
        "enqueue m1 on queue 'hello'",
        "deliver m1 from queue 'hello' to conn1/1 ctag 'ctag1' tag 1 redelivered=false",
        "ack m1 tag 1 on conn1/1 (queue 'hello')",
    ] {
        assert!(lines.contains(&expected.to_string()), "missing {expected:?} in {lines:#?}");
    }
}
