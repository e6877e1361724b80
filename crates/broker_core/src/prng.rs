//! The seeded pseudo-random generator: the simulation kernel's ([`sim_kernel::prng`]), shared by every
//! model, under the path the engine, the page and the runners have always used.

pub use sim_kernel::prng::*;
