//! The baseline the simulation benches compare with, shared so both measure the same loop: a bare
//! discrete-event loop on a `BinaryHeap` of `(due, seq, payload)` timers, `live` of them pending, each pop
//! scheduling a successor a pseudo-random 1–8 ms later (xorshift). The cost of merely scheduling events,
//! with no broker behind them.
//!
//! A directory module, not `benches/*.rs`, so that Cargo does not take it for a bench target of its own.

// Benchmarks measure wall time by definition; the engine itself never reads a clock.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Instant;

/// Wall seconds for `firings` pops of the timer loop with `live` timers pending.
pub fn heap_timer_seconds(firings: u64, live: u64) -> f64 {
    let mut heap: BinaryHeap<Reverse<(u64, u64, u64)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..live {
        heap.push(Reverse((i, seq, i)));
        seq += 1;
    }
    let started = Instant::now();
    let mut sum = 0u64;
    for _ in 0..firings {
        let Reverse((due, _, payload)) = heap.pop().expect("never empty");
        sum = sum.wrapping_add(payload);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        heap.push(Reverse((due + 1 + (x & 7), seq, payload)));
        seq += 1;
    }
    black_box(sum);
    started.elapsed().as_secs_f64()
}
