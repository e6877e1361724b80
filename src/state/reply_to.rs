//! Direct reply-to on the page's channel: RPC without a reply queue. The page consumes RabbitMQ's
//! `amq.rabbitmq.reply-to` pseudo-queue on its own channel in no-ack mode, a request published from the
//! Publish form with `reply_to` `amq.rabbitmq.reply-to` leaves with the key of that consumer instead, and
//! a server's reply to that key (through the default exchange) arrives here without any queue.
//!
//! The buttons send [`consume`] and `basic.cancel` through [`Action::Apply`](super::Action::Apply) like
//! every form, so each refusal is the engine's, in RabbitMQ 3.10's words (a request before the consumer,
//! a consumer with manual acks, a second consumer on the channel), and closes the page's channel as the
//! real broker does: the next method opens a fresh one, which has no reply consumer.
//!
//! Nothing is kept here: the consumer is read from the broker and the replies from the event log, so a
//! rewind or a reload shows what the engine holds at that moment.

use crate::session::Session;
use broker_core::amqp::{Delivery, Event, FieldTable, Method};

pub use broker_core::amqp::broker::REPLY_TO_QUEUE;

/// How far back in the event log the page looks for replies (a bound on a view's work).
const REPLIES_SCAN_EVENTS: usize = 50_000;

/// The replies listed at most (the newest).
pub const REPLIES_SHOWN: usize = 20;

/// `basic.consume` of `amq.rabbitmq.reply-to`, the tag left to the broker; RabbitMQ refuses it with
/// `manual_ack`, which the page offers so a learner sees why.
pub fn consume(manual_ack: bool) -> Method {
    Method::BasicConsume {
        queue: REPLY_TO_QUEUE.to_string(),
        consumer_tag: String::new(),
        auto_ack: !manual_ack,
        exclusive: false,
        arguments: FieldTable::default(),
    }
}

/// The page channel's reply consumer: its consumer tag and the key its requests carry in `reply_to`.
pub fn consumer(session: &Session) -> Option<(String, String)> {
    let connection = session.ui_connection()?;
    let (tag, key) = session.broker().reply_consumer(connection, session.ui_channel())?;
    Some((tag.to_string(), key.to_string()))
}

/// The newest replies (at most [`REPLIES_SHOWN`], oldest first) delivered to the page's connection
/// through a reply consumer, on any of its channels, from the recent event log.
pub fn replies(session: &Session) -> Vec<Delivery> {
    let Some(ui) = session.ui_connection() else { return Vec::new() };
    let mut out: Vec<Delivery> = session
        .log()
        .iter()
        .rev()
        .take(REPLIES_SCAN_EVENTS)
        .filter_map(|e| match &e.event {
            Event::Delivered { connection, queue, delivery, .. }
                if *connection == ui && &**queue == REPLY_TO_QUEUE =>
            {
                Some((**delivery).clone())
            }
            _ => None,
        })
        .take(REPLIES_SHOWN)
        .collect();
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{PublishForm, QueueForm};
    use crate::state::{Action, AppState, NoticeKind};
    use broker_core::amqp::{BasicProperties, Reply};
    use broker_core::VirtualTime;

    fn notice(s: &AppState) -> (NoticeKind, String) {
        let n = s.notice.clone().expect("a notice");
        (n.kind, n.text)
    }

    fn send(s: &mut AppState, method: Method) {
        s.apply(Action::Apply { method, done: "done".into() });
    }

    /// A request from the Publish form: to `queue`, replies to `amq.rabbitmq.reply-to`.
    fn request(s: &mut AppState, queue: &str, body: &str, correlation_id: &str) {
        let form = PublishForm {
            routing_key: queue.into(),
            body: body.into(),
            reply_to: REPLY_TO_QUEUE.into(),
            correlation_id: correlation_id.into(),
            ..PublishForm::default()
        };
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Published".into() });
    }

    fn bodies(s: &AppState) -> Vec<String> {
        replies(&s.session.borrow()).iter().map(|d| String::from_utf8_lossy(&d.body).into_owned()).collect()
    }

    #[test]
    fn a_request_from_the_page_gets_its_reply_without_a_queue_and_rabbitmqs_refusals_show() {
        let mut s = AppState::default();
        assert!(s.session.borrow_mut().run_until(VirtualTime::from_millis(1_000), 1_000));
        send(&mut s, QueueForm { name: "requests".into(), ..QueueForm::default() }.to_method().unwrap());

        // The texts of golden direct-reply-to, compared with RabbitMQ 3.10.8.
        request(&mut s, "requests", "too early", "0");
        assert_eq!(
            notice(&s),
            (NoticeKind::Error, "406 PRECONDITION_FAILED - fast reply consumer does not exist".into())
        );
        send(&mut s, consume(true));
        assert_eq!(
            notice(&s),
            (NoticeKind::Error, "406 PRECONDITION_FAILED - reply consumer cannot acknowledge".into())
        );
        assert_eq!(consumer(&s.session.borrow()), None);
        send(&mut s, consume(false));
        assert_eq!(notice(&s), (NoticeKind::Info, "done".into()));
        let (tag, key) = consumer(&s.session.borrow()).expect("the page's reply consumer");
        assert!(tag.starts_with("amq.ctag-"), "{tag}");
        assert!(key.starts_with("amq.rabbitmq.reply-to.") && key.len() > 40, "{key}");
        send(&mut s, consume(false));
        assert_eq!(
            notice(&s),
            (NoticeKind::Error, "406 PRECONDITION_FAILED - reply consumer already set".into())
        );
        assert_eq!(consumer(&s.session.borrow()), None, "the error closed the channel, and its consumer");
        send(&mut s, consume(false));
        let (_, key) = consumer(&s.session.borrow()).expect("a consumer on the fresh channel");

        request(&mut s, "requests", "what time is it?", "1");
        assert_eq!(notice(&s), (NoticeKind::Info, "Published".into()));
        assert_eq!(
            s.session.borrow().broker().queue("requests").unwrap().info.messages_ready,
            1,
            "the refused request never reached the queue"
        );

        // A server on a connection of its own: takes the request, replies to its reply_to.
        let (server, ch) = s.session.borrow_mut().connect_client("rpc server");
        let get = Method::BasicGet { queue: "requests".into(), auto_ack: true };
        let got = s.session.borrow_mut().client_apply(server, ch, get).unwrap();
        let Reply::BasicGetOk(request) = got else { panic!("{got:?}") };
        assert_eq!(request.properties.reply_to.as_deref(), Some(key.as_str()), "rewritten to the key");
        let reply = |body: &str| Method::BasicPublish {
            exchange: String::new(),
            routing_key: key.clone(),
            mandatory: true,
            immediate: false,
            properties: BasicProperties {
                correlation_id: request.properties.correlation_id.clone(),
                ..Default::default()
            },
            body: body.as_bytes().to_vec(),
        };
        s.session.borrow_mut().client_apply(server, ch, reply("noon")).unwrap();
        let got = replies(&s.session.borrow());
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].properties.correlation_id.as_deref(), Some("1"));
        assert_eq!(got[0].body, b"noon");

        // Cancelled: the key reaches nobody, so a mandatory reply comes back to the server.
        let tag = consumer(&s.session.borrow()).unwrap().0;
        send(&mut s, Method::BasicCancel { consumer_tag: tag });
        assert_eq!(consumer(&s.session.borrow()), None);
        let log_before = s.session.borrow().log().len();
        s.session.borrow_mut().client_apply(server, ch, reply("late")).unwrap();
        let returned = s.session.borrow().log()[log_before..]
            .iter()
            .any(|e| matches!(e.event, Event::Returned { reply_code: 312, .. }));
        assert!(returned, "312 NO_ROUTE");
        assert_eq!(bodies(&s), ["noon"]);

        // Rewound before it all: no reply yet; forward again: the same reply, replayed.
        assert!(s.session.borrow_mut().run_until(VirtualTime::from_millis(2_000), 1_000));
        s.session.borrow_mut().seek(VirtualTime::from_millis(500));
        assert!(bodies(&s).is_empty());
        s.session.borrow_mut().seek(VirtualTime::from_millis(2_000));
        assert_eq!(bodies(&s), ["noon"]);
        assert_eq!(consumer(&s.session.borrow()), None, "cancelled, as it was");
    }

    #[test]
    fn the_rpc_tutorials_server_answers_a_request_published_from_the_page() {
        let mut s = AppState::default();
        s.apply(Action::LoadScenario("06-rpc".into()));
        assert_eq!(notice(&s).0, NoticeKind::Info, "{:?}", s.notice);
        send(&mut s, consume(false));
        request(&mut s, "rpc_queue", "fib(10)", "page-1");
        assert_eq!(notice(&s), (NoticeKind::Info, "Published".into()));
        assert!(s.session.borrow_mut().run_until(VirtualTime::from_millis(1_000), 10_000));
        let got = replies(&s.session.borrow());
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].body, b"answer to fib(10) (page-1)");
        assert_eq!(got[0].properties.correlation_id.as_deref(), Some("page-1"));
        assert_eq!(got[0].consumer_tag, consumer(&s.session.borrow()).map(|c| c.0));
    }
}
