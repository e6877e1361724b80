//! Reusing a consumer tag after `basic.cancel` (RabbitMQ allows it: a tag is only refused while a
//! consumer holds it). The deliveries made under the old consumer stay unacknowledged on the channel and
//! can be acked; what the ack gives back depends on the queue type, as in RabbitMQ 3.10:
//! - classic queues keep prefetch credit per consumer tag in the channel's limiter state
//!   (`rabbit_limiter:ack_from_queue/3` looks the tag up; `forget_consumer/2` drops it on cancel and
//!   `rabbit_queue_consumers:add/11` enters fresh credit for the new consumer), so the new consumer starts
//!   with its full prefetch and each ack of an old delivery adds one more credit to it;
//! - quorum queues keep the cancelled consumer while it has checked-out messages, and the new consumer
//!   with the same tag takes them over (`rabbit_fifo:merge_consumer/4`: credit = prefetch − checked out),
//!   so the old deliveries count against the new consumer's prefetch.
//!
//! Found by a hostile-input run (issue 15): the debug build panicked with a subtraction overflow, a release
//! build never delivered to the reused tag again.

mod amqp_support;
use amqp_support::*;
use broker_core::amqp::Method;

/// The ten lines: declare `p`, consume with `hi2`, publish one, cancel `hi2`, consume again with
/// `hi2`, ack delivery tag 1; then the consumer still gets what is published.
#[test]
fn a_reused_tag_acks_the_old_delivery_and_keeps_consuming() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("p"));
    t.ok(c, ch, consume("p", "hi2"));
    t.ok(c, ch, publish("", "p", "one"));
    t.at(1000);
    t.ok(c, ch, cancel("hi2"));
    t.ok(c, ch, consume("p", "hi2"));
    t.at(2000);
    t.ok(c, ch, ack(1));
    t.ok(c, ch, publish("", "p", "two"));
    let tags: Vec<(u64, String)> =
        t.delivered_to("hi2").iter().map(|d| (d.delivery_tag.0, body(d))).collect();
    assert_eq!(tags, vec![(1, "one".to_string()), (2, "two".to_string())]);
    let q = t.broker.queue("p").expect("declared");
    assert_eq!((q.info.messages_ready, q.info.messages_unacknowledged), (0, 1));
    assert_eq!(q.consumers[0].unacked, 1);
}

/// Classic queue, prefetch 1: the new consumer has its full credit at once (it gets "two" while "one" is
/// still unacked), and the ack of "one" adds a credit on top, so it then holds two unacked deliveries.
#[test]
fn on_a_classic_queue_an_old_ack_adds_credit_to_the_new_consumer() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("p"));
    t.ok(c, ch, qos(1, false));
    t.ok(c, ch, consume("p", "hi2"));
    t.ok(c, ch, publish("", "p", "one"));
    t.ok(c, ch, cancel("hi2"));
    t.ok(c, ch, consume("p", "hi2"));
    t.ok(c, ch, publish("", "p", "two"));
    t.ok(c, ch, publish("", "p", "three"));
    t.ok(c, ch, publish("", "p", "four"));
    let bodies = |t: &Sim| t.delivered_to("hi2").iter().map(body).collect::<Vec<_>>();
    assert_eq!(bodies(&t), ["one", "two"]);
    t.ok(c, ch, ack(1));
    assert_eq!(bodies(&t), ["one", "two", "three"], "the ack of 'one' gave the new consumer a credit");
    assert_eq!(t.ready("p"), 1);
    t.ok(c, ch, ack(2));
    assert_eq!(bodies(&t), ["one", "two", "three", "four"]);
}

/// Quorum queue, prefetch 1: the new consumer takes the old delivery over, so it gets nothing until
/// "one" is acked, then one at a time.
#[test]
fn on_a_quorum_queue_the_new_consumer_takes_the_old_deliveries_over() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd_durable("p", &[("x-queue-type", s("quorum"))]));
    t.ok(c, ch, qos(1, false));
    t.ok(c, ch, consume("p", "hi2"));
    t.ok(c, ch, publish("", "p", "one"));
    t.ok(c, ch, cancel("hi2"));
    t.ok(c, ch, consume("p", "hi2"));
    t.ok(c, ch, publish("", "p", "two"));
    t.ok(c, ch, publish("", "p", "three"));
    let bodies = |t: &Sim| t.delivered_to("hi2").iter().map(body).collect::<Vec<_>>();
    assert_eq!(bodies(&t), ["one"]);
    assert_eq!(t.broker.queue("p").expect("declared").consumers[0].unacked, 1);
    t.ok(c, ch, ack(1));
    assert_eq!(bodies(&t), ["one", "two"]);
    t.ok(c, ch, ack(2));
    assert_eq!(bodies(&t), ["one", "two", "three"]);
}

/// The tag reused on another queue: the old queue's delivery is acked there and gives the consumer of
/// the other queue nothing (credit is kept per queue).
#[test]
fn a_tag_reused_on_another_queue_is_not_credited_by_old_acks() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("a"));
    t.ok(c, ch, qd("b"));
    t.ok(c, ch, qos(1, false));
    t.ok(c, ch, consume("a", "t"));
    t.ok(c, ch, publish("", "a", "a1"));
    t.ok(c, ch, cancel("t"));
    t.ok(c, ch, consume("b", "t"));
    t.ok(c, ch, publish("", "b", "b1"));
    t.ok(c, ch, publish("", "b", "b2"));
    t.ok(c, ch, ack(1));
    let bodies: Vec<String> = t.delivered_to("t").iter().map(body).collect();
    assert_eq!(bodies, ["a1", "b1"], "acking a1 frees no credit on queue b");
    t.ok(c, ch, ack(2));
    let bodies: Vec<String> = t.delivered_to("t").iter().map(body).collect();
    assert_eq!(bodies, ["a1", "b1", "b2"]);
}

/// Requeue and channel close of an old delivery under a reused tag keep every counter right.
#[test]
fn old_deliveries_under_a_reused_tag_requeue_and_close_cleanly() {
    let mut t = Sim::new();
    let (c, ch) = t.client();
    t.ok(c, ch, qd("p"));
    t.ok(c, ch, qos(2, false));
    t.ok(c, ch, consume("p", "t"));
    t.ok(c, ch, publish("", "p", "one"));
    t.ok(c, ch, publish("", "p", "two"));
    t.ok(c, ch, cancel("t"));
    t.ok(c, ch, consume("p", "t"));
    // "one" goes back and straight to the new consumer (which has credit).
    t.ok(c, ch, nack(1, true));
    let tags: Vec<u64> = t.delivered_to("t").iter().map(|d| d.delivery_tag.0).collect();
    assert_eq!(tags, [1, 2, 3]);
    t.ok(c, ch, Method::BasicRecover { requeue: true });
    t.ok(c, ch, Method::ChannelClose);
    let q = t.broker.queue("p").expect("declared");
    assert_eq!((q.info.messages_ready, q.info.messages_unacknowledged, q.info.consumers), (2, 0, 0));
}
