//! A message as a queue holds it: one compact entry per queued copy.
//!
//! Memory is the design constraint here: a million queued 64-byte messages must cost at most 64 bytes
//! each beyond the body. So an entry is 48 bytes: the message id, the expiry instant, one boxed byte
//! string holding exchange name + routing key + body, the properties boxed only when they say more than
//! `delivery_mode`, a per-queue sequence number (for requeue order) and a small delivery counter.
//!
//! # Invariants
//! - `data` is `[exchange_len: u16 BE][key_len: u16 BE][exchange][routing key][body]`.
//! - `props` is `None` exactly when every property other than `delivery_mode` is unset; then the mode is
//!   kept in `flags`.

use super::types::{BasicProperties, Delivery, DeliveryTag, FieldValue, MessageId};
use crate::clock::VirtualTime;
use std::borrow::Cow;

const REDELIVERED: u8 = 1;
const MODE_SHIFT: u8 = 1;
const MODE_MASK: u8 = 0b110;

/// One queued copy of a message.
#[derive(Clone, Debug, PartialEq)]
pub struct QueuedMessage {
    pub id: MessageId,
    /// When the message expires at the head of its queue; `VirtualTime::NEVER` if it has no TTL.
    pub expires_at: VirtualTime,
    data: Box<[u8]>,
    props: Option<Box<BasicProperties>>,
    /// Position in its queue's publish order; requeued messages go back to their position.
    pub seq: u32,
    /// Times the message went back to a quorum queue (RabbitMQ's `delivery_count`), saturating.
    pub delivery_count: u16,
    flags: u8,
}

impl QueuedMessage {
    /// Packs a message. `expires_at` and `seq` are set by the queue on enqueue.
    pub fn new(
        id: MessageId,
        exchange: &str,
        routing_key: &str,
        properties: BasicProperties,
        body: &[u8],
    ) -> Self {
        assert!(exchange.len() <= u16::MAX as usize && routing_key.len() <= u16::MAX as usize);
        let mut data = Vec::with_capacity(4 + exchange.len() + routing_key.len() + body.len());
        data.extend_from_slice(&(exchange.len() as u16).to_be_bytes());
        data.extend_from_slice(&(routing_key.len() as u16).to_be_bytes());
        data.extend_from_slice(exchange.as_bytes());
        data.extend_from_slice(routing_key.as_bytes());
        data.extend_from_slice(body);
        let (props, flags) = pack_properties(properties);
        QueuedMessage {
            id,
            expires_at: VirtualTime::NEVER,
            data: data.into_boxed_slice(),
            props,
            seq: 0,
            delivery_count: 0,
            flags,
        }
    }

    fn lens(&self) -> (usize, usize) {
        let x = u16::from_be_bytes([self.data[0], self.data[1]]) as usize;
        let k = u16::from_be_bytes([self.data[2], self.data[3]]) as usize;
        (x, k)
    }

    pub fn exchange(&self) -> &str {
        let (x, _) = self.lens();
        std::str::from_utf8(&self.data[4..4 + x]).unwrap_or("")
    }

    pub fn routing_key(&self) -> &str {
        let (x, k) = self.lens();
        std::str::from_utf8(&self.data[4 + x..4 + x + k]).unwrap_or("")
    }

    pub fn body(&self) -> &[u8] {
        let (x, k) = self.lens();
        &self.data[4 + x + k..]
    }

    /// Body size in bytes (what `x-max-length-bytes` counts).
    pub fn body_len(&self) -> u64 {
        let (x, k) = self.lens();
        (self.data.len() - 4 - x - k) as u64
    }

    pub fn redelivered(&self) -> bool {
        self.flags & REDELIVERED != 0
    }

    pub fn set_redelivered(&mut self) {
        self.flags |= REDELIVERED;
    }

    pub fn properties(&self) -> Cow<'_, BasicProperties> {
        match &self.props {
            Some(p) => Cow::Borrowed(p),
            None => {
                let mode = (self.flags & MODE_MASK) >> MODE_SHIFT;
                Cow::Owned(BasicProperties {
                    delivery_mode: if mode == 0 { None } else { Some(mode) },
                    ..BasicProperties::default()
                })
            }
        }
    }

    /// The publisher's priority (0 when unset).
    pub fn priority(&self) -> u8 {
        self.props.as_ref().and_then(|p| p.priority).unwrap_or(0)
    }

    /// The `expiration` property, if any.
    pub fn expiration(&self) -> Option<&str> {
        self.props.as_ref().and_then(|p| p.expiration.as_deref())
    }

    pub fn persistent(&self) -> bool {
        match &self.props {
            Some(p) => p.persistent(),
            None => (self.flags & MODE_MASK) >> MODE_SHIFT == 2,
        }
    }

    /// The message as a client receives it. `quorum_count` adds RabbitMQ's `x-delivery-count` header.
    pub fn to_delivery(
        &self,
        delivery_tag: DeliveryTag,
        consumer_tag: Option<&str>,
        message_count: Option<u32>,
        quorum_count: Option<u16>,
    ) -> Delivery {
        let mut properties = self.properties().into_owned();
        if let Some(n) = quorum_count {
            properties.headers.insert("x-delivery-count".to_string(), FieldValue::Int(i64::from(n)));
        }
        Delivery {
            message: self.id,
            delivery_tag,
            redelivered: self.redelivered(),
            exchange: self.exchange().to_string(),
            routing_key: self.routing_key().to_string(),
            consumer_tag: consumer_tag.map(str::to_string),
            message_count,
            properties,
            body: self.body().to_vec(),
        }
    }
}

fn pack_properties(mut p: BasicProperties) -> (Option<Box<BasicProperties>>, u8) {
    let mode = p.delivery_mode.take();
    match mode {
        None | Some(1) | Some(2) if p == BasicProperties::default() => {
            (None, mode.unwrap_or(0) << MODE_SHIFT)
        }
        _ => {
            p.delivery_mode = mode;
            (Some(Box::new(p)), 0)
        }
    }
}

/// Parses an `expiration` property as RabbitMQ's `rabbit_basic:parse_expiration` does (Erlang
/// `string:to_integer` then `check_expiry`), returning the complaint RabbitMQ prints on failure.
pub fn parse_expiration(expiration: &str) -> Result<u64, String> {
    let bytes = expiration.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'+') | Some(b'-')) {
        i = 1;
    }
    let digits_end = i + bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits_end == i {
        return Err("no_integer".to_string());
    }
    let rest = &expiration[digits_end..];
    if !rest.is_empty() {
        return Err(format!("{{leftover_string,\"{rest}\"}}"));
    }
    let digits = &expiration[i..digits_end];
    let negative = bytes[0] == b'-';
    // Anything beyond i64 is far beyond RabbitMQ's ten-year ceiling anyway.
    let magnitude: i128 = digits.parse::<i128>().unwrap_or(i128::MAX);
    let n = if negative { -magnitude } else { magnitude };
    if n < 0 {
        Err(format!("{{value_negative,{n}}}"))
    } else if n > i128::from(super::arguments::MAX_EXPIRY_MILLIS) {
        Err(format!("{{value_too_large,{n}}}"))
    } else {
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_compact() {
        assert_eq!(std::mem::size_of::<QueuedMessage>(), 48);
    }

    #[test]
    fn packs_and_unpacks() {
        let props = BasicProperties { delivery_mode: Some(2), ..Default::default() };
        let m = QueuedMessage::new(MessageId(7), "amq.direct", "key", props.clone(), b"body");
        assert_eq!((m.exchange(), m.routing_key(), m.body()), ("amq.direct", "key", &b"body"[..]));
        assert_eq!(m.properties().into_owned(), props);
        assert!(m.persistent());
        let rich = BasicProperties { priority: Some(3), ..Default::default() };
        let m = QueuedMessage::new(MessageId(8), "", "", rich.clone(), b"");
        assert_eq!(m.properties().into_owned(), rich);
        assert_eq!(m.priority(), 3);
    }

    #[test]
    fn expiration_parses_like_erlang() {
        assert_eq!(parse_expiration("1000"), Ok(1000));
        assert_eq!(parse_expiration("abc").unwrap_err(), "no_integer");
        assert_eq!(parse_expiration("").unwrap_err(), "no_integer");
        assert_eq!(parse_expiration("12ab").unwrap_err(), "{leftover_string,\"ab\"}");
        assert_eq!(parse_expiration("-5").unwrap_err(), "{value_negative,-5}");
    }
}
