//! A RabbitMQ definitions.json imported into a fresh engine; the broker's invariants hold after it.
#![no_main]
use broker_core::amqp::{definitions, Broker, BrokerConfig};
use broker_core::scenario;
use broker_core::VirtualTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = scenario::decode_source(bytes) else { return };
    let mut broker = Broker::new(BrokerConfig::default(), 0);
    if definitions::import_json(&mut broker, VirtualTime::ZERO, text).is_ok() {
        broker.assert_invariants();
    }
});
