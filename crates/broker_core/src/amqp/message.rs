//! A message as a queue holds it: one compact entry per queued copy.
//!
//! Memory is the design constraint here: a million queued 64-byte messages must cost at most 64 bytes
//! each beyond the body, whatever the routing key. So an entry is 48 bytes: the message id, a shared
//! pointer to its [`Route`] (exchange name + routing key, one allocation for all the messages published
//! with the same pair, see [`RouteCache`]), the body in its own allocation with nothing else in it, an
//! optional boxed [`Extras`] block (present only when the message has an expiry or properties beyond
//! `delivery_mode`), a per-queue sequence number (for requeue order), a small delivery counter and flags.
//!
//! # Invariants
//! - `body` holds exactly the published body.
//! - `extras` is `None` exactly when the message has no expiry (`VirtualTime::NEVER`) and every property
//!   other than `delivery_mode` is unset; its `properties` is `None` exactly when every property other
//!   than `delivery_mode` is unset. Whenever `properties` is `None`, the mode is kept in `flags`.
//! - A `RouteCache` holds at most `RouteCache::SLOTS` routes, no two with the same exchange and key.

use super::types::{BasicProperties, Delivery, DeliveryTag, FieldTable, FieldValue, MessageId, Name};
use crate::clock::VirtualTime;
use std::borrow::Cow;
use std::rc::Rc;

const REDELIVERED: u8 = 1;
const MODE_SHIFT: u8 = 1;
const MODE_MASK: u8 = 0b110;

/// Where a message was published: its exchange and routing key. Immutable and shared (`Rc`) by every
/// queued copy published with the same pair, so a long routing key costs its bytes once, not per message.
#[derive(Debug, PartialEq, Eq)]
pub struct Route {
    pub exchange: Name,
    pub routing_key: Box<str>,
    /// The sender-selected keys (the `CC` then the `BCC` header's strings at publish time): RabbitMQ's
    /// `routing_keys` after the first. They route the message, and route it again when it is
    /// dead-lettered without `x-dead-letter-routing-key`. Empty for almost every message.
    pub also: Box<[Box<str>]>,
}

impl Route {
    pub fn new(exchange: Name, routing_key: &str) -> Rc<Route> {
        Rc::new(Route { exchange, routing_key: routing_key.into(), also: Box::default() })
    }

    /// A route with sender-selected keys besides `routing_key` (never cached: rare).
    pub fn with_also(exchange: Name, routing_key: &str, also: Box<[Box<str>]>) -> Rc<Route> {
        Rc::new(Route { exchange, routing_key: routing_key.into(), also })
    }

    /// Every routing key: the published one, then the sender-selected ones.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&*self.routing_key).chain(self.also.iter().map(|k| &**k))
    }
}

/// The headers that name extra routing keys (sender-selected distribution), in RabbitMQ's order.
pub const ROUTING_HEADERS: [&str; 2] = ["CC", "BCC"];

/// The sender-selected routing keys of a message with these headers: the string elements of its `CC`
/// and then its `BCC` array (other elements are skipped), as `rabbit_basic:header_routes/1` reads them.
/// `Err((header, type))` when one of them is present but not an array, which RabbitMQ refuses.
pub fn header_routes(headers: &FieldTable) -> Result<Vec<Box<str>>, (&'static str, &'static str)> {
    let mut keys = Vec::new();
    if headers.is_empty() {
        // The usual publish: no header to look for.
        return Ok(keys);
    }
    for header in ROUTING_HEADERS {
        match headers.get(header) {
            None => {}
            Some(FieldValue::Array(items)) => keys.extend(items.iter().filter_map(|v| match v {
                FieldValue::Str(k) => Some(Box::from(k.as_str())),
                _ => None,
            })),
            Some(other) => return Err((header, other.amqp_type_name())),
        }
    }
    Ok(keys)
}

/// The routes used most recently, so that successive messages with the same exchange and routing key
/// share one [`Route`]. A miss makes a new route and replaces the oldest slot (round robin); the cache
/// only affects memory, never behaviour.
#[derive(Clone, Debug, Default)]
pub struct RouteCache {
    slots: Vec<Rc<Route>>,
    /// The slot a miss replaces once all are used.
    next: usize,
}

impl RouteCache {
    /// Enough for a few publishers interleaving their keys; a linear scan stays cheap.
    pub const SLOTS: usize = 8;

    /// The shared route for (`exchange`, `routing_key`).
    pub fn get(&mut self, exchange: &Name, routing_key: &str) -> Rc<Route> {
        let same_exchange = |r: &Rc<Route>| Rc::ptr_eq(&r.exchange, exchange) || r.exchange == *exchange;
        if let Some(r) = self.slots.iter().find(|r| *r.routing_key == *routing_key && same_exchange(r)) {
            return Rc::clone(r);
        }
        let route = Route::new(Name::clone(exchange), routing_key);
        if self.slots.len() < Self::SLOTS {
            self.slots.push(Rc::clone(&route));
        } else {
            self.slots[self.next] = Rc::clone(&route);
            self.next = (self.next + 1) % Self::SLOTS;
        }
        route
    }
}

/// What only some messages need, boxed so the common entry stays small.
#[derive(Clone, Debug, PartialEq)]
struct Extras {
    /// When the message expires at the head of its queue; `VirtualTime::NEVER` if it has no TTL.
    expires_at: VirtualTime,
    /// All the properties, when they say more than `delivery_mode`.
    properties: Option<Box<BasicProperties>>,
}

/// A published message's properties as its queued copies keep them: the delivery mode in a byte when
/// no other property is set (the usual message), else all of them boxed. Packed once per publish, so the
/// ~260-byte properties are not moved from call to call on the way to the queue.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedProperties {
    rich: Option<Box<BasicProperties>>,
    flags: u8,
}

/// The headers of a message that has none.
static NO_HEADERS: FieldTable = FieldTable::new();

impl PackedProperties {
    pub fn new(properties: BasicProperties) -> Self {
        let (rich, flags) = pack_properties(properties);
        PackedProperties { rich, flags }
    }

    /// [`new`](Self::new) without moving the properties when they say no more than `delivery_mode`
    /// (then `properties` is left as it was); otherwise they are taken, leaving the defaults.
    pub fn from_mut(properties: &mut BasicProperties) -> Self {
        match properties.delivery_mode {
            None | Some(1) | Some(2) if only_delivery_mode(properties) => {
                PackedProperties { rich: None, flags: properties.delivery_mode.unwrap_or(0) << MODE_SHIFT }
            }
            _ => PackedProperties::new(std::mem::take(properties)),
        }
    }

    pub fn headers(&self) -> &FieldTable {
        self.rich.as_ref().map_or(&NO_HEADERS, |p| &p.headers)
    }

    /// The properties as published.
    pub fn properties(&self) -> Cow<'_, BasicProperties> {
        unpack_properties(self.rich.as_deref(), self.flags)
    }
}

/// One queued copy of a message.
#[derive(Clone, Debug, PartialEq)]
pub struct QueuedMessage {
    pub id: MessageId,
    route: Rc<Route>,
    body: Box<[u8]>,
    extras: Option<Box<Extras>>,
    /// Position in its queue's publish order; requeued messages go back to their position.
    pub seq: u32,
    /// Times the message went back to a quorum queue (RabbitMQ's `delivery_count`), saturating.
    pub delivery_count: u16,
    flags: u8,
}

impl QueuedMessage {
    /// Packs a message with a route of its own (tests and one-off copies; the broker shares routes
    /// through [`QueuedMessage::with_route`]). The expiry and `seq` are set by the queue on enqueue.
    pub fn new(
        id: MessageId,
        exchange: &str,
        routing_key: &str,
        properties: BasicProperties,
        body: &[u8],
    ) -> Self {
        Self::with_route(id, Route::new(Name::from(exchange), routing_key), properties, body.into())
    }

    /// Packs a message published via `route`. The expiry and `seq` are set by the queue on enqueue.
    pub fn with_route(id: MessageId, route: Rc<Route>, properties: BasicProperties, body: Box<[u8]>) -> Self {
        Self::with_packed(id, route, PackedProperties::new(properties), body)
    }

    /// [`with_route`](Self::with_route) with the properties packed already.
    pub fn with_packed(id: MessageId, route: Rc<Route>, packed: PackedProperties, body: Box<[u8]>) -> Self {
        let PackedProperties { rich: properties, flags } = packed;
        QueuedMessage {
            id,
            route,
            body,
            extras: properties
                .map(|p| Box::new(Extras { expires_at: VirtualTime::NEVER, properties: Some(p) })),
            seq: 0,
            delivery_count: 0,
            flags,
        }
    }

    /// The shared route (for copies that keep it).
    pub fn route(&self) -> &Rc<Route> {
        &self.route
    }

    pub fn exchange(&self) -> &str {
        &self.route.exchange
    }

    pub fn routing_key(&self) -> &str {
        &self.route.routing_key
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Body size in bytes (what `x-max-length-bytes` counts).
    pub fn body_len(&self) -> u64 {
        self.body.len() as u64
    }

    /// When the message expires at the head of its queue; `VirtualTime::NEVER` if it has no TTL.
    pub fn expires_at(&self) -> VirtualTime {
        self.extras.as_ref().map_or(VirtualTime::NEVER, |x| x.expires_at)
    }

    pub fn set_expires_at(&mut self, expires_at: VirtualTime) {
        match &mut self.extras {
            Some(x) if expires_at == VirtualTime::NEVER && x.properties.is_none() => self.extras = None,
            Some(x) => x.expires_at = expires_at,
            None if expires_at == VirtualTime::NEVER => {}
            None => self.extras = Some(Box::new(Extras { expires_at, properties: None })),
        }
    }

    fn rich_properties(&self) -> Option<&BasicProperties> {
        self.extras.as_ref().and_then(|x| x.properties.as_deref())
    }

    pub fn redelivered(&self) -> bool {
        self.flags & REDELIVERED != 0
    }

    pub fn set_redelivered(&mut self) {
        self.flags |= REDELIVERED;
    }

    pub fn properties(&self) -> Cow<'_, BasicProperties> {
        unpack_properties(self.rich_properties(), self.flags)
    }

    /// The publisher's priority (0 when unset).
    pub fn priority(&self) -> u8 {
        self.rich_properties().and_then(|p| p.priority).unwrap_or(0)
    }

    /// The `expiration` property, if any.
    pub fn expiration(&self) -> Option<&str> {
        self.rich_properties().and_then(|p| p.expiration.as_deref())
    }

    pub fn persistent(&self) -> bool {
        match self.rich_properties() {
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

/// The properties `pack_properties` packed into `rich` and `flags`.
fn unpack_properties(rich: Option<&BasicProperties>, flags: u8) -> Cow<'_, BasicProperties> {
    match rich {
        Some(p) => Cow::Borrowed(p),
        None => {
            let mode = (flags & MODE_MASK) >> MODE_SHIFT;
            Cow::Owned(BasicProperties {
                delivery_mode: if mode == 0 { None } else { Some(mode) },
                ..BasicProperties::default()
            })
        }
    }
}

fn pack_properties(p: BasicProperties) -> (Option<Box<BasicProperties>>, u8) {
    match p.delivery_mode {
        None | Some(1) | Some(2) if only_delivery_mode(&p) => {
            (None, p.delivery_mode.unwrap_or(0) << MODE_SHIFT)
        }
        _ => (Some(Box::new(p)), 0),
    }
}

/// Whether every property other than `delivery_mode` is unset (what comparing with the default, mode
/// aside, says, without building a default per message). Destructured so a new property cannot be missed.
fn only_delivery_mode(p: &BasicProperties) -> bool {
    let BasicProperties {
        content_type,
        content_encoding,
        headers,
        delivery_mode: _,
        priority,
        correlation_id,
        reply_to,
        expiration,
        message_id,
        timestamp,
        kind,
        user_id,
        app_id,
    } = p;
    // A chain of tests, not a list of the fields: nothing is built per message.
    headers.is_empty()
        && priority.is_none()
        && timestamp.is_none()
        && content_type.is_none()
        && content_encoding.is_none()
        && correlation_id.is_none()
        && reply_to.is_none()
        && expiration.is_none()
        && message_id.is_none()
        && kind.is_none()
        && user_id.is_none()
        && app_id.is_none()
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
    fn routes_are_shared_and_replaced_round_robin() {
        let mut cache = RouteCache::default();
        let x: Name = Name::from("amq.topic");
        let a = cache.get(&x, "a.b");
        assert!(Rc::ptr_eq(&a, &cache.get(&x, "a.b")), "same pair, same route");
        assert!(!Rc::ptr_eq(&a, &cache.get(&Name::from(""), "a.b")), "another exchange");
        assert!(!Rc::ptr_eq(&a, &cache.get(&x, "a.c")), "another key");
        for i in 0..RouteCache::SLOTS {
            let r = cache.get(&x, &format!("k{i}"));
            assert_eq!((&*r.exchange, &*r.routing_key), ("amq.topic", format!("k{i}").as_str()));
        }
        assert_eq!(cache.slots.len(), RouteCache::SLOTS);
        let again = cache.get(&x, "a.b");
        assert!(!Rc::ptr_eq(&a, &again), "evicted, so a new route");
        assert_eq!(*again, *a, "with the same content");
        let m = QueuedMessage::with_route(
            MessageId(1),
            again.clone(),
            BasicProperties::default(),
            (*b"x").into(),
        );
        let copy = m.clone();
        assert!(Rc::ptr_eq(copy.route(), &again), "copies share the route");
    }

    #[test]
    fn extras_only_when_needed() {
        let mut m = QueuedMessage::new(MessageId(1), "", "q", BasicProperties::default(), b"x");
        assert!(m.extras.is_none());
        assert_eq!(m.expires_at(), VirtualTime::NEVER);
        m.set_expires_at(VirtualTime(5));
        assert_eq!(m.expires_at(), VirtualTime(5));
        assert!(m.extras.as_ref().is_some_and(|x| x.properties.is_none()));
        m.set_expires_at(VirtualTime::NEVER);
        assert!(m.extras.is_none());
        let rich = BasicProperties { expiration: Some("10".into()), ..Default::default() };
        let mut m = QueuedMessage::new(MessageId(2), "", "q", rich.clone(), b"x");
        m.set_expires_at(VirtualTime(10));
        m.set_expires_at(VirtualTime::NEVER);
        assert_eq!((m.expires_at(), m.properties().into_owned()), (VirtualTime::NEVER, rich));
        assert_eq!(m.expiration(), Some("10"));
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
