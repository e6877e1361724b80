//! Engine behaviours beyond the observed spec list, following RabbitMQ 3.10's documentation and source:
//! protocol errors, exchanges, queues, TTL rules, priorities, prefetch, confirms, dead-letter cycles,
//! time and determinism. The driver checks the broker's invariants after every step.

mod amqp_support;

use amqp_support::*;
use broker_core::amqp::{
    BasicProperties, Broker, BrokerConfig, ChannelNumber, DropReason, Event, FieldTable, FieldValue, Method,
    Reply,
};
use broker_core::VirtualTime;

fn declare(queue: &str, exclusive: bool, auto_delete: bool) -> Method {
    Method::QueueDeclare {
        queue: queue.into(),
        passive: false,
        durable: false,
        exclusive,
        auto_delete,
        arguments: FieldTable::new(),
    }
}

// ---- Protocol: channels and connections ------------------------------------------------------------

#[test]
fn second_channel_open_is_a_connection_error() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.connection_err(c, ch, Method::ChannelOpen),
        "504 CHANNEL_ERROR - second 'channel.open' seen"
    );
}

#[test]
fn method_on_unopened_channel_is_a_connection_error() {
    let mut t = Sim::new();
    let (c, _) = t.client();
    assert_eq!(t.connection_err(c, ChannelNumber(7), qd("q")), "504 CHANNEL_ERROR - expected 'channel.open'");
    assert!(t.lines().contains(&"conn1 closed: 504 CHANNEL_ERROR - expected 'channel.open'".to_string()));
}

#[test]
fn unknown_exchange_type_is_a_connection_error() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.connection_err(c, ch, xd("x", "bogus")),
        "503 COMMAND_INVALID - unknown exchange type 'bogus'"
    );
}

#[test]
fn reusing_a_consumer_tag_is_a_connection_error() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, consume("q", "tag"));
    assert_eq!(
        t.connection_err(c, ch, consume("q", "tag")),
        "530 NOT_ALLOWED - attempt to reuse consumer tag 'tag'"
    );
}

#[test]
fn recover_without_requeue_is_not_implemented() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.connection_err(c, ch, Method::BasicRecover { requeue: false }),
        "540 NOT_IMPLEMENTED - requeue=false"
    );
}

#[test]
fn channel_error_is_logged_with_its_text() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.channel_err(c, ch, get("q"));
    assert!(t
        .lines()
        .contains(&"channel conn1/1 closed: 404 NOT_FOUND - no queue 'q' in vhost '/'".to_string()));
}

#[test]
fn closing_a_connection_deletes_its_exclusive_queues_and_requeues() {
    let mut t = Sim::new();
    let (c1, ch1) = t.client();
    t.ok(c1, ch1, declare("mine", true, false));
    t.ok(c1, ch1, qd("shared"));
    t.ok(c1, ch1, publish("", "shared", "m"));
    assert!(t.get(c1, ch1, "shared").is_some());
    t.close_connection(c1);
    assert!(!t.has_queue("mine"));
    assert_eq!(t.ready("shared"), 1);
    let (c2, ch2) = t.client();
    assert!(t.get(c2, ch2, "shared").unwrap().redelivered);
    // Methods on a closed connection fail without panicking.
    assert!(t.try_apply(c1, ch1, qd("x")).is_err());
}

#[test]
fn exclusive_queue_redeclare_rules() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, declare("q", true, false));
    t.ok(c, ch, declare("q", true, false));
    let text = t.channel_err(c, ch, declare("q", false, false));
    assert!(
        text.starts_with("405 RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'q'"),
        "{text}"
    );
}

// ---- Exchanges -------------------------------------------------------------------------------------

#[test]
fn publish_to_internal_exchange_is_refused() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let m = Method::ExchangeDeclare {
        exchange: "inner".into(),
        exchange_type: "fanout".into(),
        passive: false,
        durable: false,
        auto_delete: false,
        internal: true,
        arguments: FieldTable::new(),
    };
    t.ok(c, ch, m);
    assert_eq!(
        t.channel_err(c, ch, publish("inner", "", "m")),
        "403 ACCESS_REFUSED - cannot publish to internal exchange 'inner' in vhost '/'"
    );
}

#[test]
fn exchange_delete_rules() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, xd("x", "direct"));
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, bind("q", "x", "k"));
    assert_eq!(
        t.channel_err(c, ch, Method::ExchangeDelete { exchange: "x".into(), if_unused: true }),
        "406 PRECONDITION_FAILED - exchange 'x' in vhost '/' in use"
    );
    let ch = t.channel(c);
    assert_eq!(
        t.channel_err(c, ch, Method::ExchangeDelete { exchange: "amq.direct".into(), if_unused: false }),
        "403 ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed"
    );
    let ch = t.channel(c);
    t.ok(c, ch, Method::ExchangeDelete { exchange: "x".into(), if_unused: false });
    t.ok(c, ch, Method::ExchangeDelete { exchange: "never-was".into(), if_unused: false });
    assert!(!t.broker.exchanges().iter().any(|x| x.name == "x"));
}

#[test]
fn exchange_to_exchange_bindings_route_each_queue_once_and_survive_cycles() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, xd("a", "fanout"));
    t.ok(c, ch, xd("b", "fanout"));
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, xbind("b", "a", ""));
    t.ok(c, ch, xbind("a", "b", ""));
    t.ok(c, ch, bind("q", "a", ""));
    t.ok(c, ch, bind("q", "b", ""));
    t.ok(c, ch, publish("a", "", "once"));
    assert_eq!(t.drain(c, ch, "q"), ["once"]);
}

#[test]
fn auto_delete_exchange_goes_with_its_last_binding() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let m = Method::ExchangeDeclare {
        exchange: "tmp".into(),
        exchange_type: "direct".into(),
        passive: false,
        durable: false,
        auto_delete: true,
        internal: false,
        arguments: FieldTable::new(),
    };
    t.ok(c, ch, m);
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, bind("q", "tmp", "k"));
    t.ok(c, ch, Method::QueueDelete { queue: "q".into(), if_unused: false, if_empty: false });
    assert!(!t.broker.exchanges().iter().any(|x| x.name == "tmp"));
}

#[test]
fn unbind_of_missing_things_succeeds() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let m = Method::QueueUnbind {
        queue: "nope".into(),
        exchange: "none".into(),
        routing_key: "k".into(),
        arguments: FieldTable::new(),
    };
    assert_eq!(t.ok(c, ch, m), Reply::QueueUnbindOk);
}

#[test]
fn alternate_exchange_argument_must_be_a_string() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.channel_err(c, ch, xd_args("x", "direct", &[("alternate-exchange", int(1))])),
        "406 PRECONDITION_FAILED - invalid type 'signedint' for arg 'alternate-exchange' in exchange 'x' in vhost '/'"
    );
}

#[test]
fn headers_exchange_routes_through_the_broker() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    let m = Method::QueueBind {
        queue: "q".into(),
        exchange: "amq.headers".into(),
        routing_key: "".into(),
        arguments: args(&[("x-match", s("any")), ("a", int(1)), ("b", int(2))]),
    };
    t.ok(c, ch, m);
    let with = |h: &[(&str, FieldValue)]| BasicProperties { headers: args(h), ..Default::default() };
    t.ok(c, ch, publish_props("amq.headers", "", "yes", with(&[("b", int(2))])));
    t.ok(c, ch, publish_props("amq.headers", "", "no", with(&[("b", int(3))])));
    assert_eq!(t.drain(c, ch, "q"), ["yes"]);
}

// ---- Queues ----------------------------------------------------------------------------------------

#[test]
fn server_named_queues() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let Reply::QueueDeclareOk { queue, .. } = t.ok(c, ch, qd("")) else { panic!() };
    assert!(queue.starts_with("amq.gen-") && queue.len() == 30, "{queue}");
    assert!(t.has_queue(&queue));
    assert_eq!(
        t.channel_err(c, ch, qd_durable("", &[("x-queue-type", s("quorum"))])),
        "406 PRECONDITION_FAILED - Cannot declare a server-named queue for type rabbit_quorum_queue"
    );
}

#[test]
fn queue_delete_and_purge_rules() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, publish("", "q", "a"));
    t.ok(c, ch, publish("", "q", "b"));
    let del = |if_unused, if_empty| Method::QueueDelete { queue: "q".into(), if_unused, if_empty };
    assert_eq!(
        t.channel_err(c, ch, del(false, true)),
        "406 PRECONDITION_FAILED - queue 'q' in vhost '/' not empty"
    );
    let ch = t.channel(c);
    t.ok(c, ch, consume("q", "ctag"));
    assert_eq!(
        t.channel_err(c, ch, del(true, false)),
        "406 PRECONDITION_FAILED - queue 'q' in vhost '/' in use"
    );
    let ch = t.channel(c);
    // The consumer's channel closed with the error: "a" and "b" went back to the queue.
    t.ok(c, ch, publish("", "q", "c"));
    t.ok(c, ch, publish("", "q", "d"));
    assert_eq!(
        t.ok(c, ch, Method::QueuePurge { queue: "q".into() }),
        Reply::QueuePurgeOk { message_count: 4 }
    );
    t.ok(c, ch, publish("", "q", "e"));
    assert_eq!(t.ok(c, ch, del(false, false)), Reply::QueueDeleteOk { message_count: 1 });
    assert_eq!(t.ok(c, ch, del(false, false)), Reply::QueueDeleteOk { message_count: 0 }, "idempotent");
    assert_eq!(t.broker.census().dropped(DropReason::Purged), 4);
    assert_eq!(t.broker.census().dropped(DropReason::QueueDeleted), 1);
}

#[test]
fn deleting_a_queue_cancels_its_consumers() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, consume("q", "ctag"));
    t.ok(c, ch, publish("", "q", "m"));
    t.ok(c, ch, Method::QueueDelete { queue: "q".into(), if_unused: false, if_empty: false });
    assert!(t.lines().contains(&"cancel ctag 'ctag' on conn1/1 (queue 'q', queue deleted)".to_string()));
    // The delivery is still held; acking it is fine.
    t.ok(c, ch, ack(1));
    assert_eq!(t.broker.census().acked, 1);
}

#[test]
fn redeclare_with_an_argument_missing_prints_typed_value_and_none() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    assert_eq!(
        t.channel_err(c, ch, qd_args("q", &[("x-max-length", int(5))])),
        "406 PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received the value \
         '5' of type 'signedint' but current is none"
    );
}

#[test]
fn argument_type_errors() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    assert_eq!(
        t.channel_err(c, ch, qd_args("q", &[("x-dead-letter-routing-key", s("k"))])),
        "406 PRECONDITION_FAILED - invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': \
         routing_key_but_no_dlx_defined"
    );
    let ch = t.channel(c);
    assert_eq!(
        t.channel_err(c, ch, qd_args("q", &[("x-max-priority", int(10)), ("x-queue-type", s("quorum"))])),
        "406 PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'q' in vhost '/' of queue type \
         rabbit_quorum_queue"
    );
    let ch = t.channel(c);
    assert_eq!(
        t.channel_err(c, ch, qd_args("q", &[("x-single-active-consumer", s("yes"))])),
        "406 PRECONDITION_FAILED - invalid arg 'x-single-active-consumer' for queue 'q' in vhost '/': \
         {unacceptable_type,longstr}"
    );
}

// ---- TTL and expiry --------------------------------------------------------------------------------

#[test]
fn messages_expire_only_at_the_head() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, publish_props("", "q", "long", expiring("1000")));
    t.ok(c, ch, publish_props("", "q", "short", expiring("100")));
    t.at(500);
    assert_eq!(t.ready("q"), 2, "the expired message waits behind a live head");
    t.at(1000);
    assert_eq!(t.ready("q"), 0, "both go once the head expires");
}

#[test]
fn expired_message_behind_the_head_goes_when_it_reaches_the_head() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, publish("", "q", "keep"));
    t.ok(c, ch, publish_props("", "q", "short", expiring("100")));
    t.ok(c, ch, publish("", "q", "last"));
    t.at(200);
    assert_eq!(t.ready("q"), 3);
    assert_eq!(t.drain(c, ch, "q"), ["keep", "last"]);
}

#[test]
fn requeued_message_keeps_its_expiry() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_args("q", &[("x-message-ttl", int(1000))]));
    t.ok(c, ch, publish("", "q", "m"));
    t.at(900);
    let d = t.get(c, ch, "q").unwrap();
    t.at(1500);
    t.ok(c, ch, nack(d.delivery_tag.0, true));
    assert_eq!(t.ready("q"), 0, "expired at once on its return");
    assert_eq!(t.broker.census().dropped(DropReason::Expired), 1);
}

#[test]
fn x_expires_restarts_on_get_and_stops_while_consumed() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_args("q", &[("x-expires", int(1000))]));
    t.at(900);
    t.get(c, ch, "q");
    t.at(1800);
    assert!(t.has_queue("q"), "basic.get restarted the countdown");
    t.ok(c, ch, consume("q", "ctag"));
    t.at(10_000);
    assert!(t.has_queue("q"), "a queue with consumers does not expire");
    t.ok(c, ch, cancel("ctag"));
    t.at(10_999);
    assert!(t.has_queue("q"));
    t.at(11_000);
    assert!(!t.has_queue("q"));
}

#[test]
fn idle_time_costs_nothing_and_step_fires_the_next_instant() {
    let mut b = Broker::new(BrokerConfig::default(), 1);
    assert_eq!(b.next_deadline(), None);
    b.advance_to(VirtualTime(86_400_000));
    assert!(b.take_events().is_empty());
    let c = b.connect(VirtualTime(86_400_000), "c");
    let ch = ChannelNumber(1);
    b.apply(VirtualTime(86_400_000), c, ch, Method::ChannelOpen).unwrap();
    b.apply(VirtualTime(86_400_000), c, ch, qd_args("q", &[("x-message-ttl", int(250))])).unwrap();
    b.apply(VirtualTime(86_400_000), c, ch, publish("", "q", "m")).unwrap();
    assert_eq!(b.next_deadline(), Some(VirtualTime(86_400_250)));
    assert_eq!(b.step(), Some(VirtualTime(86_400_250)));
    assert_eq!(b.now(), VirtualTime(86_400_250));
    assert_eq!(b.queues()[0].messages_ready, 0);
    assert_eq!(b.step(), None);
    b.assert_invariants();
}

#[test]
#[should_panic(expected = "time goes back")]
fn time_never_goes_back() {
    let mut b = Broker::new(BrokerConfig::default(), 1);
    b.advance_to(VirtualTime(10));
    b.advance_to(VirtualTime(9));
}

// ---- Delivery order, priorities, prefetch ------------------------------------------------------------

#[test]
fn priorities_deliver_higher_first_and_fifo_within_a_priority() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_args("q", &[("x-max-priority", int(5))]));
    let p = |n| BasicProperties { priority: Some(n), ..Default::default() };
    for (b, n) in [("low1", 1), ("high1", 5), ("low2", 1), ("none", 0), ("above-max", 9), ("high2", 5)] {
        t.ok(c, ch, publish_props("", "q", b, p(n)));
    }
    assert_eq!(t.drain(c, ch, "q"), ["high1", "above-max", "high2", "low1", "low2", "none"]);
}

#[test]
fn consumers_take_turns() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, consume_auto("q", "a"));
    t.ok(c, ch, consume_auto("q", "b"));
    for i in 0..4 {
        t.ok(c, ch, publish("", "q", &i.to_string()));
    }
    assert_eq!(t.delivered_to("a").iter().map(body).collect::<Vec<_>>(), ["0", "2"]);
    assert_eq!(t.delivered_to("b").iter().map(body).collect::<Vec<_>>(), ["1", "3"]);
}

#[test]
fn global_prefetch_is_shared_by_the_channels_consumers() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q1"));
    t.ok(c, ch, qd("q2"));
    t.ok(c, ch, qos(3, true));
    t.ok(c, ch, consume("q1", "a"));
    t.ok(c, ch, consume("q2", "b"));
    for i in 0..5 {
        t.ok(c, ch, publish("", "q1", &i.to_string()));
        t.ok(c, ch, publish("", "q2", &i.to_string()));
    }
    assert_eq!(t.delivered(c, ch).len(), 3);
    t.ok(c, ch, ack_multiple(0));
    assert_eq!(t.delivered(c, ch).len(), 6);
}

#[test]
fn quorum_queues_refuse_global_qos() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_durable("q", &[("x-queue-type", s("quorum"))]));
    t.ok(c, ch, qos(3, true));
    assert_eq!(
        t.connection_err(c, ch, consume("q", "a")),
        "540 NOT_IMPLEMENTED - queue 'q' in vhost '/' does not support global qos"
    );
}

#[test]
fn basic_get_counts_and_delivery_tags_are_per_channel() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let ch2 = t.channel(c);
    t.ok(c, ch, qd("q"));
    for i in 0..3 {
        t.ok(c, ch, publish("", "q", &i.to_string()));
    }
    let d = t.get(c, ch, "q").unwrap();
    assert_eq!((d.delivery_tag.0, d.message_count), (1, Some(2)));
    let d = t.get(c, ch2, "q").unwrap();
    assert_eq!((d.delivery_tag.0, d.message_count), (1, Some(1)));
    let d = t.get(c, ch, "q").unwrap();
    assert_eq!((d.delivery_tag.0, d.message_count), (2, Some(0)));
    assert_eq!(t.get(c, ch, "q"), None);
    assert!(t.lines().contains(&"get-empty from queue 'q' on conn1/1".to_string()));
}

#[test]
fn ack_multiple_and_nack_multiple() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    for i in 0..5 {
        t.ok(c, ch, publish("", "q", &i.to_string()));
    }
    for _ in 0..5 {
        t.get(c, ch, "q");
    }
    t.ok(c, ch, ack_multiple(2));
    assert_eq!(t.broker.census().acked, 2);
    t.ok(
        c,
        ch,
        Method::BasicNack { delivery_tag: broker_core::amqp::DeliveryTag(5), multiple: true, requeue: true },
    );
    assert_eq!(t.drain(c, ch, "q"), ["2", "3", "4"]);
    assert_eq!(t.channel_err(c, ch, nack(1, true)), "406 PRECONDITION_FAILED - unknown delivery tag 1");
}

#[test]
fn classic_requeue_restores_publish_order() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    for i in 0..3 {
        t.ok(c, ch, publish("", "q", &i.to_string()));
    }
    let a = t.get(c, ch, "q").unwrap();
    let b = t.get(c, ch, "q").unwrap();
    t.ok(c, ch, nack(a.delivery_tag.0, true));
    t.ok(c, ch, nack(b.delivery_tag.0, true));
    assert_eq!(t.drain(c, ch, "q"), ["0", "1", "2"]);
}

#[test]
fn recover_requeues_everything_unacked() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, publish("", "q", "a"));
    t.ok(c, ch, publish("", "q", "b"));
    t.get(c, ch, "q");
    t.get(c, ch, "q");
    assert_eq!(t.ok(c, ch, Method::BasicRecover { requeue: true }), Reply::BasicRecoverOk);
    assert_eq!(t.ready("q"), 2);
}

// ---- Publishing ------------------------------------------------------------------------------------

#[test]
fn confirms_count_up_and_nack_if_any_queue_refuses() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, Method::ConfirmSelect);
    t.ok(c, ch, qd_args("full", &[("x-max-length", int(0)), ("x-overflow", s("reject-publish"))]));
    t.ok(c, ch, qd("open"));
    t.ok(c, ch, bind("full", "amq.fanout", ""));
    t.ok(c, ch, bind("open", "amq.fanout", ""));
    t.ok(c, ch, publish("", "open", "a"));
    t.ok(c, ch, publish("amq.fanout", "", "b"));
    assert_eq!(t.confirms(c, ch), [(1, true), (2, false)]);
    assert_eq!(t.drain(c, ch, "open"), ["a", "b"]);
}

#[test]
fn max_length_bytes_drops_from_the_head() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_args("q", &[("x-max-length-bytes", int(10))]));
    for b in ["aaaa", "bbbb", "cccc"] {
        t.ok(c, ch, publish("", "q", b));
    }
    assert_eq!(t.drain(c, ch, "q"), ["bbbb", "cccc"]);
}

#[test]
fn rpc_properties_and_persistence_pass_through() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("rpc"));
    let props = BasicProperties {
        reply_to: Some("amq.gen-reply".into()),
        correlation_id: Some("42".into()),
        delivery_mode: Some(2),
        ..Default::default()
    };
    t.ok(c, ch, publish_props("", "rpc", "req", props.clone()));
    let d = t.get(c, ch, "rpc").unwrap();
    assert_eq!(d.properties, props);
    assert!(d.properties.persistent());
}

// ---- Dead-lettering --------------------------------------------------------------------------------

#[test]
fn dead_letter_routing_key_and_missing_exchange() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("parking"));
    t.ok(
        c,
        ch,
        qd_args("src", &[("x-dead-letter-exchange", s("")), ("x-dead-letter-routing-key", s("parking"))]),
    );
    t.ok(c, ch, qd_args("lost", &[("x-dead-letter-exchange", s("nowhere"))]));
    t.ok(c, ch, publish("", "src", "a"));
    t.ok(c, ch, publish("", "lost", "b"));
    let a = t.get(c, ch, "src").unwrap();
    let b = t.get(c, ch, "lost").unwrap();
    t.ok(c, ch, reject(a.delivery_tag.0, false));
    t.ok(c, ch, reject(b.delivery_tag.0, false));
    let d = t.get(c, ch, "parking").unwrap();
    assert_eq!((d.exchange.as_str(), d.routing_key.as_str()), ("", "parking"));
    assert_eq!(x_death(&d)[0].get("routing-keys"), Some(&FieldValue::Array(vec![s("src")])));
    assert_eq!(t.broker.census().dropped(DropReason::DeadLetterExchangeMissing), 1);
}

#[test]
fn automatic_dead_letter_cycles_are_dropped_but_reject_cycles_are_not() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    // An expiring queue dead-lettering to itself: dropped on the first cycle.
    t.ok(
        c,
        ch,
        qd_args(
            "loop",
            &[
                ("x-message-ttl", int(10)),
                ("x-dead-letter-exchange", s("")),
                ("x-dead-letter-routing-key", s("loop")),
            ],
        ),
    );
    t.ok(c, ch, publish("", "loop", "m"));
    t.at(10);
    assert_eq!(t.ready("loop"), 0);
    assert_eq!(t.broker.census().dropped(DropReason::DeadLetterCycle), 1);
    // A rejecting consumer loop keeps counting deaths.
    t.ok(
        c,
        ch,
        qd_args("retry", &[("x-dead-letter-exchange", s("")), ("x-dead-letter-routing-key", s("retry"))]),
    );
    t.ok(c, ch, publish("", "retry", "r"));
    for round in 1..=3 {
        let d = t.get(c, ch, "retry").unwrap();
        if round > 1 {
            assert_eq!(x_death(&d)[0].get("count"), Some(&int(round - 1)));
            assert_eq!(x_death(&d).len(), 1, "one entry per (queue, reason)");
        }
        t.ok(c, ch, reject(d.delivery_tag.0, false));
    }
}

// ---- Determinism -----------------------------------------------------------------------------------

fn transcript(seed: u64) -> Vec<String> {
    let mut b = Broker::new(BrokerConfig::default(), seed);
    let c = b.connect(VirtualTime(0), "c");
    let ch = ChannelNumber(1);
    b.apply(VirtualTime(0), c, ch, Method::ChannelOpen).unwrap();
    b.apply(VirtualTime(1), c, ch, qd("")).unwrap();
    b.apply(VirtualTime(2), c, ch, qd_args("q", &[("x-message-ttl", int(5))])).unwrap();
    b.apply(VirtualTime(3), c, ch, consume("q", "")).unwrap();
    b.apply(VirtualTime(4), c, ch, publish("", "q", "m")).unwrap();
    b.advance_to(VirtualTime(100));
    b.take_events().iter().map(ToString::to_string).collect()
}

#[test]
fn same_seed_same_transcript() {
    assert_eq!(transcript(7), transcript(7));
    assert_ne!(transcript(7), transcript(8), "generated names come from the seed");
}

#[test]
fn recording_off_keeps_state_but_logs_nothing() {
    let mut b = Broker::new(BrokerConfig { record_events: false, ..Default::default() }, 1);
    let c = b.connect(VirtualTime(0), "c");
    let ch = ChannelNumber(1);
    b.apply(VirtualTime(0), c, ch, Method::ChannelOpen).unwrap();
    b.apply(VirtualTime(0), c, ch, qd("q")).unwrap();
    b.apply(VirtualTime(0), c, ch, publish("", "q", "m")).unwrap();
    assert!(b.take_events().is_empty());
    assert_eq!(b.census().ready, 1);
    b.assert_invariants();
    assert!(!b.take_events().iter().any(|e| matches!(e.event, Event::Published { .. })));
}

// ---- Restart ---------------------------------------------------------------------------------------

#[test]
fn restart_keeps_durable_entities_and_persistent_messages() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let durable_x = Method::ExchangeDeclare {
        exchange: "dx".into(),
        exchange_type: "fanout".into(),
        passive: false,
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: FieldTable::new(),
    };
    t.ok(c, ch, durable_x);
    t.ok(c, ch, xd("tx", "fanout"));
    t.ok(c, ch, qd_durable("dq", &[]));
    t.ok(c, ch, qd("tq"));
    t.ok(c, ch, bind("dq", "dx", ""));
    let persistent = BasicProperties { delivery_mode: Some(2), ..Default::default() };
    t.ok(c, ch, publish_props("", "dq", "p1", persistent.clone()));
    t.ok(c, ch, publish("", "dq", "transient"));
    t.ok(c, ch, publish_props("", "dq", "p2", persistent.clone()));
    t.ok(c, ch, publish_props("", "tq", "p3", persistent));
    let held = t.get(c, ch, "dq").unwrap();
    assert_eq!(body(&held), "p1");
    t.broker.restart(VirtualTime(5));
    t.at(5);
    assert!(!t.broker.is_open(c));
    assert!(t.lines().contains(
        &"conn1 closed: 320 CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"
            .to_string()
    ));
    assert!(!t.has_queue("tq"));
    assert!(!t.broker.exchanges().iter().any(|x| x.name == "tx"));
    let (c, ch) = t.client();
    let got: Vec<(String, bool)> =
        std::iter::from_fn(|| t.get(c, ch, "dq")).map(|d| (body(&d), d.redelivered)).collect();
    assert_eq!(got, [("p1".to_string(), true), ("p2".to_string(), false)]);
    t.ok(c, ch, publish("dx", "", "still bound"));
    assert_eq!(t.ready("dq"), 1);
    assert_eq!(t.broker.census().dropped(DropReason::Restart), 1);
}

/// A persistent message keeps its sender-selected (`BCC`) routing keys through a restart: dead-lettered
/// without `x-dead-letter-routing-key`, it is routed by them again (tests/scenarios/amqp/
/// sender-selected-distribution shows RabbitMQ 3.10.8 doing so without a restart).
#[test]
fn restart_keeps_the_bcc_routing_keys_of_a_persistent_message() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, xd("dlx", "direct"));
    t.ok(c, ch, qd("dead-b"));
    t.ok(c, ch, bind("dead-b", "dlx", "b"));
    t.ok(c, ch, qd_durable("src", &[("x-dead-letter-exchange", s("dlx"))]));
    let mut headers = FieldTable::new();
    headers.insert("BCC".into(), FieldValue::Array(vec![s("b")]));
    let persistent = BasicProperties { delivery_mode: Some(2), headers, ..Default::default() };
    t.ok(c, ch, publish_props("", "src", "hidden copy", persistent));
    t.broker.restart(VirtualTime(5));
    t.at(5);
    let (c, ch) = t.client();
    t.ok(c, ch, xd("dlx", "direct"));
    t.ok(c, ch, qd("dead-b"));
    t.ok(c, ch, bind("dead-b", "dlx", "b"));
    let d = t.get(c, ch, "src").expect("the persistent message survived");
    assert!(d.properties.headers.is_empty(), "BCC is not delivered: {:?}", d.properties.headers);
    t.ok(c, ch, reject(d.delivery_tag.0, false));
    assert_eq!(t.drain(c, ch, "dead-b"), ["hidden copy"]);
}

// ---- Found by the seeded simulation (see /work/notes/h4-findings.md) ------------------------------

#[test]
fn get_ok_count_excludes_expired_messages_the_get_exposed() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, publish("", "q", "head"));
    t.ok(c, ch, publish_props("", "q", "gone", expiring("0")));
    t.ok(c, ch, publish("", "q", "last"));
    let d = t.get(c, ch, "q").unwrap();
    assert_eq!(d.message_count, Some(1));
    let lines = t.lines();
    let get = lines.iter().position(|l| l.starts_with("get m1")).unwrap();
    let expire = lines.iter().position(|l| l.starts_with("expire m2")).unwrap();
    assert!(get < expire, "the get-ok is logged before the drop it caused: {lines:#?}");
}

#[test]
fn a_consumer_blocked_by_prefetch_rejoins_the_end_of_the_line() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let ch_b = t.channel(c);
    let ch_c = t.channel(c);
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, qos(1, false));
    t.ok(c, ch, consume("q", "A"));
    t.ok(c, ch, publish("", "q", "0"));
    t.ok(c, ch_b, consume_auto("q", "B"));
    t.ok(c, ch_c, qos(2, false));
    t.ok(c, ch_c, consume("q", "C"));
    t.ok(c, ch, publish("", "q", "1")); // A is full: skipped (blocked); B takes it
    t.ok(c, ch, ack(1)); // A has credit again and goes to the back: line is C, B, A
    t.ok(c, ch, publish("", "q", "2"));
    assert_eq!(t.delivered_to("C").iter().map(body).collect::<Vec<_>>(), ["2"]);
}

#[test]
fn queue_delete_checks_if_empty_before_if_unused() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("q"));
    t.ok(c, ch, qos(1, false));
    t.ok(c, ch, consume("q", "busy"));
    t.ok(c, ch, publish("", "q", "a"));
    t.ok(c, ch, publish("", "q", "b"));
    let (c2, ch2) = t.client();
    assert_eq!(
        t.channel_err(c2, ch2, Method::QueueDelete { queue: "q".into(), if_unused: true, if_empty: true }),
        "406 PRECONDITION_FAILED - queue 'q' in vhost '/' not empty"
    );
}

#[test]
fn settling_several_takers_works_group_by_group() {
    // nack(multiple, requeue=false) over a get and a consumer delivery of one queue: RabbitMQ settles the
    // basic.get group first, then the consumer's, so the get's message is dead-lettered first.
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("dlq"));
    t.ok(c, ch, qd_args("q", &[("x-dead-letter-exchange", s("")), ("x-dead-letter-routing-key", s("dlq"))]));
    t.ok(c, ch, publish("", "q", "by-consumer"));
    t.ok(c, ch, qos(1, false));
    t.ok(c, ch, consume("q", "ctag"));
    t.ok(c, ch, publish("", "q", "by-get"));
    assert_eq!(body(&t.get(c, ch, "q").unwrap()), "by-get");
    t.ok(
        c,
        ch,
        Method::BasicNack { delivery_tag: broker_core::amqp::DeliveryTag(2), multiple: true, requeue: false },
    );
    assert_eq!(t.drain(c, ch, "dlq"), ["by-get", "by-consumer"]);
}

// ---- Consumer priorities (`x-priority`, see /work/notes/h11-findings.md) ---------------------------

fn consume_priority(q: &str, tag: &str, auto_ack: bool, priority: i64) -> Method {
    Method::BasicConsume {
        queue: q.into(),
        consumer_tag: tag.into(),
        auto_ack,
        exclusive: false,
        arguments: args(&[("x-priority", int(priority))]),
    }
}

fn bodies_to(t: &Sim, ctag: &str) -> Vec<String> {
    t.delivered_to(ctag).iter().map(body).collect()
}

#[test]
fn a_higher_priority_consumer_gets_every_message_while_it_has_credit() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("w"));
    t.ok(c, ch, consume_auto("w", "lo"));
    t.ok(c, ch, consume_priority("w", "hi", true, 5));
    for b in ["1", "2", "3"] {
        t.ok(c, ch, publish("", "w", b));
    }
    assert_eq!(bodies_to(&t, "hi"), ["1", "2", "3"]);
    assert!(bodies_to(&t, "lo").is_empty());
}

#[test]
fn a_lower_priority_consumer_gets_messages_while_the_higher_one_is_blocked() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let ch_hi = t.channel(c);
    t.ok(c, ch, qd("w"));
    t.ok(c, ch, consume_auto("w", "lo"));
    t.ok(c, ch_hi, qos(1, false));
    t.ok(c, ch_hi, consume_priority("w", "hi", false, 5));
    for b in ["1", "2", "3"] {
        t.ok(c, ch, publish("", "w", b));
    }
    assert_eq!(bodies_to(&t, "hi"), ["1"]);
    assert_eq!(bodies_to(&t, "lo"), ["2", "3"]);
    // The ack gives "hi" credit back: it is served first again.
    t.ok(c, ch_hi, ack(1));
    t.ok(c, ch, publish("", "w", "4"));
    assert_eq!(bodies_to(&t, "hi"), ["1", "4"]);
    // Once "hi" is gone, "lo" gets everything.
    t.ok(c, ch_hi, cancel("hi"));
    t.ok(c, ch, publish("", "w", "5"));
    assert_eq!(bodies_to(&t, "lo"), ["2", "3", "5"]);
}

#[test]
fn a_global_prefetch_blocks_the_higher_priority_consumer_until_acks() {
    // The h11 finding's second form: both consumers on one channel with a shared limit of 2.
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let (c2, pub_ch) = t.client();
    t.ok(c, ch, qd("w"));
    t.ok(c, ch, qos(2, true));
    t.ok(c, ch, consume("w", "lo"));
    t.ok(c, ch, consume_priority("w", "hi", false, 5));
    for b in ["1", "2", "3"] {
        t.ok(c2, pub_ch, publish("", "w", b));
    }
    assert_eq!(bodies_to(&t, "hi"), ["1", "2"]);
    assert!(bodies_to(&t, "lo").is_empty());
    t.ok(c, ch, cancel("hi"));
    assert!(bodies_to(&t, "lo").is_empty(), "the channel's limit still counts hi's unacked deliveries");
    t.ok(c, ch, ack(1));
    assert_eq!(bodies_to(&t, "lo"), ["3"]);
}

#[test]
fn consumers_of_equal_priority_take_turns_ahead_of_lower_ones() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("w"));
    t.ok(c, ch, consume_auto("w", "low"));
    t.ok(c, ch, consume_priority("w", "a", true, 3));
    t.ok(c, ch, consume_priority("w", "b", true, 3));
    for b in ["1", "2", "3", "4", "5"] {
        t.ok(c, ch, publish("", "w", b));
    }
    assert_eq!(bodies_to(&t, "a"), ["1", "3", "5"]);
    assert_eq!(bodies_to(&t, "b"), ["2", "4"]);
    assert!(bodies_to(&t, "low").is_empty());
}

#[test]
fn a_negative_priority_consumer_ranks_below_the_default() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let ch_default = t.channel(c);
    t.ok(c, ch, qd("w"));
    t.ok(c, ch, consume_priority("w", "neg", true, -1));
    t.ok(c, ch_default, qos(2, false));
    t.ok(c, ch_default, consume("w", "default"));
    for b in ["1", "2", "3"] {
        t.ok(c, ch, publish("", "w", b));
    }
    assert_eq!(bodies_to(&t, "default"), ["1", "2"]);
    assert_eq!(bodies_to(&t, "neg"), ["3"]);
}

#[test]
fn an_unblocked_consumer_rejoins_ahead_of_lower_priorities() {
    // "hi" is blocked, then acks: it rejoins the end of priority 5, still ahead of priority 0 ("lo").
    let mut t = Sim::new();
    let (c, ch) = t.client();
    let ch_hi = t.channel(c);
    let ch_lo = t.channel(c);
    t.ok(c, ch, qd("w"));
    t.ok(c, ch_hi, qos(1, false));
    t.ok(c, ch_hi, consume_priority("w", "hi", false, 5));
    t.ok(c, ch_lo, qos(1, false));
    t.ok(c, ch_lo, consume("w", "lo"));
    for b in ["1", "2", "3"] {
        t.ok(c, ch, publish("", "w", b));
    }
    // "3" found both blocked; a get takes it, so the acks below only move the consumers back in line.
    assert_eq!(body(&t.get(c, ch, "w").unwrap()), "3");
    t.ok(c, ch_lo, ack(1)); // lo rejoins first...
    t.ok(c, ch_hi, ack(1)); // ...but hi rejoins ahead of it, at the end of priority 5
    t.ok(c, ch, publish("", "w", "4"));
    assert_eq!(bodies_to(&t, "hi"), ["1", "4"]);
    assert_eq!(bodies_to(&t, "lo"), ["2"]);
}

#[test]
fn a_non_integer_priority_keeps_rabbitmqs_error() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("w"));
    let m = Method::BasicConsume {
        queue: "w".into(),
        consumer_tag: "x".into(),
        auto_ack: true,
        exclusive: false,
        arguments: args(&[("x-priority", s("high"))]),
    };
    assert_eq!(
        t.channel_err(c, ch, m),
        "406 PRECONDITION_FAILED - invalid arg 'x-priority' for queue 'w' in vhost '/': \"expected integer, \
         got longstr\""
    );
}

#[test]
fn single_active_consumer_keeps_the_first_and_a_classic_queue_hands_over_by_priority() {
    // 3.10 classic queues: the first consumer stays active whatever comes later; when it goes, the
    // highest-priority waiting consumer takes over (rabbit_queue_consumers:get_consumer).
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_args("sac", &[("x-single-active-consumer", FieldValue::Bool(true))]));
    t.ok(c, ch, consume_auto("sac", "first"));
    t.ok(c, ch, consume_auto("sac", "second"));
    t.ok(c, ch, consume_priority("sac", "urgent", true, 5));
    t.ok(c, ch, publish("", "sac", "1"));
    assert_eq!(bodies_to(&t, "first"), ["1"]);
    t.ok(c, ch, cancel("first"));
    t.ok(c, ch, publish("", "sac", "2"));
    assert_eq!(bodies_to(&t, "urgent"), ["2"]);
    t.ok(c, ch, cancel("urgent"));
    t.ok(c, ch, publish("", "sac", "3"));
    assert_eq!(bodies_to(&t, "second"), ["3"]);
}

#[test]
fn single_active_consumer_of_a_quorum_queue_hands_over_in_registration_order() {
    // 3.10 rabbit_fifo activates the first waiting consumer; priority-aware activation came with 4.0.
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(
        c,
        ch,
        qd_durable(
            "sac",
            &[("x-queue-type", s("quorum")), ("x-single-active-consumer", FieldValue::Bool(true))],
        ),
    );
    t.ok(c, ch, consume_auto("sac", "first"));
    t.ok(c, ch, consume_auto("sac", "second"));
    t.ok(c, ch, consume_priority("sac", "urgent", true, 5));
    t.ok(c, ch, publish("", "sac", "1"));
    t.ok(c, ch, cancel("first"));
    t.ok(c, ch, publish("", "sac", "2"));
    assert_eq!(bodies_to(&t, "first"), ["1"]);
    assert_eq!(bodies_to(&t, "second"), ["2"]);
    assert!(bodies_to(&t, "urgent").is_empty());
}
