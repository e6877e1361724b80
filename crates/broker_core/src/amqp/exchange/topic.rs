//! The topic exchange's trie over routing-key words, and the one-pattern matcher behind `explain`.
//!
//! Semantics are RabbitMQ's (`rabbit_db_topic_exchange`): a key is split on every `.`, so `a..b` has the
//! three words `a`, `` and `b`, `a.` has two, and the empty key has none. In a pattern `*` matches exactly
//! one word (any word, the empty one too), `#` matches zero or more words, and every other word matches
//! only itself. A word is a wildcard only when it is exactly `*` or `#`: `a#` is a plain word.

use super::Destination;
use std::collections::{BTreeMap, BTreeSet};

/// One word of a binding pattern as the trie stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PatternWord<'a> {
    Literal(&'a str),
    Star,
    Hash,
}

/// The words of a routing key or pattern: none for the empty string, else every `.`-separated piece.
pub(super) fn split_words(s: &str) -> impl Iterator<Item = &str> {
    // `str::split` yields one empty piece for "", but RabbitMQ reads the empty key as zero words.
    s.split('.').filter(move |_| !s.is_empty())
}

/// The pattern's path in the trie: its words with every run of wildcards rewritten as its `*`s followed
/// by one `#` if the run had any.
///
/// A run of k `*` and at least one `#`, in any order, matches exactly "k or more words", so the rewrite
/// keeps the meaning while `#.#` and `#.*` stop multiplying the work of every route.
fn canonical_path(pattern: &str) -> Vec<PatternWord<'_>> {
    let mut path = Vec::new();
    let mut hash_pending = false;
    for word in split_words(pattern) {
        match word {
            "*" => path.push(PatternWord::Star),
            "#" => hash_pending = true,
            literal => {
                if std::mem::take(&mut hash_pending) {
                    path.push(PatternWord::Hash);
                }
                path.push(PatternWord::Literal(literal));
            }
        }
    }
    if hash_pending {
        path.push(PatternWord::Hash);
    }
    path
}

/// The remaining words of a routing key while matching, without allocating: `None` when no word is
/// left, else the rest of the key (which may be `""`, one empty word).
type Rest<'k> = Option<&'k str>;

fn first_word(rest: &str) -> (&str, Rest<'_>) {
    match rest.split_once('.') {
        Some((word, tail)) => (word, Some(tail)),
        None => (rest, None),
    }
}

/// A number that identifies a `Rest` of one key: every rest is a suffix, so its length does.
fn rest_code(rest: Rest<'_>) -> usize {
    rest.map_or(0, |s| s.len() + 1)
}

/// From this many `#` on one path, matching remembers the (node, rest) pairs it has already visited:
/// with two or more `#` the same pair is reachable along many splits of the key (RabbitMQ memoizes from
/// the same point).
const HASHES_BEFORE_MEMO: u32 = 2;

/// A node of the topic trie; the root stands for the empty pattern.
///
/// # Invariants
/// - Every node other than the root leads to at least one binding: it has a destination or a child.
/// - A `#` node has neither a `#` nor a `*` child (see [`canonical_path`]).
/// - `destinations` counts the bindings that end here per destination; no count is zero.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct TopicNode {
    literal: BTreeMap<Box<str>, TopicNode>,
    star: Option<Box<TopicNode>>,
    hash: Option<Box<TopicNode>>,
    destinations: BTreeMap<Destination, u32>,
}

impl TopicNode {
    fn is_empty(&self) -> bool {
        self.literal.is_empty() && self.star.is_none() && self.hash.is_none() && self.destinations.is_empty()
    }

    /// Records one binding with this pattern to `destination`.
    pub(super) fn insert(&mut self, pattern: &str, destination: &Destination) {
        let mut node = self;
        for word in canonical_path(pattern) {
            node = match word {
                PatternWord::Literal(w) => node.literal.entry(w.into()).or_default(),
                PatternWord::Star => node.star.get_or_insert_with(Default::default),
                PatternWord::Hash => node.hash.get_or_insert_with(Default::default),
            };
        }
        *node.destinations.entry(destination.clone()).or_insert(0) += 1;
    }

    /// Forgets one binding with this pattern to `destination`, pruning nodes that lead nowhere any more;
    /// returns whether there was one.
    pub(super) fn remove(&mut self, pattern: &str, destination: &Destination) -> bool {
        self.remove_path(&canonical_path(pattern), destination)
    }

    fn remove_path(&mut self, path: &[PatternWord<'_>], destination: &Destination) -> bool {
        let Some((word, rest)) = path.split_first() else {
            let Some(count) = self.destinations.get_mut(destination) else { return false };
            *count -= 1;
            if *count == 0 {
                self.destinations.remove(destination);
            }
            return true;
        };
        match word {
            PatternWord::Literal(w) => {
                let Some(child) = self.literal.get_mut(*w) else { return false };
                let removed = child.remove_path(rest, destination);
                if child.is_empty() {
                    self.literal.remove(*w);
                }
                removed
            }
            PatternWord::Star => Self::remove_below(&mut self.star, rest, destination),
            PatternWord::Hash => Self::remove_below(&mut self.hash, rest, destination),
        }
    }

    fn remove_below(
        slot: &mut Option<Box<TopicNode>>,
        rest: &[PatternWord<'_>],
        destination: &Destination,
    ) -> bool {
        let Some(child) = slot else { return false };
        let removed = child.remove_path(rest, destination);
        if child.is_empty() {
            *slot = None;
        }
        removed
    }

    /// Appends the destinations of every pattern that matches `routing_key`, possibly repeated and in
    /// no particular order (the caller sorts and deduplicates).
    ///
    /// The cost depends on the key and on the trie's shape along it, not on the number of bindings; it
    /// allocates nothing unless a path holds two or more `#`.
    pub(super) fn route(&self, routing_key: &str, out: &mut Vec<Destination>) {
        let rest = if routing_key.is_empty() { None } else { Some(routing_key) };
        let mut visited = None;
        self.collect(rest, 0, &mut visited, out);
    }

    fn collect<'k>(
        &self,
        rest: Rest<'k>,
        hashes: u32,
        visited: &mut Option<BTreeSet<(usize, usize)>>,
        out: &mut Vec<Destination>,
    ) {
        if hashes >= HASHES_BEFORE_MEMO {
            // The node's address is only a set member here; it never reaches the output's order.
            let id = (self as *const TopicNode as usize, rest_code(rest));
            if !visited.get_or_insert_with(BTreeSet::new).insert(id) {
                return;
            }
        }
        match rest {
            None => out.extend(self.destinations.keys().cloned()),
            Some(words) => {
                let (word, tail) = first_word(words);
                if let Some(child) = self.literal.get(word) {
                    child.collect(tail, hashes, visited, out);
                }
                if let Some(child) = &self.star {
                    child.collect(tail, hashes, visited, out);
                }
            }
        }
        if let Some(child) = &self.hash {
            // `#` takes zero words, then one, … then all that are left.
            let mut after_hash = rest;
            loop {
                child.collect(after_hash, hashes + 1, visited, out);
                match after_hash {
                    None => break,
                    Some(words) => after_hash = first_word(words).1,
                }
            }
        }
    }

    /// Checks the invariants of this node and everything below it; `is_root` exempts the root from
    /// having to lead somewhere.
    pub(super) fn assert_invariants(&self, is_root: bool) {
        assert!(is_root || !self.is_empty(), "topic trie keeps an empty node");
        assert!(self.destinations.values().all(|count| *count > 0), "topic trie keeps a zero count");
        for child in self.literal.values() {
            child.assert_invariants(false);
        }
        if let Some(star) = &self.star {
            star.assert_invariants(false);
        }
        if let Some(hash) = &self.hash {
            assert!(hash.hash.is_none() && hash.star.is_none(), "topic trie has a wildcard right after '#'");
            hash.assert_invariants(false);
        }
    }

    /// How many nodes the trie holds, the root included (to show that removal prunes).
    pub(super) fn node_count(&self) -> usize {
        1 + self.literal.values().map(TopicNode::node_count).sum::<usize>()
            + self.star.as_ref().map_or(0, |n| n.node_count())
            + self.hash.as_ref().map_or(0, |n| n.node_count())
    }
}

/// Whether one pattern matches one routing key (for `explain`, which checks bindings one by one).
///
/// Greedy wildcard matching that backtracks only to the most recent `#`: linear in the common case and
/// at worst words(pattern) × words(key), never exponential.
pub(super) fn pattern_matches(pattern: &str, routing_key: &str) -> bool {
    let pattern: Vec<&str> = split_words(pattern).collect();
    let key: Vec<&str> = split_words(routing_key).collect();
    let (mut p, mut k) = (0, 0);
    // After the latest `#`: where the pattern resumes, and the next key word that `#` would swallow.
    let mut backtrack: Option<(usize, usize)> = None;
    while k < key.len() {
        match pattern.get(p) {
            Some(&"#") => {
                p += 1;
                backtrack = Some((p, k));
            }
            Some(&word) if word == "*" || word == key[k] => {
                p += 1;
                k += 1;
            }
            _ => match backtrack {
                Some((resume, swallowed)) => {
                    p = resume;
                    k = swallowed + 1;
                    backtrack = Some((resume, k));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|word| *word == "#")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(name: &str) -> Destination {
        Destination::Queue(name.into())
    }

    fn routed(trie: &TopicNode, key: &str) -> Vec<Destination> {
        let mut out = Vec::new();
        trie.route(key, &mut out);
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn words_follow_rabbitmq_splitting() {
        assert_eq!(split_words("").count(), 0);
        assert_eq!(split_words("a..b").collect::<Vec<_>>(), ["a", "", "b"]);
        assert_eq!(split_words("a.").collect::<Vec<_>>(), ["a", ""]);
        assert_eq!(split_words(".").collect::<Vec<_>>(), ["", ""]);
    }

    #[test]
    fn wildcard_runs_are_canonical() {
        use PatternWord::*;
        assert_eq!(canonical_path("#.#"), [Hash]);
        assert_eq!(canonical_path("#.*.#.*"), [Star, Star, Hash]);
        assert_eq!(canonical_path("a.#.*.b"), [Literal("a"), Star, Hash, Literal("b")]);
        assert_eq!(canonical_path("a#.*"), [Literal("a#"), Star]);
        assert_eq!(canonical_path(""), []);
    }

    #[test]
    fn single_pattern_matcher_handles_edge_cases() {
        let cases = [
            ("#", "", true),
            ("#", "a.b", true),
            ("*", "", false),
            ("*", ".", false),
            ("*.*", ".", true),
            ("#.#", "", true),
            ("a.#.b", "a.b", true),
            ("a.#.b", "a.x.y.b", true),
            ("a.#.b", "a.x.y.b.c", false),
            ("#.a", "a", true),
            ("#.a", "b.a.a", true),
            ("#.a", "a.b", false),
            ("a.*", "a.", true),
            ("a..b", "a..b", true),
            ("a.*.b", "a..b", true),
            ("", "", true),
            ("", ".", false),
            ("a#", "ab", false),
            ("#.b.#.c", "a.b.x.b.c", true),
        ];
        for (pattern, key, expected) in cases {
            assert_eq!(pattern_matches(pattern, key), expected, "pattern '{pattern}' key '{key}'");
        }
    }

    #[test]
    fn trie_routes_and_prunes_back_to_the_root() {
        let mut trie = TopicNode::default();
        trie.insert("a.#.b", &queue("q1"));
        trie.insert("#.#", &queue("q2"));
        trie.insert("a.*", &queue("q3"));
        trie.assert_invariants(true);
        assert_eq!(routed(&trie, "a.b"), [queue("q1"), queue("q2"), queue("q3")]);
        assert_eq!(routed(&trie, ""), [queue("q2")]);
        assert!(trie.remove("#.#", &queue("q2")));
        assert!(!trie.remove("#.#", &queue("q2")));
        assert!(trie.remove("a.#.b", &queue("q1")));
        assert!(trie.remove("a.*", &queue("q3")));
        trie.assert_invariants(true);
        assert_eq!(trie.node_count(), 1);
        assert_eq!(trie, TopicNode::default());
    }

    #[test]
    fn many_hashes_do_not_explode() {
        // Without remembering visited (node, rest) pairs this is C(40+5, 5) ≈ 1.2 million paths.
        let mut trie = TopicNode::default();
        trie.insert("#.x.#.x.#.x.#.x.#.y", &queue("q"));
        let key = vec!["x"; 40].join(".");
        assert!(routed(&trie, &key).is_empty());
        assert_eq!(routed(&trie, &format!("{key}.y")), [queue("q")]);
    }
}
