//! The AMQP broker state machine.
//!
//! (Skeleton: the engine helper implements this. The public signatures are the contract the runner,
//! the simulation tests, the benchmarks and the web app use; extend, do not break.)

use super::error::AmqpError;
use super::event::LoggedEvent;
use super::method::{Method, Reply};
use super::types::{ChannelNumber, ConnectionId};
use crate::clock::VirtualTime;
use serde::{Deserialize, Serialize};

/// Broker-wide settings (RabbitMQ's defaults unless a scenario says otherwise).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrokerConfig {
    /// The virtual host every name lives in; RabbitMQ's texts mention it (`in vhost '/'`).
    pub vhost: String,
    /// Whether events are recorded (benchmarks of the hot path may turn this off).
    pub record_events: bool,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig { vhost: "/".to_string(), record_events: true }
    }
}

/// A queue's counters, as the management UI shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueInfo {
    pub name: String,
    pub durable: bool,
    pub exclusive: bool,
    pub auto_delete: bool,
    pub messages_ready: u32,
    pub messages_unacknowledged: u32,
    pub consumers: u32,
}

/// A RabbitMQ broker (one vhost) on virtual time.
pub struct Broker {
    _config: BrokerConfig,
}

impl Broker {
    /// A fresh broker with the default and `amq.*` exchanges declared, at time zero.
    pub fn new(config: BrokerConfig, seed: u64) -> Self {
        let _ = seed;
        Broker { _config: config }
    }

    /// The virtual time of the last command or deadline processed.
    pub fn now(&self) -> VirtualTime {
        todo!()
    }

    /// Opens a connection (the AMQP handshake) at `at`; `name` is the client-provided connection name.
    pub fn connect(&mut self, at: VirtualTime, name: &str) -> ConnectionId {
        let _ = (at, name);
        todo!()
    }

    /// Closes a connection: its channels close (requeueing unacked deliveries) and its exclusive queues go.
    pub fn close_connection(&mut self, at: VirtualTime, connection: ConnectionId) {
        let _ = (at, connection);
        todo!()
    }

    /// Applies one method sent on `channel` of `connection` at `at` (which must not be before `now()`;
    /// deadlines due by `at` fire first). Returns the `-ok` reply or the error that closed the channel
    /// (or connection).
    pub fn apply(
        &mut self,
        at: VirtualTime,
        connection: ConnectionId,
        channel: ChannelNumber,
        method: Method,
    ) -> Result<Reply, AmqpError> {
        let _ = (at, connection, channel, method);
        todo!()
    }

    /// The next time something happens on its own (a TTL, a queue expiry), if anything is scheduled.
    pub fn next_deadline(&self) -> Option<VirtualTime> {
        todo!()
    }

    /// Fires every deadline due at or before `to`, in `(due, seq)` order, and sets `now()` to `to`.
    pub fn advance_to(&mut self, to: VirtualTime) {
        let _ = to;
        todo!()
    }

    /// Fires the next deadline (all timers due at that same instant); returns its time, or `None` if idle.
    pub fn step(&mut self) -> Option<VirtualTime> {
        todo!()
    }

    /// The recorded events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<LoggedEvent> {
        todo!()
    }

    /// The counters of every queue, by name.
    pub fn queues(&self) -> Vec<QueueInfo> {
        todo!()
    }

    /// Checks every internal invariant (message conservation included); panics with a description if one
    /// is broken. Tests call it after every step.
    pub fn assert_invariants(&self) {
        todo!()
    }
}
