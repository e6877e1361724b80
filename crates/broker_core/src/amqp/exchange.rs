//! Routing: exchange types and the binding tables that decide where a published message goes.
//!
//! (Skeleton: the routing helper fills this in. The public interface below is the contract the broker uses.)

use super::error::AmqpError;
use super::types::{FieldTable, Name};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The four exchange types of AMQP 0-9-1 as RabbitMQ implements them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeType {
    Direct,
    Fanout,
    Topic,
    Headers,
}

impl ExchangeType {
    /// Parses `direct` / `fanout` / `topic` / `headers`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "direct" => Some(ExchangeType::Direct),
            "fanout" => Some(ExchangeType::Fanout),
            "topic" => Some(ExchangeType::Topic),
            "headers" => Some(ExchangeType::Headers),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeType::Direct => "direct",
            ExchangeType::Fanout => "fanout",
            ExchangeType::Topic => "topic",
            ExchangeType::Headers => "headers",
        }
    }
}

impl fmt::Display for ExchangeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a binding leads: a queue, or another exchange (exchange-to-exchange binding).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum Destination {
    Queue(Name),
    Exchange(Name),
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Queue(n) => write!(f, "queue '{n}'"),
            Destination::Exchange(n) => write!(f, "exchange '{n}'"),
        }
    }
}

/// One binding of an exchange.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    pub destination: Destination,
    pub routing_key: String,
    pub arguments: FieldTable,
}

/// The result of checking one binding against a message, for "why did (or didn't) it reach that queue?".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BindingCheck {
    pub binding: Binding,
    pub matched: bool,
    /// A one-line reason, e.g. `pattern '*.orange.*' matches 'quick.orange.rabbit'`.
    pub reason: String,
}

/// The bindings of one exchange, indexed for its type so routing cost does not grow with the number of
/// bindings (direct: a map by key; topic: a trie over words; fanout: a list; headers: a scan).
#[derive(Clone, Debug)]
pub struct BindingTable {
    kind: ExchangeType,
    bindings: Vec<Binding>,
}

impl BindingTable {
    pub fn new(kind: ExchangeType) -> Self {
        BindingTable { kind, bindings: Vec::new() }
    }

    pub fn kind(&self) -> ExchangeType {
        self.kind
    }

    /// Adds a binding; binding twice with the same (destination, key, arguments) is a no-op returning
    /// `Ok(false)`. Headers exchanges validate `x-match` with RabbitMQ's error.
    pub fn bind(&mut self, binding: Binding) -> Result<bool, AmqpError> {
        if self.bindings.contains(&binding) {
            return Ok(false);
        }
        self.bindings.push(binding);
        Ok(true)
    }

    /// Removes the binding with exactly these (destination, key, arguments); returns whether it existed.
    pub fn unbind(&mut self, destination: &Destination, routing_key: &str, arguments: &FieldTable) -> bool {
        let before = self.bindings.len();
        self.bindings.retain(|b| {
            !(&b.destination == destination && b.routing_key == routing_key && &b.arguments == arguments)
        });
        before != self.bindings.len()
    }

    /// Removes every binding to `destination` (when a queue or exchange is deleted); returns how many.
    pub fn remove_destination(&mut self, destination: &Destination) -> usize {
        let before = self.bindings.len();
        self.bindings.retain(|b| &b.destination != destination);
        before - self.bindings.len()
    }

    /// Appends the destinations a message with this routing key and headers goes to, each at most once,
    /// in a deterministic order.
    pub fn route(&self, _routing_key: &str, _headers: &FieldTable, _out: &mut Vec<Destination>) {
        todo!("routing helper")
    }

    /// Checks every binding against the message, in binding order, saying why each matched or not.
    pub fn explain(&self, _routing_key: &str, _headers: &FieldTable) -> Vec<BindingCheck> {
        todo!("routing helper")
    }

    /// All bindings in the order they were made.
    pub fn bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.iter()
    }

    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }
}
