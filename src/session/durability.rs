//! What survives a broker restart or a page reload: the session's side of durable state. The engine
//! decides what is durable ([`Broker::durable_image`], [`Broker::restart`]); the session restarts its
//! broker, hands out the image to store, and boots a manual session from a stored image.

use super::{Engine, Session};
use broker_core::amqp::durable::DurableImage;
use broker_core::amqp::{Broker, BrokerConfig};

impl Session {
    /// "Restart broker": a node restart of the engine's broker now (connections forced closed, transient
    /// entities and messages gone, unacked persistent ones back as redelivered). The UI reconnects on its
    /// next operation.
    pub fn restart_broker(&mut self) {
        // Recorded, so scrubbing back past the restart and forward again repeats it.
        self.apply_recorded(|s: &mut Session| {
            let at = s.now();
            s.broker_mut().restart(at);
            s.absorb();
        });
    }

    /// What the broker would keep if it stopped now (stored with a manual workspace).
    pub fn durable_image(&self) -> DurableImage {
        self.broker().durable_image()
    }

    /// A manual session booted from a stored image (a page reload is a node restart), with the UI's
    /// connection open. A damaged image is refused with the reason.
    pub fn from_durable_image(image: &DurableImage, seed: u64) -> Result<Self, String> {
        let (broker, recovery) =
            Broker::from_durable_image(BrokerConfig::default(), seed, image).map_err(|e| e.to_string())?;
        let mut s = Session::with_engine(Engine::Manual(Box::new(broker)), None);
        s.open_ui_channel();
        s.absorb();
        if !recovery.skipped.is_empty() {
            log::note(&format!("queues not recovered (server-named): {}", recovery.skipped.join(", ")));
        }
        Ok(s)
    }

    // A scenario workspace is not rebuilt here: it opens at its start and the page replays it to its
    // stored moment in animation frames (`AppState::restore_to`), so a far position never blocks the tab.
}

mod log {
    /// A console note (nothing to show in the page: skipped queues are an edge case of server names).
    pub fn note(text: &str) {
        #[cfg(target_arch = "wasm32")]
        web_sys::console::warn_1(&text.into());
        #[cfg(not(target_arch = "wasm32"))]
        let _ = text;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::tests::declare;
    use broker_core::amqp::{BasicProperties, Method};
    use broker_core::VirtualTime;

    #[test]
    fn a_restart_is_repeated_when_the_timeline_is_replayed() {
        let mut s = Session::new(5);
        s.ui_apply(declare("transient", false)).unwrap();
        assert!(s.run_until(VirtualTime(1_000), 1_000));
        s.restart_broker();
        assert!(s.broker().queue("transient").is_none(), "a restart drops a transient queue");
        s.seek(VirtualTime(500));
        assert!(s.broker().queue("transient").is_some(), "before the restart it is there");
        s.seek(VirtualTime(1_000));
        assert!(s.broker().queue("transient").is_none(), "replaying forward restarts again");
    }

    fn publish(queue: &str, mode: u8) -> Method {
        Method::BasicPublish {
            exchange: String::new(),
            routing_key: queue.into(),
            mandatory: false,
            properties: BasicProperties { delivery_mode: Some(mode), ..Default::default() },
            body: format!("{queue}-{mode}").into_bytes(),
            immediate: false,
        }
    }

    fn filled() -> Session {
        let mut s = Session::new(1);
        for (q, durable) in [("keep", true), ("lose", false)] {
            s.ui_apply(declare(q, durable)).unwrap();
            s.ui_apply(publish(q, 2)).unwrap();
            s.ui_apply(publish(q, 1)).unwrap();
        }
        s
    }

    fn contents(s: &Session) -> Vec<(String, Vec<Vec<u8>>)> {
        let b = s.broker();
        b.queues()
            .into_iter()
            .map(|q| (q.name.clone(), b.peek(&q.name).unwrap().into_iter().map(|d| d.body).collect()))
            .collect()
    }

    #[test]
    fn restart_and_reload_keep_exactly_the_durable_persistent_messages() {
        let mut restarted = filled();
        let image = restarted.durable_image();
        restarted.restart_broker();
        let reloaded = Session::from_durable_image(&image, 1).unwrap();
        let expected = vec![("keep".to_string(), vec![b"keep-2".to_vec()])];
        assert_eq!(contents(&restarted), expected);
        assert_eq!(contents(&reloaded), expected);
        // The UI works again after a restart (a fresh connection).
        assert!(restarted.ui_apply(declare("after", false)).is_ok());
    }

    #[test]
    fn a_scenario_replays_to_its_stored_position() {
        let text = crate::scenarios::BUNDLED[0].1;
        let mut live = Session::from_scenario(text).unwrap();
        let at = VirtualTime::from_millis(1_500);
        while !live.run_until(at, 10) {}
        let mut replayed = Session::from_scenario(text).unwrap();
        while !replayed.run_until(at, 1_000) {}
        assert_eq!(replayed.now(), live.now());
        assert_eq!(contents(&replayed), contents(&live));
        assert_eq!(replayed.log().len(), live.log().len());
    }
}
