//! The run's exchanges with the server, as the clients saw them (recorded on request, for a differential
//! runner that plays the same exchanges on a real redis-server: `real_broker::redis_document`).
//!
//! The actors are deterministic given the replies they get and the instants they act at, so a real
//! server that gives the same replies to the same commands at the same instants would have led the
//! same actors through the same run: comparing the exchanges one by one compares the runs.
//!
//! Invariants: steps are in the order the engine played them (instants non-decreasing); a command's
//! `served` and `pushes` are what that command caused, nothing earlier.

use crate::redis::server::ClientId;
use crate::redis::Reply;
use serde::Serialize;
use sim_kernel::clock::VirtualTime;

/// One exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum WireStep {
    /// `client` (the actor `actor`) sent `argv`; `replies` is what it got back at once (empty: it blocked;
    /// several: a `SUBSCRIBE` of several channels), `served` the replies the command gave clients blocked
    /// before it, `pushes` the messages it handed to subscribers.
    Command {
        at: VirtualTime,
        client: ClientId,
        actor: String,
        argv: Vec<String>,
        replies: Vec<Reply>,
        served: Vec<(ClientId, Reply)>,
        pushes: Vec<(ClientId, Reply)>,
    },
    /// Time reached `at`: the blocked clients whose timeout ran out, with their replies.
    Timeouts { at: VirtualTime, served: Vec<(ClientId, Reply)> },
    /// The client's connection closed (a worker's crash, a subscriber's disconnect).
    Disconnect { at: VirtualTime, client: ClientId, actor: String },
    /// The server restarted without persistence.
    Restart { at: VirtualTime },
}

impl WireStep {
    pub fn at(&self) -> VirtualTime {
        match self {
            WireStep::Command { at, .. }
            | WireStep::Timeouts { at, .. }
            | WireStep::Disconnect { at, .. }
            | WireStep::Restart { at } => *at,
        }
    }
}
