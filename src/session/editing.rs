//! Session operations behind editing: `definitions.json` import (all or nothing) and export, moving
//! messages between queues as RabbitMQ's management UI does (a shovel), replaying a message, and a
//! message's lineage drawn from the event log.
//!
//! Every effect is AMQP methods applied to the engine on connections of their own (the shovel's, the
//! replay's), so the event log shows exactly what a real client would have done and every refusal is
//! the engine's error.

use super::Session;
use crate::log_filter::{event_kind, message_of};
use broker_core::amqp::definitions::{self, Definitions, ImportReport, Policy};
use broker_core::amqp::{
    AmqpError, ChannelNumber, ConnectionId, Delivery, Event, FieldTable, MessageId, Method, Reply,
};
use broker_core::scenario::document::locate;
use broker_core::VirtualTime;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::rc::Rc;

/// An error in a text the user edits, at its 1-based line and column (0 and 0: no place in the text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatedError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl LocatedError {
    pub fn new(line: u32, col: u32, message: impl Into<String>) -> Self {
        LocatedError { line, col, message: message.into() }
    }

    pub fn unlocated(message: impl Into<String>) -> Self {
        LocatedError::new(0, 0, message)
    }
}

impl fmt::Display for LocatedError {
    /// `line:col: message`, or the message alone when it has no place.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "{}:{}: {}", self.line, self.col, self.message)
        }
    }
}

/// How a message came to be published again under a new engine identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Republished {
    /// Moved by the shovel of "Move messages".
    Moved,
    /// Replayed from its detail.
    Replayed,
}

impl Republished {
    pub fn label(self) -> &'static str {
        match self {
            Republished::Moved => "moved by a shovel",
            Republished::Replayed => "replayed",
        }
    }
}

/// What the session keeps for editing: the loaded document's text. (Which messages are copies of which
/// is read from the log, not kept: see [`Session::lineage`]; imported policies are the broker's own.)
#[derive(Clone, Debug, Default)]
pub struct EditRecord {
    /// The document the session was made from, exactly as given (`None` in manual mode); shared, as
    /// rewind snapshots clone the session.
    pub(super) document: Option<Rc<str>>,
}

/// The connection name of a move's shovel (the management UI names the shovel `Move from <queue>`).
const SHOVEL_PREFIX: &str = "Shovel 'Move from ";
/// The connection name of a replay, followed by the replayed message's id (`m12`).
const REPLAY_PREFIX: &str = "Brokerlab replay of ";

/// What a move did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveOutcome {
    pub moved: u32,
    /// The destination did not exist and the shovel declared it (durable, no arguments).
    pub declared_destination: bool,
}

/// One step of a message's lineage.
#[derive(Clone, Debug, PartialEq)]
pub struct LineageStep {
    pub at: VirtualTime,
    /// The engine identity the step is about (a moved or replayed copy has its own).
    pub message: MessageId,
    /// The event's filter group ([`event_kind`]): `published`, `delivered`, `dead_lettered`, …
    pub kind: &'static str,
    /// The event's log line.
    pub text: String,
    /// For the publish of a copy: which message it copies and how it came about.
    pub copy_of: Option<(MessageId, Republished)>,
}

impl Session {
    /// The text of the loaded scenario document, as it was given (`None` in manual mode).
    pub fn document_text(&self) -> Option<&str> {
        self.edit.document.as_deref()
    }

    /// The broker's topology as RabbitMQ's `definitions.json` (pretty-printed, as the management UI
    /// downloads it).
    pub fn export_definitions(&self) -> String {
        definitions::export(self.broker()).to_json_pretty()
    }

    /// The broker's policies (the engine keeps them; see `broker_core::amqp::broker`), by name, and the
    /// queues and exchanges each is in effect on.
    pub fn policies(&self) -> Vec<(Policy, Vec<String>)> {
        let broker = self.broker();
        let queues: Vec<(String, Option<String>)> = broker
            .queues()
            .into_iter()
            .filter_map(|q| broker.queue(&q.name).map(|d| (q.name, d.policy)))
            .collect();
        let exchanges: Vec<(String, Option<String>)> =
            broker.exchanges().into_iter().map(|x| (x.name, x.policy)).collect();
        broker
            .policies()
            .iter()
            .map(|p| {
                let applied = exchanges
                    .iter()
                    .chain(queues.iter())
                    .filter(|(_, policy)| policy.as_deref() == Some(p.name.as_str()))
                    .map(|(name, _)| name.clone())
                    .collect();
                (p.clone(), applied)
            })
            .collect()
    }

    /// A scenario document holding the broker's current topology and no actors, for the editor.
    pub fn document_from_broker(&self) -> String {
        let definitions = self.export_definitions().replace('\n', "\n  ");
        format!(
            "{{\n  \"brokerlab\": 2,\n  \"name\": \"From the current broker\",\n  \"description\": \"The \
             topology of the broker as it was; add producers, consumers and checks.\",\n  \"seed\": 1,\n  \
             \"duration\": \"60s\",\n  \"definitions\": {definitions},\n  \"producers\": [],\n  \
             \"consumers\": [],\n  \"checks\": []\n}}\n"
        )
    }

    /// Imports a `definitions.json` into the broker, all or nothing: it is applied to a copy of the
    /// broker and the copy replaces the broker only when every entity was declared (RabbitMQ's own import
    /// keeps what it declared before a failure; a sandbox should not leave half a topology). A malformed
    /// file or a refused entity is located in `text`.
    ///
    /// Recorded for rewind ([`Session::apply_recorded`]), as every operation here.
    pub fn import_definitions(&mut self, text: &str) -> Result<ImportReport, LocatedError> {
        let text = text.to_string();
        self.apply_recorded(move |s| s.import_definitions_now(&text))
    }

    fn import_definitions_now(&mut self, text: &str) -> Result<ImportReport, LocatedError> {
        // A byte-order mark (a file saved by a Windows editor) is ignored, as in every input.
        let text = broker_core::scenario::strip_bom(text);
        let parsed = Definitions::from_json(text).map_err(|e| {
            LocatedError::new(
                u32::try_from(e.line).unwrap_or(u32::MAX),
                u32::try_from(e.column).unwrap_or(u32::MAX),
                e.message,
            )
        })?;
        let at = self.now();
        let mut candidate = self.broker().clone();
        match definitions::import(&mut candidate, at, &parsed) {
            Ok(report) => {
                *self.broker_mut() = candidate;
                self.absorb();
                Ok(report)
            }
            Err(e) => {
                let (line, col) = locate(text, &e.path).map_or((0, 0), |p| (p.line, p.col));
                Err(LocatedError::new(line, col, e.to_string()))
            }
        }
    }

    /// Opens a connection for a tool (the shovel, a replay) with channel 1 open, as a client would.
    fn open_tool_connection(&mut self, name: &str) -> ConnectionId {
        self.connect_client(name).0
    }

    /// A method on a tool's channel.
    fn tool_apply(
        &mut self,
        connection: ConnectionId,
        channel: u16,
        method: Method,
    ) -> Result<Reply, AmqpError> {
        self.client_apply(connection, ChannelNumber(channel), method)
    }

    /// Closes a tool's connection when its work is done (as the shovel's ends after
    /// `src-delete-after`).
    fn close_tool_connection(&mut self, connection: ConnectionId) {
        let at = self.now();
        self.broker_mut().close_connection(at, connection);
        self.absorb();
    }

    /// "Move messages" as RabbitMQ's management UI does it: a shovel (a connection of its own) takes
    /// each message ready in `source` when it starts (`src-delete-after: queue-length`), republishes it
    /// to the default exchange with `destination` as the routing key on a confirm-mode channel
    /// (`ack-mode: on-confirm`), then acknowledges it at the source. Properties, headers and body are
    /// kept. A missing destination is declared durable with no arguments, as the shovel does.
    ///
    /// The shovel here takes messages with `basic.get` where the plugin consumes with a prefetch: the
    /// same messages in the same order, one at a time.
    pub fn move_messages(&mut self, source: &str, destination: &str) -> Result<MoveOutcome, String> {
        let (source, destination) = (source.to_string(), destination.to_string());
        self.apply_recorded(move |s| s.move_messages_now(&source, &destination))
    }

    fn move_messages_now(&mut self, source: &str, destination: &str) -> Result<MoveOutcome, String> {
        if source == destination {
            return Err(format!("Cannot move messages from queue '{source}' to itself"));
        }
        let connection = self.open_tool_connection(&format!("{SHOVEL_PREFIX}{source}'"));
        let result = self.shovel(connection, source, destination);
        self.close_tool_connection(connection);
        result
    }

    fn shovel(
        &mut self,
        connection: ConnectionId,
        source: &str,
        destination: &str,
    ) -> Result<MoveOutcome, String> {
        let passive = |queue: &str| Method::QueueDeclare {
            queue: queue.to_string(),
            passive: true,
            durable: false,
            exclusive: false,
            auto_delete: false,
            arguments: FieldTable::new(),
        };
        let ready = match self.tool_apply(connection, 1, passive(source)) {
            Ok(Reply::QueueDeclareOk { message_count, .. }) => message_count,
            Ok(other) => unreachable!("queue.declare answers declare-ok: {other:?}"),
            Err(e) => return Err(e.to_string()),
        };
        // The destination side: its own channel in confirm mode.
        let reopen = self.tool_apply(connection, 2, Method::ChannelOpen);
        assert!(reopen.is_ok(), "channel 2 of the shovel opens: {reopen:?}");
        let mut declared_destination = false;
        if self.tool_apply(connection, 2, passive(destination)).is_err() {
            // The passive declare's 404 closed channel 2: open it again and declare the queue.
            self.tool_apply(connection, 2, Method::ChannelOpen).map_err(|e| e.to_string())?;
            let declare = Method::QueueDeclare {
                queue: destination.to_string(),
                passive: false,
                durable: true,
                exclusive: false,
                auto_delete: false,
                arguments: FieldTable::new(),
            };
            self.tool_apply(connection, 2, declare).map_err(|e| e.to_string())?;
            declared_destination = true;
        }
        self.tool_apply(connection, 2, Method::ConfirmSelect).map_err(|e| e.to_string())?;
        let mut moved = 0;
        while moved < ready {
            let taken = self
                .tool_apply(connection, 1, Method::BasicGet { queue: source.to_string(), auto_ack: false })
                .map_err(|e| e.to_string())?;
            let Reply::BasicGetOk(d) = taken else { break };
            let publish = Method::BasicPublish {
                exchange: String::new(),
                routing_key: destination.to_string(),
                mandatory: false,
                properties: d.properties.clone(),
                body: d.body.clone(),
                immediate: false,
            };
            self.tool_apply(connection, 2, publish).map_err(|e| e.to_string())?;
            let ack = Method::BasicAck { delivery_tag: d.delivery_tag, multiple: false };
            self.tool_apply(connection, 1, ack).map_err(|e| e.to_string())?;
            moved += 1;
        }
        Ok(MoveOutcome { moved, declared_destination })
    }

    /// Publishes a copy of a message as it was delivered: same exchange, routing key, properties
    /// (headers included) and body, on a connection of its own.
    pub fn replay(&mut self, delivery: &Delivery) -> Result<(), AmqpError> {
        let delivery = delivery.clone();
        self.apply_recorded(move |s| s.replay_now(&delivery))
    }

    fn replay_now(&mut self, delivery: &Delivery) -> Result<(), AmqpError> {
        let connection = self.open_tool_connection(&format!("{REPLAY_PREFIX}{}", delivery.message));
        let publish = Method::BasicPublish {
            exchange: delivery.exchange.clone(),
            routing_key: delivery.routing_key.clone(),
            mandatory: false,
            properties: delivery.properties.clone(),
            body: delivery.body.clone(),
            immediate: false,
        };
        let result = self.tool_apply(connection, 1, publish).map(|_| ());
        self.close_tool_connection(connection);
        result
    }

    /// The message as last seen: its latest delivery in the log, else its copy ready in a queue (peeked).
    pub fn last_delivery(&self, message: MessageId) -> Option<Delivery> {
        let delivered = self.log.iter().rev().find_map(|e| match &e.event {
            Event::Delivered { delivery, .. } if delivery.message == message => Some((**delivery).clone()),
            _ => None,
        });
        delivered.or_else(|| {
            let broker = self.broker();
            broker
                .queues()
                .iter()
                .find_map(|q| broker.peek(&q.name)?.into_iter().find(|d| d.message == message))
        })
    }

    /// Which copy (new id) came from which message, read from the log: a replay's connection is named
    /// after the message it replays and publishes once; a shovel's connection publishes the messages it
    /// took, one publish per `basic.get`, in order.
    fn copies(&self) -> BTreeMap<MessageId, (MessageId, Republished)> {
        enum Tool {
            Shovel(VecDeque<MessageId>),
            Replay(Option<MessageId>),
        }
        let mut tools: BTreeMap<ConnectionId, Tool> = BTreeMap::new();
        let mut copies = BTreeMap::new();
        for e in &self.log {
            match &e.event {
                Event::ConnectionOpened { connection, name } => {
                    if name.starts_with(SHOVEL_PREFIX) {
                        tools.insert(*connection, Tool::Shovel(VecDeque::new()));
                    } else if let Some(id) = name.strip_prefix(REPLAY_PREFIX) {
                        let id = id.strip_prefix('m').and_then(|n| n.parse().ok()).map(MessageId);
                        tools.insert(*connection, Tool::Replay(id));
                    }
                }
                Event::Delivered { connection, delivery, .. } => {
                    if let Some(Tool::Shovel(taken)) = tools.get_mut(connection) {
                        taken.push_back(delivery.message);
                    }
                }
                Event::Published { message, connection, .. } => match tools.get_mut(connection) {
                    Some(Tool::Shovel(taken)) => {
                        if let Some(from) = taken.pop_front() {
                            copies.insert(*message, (from, Republished::Moved));
                        }
                    }
                    Some(Tool::Replay(from)) => {
                        if let Some(from) = from.take() {
                            copies.insert(*message, (from, Republished::Replayed));
                        }
                    }
                    None => {}
                },
                _ => {}
            }
        }
        copies
    }

    /// Every step of a message's life in the event log, oldest first: its publish, routing, enqueues,
    /// deliveries and redeliveries, acks, nacks, rejects, requeues, expiry, dead-lettering and drop — and
    /// those of the copies made of it by moves and replays, and of the message it is itself a copy of.
    pub fn lineage(&self, message: MessageId) -> Vec<LineageStep> {
        let copies = self.copies();
        // The first original, then every copy descending from it.
        let mut root = message;
        let mut guard = 0;
        while let Some((from, _)) = copies.get(&root) {
            root = *from;
            guard += 1;
            assert!(guard <= copies.len(), "a copy cannot be its own ancestor");
        }
        let mut family: BTreeSet<MessageId> = BTreeSet::from([root]);
        loop {
            let before = family.len();
            for (copy, (from, _)) in &copies {
                if family.contains(from) {
                    family.insert(*copy);
                }
            }
            if family.len() == before {
                break;
            }
        }
        self.log
            .iter()
            .filter_map(|e| {
                let id = message_of(&e.event)?;
                if !family.contains(&id) {
                    return None;
                }
                let copy_of = match e.event {
                    Event::Published { .. } => copies.get(&id).copied(),
                    _ => None,
                };
                Some(LineageStep {
                    at: e.at,
                    message: id,
                    kind: event_kind(&e.event),
                    text: e.event.to_string(),
                    copy_of,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::amqp::BasicProperties;

    fn declare(s: &mut Session, queue: &str) {
        let method = Method::QueueDeclare {
            queue: queue.into(),
            passive: false,
            durable: true,
            exclusive: false,
            auto_delete: false,
            arguments: FieldTable::new(),
        };
        s.ui_apply(method).unwrap();
    }

    fn publish(s: &mut Session, queue: &str, body: &str) {
        let method = Method::BasicPublish {
            exchange: String::new(),
            routing_key: queue.into(),
            mandatory: false,
            properties: BasicProperties::default(),
            body: body.as_bytes().to_vec(),
            immediate: false,
        };
        s.ui_apply(method).unwrap();
    }

    fn ready(s: &Session, queue: &str) -> Vec<String> {
        let peeked = s.broker().peek(queue).unwrap_or_default();
        peeked.into_iter().map(|d| String::from_utf8(d.body).unwrap()).collect()
    }

    #[test]
    fn rewinding_past_a_move_undoes_it_and_going_forward_replays_it() {
        let mut s = Session::new(3);
        declare(&mut s, "a");
        publish(&mut s, "a", "one");
        publish(&mut s, "a", "two");
        s.run_until(VirtualTime::from_millis(1_000), 100);
        let moved = s.move_messages("a", "b").unwrap();
        assert_eq!(moved, MoveOutcome { moved: 2, declared_destination: true });
        let imported =
            r#"{"queues": [{"name": "c", "durable": true, "auto_delete": false, "arguments": {}}]}"#;
        s.import_definitions(imported).unwrap();
        s.run_until(VirtualTime::from_millis(2_000), 100);
        let lineage_then = s.lineage(s.broker().peek("b").unwrap()[0].message);

        s.seek(VirtualTime::from_millis(500));
        assert_eq!(ready(&s, "a"), ["one", "two"], "before the move");
        assert!(s.broker().queue("b").is_none() && s.broker().queue("c").is_none());

        s.seek(VirtualTime::from_millis(2_000));
        assert_eq!(ready(&s, "a"), Vec::<String>::new());
        assert_eq!(ready(&s, "b"), ["one", "two"], "the move was replayed");
        assert!(s.broker().queue("c").is_some(), "and the import");
        assert_eq!(s.lineage(s.broker().peek("b").unwrap()[0].message), lineage_then);
        assert!(s.connections().values().all(|c| !c.name.starts_with(SHOVEL_PREFIX)), "shovel closed");
    }

    #[test]
    fn imported_policies_stay_policies_listed_by_name_and_exported_as_policies() {
        let file = r#"{"rabbit_version": "3.10.0",
            "policies": [{"vhost": "/", "name": "ttl-for-jobs", "pattern": "^jobs$", "apply-to": "queues",
                          "definition": {"message-ttl": 5000}, "priority": 0}],
            "queues": [{"name": "jobs", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}}],
            "exchanges": [], "bindings": []}"#;
        let mut s = Session::new(1);
        s.import_definitions(file).unwrap();
        let policies = s.policies();
        assert_eq!(policies.len(), 1);
        assert_eq!(policies[0].0.name, "ttl-for-jobs");
        assert_eq!(policies[0].1, ["jobs"], "in effect on the queue it matches");
        // The export gives the policy back as a policy, and the queue its own (empty) arguments.
        let exported: serde_json::Value = serde_json::from_str(&s.export_definitions()).unwrap();
        assert_eq!(exported["policies"][0]["name"], "ttl-for-jobs", "{exported}");
        assert_eq!(exported["queues"][0]["arguments"], serde_json::json!({}), "{exported}");
        // A fresh broker has none; importing the same file twice keeps one policy of that name.
        let mut fresh = Session::new(1);
        assert!(fresh.policies().is_empty());
        fresh.import_definitions(file).unwrap();
        fresh.import_definitions(file).unwrap();
        assert_eq!(fresh.policies().len(), 1, "a second import of the same policy replaces it");
    }

    #[test]
    fn policies_apply_to_later_queues_accept_a_bare_redeclare_and_survive_a_reload() {
        let file = r#"{"policies": [{"vhost": "/", "name": "ttl", "pattern": "^jobs", "apply-to": "queues",
                                     "definition": {"message-ttl": 5000}, "priority": 0}],
                       "queues": [{"name": "jobs", "vhost": "/", "durable": true, "arguments": {}}]}"#;
        let mut s = Session::new(1);
        s.import_definitions(file).unwrap();
        let declare = |queue: &str| Method::QueueDeclare {
            queue: queue.into(),
            passive: false,
            durable: true,
            exclusive: false,
            auto_delete: false,
            arguments: FieldTable::new(),
        };
        // What every client does: redeclare without arguments (RabbitMQ accepts it; it was a 406).
        s.ui_apply(declare("jobs")).expect("a redeclare without arguments is accepted");
        s.ui_apply(declare("jobs.later")).expect("declared");
        assert_eq!(s.policies()[0].1, ["jobs", "jobs.later"], "in effect on the later queue too");
        let reloaded = Session::from_durable_image(&s.durable_image(), 1).unwrap();
        assert_eq!(reloaded.policies().len(), 1, "a reload keeps the policy");
        assert_eq!(reloaded.policies()[0].1, ["jobs", "jobs.later"]);
    }
}
