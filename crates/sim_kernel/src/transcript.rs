//! The envelope every model's report shares: its `format` tag, why a run stopped ([`StopInfo`]) and the
//! transcript lines that are not a model's own (the stop and the end).
//!
//! # Invariants
//! - A transcript line starts with the virtual time it happened at (`12.345s …`); these lines are part
//!   of the golden transcripts and change only with a reason.

use crate::checks::EventInfo;
use crate::clock::VirtualTime;
use crate::located::Pos;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::marker::PhantomData;

/// The `format` field of every JSON report.
pub const REPORT_FORMAT: &str = "brokerlab-report";

/// Why a run stopped before its end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopInfo {
    pub pos: Pos,
    pub at: VirtualTime,
    pub message: String,
}

impl StopInfo {
    /// `12.000s stopped at 3:5: …`.
    pub fn transcript_line(&self) -> String {
        format!("{} stopped at {}:{}: {}", self.at, self.pos.line, self.pos.col, self.message)
    }
}

/// `60.000s end`.
pub fn end_line(end: VirtualTime) -> String {
    format!("{end} end")
}

/// Which event kinds a transcript or JSON report shows, for a model whose events are `E` (kinds are the
/// events' own words, [`EventInfo::filter_kind`]). The default is the model's
/// [`EventInfo::SHOWN_BY_DEFAULT`], so each model names its own.
pub enum EventFilter<E> {
    All,
    Kinds(BTreeSet<String>),
    /// Never built (it cannot be: `Infallible`); it only ties the filter to its model's events.
    #[doc(hidden)]
    Model(PhantomData<fn(&E)>, std::convert::Infallible),
}

impl<E: EventInfo> Default for EventFilter<E> {
    fn default() -> Self {
        EventFilter::Kinds(E::SHOWN_BY_DEFAULT.iter().map(|k| k.to_string()).collect())
    }
}

impl<E: EventInfo> EventFilter<E> {
    /// `all`, or a comma-separated list of event kinds (`delivered,dead_lettered`).
    pub fn parse(list: &str) -> Self {
        if list.trim() == "all" {
            return EventFilter::All;
        }
        EventFilter::Kinds(list.split(',').map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect())
    }

    /// Whether a transcript with this filter shows `event`.
    pub fn accepts(&self, event: &E) -> bool {
        match self {
            EventFilter::All => true,
            EventFilter::Kinds(kinds) => kinds.contains(event.filter_kind()),
            EventFilter::Model(_, never) => match *never {},
        }
    }
}

// By hand: derived impls would require `E` itself to be `Clone`, `Eq`, … although no `E` is stored.
impl<E> Clone for EventFilter<E> {
    fn clone(&self) -> Self {
        match self {
            EventFilter::All => EventFilter::All,
            EventFilter::Kinds(kinds) => EventFilter::Kinds(kinds.clone()),
            EventFilter::Model(_, never) => match *never {},
        }
    }
}

impl<E> PartialEq for EventFilter<E> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (EventFilter::All, EventFilter::All) => true,
            (EventFilter::Kinds(a), EventFilter::Kinds(b)) => a == b,
            (EventFilter::Model(_, never), _) | (_, EventFilter::Model(_, never)) => match *never {},
            _ => false,
        }
    }
}

impl<E> Eq for EventFilter<E> {}

impl<E> fmt::Debug for EventFilter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventFilter::All => f.write_str("All"),
            EventFilter::Kinds(kinds) => f.debug_tuple("Kinds").field(kinds).finish(),
            EventFilter::Model(_, never) => match *never {},
        }
    }
}

/// A model's JSON report in the shared envelope: `format`, the model's name, the seed, the end time, why
/// it stopped (if it did), its events each with `at_ms` added beside the event's own fields, and the
/// checks' results. The field order is part of the frozen report shape.
pub fn report_json<'e, E: Serialize + 'e>(
    model: &str,
    seed: u64,
    end: VirtualTime,
    stopped: Option<&StopInfo>,
    events: impl IntoIterator<Item = (VirtualTime, &'e E)>,
    checks: Vec<crate::checks::CheckResult>,
) -> String {
    #[derive(Serialize)]
    struct Report<'a> {
        format: &'static str,
        model: &'a str,
        seed: u64,
        end: String,
        stopped: Option<String>,
        events: Vec<serde_json::Value>,
        checks: Vec<crate::checks::CheckResult>,
    }
    let events = events
        .into_iter()
        .map(|(at, e)| {
            let mut v = serde_json::to_value(e).unwrap_or(serde_json::Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert("at_ms".to_string(), serde_json::Value::from(at.as_millis()));
            }
            v
        })
        .collect();
    let report = Report {
        format: REPORT_FORMAT,
        model,
        seed,
        end: end.to_string(),
        stopped: stopped.map(|s| s.message.clone()),
        events,
        checks,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_and_end_lines() {
        let stop = StopInfo { pos: Pos::new(3, 5), at: VirtualTime(12_000), message: "runaway".into() };
        assert_eq!(stop.transcript_line(), "12.000s stopped at 3:5: runaway");
        assert_eq!(end_line(VirtualTime(60_000)), "60.000s end");
    }

    /// A toy model that shows only `seen` unless asked.
    struct Ev(&'static str);

    impl EventInfo for Ev {
        const KINDS: &'static [&'static str] = &["sent", "seen"];
        const SHOWN_BY_DEFAULT: &'static [&'static str] = &["seen"];
        type Client = u8;
        fn kind(&self) -> &'static str {
            self.0
        }
        fn client(&self) -> Option<u8> {
            None
        }
        fn field_is(&self, _: &str, _: &str) -> bool {
            false
        }
    }

    #[test]
    fn the_filter_defaults_to_the_kinds_the_model_names() {
        let default = EventFilter::<Ev>::default();
        assert!(default.accepts(&Ev("seen")));
        assert!(!default.accepts(&Ev("sent")));
        assert_eq!(default, EventFilter::parse(" seen ,"));
        let all = EventFilter::<Ev>::parse("all");
        assert!(all.accepts(&Ev("sent")));
        assert_eq!(format!("{:?}", EventFilter::<Ev>::parse("sent,x")), r#"Kinds({"sent", "x"})"#);
        assert_ne!(all.clone(), default);
    }
}
