//! A client's link to the system it talks to: its connection, the latency each way, and the epoch that
//! makes wake-ups meant for a lost connection harmless.
//!
//! # Invariants
//! - With a latency `L`, a command sent at `t` arrives at `max(t + L, last arrival)`: lowering the
//!   latency (a fault) never reorders traffic in either direction.
//! - `epoch` is bumped whenever the connection goes; a wake-up carries the epoch it was scheduled in and
//!   is dropped when it no longer matches.

use crate::clock::VirtualTime;
use crate::values::Millis;

/// An actor's link; `C` is the model's connection handle.
#[derive(Clone, Debug)]
pub struct Link<C> {
    pub name: String,
    pub conn: Option<C>,
    /// Bumped whenever the connection goes, so wake-ups meant for the old one are ignored.
    pub epoch: u64,
    pub latency_millis: u64,
    pub reconnect_after_millis: u64,
    /// Latest arrival scheduled each way, so a lowered latency never reorders traffic.
    pub last_send: VirtualTime,
    pub last_receive: VirtualTime,
    /// Stopped for good (a stop, a crash without restart, an error it cannot recover from).
    pub gone: bool,
    /// Crashed and not (yet) restarted: observation only.
    pub crashed: bool,
}

impl<C> Link<C> {
    pub fn new(name: &str, latency: Millis, reconnect_after: Millis) -> Link<C> {
        Link {
            name: name.to_string(),
            conn: None,
            epoch: 0,
            latency_millis: latency.0,
            reconnect_after_millis: reconnect_after.0,
            last_send: VirtualTime::ZERO,
            last_receive: VirtualTime::ZERO,
            gone: false,
            crashed: false,
        }
    }

    /// The connection goes (a stop, a crash, a dropped connection): it is taken out and the epoch moves
    /// on, so wake-ups meant for it are dropped. `None` (and nothing changes) when there was none.
    pub fn disconnect(&mut self) -> Option<C> {
        let conn = self.conn.take()?;
        self.epoch += 1;
        Some(conn)
    }

    /// A crash fault at `now`: the connection goes (as [`disconnect`](Self::disconnect)), the client is
    /// marked crashed, and gone for good unless it restarts. Returns the connection to close and when the
    /// client comes back (`now + restart_after`; `None`: never); `None` (nothing changes) when it had no
    /// connection.
    pub fn crash(
        &mut self,
        now: VirtualTime,
        restart_after: Option<Millis>,
    ) -> Option<(C, Option<VirtualTime>)> {
        let conn = self.disconnect()?;
        self.crashed = true;
        if restart_after.is_none() {
            self.gone = true;
        }
        Some((conn, restart_after.map(|after| now.plus_millis(after.0))))
    }

    /// A dropped-connection fault at `now`: the connection goes (as [`disconnect`](Self::disconnect)).
    /// Returns it, to close, and when the client reconnects (after its reconnect delay); `None` (nothing
    /// changes) when it had no connection.
    pub fn drop_connection(&mut self, now: VirtualTime) -> Option<(C, VirtualTime)> {
        let conn = self.disconnect()?;
        Some((conn, now.plus_millis(self.reconnect_after_millis)))
    }

    /// The system closed the client's connection itself at `now` (its restart): the connection is
    /// forgotten, the epoch moves on, and the client reconnects at the returned time.
    pub fn lost(&mut self, now: VirtualTime) -> VirtualTime {
        self.conn = None;
        self.epoch += 1;
        now.plus_millis(self.reconnect_after_millis)
    }

    /// When a command sent `now` arrives (call only with a latency: without one it is applied at once).
    pub fn send_arrival(&mut self, now: VirtualTime) -> VirtualTime {
        let arrival = now.plus_millis(self.latency_millis).max(self.last_send);
        self.last_send = arrival;
        arrival
    }

    /// When something emitted `now` reaches the client (with a latency, as [`send_arrival`](Self::send_arrival)).
    pub fn receive_arrival(&mut self, now: VirtualTime) -> VirtualTime {
        let arrival = now.plus_millis(self.latency_millis).max(self.last_receive);
        self.last_receive = arrival;
        arrival
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lowered_latency_never_reorders_traffic() {
        let mut link: Link<u32> = Link::new("c", Millis(100), Millis(0));
        assert_eq!(link.send_arrival(VirtualTime(0)), VirtualTime(100));
        link.latency_millis = 10;
        // Sent later with a shorter latency, it still arrives after the first.
        assert_eq!(link.send_arrival(VirtualTime(20)), VirtualTime(100));
        assert_eq!(link.send_arrival(VirtualTime(200)), VirtualTime(210));
        assert_eq!(link.receive_arrival(VirtualTime(5)), VirtualTime(15));
    }

    #[test]
    fn a_disconnect_moves_the_epoch_only_when_there_was_a_connection() {
        let mut link: Link<u32> = Link::new("c", Millis(0), Millis(0));
        assert_eq!(link.disconnect(), None);
        assert_eq!(link.epoch, 0);
        (link.conn, link.epoch) = (Some(7), 1);
        assert_eq!(link.disconnect(), Some(7));
        assert_eq!((link.conn, link.epoch), (None, 2));
    }

    #[test]
    fn faults_time_the_comeback_and_mark_the_client() {
        let mut link: Link<u32> = Link::new("c", Millis(0), Millis(250));
        assert_eq!(
            link.crash(VirtualTime(1_000), Some(Millis(500))),
            None,
            "no connection, nothing to crash"
        );
        assert!(!link.crashed);
        link.conn = Some(1);
        assert_eq!(link.crash(VirtualTime(1_000), Some(Millis(500))), Some((1, Some(VirtualTime(1_500)))));
        assert_eq!((link.crashed, link.gone, link.epoch), (true, false, 1));
        link.conn = Some(2);
        assert_eq!(link.crash(VirtualTime(2_000), None), Some((2, None)));
        assert_eq!((link.gone, link.epoch), (true, 2));

        let mut link: Link<u32> = Link::new("c", Millis(0), Millis(250));
        assert_eq!(link.drop_connection(VirtualTime(10)), None);
        link.conn = Some(3);
        assert_eq!(link.drop_connection(VirtualTime(10)), Some((3, VirtualTime(260))));
        assert_eq!((link.conn, link.epoch, link.crashed, link.gone), (None, 1, false, false));
        // Lost without a connection still moves the epoch: wake-ups meant for the old one are dropped.
        assert_eq!(link.lost(VirtualTime(20)), VirtualTime(270));
        assert_eq!(link.epoch, 2);
    }
}
