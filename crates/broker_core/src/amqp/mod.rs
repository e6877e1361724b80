//! RabbitMQ's AMQP 0-9-1 model: exchanges, queues, bindings, consumers, channels and connections.
//!
//! The [`Broker`] is driven by AMQP methods ([`Method`]) sent on a connection's channel at a virtual
//! time; each returns the `-ok` reply or the channel/connection error RabbitMQ would send, with its code
//! and text. Everything that happens (routing, deliveries, expiry, dead-lettering, confirms, returns) is
//! recorded as an [`Event`] with its virtual time.
//!
//! Submodules: [`types`] (field tables, properties, deliveries), [`method`] (what goes in),
//! [`error`] (reply codes and texts), [`event`] (what comes out), [`exchange`] (routing: direct, fanout,
//! topic trie, headers), [`broker`] (the state machine).

pub mod broker;
pub mod error;
pub mod event;
pub mod exchange;
pub mod method;
pub mod types;

pub use broker::{Broker, BrokerConfig, QueueInfo};
pub use error::{AmqpError, ErrorScope, ReplyCode};
pub use event::{Event, LoggedEvent};
pub use method::{Method, Reply};
pub use types::{
    BasicProperties, ChannelNumber, ConnectionId, Delivery, DeliveryTag, FieldTable, FieldValue, MessageId,
    Name,
};
