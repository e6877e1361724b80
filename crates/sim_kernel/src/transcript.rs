//! The envelope every model's report shares: its `format` tag, why a run stopped ([`StopInfo`]) and the
//! transcript lines that are not a model's own (the stop and the end).
//!
//! # Invariants
//! - A transcript line starts with the virtual time it happened at (`12.345s …`); these lines are part
//!   of the golden transcripts and change only with a reason.

use crate::clock::VirtualTime;
use crate::located::Pos;
use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_and_end_lines() {
        let stop = StopInfo { pos: Pos::new(3, 5), at: VirtualTime(12_000), message: "runaway".into() };
        assert_eq!(stop.transcript_line(), "12.000s stopped at 3:5: runaway");
        assert_eq!(end_line(VirtualTime(60_000)), "60.000s end");
    }
}
