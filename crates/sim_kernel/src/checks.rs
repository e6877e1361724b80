//! What every model's events tell the kernel ([`EventInfo`]), and the checks built on that alone: count
//! and order matchers ([`EventPattern`], [`matches()`]), verdicts ([`CheckResult`]).
//!
//! # Invariants
//! - An event's kind is its model's own word, the same as its `event` tag in JSON; a model lists every
//!   kind it has in [`EventInfo::KINDS`], so a document naming another kind is refused before it runs.
//! - A settled check never changes (the model's runtime keeps it so; [`CheckResult`] is plain data).

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// What the kernel can ask any model's event.
pub trait EventInfo {
    /// Every kind the model's events have, in the model's order.
    const KINDS: &'static [&'static str];

    /// The kinds a transcript shows when its reader names none ([`EventFilter`](crate::transcript::EventFilter)'s
    /// default): what a client sees arrive on its own. Every kind unless the model names fewer.
    const SHOWN_BY_DEFAULT: &'static [&'static str] = Self::KINDS;

    /// The client handle events name (a connection, a session…).
    type Client: Copy + Ord;

    /// The event's kind: its `event` tag in JSON (`delivered`, …).
    fn kind(&self) -> &'static str;

    /// The kind an event filter names it by; its kind unless the model splits a kind for readers.
    fn filter_kind(&self) -> &'static str {
        self.kind()
    }

    /// The client the event concerns, if it concerns one.
    fn client(&self) -> Option<Self::Client>;

    /// Whether the event's field `name` holds `value`; a field the event does not have never does. An
    /// event may hold several values in one field (then any one matches).
    fn field_is(&self, name: &str, value: &str) -> bool;
}

/// What a count or order check looks for: a kind, field filters and, optionally, an actor's events.
pub trait EventPattern {
    /// The event kind wanted.
    fn kind(&self) -> &str;
    /// The field filters, as (field name, wanted value).
    fn fields(&self) -> impl Iterator<Item = (&'static str, &str)>;
    /// Only events on this actor's clients.
    fn actor(&self) -> Option<&str>;
}

/// Whether `event` is one `pattern` names. `owner` gives the actor a client belongs to and `named` the
/// actor a name stands for (`A` is the model's actor handle).
pub fn matches<E: EventInfo, P: EventPattern, A: PartialEq>(
    pattern: &P,
    event: &E,
    owner: impl Fn(E::Client) -> Option<A>,
    named: impl Fn(&str) -> Option<A>,
) -> bool {
    if event.kind() != pattern.kind() {
        return false;
    }
    if !pattern.fields().all(|(name, value)| event.field_is(name, value)) {
        return false;
    }
    if let Some(actor) = pattern.actor() {
        let owner = event.client().and_then(owner);
        if owner.is_none() || owner != named(actor) {
            return false;
        }
    }
    true
}

/// An order check's verdict from the index of the first event each side matched: `(pass, observed,
/// reason)`.
pub fn order_verdict(first: Option<u64>, then: Option<u64>) -> (bool, String, String) {
    match (first, then) {
        (Some(a), Some(b)) if a < b => (true, "in order".to_string(), String::new()),
        (Some(_), Some(_)) => (false, "the other way round".to_string(), "'then' happened first".to_string()),
        (Some(_), None) => (false, "only 'first'".to_string(), "'then' never happened".to_string()),
        (None, Some(_)) => (false, "only 'then'".to_string(), "'first' never happened".to_string()),
        (None, None) => (false, "neither".to_string(), "neither event happened".to_string()),
    }
}

/// A check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// Not decided yet: its time has not come (or the run stopped before it).
    Pending,
}

/// One check's result with what was observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Position in the document's `checks` (from 0).
    pub index: usize,
    pub description: String,
    pub status: CheckStatus,
    pub observed: String,
    /// Why it failed or is pending (empty on a pass).
    pub reason: String,
}

impl CheckResult {
    /// `check 2 FAIL: at 10.000s count of x = 3; observed 2 (…)`.
    pub fn line(&self) -> String {
        let status = match self.status {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Pending => "pending",
        };
        let mut s =
            format!("check {} {status}: {}; observed {}", self.index + 1, self.description, self.observed);
        if !self.reason.is_empty() {
            let _ = write!(s, " ({})", self.reason);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy model: an event is (kind, client, colour).
    struct Ev(&'static str, Option<u8>, &'static str);

    impl EventInfo for Ev {
        const KINDS: &'static [&'static str] = &["sent", "seen"];
        type Client = u8;
        fn kind(&self) -> &'static str {
            self.0
        }
        fn client(&self) -> Option<u8> {
            self.1
        }
        fn field_is(&self, name: &str, value: &str) -> bool {
            name == "colour" && self.2 == value
        }
    }

    struct Want(&'static str, Option<&'static str>, Option<&'static str>);

    impl EventPattern for Want {
        fn kind(&self) -> &str {
            self.0
        }
        fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
            self.1.map(|c| ("colour", c)).into_iter()
        }
        fn actor(&self) -> Option<&str> {
            self.2
        }
    }

    #[test]
    fn a_pattern_matches_kind_fields_and_actor() {
        let owner = |c: u8| (c == 1).then_some("alice");
        let named = |n: &str| (n == "alice").then_some("alice");
        let red = Ev("sent", Some(1), "red");
        assert!(matches(&Want("sent", None, None), &red, owner, named));
        assert!(matches(&Want("sent", Some("red"), Some("alice")), &red, owner, named));
        assert!(!matches(&Want("seen", None, None), &red, owner, named));
        assert!(!matches(&Want("sent", Some("blue"), None), &red, owner, named));
        assert!(!matches(&Want("sent", None, Some("bob")), &red, owner, named));
        assert!(!matches(&Want("sent", None, Some("alice")), &Ev("sent", Some(2), "red"), owner, named));
        assert!(!matches(&Want("sent", None, Some("alice")), &Ev("sent", None, "red"), owner, named));
    }

    #[test]
    fn order_verdicts_say_what_happened() {
        assert_eq!(order_verdict(Some(1), Some(2)), (true, "in order".to_string(), String::new()));
        assert_eq!(order_verdict(Some(3), Some(2)).2, "'then' happened first");
        assert_eq!(order_verdict(None, None).1, "neither");
    }
}
