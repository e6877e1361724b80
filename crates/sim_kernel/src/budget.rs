//! A run's budget: the most work and memory one document may cost, whatever it says, and the counting
//! that enforces it during a run ([`Meter`]). Which fields of a document can overspend, and how much
//! before it runs, is each model's (it knows its actors); the counting and its texts are shared.
//!
//! # Invariants
//! - The meter is charged per message and per event, never per wake-up: one wake-up that would publish a
//!   billion messages stops at the budget.
//! - A charge past the budget changes nothing: the message is not counted (it is not to be sent).

/// The most one run may do. The defaults are hundreds of times what the largest bundled scenario uses
/// (3,000 messages and 12,000 events) and keep a run's memory bounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunBudget {
    /// Messages published by the document's actors.
    pub messages: u64,
    /// Total body bytes of those messages.
    pub body_bytes: u64,
    /// Events the system under simulation records.
    pub events: u64,
}

impl RunBudget {
    /// What every run gets unless its caller says otherwise.
    pub const DEFAULT: RunBudget =
        RunBudget { messages: 1_000_000, body_bytes: 256 * 1024 * 1024, events: 5_000_000 };

    /// No limit at all (benchmarks that measure a long run on purpose).
    pub const UNLIMITED: RunBudget = RunBudget { messages: u64::MAX, body_bytes: u64::MAX, events: u64::MAX };
}

impl Default for RunBudget {
    fn default() -> Self {
        RunBudget::DEFAULT
    }
}

/// A number with thousands separators, as the error texts show budgets.
pub fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 message`, `2 messages` (grouped by thousands).
pub fn plural(n: u128, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", grouped(n))
    }
}

/// Which budget a run exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    Messages,
    BodyBytes,
    Events,
}

/// What a run has used of its budget so far.
#[derive(Clone, Debug)]
pub struct Meter {
    pub budget: RunBudget,
    pub messages: u64,
    pub body_bytes: u64,
}

impl Meter {
    pub fn new(budget: RunBudget) -> Meter {
        Meter { budget, messages: 0, body_bytes: 0 }
    }

    /// Counts one published message; `Err` names the budget it goes past (it is not to be sent).
    pub fn charge_message(&mut self, body_len: usize) -> Result<(), Exceeded> {
        if self.messages >= self.budget.messages {
            return Err(Exceeded::Messages);
        }
        let bytes = self.body_bytes.saturating_add(body_len as u64);
        if bytes > self.budget.body_bytes {
            return Err(Exceeded::BodyBytes);
        }
        self.messages += 1;
        self.body_bytes = bytes;
        Ok(())
    }

    /// The stop message for an exceeded budget, `who` being the actor that went past it.
    pub fn stop_message(&self, exceeded: Exceeded, who: &str) -> String {
        match exceeded {
            Exceeded::Messages => format!(
                "budget: {who} would publish message {} of the run, past the budget of {} messages per run; \
                 the run was stopped",
                grouped(u128::from(self.messages) + 1),
                grouped(u128::from(self.budget.messages))
            ),
            Exceeded::BodyBytes => format!(
                "budget: {who} would publish past the budget of {} body bytes per run ({} bytes published); \
                 the run was stopped",
                grouped(u128::from(self.budget.body_bytes)),
                grouped(u128::from(self.body_bytes))
            ),
            Exceeded::Events => format!(
                "budget: more than {} broker events in this run; the run was stopped",
                grouped(u128::from(self.budget.events))
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_000_000_000_000), "1,000,000,000,000");
        assert_eq!(plural(1, "message"), "1 message");
        assert_eq!(plural(2_000, "byte"), "2,000 bytes");
    }

    #[test]
    fn a_charge_past_the_budget_is_refused_and_not_counted() {
        let mut m = Meter::new(RunBudget { messages: 2, body_bytes: 10, events: 1 });
        assert_eq!(m.charge_message(4), Ok(()));
        assert_eq!(m.charge_message(7), Err(Exceeded::BodyBytes));
        assert_eq!(m.charge_message(6), Ok(()));
        assert_eq!(m.charge_message(0), Err(Exceeded::Messages));
        assert_eq!((m.messages, m.body_bytes), (2, 10));
    }
}
