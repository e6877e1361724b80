//! RabbitMQ's AMQP 0-9-1 model: exchanges, queues, bindings, consumers, channels and connections.
//!
//! The [`Broker`] is driven by AMQP methods ([`Method`]) sent on a connection's channel at a virtual
//! time; each returns the `-ok` reply or the channel/connection error RabbitMQ would send, with its code
//! and text. Everything that happens (routing, deliveries, expiry, dead-lettering, confirms, returns) is
//! recorded as an [`Event`] with its virtual time.
//!
//! Submodules: [`types`] (field tables, properties, deliveries), [`method`] (what goes in),
//! [`error`] (reply codes and texts), [`event`] (what comes out), [`exchange`] (routing: direct, fanout,
//! topic trie, headers), [`broker`] (the state machine) with its parts: [`arguments`] (queue argument
//! validation), [`queue`], [`message`] (the compact queued entry), [`channel`], [`consumer`],
//! [`dead_letter`] (`x-death`), `delivery` (a queue's delivery run), [`stream`] (a stream queue's log), [`census`] (message conservation),
//! [`vec_map`] (the small ordered map of connections, channels and consumers).

pub mod arguments;
pub mod broker;
pub mod census;
pub mod channel;
pub mod consumer;
pub mod dead_letter;
pub mod definitions;
mod delivery;
pub mod durable;
pub mod error;
pub mod event;
pub mod exchange;
pub mod message;
pub mod method;
pub mod queue;
pub mod stream;
pub mod types;
pub mod vec_map;

pub use broker::{
    Broker, BrokerConfig, ConsumerInfo, ExchangeInfo, QueueDetail, QueueInfo, DEFAULT_CHANNEL_MAX,
    DEFAULT_MAX_MESSAGE_SIZE, MAX_MESSAGE_ID,
};
pub use census::Census;
pub use error::{AmqpError, ErrorScope, ReplyCode};
pub use event::{CancelReason, DropReason, Event, LoggedEvent, QueueDeletedReason};
pub use method::{check_short_string, Method, Reply, ShortStringTooLong, SHORT_STRING_MAX};
pub use types::{
    BasicProperties, ChannelNumber, ConnectionId, Delivery, DeliveryTag, FieldTable, FieldValue, MessageId,
    Name, TypedValue,
};
