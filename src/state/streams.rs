//! Reading a stream queue by hand: the page's own client, a connection named [`STREAM_READER`], opens a
//! channel per consumer and sends what a client sends (`basic.qos`, then `basic.consume` with
//! `x-stream-offset`), acks what it was delivered to get credit back, and cancels. Every refusal is the
//! engine's, with RabbitMQ's text (no prefetch, automatic acks, a bad offset, a classic queue's
//! `x-stream-offset` ignored as RabbitMQ ignores it).
//!
//! Nothing is kept here: the consumers, their positions and their deliveries are read from the broker
//! and the event log, so a rewind or a reload shows what the engine holds at that moment.

use super::{count, AppState};
use crate::forms::StreamConsumeForm;
use crate::session::Session;
use broker_core::amqp::{ChannelNumber, ConnectionId, Delivery, Event, FieldValue, Method, Reply};

/// The client name of the page's stream-reading connection.
pub const STREAM_READER: &str = "stream reader (page)";

/// How far back in the event log the page looks for a reader's deliveries (a bound on a view's work).
const READS_SCAN_EVENTS: usize = 50_000;

/// The deliveries listed per consumer at most (the newest).
pub const READS_SHOWN: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamAction {
    /// Subscribe as the form says, on a fresh channel of the reader connection.
    Consume(StreamConsumeForm),
    /// `basic.ack` with `multiple` of everything delivered on that channel so far: credit back.
    AckAll { connection: ConnectionId, channel: ChannelNumber },
    /// `basic.cancel`.
    Cancel { connection: ConnectionId, channel: ChannelNumber, consumer_tag: String },
}

/// One delivery to a page reader, as the page lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamRead {
    pub channel: ChannelNumber,
    pub consumer_tag: String,
    /// The `x-stream-offset` header RabbitMQ puts on a delivery from a stream.
    pub offset: Option<i64>,
    pub delivery: Delivery,
}

/// The page's reader connection, if it is open.
pub fn reader_connection(session: &Session) -> Option<ConnectionId> {
    session
        .connections()
        .iter()
        .find(|(id, c)| c.name == STREAM_READER && session.broker().is_open(**id))
        .map(|(id, _)| *id)
}

/// The newest deliveries (at most [`READS_SHOWN`] per channel, oldest first) the reader `connection`
/// was given, from the recent event log.
pub fn reads(session: &Session, connection: ConnectionId) -> Vec<StreamRead> {
    let log = session.log();
    let mut out: Vec<StreamRead> = Vec::new();
    for e in log.iter().rev().take(READS_SCAN_EVENTS) {
        let Event::Delivered { connection: c, channel, delivery, .. } = &e.event else { continue };
        if *c != connection || out.iter().filter(|r| r.channel == *channel).count() >= READS_SHOWN {
            continue;
        }
        let offset = match delivery.properties.headers.get("x-stream-offset") {
            Some(v) => v.integer(),
            None => None,
        };
        out.push(StreamRead {
            channel: *channel,
            consumer_tag: delivery.consumer_tag.clone().unwrap_or_default(),
            offset,
            delivery: (**delivery).clone(),
        });
    }
    out.reverse();
    out
}

impl AppState {
    pub(super) fn apply_stream(&mut self, action: StreamAction) {
        match action {
            StreamAction::Consume(form) => self.stream_consume(&form),
            StreamAction::AckAll { connection, channel } => {
                let last = reads(&self.session.borrow(), connection)
                    .iter()
                    .filter(|r| r.channel == channel)
                    .map(|r| r.delivery.delivery_tag)
                    .max();
                let Some(delivery_tag) = last else {
                    return self.info("Nothing delivered on that channel to acknowledge");
                };
                let result = self.session.borrow_mut().client_apply(
                    connection,
                    channel,
                    Method::BasicAck { delivery_tag, multiple: true },
                );
                match result {
                    Ok(_) => self.info(format!(
                        "Acknowledged up to delivery tag {} (multiple): the consumer's credit is back",
                        delivery_tag.0
                    )),
                    Err(e) => self.error(e.to_string()),
                }
            }
            StreamAction::Cancel { connection, channel, consumer_tag } => {
                let cancel = Method::BasicCancel { consumer_tag: consumer_tag.clone() };
                let result = self.session.borrow_mut().client_apply(connection, channel, cancel);
                match result {
                    Ok(_) => self.info(format!("Cancelled consumer '{consumer_tag}'")),
                    Err(e) => self.error(e.to_string()),
                }
            }
        }
    }

    /// `basic.qos` and `basic.consume` on a fresh channel of the reader connection (opened on first use).
    fn stream_consume(&mut self, form: &StreamConsumeForm) {
        let methods = match form.to_methods() {
            Ok(m) => m,
            Err(e) => return self.error(e),
        };
        if let Err(too_long) = methods[1].check_short_strings() {
            return self.error(too_long.to_string());
        }
        let mut session = self.session.borrow_mut();
        let (connection, channel) = match reader_connection(&session) {
            Some(connection) => {
                // A fresh number above every channel the connection has had, as a client allocates them.
                let used =
                    session.connections().get(&connection).and_then(|c| c.channels.keys().max().copied());
                let channel = ChannelNumber(used.map_or(1, |c| c.0.saturating_add(1)));
                if let Err(e) = session.client_apply(connection, channel, Method::ChannelOpen) {
                    drop(session);
                    return self.error(e.to_string());
                }
                (connection, channel)
            }
            None => session.connect_client(STREAM_READER),
        };
        let mut consumer_tag = None;
        for method in methods {
            match session.client_apply(connection, channel, method) {
                Ok(Reply::BasicConsumeOk { consumer_tag: tag }) => consumer_tag = Some(tag),
                Ok(_) => {}
                Err(e) => {
                    drop(session);
                    return self.error(e.to_string());
                }
            }
        }
        let got = reads(&session, connection).iter().filter(|r| r.channel == channel).count();
        drop(session);
        let offset = match form.offset_value() {
            Ok(Some(FieldValue::Str(s))) => format!("\"{s}\""),
            Ok(Some(v)) => v.to_string(),
            _ => "not given".to_string(),
        };
        self.info(format!(
            "Consuming from '{}' as '{}' (channel {}, x-stream-offset {offset}): {} so far",
            form.queue,
            consumer_tag.unwrap_or_default(),
            channel.0,
            count(got as u64, "delivery", "deliveries")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{FieldRow, OffsetChoice, PublishForm, QueueForm, QueueTypeChoice, ValueKind};
    use crate::state::{Action, NoticeKind};
    use broker_core::amqp::arguments::QueueType;
    use broker_core::VirtualTime;

    fn notice(s: &AppState) -> (NoticeKind, String) {
        let n = s.notice.clone().expect("a notice");
        (n.kind, n.text)
    }

    fn declare(s: &mut AppState, form: &QueueForm) {
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Declared".into() });
    }

    fn stream_form(name: &str) -> QueueForm {
        QueueForm { name: name.into(), queue_type: QueueTypeChoice::Stream, ..QueueForm::default() }
    }

    fn publish(s: &mut AppState, queue: &str, body: &str) {
        let form = PublishForm { routing_key: queue.into(), body: body.into(), ..PublishForm::default() };
        s.apply(Action::Apply { method: form.to_method().unwrap(), done: "Published".into() });
        assert_eq!(notice(s).0, NoticeKind::Info, "{:?}", s.notice);
    }

    fn consume(s: &mut AppState, queue: &str, offset: OffsetChoice, value: &str, prefetch: &str) {
        let form = StreamConsumeForm {
            queue: queue.into(),
            offset,
            offset_value: value.into(),
            prefetch: prefetch.into(),
            ..StreamConsumeForm::default()
        };
        s.apply(Action::Stream(StreamAction::Consume(form)));
    }

    /// The offsets the page's reader was delivered on `channel`.
    fn offsets(s: &AppState, channel: u16) -> Vec<Option<i64>> {
        let session = s.session.borrow();
        let Some(reader) = reader_connection(&session) else { return Vec::new() };
        reads(&session, reader)
            .iter()
            .filter(|r| r.channel == ChannelNumber(channel))
            .map(|r| r.offset)
            .collect()
    }

    /// Each consumer of `queue`: its tag and the offset it reads next.
    fn positions(s: &AppState, queue: &str) -> Vec<(String, Option<u64>)> {
        let session = s.session.borrow();
        let q = session.broker().queue(queue).expect("the queue");
        q.consumers.iter().map(|c| (c.consumer_tag.clone(), c.stream_offset)).collect()
    }

    #[test]
    fn the_queue_form_declares_a_stream_with_its_arguments_and_shows_rabbitmqs_refusals() {
        let mut s = AppState::default();
        let mut form = stream_form("events");
        form.arguments = vec![
            FieldRow::new("x-max-age", ValueKind::String, "7D"),
            FieldRow::new("x-max-length-bytes", ValueKind::Number, "20000000"),
            FieldRow::new("x-stream-max-segment-size-bytes", ValueKind::Number, "500000"),
            FieldRow::blank(),
        ];
        declare(&mut s, &form);
        assert_eq!(
            notice(&s),
            (NoticeKind::Info, "Declared: queue 'events' (0 messages, 0 consumers)".into())
        );
        let q = s.session.borrow().broker().queue("events").unwrap();
        assert_eq!(q.queue_type, QueueType::Stream);
        assert_eq!(q.arguments.len(), 4, "the three stream arguments and x-queue-type: {:?}", q.arguments);

        // RabbitMQ 3.10's refusals, word for word (golden stream-declare-errors).
        declare(&mut s, &QueueForm { durable: false, ..stream_form("nd") });
        assert_eq!(
            notice(&s),
            (
                NoticeKind::Error,
                "406 PRECONDITION_FAILED - invalid property 'non-durable' for queue 'nd' in vhost '/'".into()
            )
        );
        let mut ttl = stream_form("ttl");
        ttl.arguments = vec![FieldRow::new("x-message-ttl", ValueKind::Number, "1000")];
        declare(&mut s, &ttl);
        assert_eq!(
            notice(&s),
            (
                NoticeKind::Error,
                "406 PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'ttl' in vhost '/' of queue type \
                 rabbit_stream_queue"
                    .into()
            )
        );
        let mut age = stream_form("age");
        age.arguments = vec![FieldRow::new("x-max-age", ValueKind::String, "10x")];
        declare(&mut s, &age);
        let (kind, text) = notice(&s);
        assert_eq!(kind, NoticeKind::Error);
        assert!(text.starts_with("406 PRECONDITION_FAILED - invalid arg 'x-max-age'"), "{text}");
        // The page recovers from the closed channel as the management UI does.
        declare(&mut s, &stream_form("again"));
        assert_eq!(notice(&s).0, NoticeKind::Info);
    }

    #[test]
    fn consuming_from_first_reads_the_log_with_its_offsets_and_acks_give_credit_back() {
        let mut s = AppState::default();
        declare(&mut s, &stream_form("events"));
        for body in ["e0", "e1", "e2"] {
            publish(&mut s, "events", body);
        }
        assert!(s.session.borrow_mut().run_until(VirtualTime::from_millis(1_000), 1_000));
        consume(&mut s, "events", OffsetChoice::First, "", "2");
        let (kind, text) = notice(&s);
        assert_eq!(kind, NoticeKind::Info, "{text}");
        assert!(text.contains("x-stream-offset \"first\""), "{text}");
        assert!(text.contains("2 deliveries so far"), "{text}");
        assert_eq!(offsets(&s, 1), [Some(0), Some(1)], "the prefetch is the credit");
        let tag = positions(&s, "events")[0].0.clone();
        assert!(tag.starts_with("amq.ctag-"), "{tag}");
        assert_eq!(positions(&s, "events"), [(tag.clone(), Some(2))]);

        let reader = reader_connection(&s.session.borrow()).unwrap();
        s.apply(Action::Stream(StreamAction::AckAll { connection: reader, channel: ChannelNumber(1) }));
        assert!(notice(&s).1.contains("up to delivery tag 2"), "{:?}", s.notice);
        assert_eq!(offsets(&s, 1), [Some(0), Some(1), Some(2)]);
        assert_eq!(positions(&s, "events"), [(tag.clone(), Some(3))], "read to the end: waits at 3");
        publish(&mut s, "events", "e3");
        assert_eq!(offsets(&s, 1), [Some(0), Some(1), Some(2), Some(3)], "a new message reaches it");
        assert_eq!(
            s.session.borrow().broker().queue("events").unwrap().info.messages_ready,
            4,
            "nothing removed"
        );

        // A second consumer from an offset, on a channel of its own of the same connection.
        consume(&mut s, "events", OffsetChoice::Offset, "2", "10");
        assert_eq!(offsets(&s, 2), [Some(2), Some(3)]);
        // "last": the last chunk (one message each here).
        consume(&mut s, "events", OffsetChoice::Last, "", "10");
        assert_eq!(offsets(&s, 3), [Some(3)]);
        // A timestamp (seconds on the page's clock) and an interval.
        consume(&mut s, "events", OffsetChoice::Timestamp, "0", "10");
        assert_eq!(offsets(&s, 4).len(), 4);
        consume(&mut s, "events", OffsetChoice::Interval, "10m", "10");
        assert_eq!(offsets(&s, 5).len(), 4);
        assert_eq!(reader_connection(&s.session.borrow()), Some(reader), "one connection, five channels");

        s.apply(Action::Stream(StreamAction::Cancel {
            connection: reader,
            channel: ChannelNumber(1),
            consumer_tag: tag.clone(),
        }));
        assert_eq!(notice(&s), (NoticeKind::Info, format!("Cancelled consumer '{tag}'")));
        assert_eq!(positions(&s, "events").len(), 4);

        // Rewinding before the first consume: the broker has no reader there, so the page shows none.
        s.session.borrow_mut().seek(VirtualTime::from_millis(500));
        assert!(positions(&s, "events").is_empty());
        assert_eq!(reader_connection(&s.session.borrow()), None);
        s.session.borrow_mut().seek(VirtualTime::from_millis(1_000));
        assert_eq!(positions(&s, "events").len(), 4, "and forward again, as they were");
    }

    #[test]
    fn a_stream_consumer_without_prefetch_or_with_auto_ack_is_refused_with_rabbitmqs_text() {
        let mut s = AppState::default();
        declare(&mut s, &stream_form("events"));
        consume(&mut s, "events", OffsetChoice::First, "", "0");
        assert_eq!(
            notice(&s),
            (
                NoticeKind::Error,
                "406 PRECONDITION_FAILED - consumer prefetch count is not set for 'queue 'events' in vhost '/''".into()
            )
        );
        let form =
            StreamConsumeForm { queue: "events".into(), manual_ack: false, ..StreamConsumeForm::default() };
        s.apply(Action::Stream(StreamAction::Consume(form)));
        assert_eq!(
            notice(&s),
            (
                NoticeKind::Error,
                "540 NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues queue 'events' in \
                 vhost '/'"
                    .into()
            )
        );
        assert_eq!(reader_connection(&s.session.borrow()), None, "a connection error closes the reader");
        consume(&mut s, "events", OffsetChoice::Interval, "0s", "10");
        let (kind, text) = notice(&s);
        assert_eq!(kind, NoticeKind::Error);
        assert!(text.starts_with("406 PRECONDITION_FAILED - invalid arg 'x-stream-offset'"), "{text}");
        consume(&mut s, "events", OffsetChoice::Offset, "three", "10");
        assert_eq!(
            notice(&s),
            (NoticeKind::Error, "x-stream-offset: 'three' is not an offset (an integer)".into())
        );
        consume(&mut s, "events", OffsetChoice::First, "", "10");
        assert_eq!(notice(&s).0, NoticeKind::Info, "a reader subscribes again: {:?}", s.notice);
    }

    #[test]
    fn a_saved_workspace_keeps_the_stream_log_and_its_offsets() {
        use crate::persist::workspace::WorkspaceDoc;
        let mut s = AppState::default();
        declare(&mut s, &stream_form("events"));
        for body in ["e0", "e1", "e2"] {
            publish(&mut s, "events", body);
        }
        consume(&mut s, "events", OffsetChoice::First, "", "2");
        let doc = s.workspace_doc();
        assert_eq!(doc.dropped_messages, 0, "transient messages and unacked reads: the log keeps them all");
        let image = doc.image.clone().expect("a hand-built broker's image");
        let log = image.queues.iter().find(|q| q.definition.name == "events").unwrap();
        assert_eq!(log.messages.iter().map(|m| m.offset).collect::<Vec<_>>(), [Some(0), Some(1), Some(2)]);
        assert_eq!(log.stream_next_offset, Some(3));

        let mut reopened = AppState::default();
        reopened.apply(Action::Workspace(crate::state::workspace::WorkspaceAction::Open {
            entry: crate::persist::catalog::Entry { id: "w1".into(), name: "Streams".into() },
            entries: vec![],
            doc: Box::new(WorkspaceDoc::from_json(&doc.to_json()).unwrap()),
        }));
        assert!(reopened.session.borrow().broker().stream_log("events").is_some());
        publish(&mut reopened, "events", "e3");
        consume(&mut reopened, "events", OffsetChoice::First, "", "10");
        assert_eq!(
            offsets(&reopened, 1),
            [Some(0), Some(1), Some(2), Some(3)],
            "offsets go on after the restart"
        );
    }
}
