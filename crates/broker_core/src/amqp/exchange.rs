//! Routing: exchange types and the binding tables that decide where a published message goes.
//!
//! Each exchange type is indexed its own way so that routing cost does not grow with the number of
//! bindings: direct by routing key, fanout as one destination set, topic as a trie over words
//! (`exchange/topic.rs`); headers bindings are checked one by one (`exchange/headers.rs`), as RabbitMQ does.

pub(crate) mod headers;
mod topic;

use self::topic::TopicNode;
use super::error::AmqpError;
use super::types::{FieldTable, Name};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
/// bindings (direct: a map by key; topic: a trie over words; fanout: a set; headers: a scan).
///
/// - Changing: [`bind`](Self::bind), [`unbind`](Self::unbind),
///   [`remove_destination`](Self::remove_destination).
/// - Routing: [`route`](Self::route) (hot path, allocation-free for direct, fanout and most topic
///   patterns), [`explain`](Self::explain) (per binding, with reasons, for the UI).
/// - Reading: [`bindings`](Self::bindings), [`len`](Self::len), [`kind`](Self::kind).
///
/// # Invariants
/// - `bindings` holds each (destination, routing key, arguments) at most once, keyed by a sequence
///   number that only grows, so iterating it gives binding order.
/// - `by_destination[d][k]` lists exactly the sequence numbers of the bindings to `d` with key `k`; no
///   list or inner map is empty.
/// - `index` is exactly what indexing every binding from scratch would build (so the topic trie keeps
///   no node that leads to no binding). [`assert_invariants`](Self::assert_invariants) checks all this.
#[derive(Clone, Debug)]
pub struct BindingTable {
    kind: ExchangeType,
    bindings: BTreeMap<u64, Binding>,
    next_seq: u64,
    by_destination: BTreeMap<Destination, BTreeMap<String, Vec<u64>>>,
    index: Index,
}

/// How many bindings lead to each destination (one destination can be bound by several keys or
/// argument tables).
type DestinationCounts = BTreeMap<Destination, u32>;

/// The routing index of one exchange type.
#[derive(Clone, Debug, PartialEq)]
enum Index {
    Direct(BTreeMap<String, DestinationCounts>),
    Fanout(DestinationCounts),
    Topic(TopicNode),
    /// Headers bindings are matched one by one from `bindings`: there is no key to index by.
    Headers,
}

impl Index {
    fn new(kind: ExchangeType) -> Self {
        match kind {
            ExchangeType::Direct => Index::Direct(BTreeMap::new()),
            ExchangeType::Fanout => Index::Fanout(BTreeMap::new()),
            ExchangeType::Topic => Index::Topic(TopicNode::default()),
            ExchangeType::Headers => Index::Headers,
        }
    }

    fn insert(&mut self, binding: &Binding) {
        match self {
            Index::Direct(by_key) => {
                let counts = by_key.entry(binding.routing_key.clone()).or_default();
                *counts.entry(binding.destination.clone()).or_insert(0) += 1;
            }
            Index::Fanout(counts) => *counts.entry(binding.destination.clone()).or_insert(0) += 1,
            Index::Topic(trie) => trie.insert(&binding.routing_key, &binding.destination),
            Index::Headers => {}
        }
    }

    fn remove(&mut self, binding: &Binding) {
        match self {
            Index::Direct(by_key) => {
                let counts = by_key.get_mut(&binding.routing_key).expect("indexed direct key");
                decrement(counts, &binding.destination);
                if counts.is_empty() {
                    by_key.remove(&binding.routing_key);
                }
            }
            Index::Fanout(counts) => decrement(counts, &binding.destination),
            Index::Topic(trie) => {
                let removed = trie.remove(&binding.routing_key, &binding.destination);
                assert!(removed, "topic binding missing from the trie");
            }
            Index::Headers => {}
        }
    }
}

fn decrement(counts: &mut DestinationCounts, destination: &Destination) {
    let count = counts.get_mut(destination).expect("indexed destination");
    *count -= 1;
    if *count == 0 {
        counts.remove(destination);
    }
}

/// Sorts what was appended to `out` from `start` on and drops repeats, leaving earlier entries alone.
fn sort_and_dedup_from(out: &mut Vec<Destination>, start: usize) {
    out[start..].sort_unstable();
    let mut kept = start;
    for i in start..out.len() {
        if kept == start || out[i] != out[kept - 1] {
            out.swap(kept, i);
            kept += 1;
        }
    }
    out.truncate(kept);
}

impl BindingTable {
    pub fn new(kind: ExchangeType) -> Self {
        BindingTable {
            kind,
            bindings: BTreeMap::new(),
            next_seq: 0,
            by_destination: BTreeMap::new(),
            index: Index::new(kind),
        }
    }

    pub fn kind(&self) -> ExchangeType {
        self.kind
    }

    /// The sequence number of the binding with exactly these (destination, key, arguments).
    fn find(&self, destination: &Destination, routing_key: &str, arguments: &FieldTable) -> Option<u64> {
        let seqs = self.by_destination.get(destination)?.get(routing_key)?;
        seqs.iter().copied().find(|seq| &self.bindings[seq].arguments == arguments)
    }

    /// Adds a binding; binding twice with the same (destination, key, arguments) is a no-op returning
    /// `Ok(false)`. Headers exchanges validate `x-match` with RabbitMQ's error
    /// (`406 PRECONDITION_FAILED - Invalid x-match field value <<"some">>; expected all, any, all-with-x,
    /// or any-with-x`).
    pub fn bind(&mut self, binding: Binding) -> Result<bool, AmqpError> {
        if self.kind == ExchangeType::Headers {
            headers::validate(&binding.arguments)?;
        }
        if self.find(&binding.destination, &binding.routing_key, &binding.arguments).is_some() {
            return Ok(false);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.index.insert(&binding);
        self.by_destination
            .entry(binding.destination.clone())
            .or_default()
            .entry(binding.routing_key.clone())
            .or_default()
            .push(seq);
        self.bindings.insert(seq, binding);
        Ok(true)
    }

    /// Removes the binding with exactly these (destination, key, arguments); returns whether it existed.
    pub fn unbind(&mut self, destination: &Destination, routing_key: &str, arguments: &FieldTable) -> bool {
        let Some(seq) = self.find(destination, routing_key, arguments) else { return false };
        let by_key = self.by_destination.get_mut(destination).expect("found binding has a destination");
        let seqs = by_key.get_mut(routing_key).expect("found binding has a key");
        seqs.retain(|s| *s != seq);
        if seqs.is_empty() {
            by_key.remove(routing_key);
            if by_key.is_empty() {
                self.by_destination.remove(destination);
            }
        }
        let binding = self.bindings.remove(&seq).expect("found binding exists");
        self.index.remove(&binding);
        true
    }

    /// Removes every binding to `destination` (when a queue or exchange is deleted); returns how many.
    pub fn remove_destination(&mut self, destination: &Destination) -> usize {
        let Some(by_key) = self.by_destination.remove(destination) else { return 0 };
        let mut removed = 0;
        for seq in by_key.into_values().flatten() {
            let binding = self.bindings.remove(&seq).expect("listed binding exists");
            self.index.remove(&binding);
            removed += 1;
        }
        removed
    }

    /// Appends the destinations a message with this routing key and headers goes to, each at most once,
    /// sorted by [`Destination`]'s order: queues by name, then exchanges by name. Entries already in
    /// `out` are left alone, so the caller can reuse one `Vec` across publishes.
    ///
    /// Direct routing ignores headers, headers routing ignores the key, fanout ignores both.
    pub fn route(&self, routing_key: &str, headers: &FieldTable, out: &mut Vec<Destination>) {
        let start = out.len();
        match &self.index {
            // Both maps are already sorted by destination and hold each once.
            Index::Direct(by_key) => {
                if let Some(counts) = by_key.get(routing_key) {
                    out.extend(counts.keys().cloned());
                }
            }
            Index::Fanout(counts) => out.extend(counts.keys().cloned()),
            Index::Topic(trie) => {
                trie.route(routing_key, out);
                sort_and_dedup_from(out, start);
            }
            Index::Headers => {
                let matching = self.bindings.values().filter(|b| headers::matches(&b.arguments, headers));
                out.extend(matching.map(|b| b.destination.clone()));
                sort_and_dedup_from(out, start);
            }
        }
    }

    /// Checks every binding against the message, in binding order, saying why each matched or not.
    ///
    /// Agrees with [`route`](Self::route): the destinations of the matching checks are what it routes to.
    pub fn explain(&self, routing_key: &str, headers: &FieldTable) -> Vec<BindingCheck> {
        self.bindings
            .values()
            .map(|binding| {
                let (matched, reason) = self.check(binding, routing_key, headers);
                BindingCheck { binding: binding.clone(), matched, reason }
            })
            .collect()
    }

    fn check(&self, binding: &Binding, routing_key: &str, message_headers: &FieldTable) -> (bool, String) {
        let bound = &binding.routing_key;
        match self.kind {
            ExchangeType::Direct if bound == routing_key => {
                (true, format!("binding key '{bound}' equals routing key '{routing_key}'"))
            }
            ExchangeType::Direct => {
                (false, format!("binding key '{bound}' differs from routing key '{routing_key}'"))
            }
            ExchangeType::Fanout => (true, "fanout routes every message to every binding".to_string()),
            ExchangeType::Topic if topic::pattern_matches(bound, routing_key) => {
                (true, format!("pattern '{bound}' matches '{routing_key}'"))
            }
            ExchangeType::Topic => (false, format!("pattern '{bound}' does not match '{routing_key}'")),
            ExchangeType::Headers => headers::explain(&binding.arguments, message_headers),
        }
    }

    /// All bindings in the order they were made.
    pub fn bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.values()
    }

    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// How many nodes the topic trie holds, its root included (`None` for other types): shows that
    /// unbinding prunes.
    pub fn topic_node_count(&self) -> Option<usize> {
        match &self.index {
            Index::Topic(trie) => Some(trie.node_count()),
            _ => None,
        }
    }

    /// Panics if an invariant (see the type's doc) does not hold; tests call it after every step.
    pub fn assert_invariants(&self) {
        let mut listed = 0;
        for (destination, by_key) in &self.by_destination {
            assert!(!by_key.is_empty(), "empty key map for {destination}");
            for (key, seqs) in by_key {
                assert!(!seqs.is_empty(), "empty binding list for {destination} key '{key}'");
                for (i, seq) in seqs.iter().enumerate() {
                    let binding = &self.bindings[seq];
                    assert!(&binding.destination == destination && &binding.routing_key == key);
                    assert!(*seq < self.next_seq);
                    // Same destination and key: the arguments tell bindings apart.
                    let twice = seqs[i + 1..].iter().any(|s| self.bindings[s].arguments == binding.arguments);
                    assert!(!twice, "binding held twice: {binding:?}");
                    listed += 1;
                }
            }
        }
        assert_eq!(listed, self.bindings.len(), "bindings missing from by_destination");
        let mut rebuilt = Index::new(self.kind);
        for binding in self.bindings.values() {
            rebuilt.insert(binding);
        }
        assert_eq!(self.index, rebuilt, "index differs from one built from the bindings");
        if let Index::Topic(trie) = &self.index {
            trie.assert_invariants(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(name: &str) -> Destination {
        Destination::Queue(name.into())
    }

    #[test]
    fn dedup_touches_only_the_appended_part() {
        let mut out = vec![queue("b"), queue("a"), queue("c"), queue("a"), queue("c"), queue("a")];
        sort_and_dedup_from(&mut out, 2);
        assert_eq!(out, [queue("b"), queue("a"), queue("a"), queue("c")]);
        let mut out = vec![queue("a")];
        sort_and_dedup_from(&mut out, 1);
        assert_eq!(out, [queue("a")]);
    }

    #[test]
    fn unbinding_one_of_two_argument_tables_keeps_the_route() {
        let mut t = BindingTable::new(ExchangeType::Direct);
        let plain =
            Binding { destination: queue("q"), routing_key: "k".into(), arguments: FieldTable::new() };
        let mut tagged = plain.clone();
        tagged.arguments.insert("tag".into(), super::super::types::FieldValue::Int(1));
        assert_eq!(t.bind(plain.clone()), Ok(true));
        assert_eq!(t.bind(tagged.clone()), Ok(true));
        assert!(t.unbind(&plain.destination, "k", &plain.arguments));
        t.assert_invariants();
        let mut out = Vec::new();
        t.route("k", &FieldTable::new(), &mut out);
        assert_eq!(out, [queue("q")]);
        assert!(t.unbind(&tagged.destination, "k", &tagged.arguments));
        t.assert_invariants();
        out.clear();
        t.route("k", &FieldTable::new(), &mut out);
        assert!(out.is_empty());
    }
}
