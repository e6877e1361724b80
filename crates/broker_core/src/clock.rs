//! Virtual time and the deadline queue: the simulation kernel's ([`sim_kernel::clock`]), shared by every
//! model, under the path the engine, the page and the runners have always used.

pub use sim_kernel::clock::*;
