//! The narrow port through which a [`Simulation`](super::Simulation) drives its broker.
//!
//! The actors' logic (pacing, prefetch, processing, confirms, faults, scripts, checks) lives once, in
//! the simulation; what it needs from a broker is this trait. The engine's [`Broker`] implements it
//! (the default: `Simulation` is `Simulation<Broker>`, generic, so nothing is boxed or dynamic), and a
//! native runner can implement it over real AMQP connections (crate `real_broker`), where virtual time
//! is wall time since the start and things arrive on their own ([`SimPort::LIVE`]).

use crate::amqp::definitions::{self, Definitions, ImportError, ImportReport};
use crate::amqp::error::AmqpError;
use crate::amqp::event::LoggedEvent;
use crate::amqp::method::{Method, Reply};
use crate::amqp::types::{ChannelNumber, ConnectionId};
use crate::amqp::{Broker, QueueInfo};
use crate::clock::VirtualTime;

/// A queue's counters as a check reads them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub ready: u64,
    pub unacked: u64,
}

/// What a [`Simulation`](super::Simulation) needs from the broker it runs on. Every call happens at the
/// simulation's current virtual time, which never goes back.
pub trait SimPort {
    /// Whether time passes on its own (a real broker): the simulation then waits with
    /// [`wait_until`](SimPort::wait_until) between instants, and events arrive while it waits.
    const LIVE: bool = false;

    /// Imports a document's definitions (exchanges, queues, bindings, policies) at `at`.
    fn import_definitions(
        &mut self,
        at: VirtualTime,
        defs: &Definitions,
    ) -> Result<ImportReport, ImportError>;

    /// Opens a connection (the AMQP handshake) named `name`.
    fn connect(&mut self, at: VirtualTime, name: &str) -> ConnectionId;

    /// Closes a connection (an unknown or closed one: nothing happens).
    fn close_connection(&mut self, at: VirtualTime, connection: ConnectionId);

    /// Sends one method. Synchronous methods answer with their `-ok` or the error that closed the channel;
    /// asynchronous ones (publish, ack, nack, reject) may answer `Reply::None` at once and report a
    /// failure later as a `channel.close` event.
    fn apply(
        &mut self,
        at: VirtualTime,
        connection: ConnectionId,
        channel: ChannelNumber,
        method: Method,
    ) -> Result<Reply, AmqpError>;

    /// Moves the events that happened since the last call into `out`, oldest first.
    fn drain_events_into(&mut self, out: &mut Vec<LoggedEvent>);

    /// When the broker next has something to do or tell (a timer, an event that arrived).
    fn next_deadline(&self) -> Option<VirtualTime>;

    /// Lets the broker's time reach `to`, firing its timers (or taking in what arrived) on the way.
    fn advance_to(&mut self, to: VirtualTime);

    /// Live ports only: blocks until `to` or until something arrives, and returns the instant reached
    /// (never before the last one). The engine never waits.
    fn wait_until(&mut self, to: VirtualTime) -> VirtualTime {
        to
    }

    /// Restarts the broker (a fault). Ports that cannot are refused before the run starts.
    fn restart(&mut self, at: VirtualTime);

    /// A queue's counters now, or `None` when it does not exist.
    fn queue_counts(&self, name: &str) -> Option<QueueCounts>;

    /// Every queue with its counters, sorted by name.
    fn queues(&self) -> Vec<QueueInfo>;

    /// Whether this port observes events of this kind (`routed`, `dead_lettered`…), with this `reason`
    /// when a check names one (`dropped` events). A real broker keeps what happens inside it to itself;
    /// checks counting such events are left undecided.
    fn observes(&self, _event_kind: &str, _reason: Option<&str>) -> bool {
        true
    }

    /// A failure outside the scenario (a broker that cannot be reached): the run stops with this text.
    fn take_failure(&mut self) -> Option<String> {
        None
    }

    /// Checks the broker's internal invariants (panics on a broken one); nothing by default.
    fn assert_invariants(&self) {}
}

impl SimPort for Broker {
    fn import_definitions(
        &mut self,
        at: VirtualTime,
        defs: &Definitions,
    ) -> Result<ImportReport, ImportError> {
        definitions::import(self, at, defs)
    }

    fn connect(&mut self, at: VirtualTime, name: &str) -> ConnectionId {
        Broker::connect(self, at, name)
    }

    fn close_connection(&mut self, at: VirtualTime, connection: ConnectionId) {
        Broker::close_connection(self, at, connection)
    }

    fn apply(
        &mut self,
        at: VirtualTime,
        connection: ConnectionId,
        channel: ChannelNumber,
        method: Method,
    ) -> Result<Reply, AmqpError> {
        Broker::apply(self, at, connection, channel, method)
    }

    fn drain_events_into(&mut self, out: &mut Vec<LoggedEvent>) {
        Broker::drain_events_into(self, out)
    }

    fn next_deadline(&self) -> Option<VirtualTime> {
        Broker::next_deadline(self)
    }

    fn advance_to(&mut self, to: VirtualTime) {
        Broker::advance_to(self, to)
    }

    fn restart(&mut self, at: VirtualTime) {
        Broker::restart(self, at)
    }

    fn queue_counts(&self, name: &str) -> Option<QueueCounts> {
        self.queue(name).map(|d| QueueCounts {
            ready: u64::from(d.info.messages_ready),
            unacked: u64::from(d.info.messages_unacknowledged),
        })
    }

    fn queues(&self) -> Vec<QueueInfo> {
        Broker::queues(self)
    }

    // Not in the page's release build (feature `skip-invariant-checks`): the page never sets
    // `check_invariants`, and the check's code is part of its download (BENCHMARKS.md, "One page per model").
    #[cfg(any(debug_assertions, not(feature = "skip-invariant-checks")))]
    fn assert_invariants(&self) {
        Broker::assert_invariants(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::document::Document;
    use crate::scenario::sim::{CheckStatus, SimOptions, Simulation};

    /// The engine behind the port as if it were live: the simulation takes its live path (waiting between
    /// instants, checks decided on their own), and may hide event kinds like a real broker.
    struct LiveEngine {
        broker: Broker,
        hidden: &'static [&'static str],
    }

    impl SimPort for LiveEngine {
        const LIVE: bool = true;
        fn import_definitions(
            &mut self,
            at: VirtualTime,
            defs: &Definitions,
        ) -> Result<ImportReport, ImportError> {
            self.broker.import_definitions(at, defs)
        }
        fn connect(&mut self, at: VirtualTime, name: &str) -> ConnectionId {
            self.broker.connect(at, name)
        }
        fn close_connection(&mut self, at: VirtualTime, connection: ConnectionId) {
            self.broker.close_connection(at, connection)
        }
        fn apply(
            &mut self,
            at: VirtualTime,
            connection: ConnectionId,
            channel: ChannelNumber,
            method: Method,
        ) -> Result<Reply, AmqpError> {
            self.broker.apply(at, connection, channel, method)
        }
        fn drain_events_into(&mut self, out: &mut Vec<LoggedEvent>) {
            self.broker.drain_events_into(out)
        }
        fn next_deadline(&self) -> Option<VirtualTime> {
            self.broker.next_deadline()
        }
        fn advance_to(&mut self, to: VirtualTime) {
            self.broker.advance_to(to)
        }
        fn restart(&mut self, at: VirtualTime) {
            self.broker.restart(at)
        }
        fn queue_counts(&self, name: &str) -> Option<QueueCounts> {
            self.broker.queue_counts(name)
        }
        fn queues(&self) -> Vec<QueueInfo> {
            self.broker.queues()
        }
        fn observes(&self, event_kind: &str, _reason: Option<&str>) -> bool {
            !self.hidden.contains(&event_kind)
        }
    }

    fn live(text: &str, hidden: &'static [&'static str]) -> Simulation<LiveEngine> {
        let doc = Document::parse(text).expect("a bundled document parses");
        let seed = doc.seed;
        let port = LiveEngine { broker: Broker::new(crate::amqp::BrokerConfig::default(), seed), hidden };
        let mut sim = Simulation::with_port(&doc, SimOptions::default(), port).expect("it builds");
        sim.run();
        sim
    }

    const DOCUMENTS: [&str; 4] = [
        include_str!("../../../../../www/scenarios/02-work-queues.json"),
        include_str!("../../../../../www/scenarios/06-rpc.json"),
        include_str!("../../../../../www/scenarios/08-retry-with-dlx.json"),
        include_str!("../../../../../www/scenarios/10-priority-queue.json"),
    ];

    #[test]
    fn the_live_path_runs_a_document_as_the_engine_path_does() {
        for text in DOCUMENTS {
            let mut engine = Simulation::from_json(text, SimOptions::default()).expect("it builds");
            engine.run();
            let live = live(text, &[]);
            assert_eq!(live.transcript(), engine.transcript());
            assert!(live.finished());
        }
    }

    #[test]
    fn checks_counting_unobserved_events_stay_pending_with_the_reason() {
        let sim = live(DOCUMENTS[0], &["requeued"]);
        let results = sim.check_results();
        // Check 3 counts `requeued` events; the others are decided as usual.
        assert_eq!(results[2].status, CheckStatus::Pending);
        assert!(results[2].reason.contains("'requeued' events are not observable"), "{}", results[2].reason);
        assert_eq!(results[1].status, CheckStatus::Pass);
        assert_eq!(results[5].status, CheckStatus::Pass);
    }
}
