//! How long an actor works on one item: a fixed time or a seeded random one ([`Processing`]), drawn in
//! integer arithmetic so native and wasm agree to the millisecond ([`exponential_millis`]).

use crate::prng::Prng;
use crate::values::Millis;
use serde::{Deserialize, Serialize};

/// How long a consumer works on one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Processing {
    /// Always this long.
    Fixed(Millis),
    /// A seeded random time.
    Random(Distribution),
}

impl Default for Processing {
    fn default() -> Self {
        Processing::Fixed(Millis(0))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Distribution {
    /// Uniform between two times, inclusive.
    Uniform([Millis; 2]),
    /// Exponential with this mean.
    Exponential(Millis),
}

impl Processing {
    /// One processing time, drawn from `prng` when it is random (one draw per call, so the seeded
    /// sequence is part of a run's behaviour).
    pub fn draw(&self, prng: &mut Prng) -> u64 {
        match self {
            Processing::Fixed(m) => m.0,
            Processing::Random(Distribution::Uniform([lo, hi])) => prng.range_inclusive(lo.0, hi.0),
            Processing::Random(Distribution::Exponential(mean)) => exponential_millis(prng, mean.0),
        }
    }
}

/// An exponentially distributed time with the given mean, by inversion in fixed point:
/// `mean · −ln(u)` with `u` uniform in (0, 1] on a 2^-32 grid, `ln` from a bit-by-bit binary logarithm.
/// Integer arithmetic only, so native and wasm agree to the millisecond.
pub fn exponential_millis(prng: &mut Prng, mean_millis: u64) -> u64 {
    if mean_millis == 0 {
        return 0;
    }
    let u = prng.below(1 << 32) + 1; // 1..=2^32
                                     // log2(u) in Q32: the integer part from the top bit, the fraction by repeated squaring.
    let int_part = 63 - u64::from(u.leading_zeros());
    let mut x: u128 = (u128::from(u) << 62) >> int_part; // x in [1, 2) as Q62
    let one: u128 = 1 << 62;
    let mut frac: u64 = 0;
    for bit in (0..32).rev() {
        x = (x * x) >> 62;
        if x >= 2 * one {
            x >>= 1;
            frac |= 1 << bit;
        }
    }
    let log2_q32 = (int_part << 32) | frac;
    let neg_log2_q32 = (32u64 << 32) - log2_q32;
    const LN2_Q32: u128 = 2_977_044_472; // ln 2 · 2^32
    let neg_ln_q32 = (u128::from(neg_log2_q32) * LN2_Q32) >> 32;
    let millis = (u128::from(mean_millis) * neg_ln_q32 + (1 << 31)) >> 32;
    u64::try_from(millis).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_has_about_the_mean_and_is_deterministic() {
        let mut p = Prng::new(1);
        let n = 20_000u64;
        let total: u64 = (0..n).map(|_| exponential_millis(&mut p, 100)).sum();
        let mean = total / n;
        assert!((95..=105).contains(&mean), "mean {mean}");
        let mut a = Prng::new(9);
        let mut b = Prng::new(9);
        assert_eq!(exponential_millis(&mut a, 250), exponential_millis(&mut b, 250));
    }
}
