//! What a scenario's steps run on: the hook between the format-1 interpreter and a broker.
//!
//! The interpreter (variables, pika's argument rules, channel numbering, virtual time) is the same for
//! every broker; only sending a method, opening and closing connections, letting time pass and reporting
//! what happened on its own differ. [`EngineBackend`] runs the steps on this crate's engine; a native
//! runner can implement [`StepBackend`] for a real RabbitMQ (the engine itself stays free of I/O).

use crate::amqp::error::AmqpError;
use crate::amqp::event::LoggedEvent;
use crate::amqp::method::{Method, Reply};
use crate::amqp::types::{ChannelNumber, ConnectionId};
use crate::amqp::{Broker, QueueInfo};
use crate::clock::VirtualTime;

/// A backend could not do what a step asked for reasons outside the scenario (a real broker that
/// cannot be reached, a reply that never came). The run stops with this message at the step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendFailure(pub String);

/// Why advancing time stopped before its target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdvanceStop {
    /// The runaway guard: more timer firings than allowed; `at` is the time reached.
    Runaway { at: VirtualTime },
    /// The backend failed (see [`BackendFailure`]).
    Failure(BackendFailure),
}

/// A broker that scenario steps run on. Every call happens at the interpreter's current virtual time,
/// which never goes back.
pub trait StepBackend {
    /// Opens a connection (the AMQP handshake) named `name`.
    fn connect(&mut self, at: VirtualTime, name: &str) -> Result<ConnectionId, BackendFailure>;

    /// Closes a connection (closing an unknown or closed one does nothing).
    fn close_connection(&mut self, at: VirtualTime, connection: ConnectionId) -> Result<(), BackendFailure>;

    /// Sends one method on a channel and returns the broker's answer: the `-ok` (`Reply::None` for the
    /// asynchronous methods) or the error that closed the channel or the connection.
    fn apply(
        &mut self,
        at: VirtualTime,
        connection: ConnectionId,
        channel: ChannelNumber,
        method: Method,
    ) -> Result<Result<Reply, AmqpError>, BackendFailure>;

    /// Lets time pass until `to`, with what happens on its own on the way (TTL, queue expiry), firing at
    /// most `max_timer_firings` timers.
    fn advance(&mut self, to: VirtualTime, max_timer_firings: u64) -> Result<(), AdvanceStop>;

    /// What happened since the last call, oldest first.
    fn take_events(&mut self) -> Vec<LoggedEvent>;

    /// The queues that exist now, sorted by name, with their counters.
    fn queues(&mut self) -> Vec<QueueInfo>;

    /// Checks internal invariants after a step (panics on a broken one); nothing by default.
    fn check_invariants(&self) {}
}

/// The engine as a [`StepBackend`]: a fresh [`Broker`] run in virtual time.
pub struct EngineBackend {
    pub broker: Broker,
}

impl StepBackend for EngineBackend {
    fn connect(&mut self, at: VirtualTime, name: &str) -> Result<ConnectionId, BackendFailure> {
        Ok(self.broker.connect(at, name))
    }

    fn close_connection(&mut self, at: VirtualTime, connection: ConnectionId) -> Result<(), BackendFailure> {
        self.broker.close_connection(at, connection);
        Ok(())
    }

    fn apply(
        &mut self,
        at: VirtualTime,
        connection: ConnectionId,
        channel: ChannelNumber,
        method: Method,
    ) -> Result<Result<Reply, AmqpError>, BackendFailure> {
        Ok(self.broker.apply(at, connection, channel, method))
    }

    fn advance(&mut self, to: VirtualTime, max_timer_firings: u64) -> Result<(), AdvanceStop> {
        // One instant at a time, so the guard counts firings and a runaway stops where it was.
        let mut fired = 0u64;
        while self.broker.next_deadline().is_some_and(|due| due <= to) {
            if fired >= max_timer_firings {
                return Err(AdvanceStop::Runaway { at: self.broker.now() });
            }
            self.broker.step();
            fired += 1;
        }
        self.broker.advance_to(to);
        Ok(())
    }

    fn take_events(&mut self) -> Vec<LoggedEvent> {
        self.broker.take_events()
    }

    fn queues(&mut self) -> Vec<QueueInfo> {
        self.broker.queues()
    }

    // Not in the page's release build (feature `skip-invariant-checks`), as `SimPort for Broker`'s.
    #[cfg(any(debug_assertions, not(feature = "skip-invariant-checks")))]
    fn check_invariants(&self) {
        self.broker.assert_invariants();
    }
}
