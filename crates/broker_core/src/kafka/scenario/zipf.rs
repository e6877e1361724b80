//! Zipf key weights with a decimal exponent, the same on every platform.
//!
//! A Zipf distribution over ranks `1..=n` gives rank `k` the weight `1/k^s`. For a whole `s` the weights
//! are exact integers (`10^30 / k^s`); for a decimal `s` (thousandths, `1.2`, `0.85`), `k^s` is
//! `exp(s·ln k)` computed here from additions, multiplications and divisions only. IEEE 754 rounds those
//! exactly the same way on every platform, whereas the platform's `powf`, `ln` and `exp` (its libm) may
//! differ in the last bit between native code and WebAssembly; so one seed draws the same keys everywhere.
//!
//! # Invariants
//! - [`Exponent`] holds thousandths from 1 (0.001) to 4000 (4); whole exponents keep the integer weights.
//! - The weights are positive and do not rise with the rank; their cumulative sums rise strictly.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// The largest exponent, in thousandths (4).
pub const MAX_EXPONENT_THOUSANDTHS: u32 = 4_000;

/// A Zipf exponent `s`, in thousandths: written as a JSON number with at most three decimals (`1`, `1.2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exponent {
    pub thousandths: u32,
}

impl Exponent {
    pub fn whole(s: u32) -> Exponent {
        Exponent { thousandths: s.saturating_mul(1000) }
    }

    /// Within 0.001 ..= 4.
    pub fn in_range(self) -> bool {
        (1..=MAX_EXPONENT_THOUSANDTHS).contains(&self.thousandths)
    }
}

impl Serialize for Exponent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.thousandths % 1000 == 0 {
            s.serialize_u32(self.thousandths / 1000)
        } else {
            s.serialize_f64(f64::from(self.thousandths) / 1000.0)
        }
    }
}

impl<'de> Deserialize<'de> for Exponent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let x = f64::deserialize(d)?;
        let scaled = x * 1000.0;
        let rounded = scaled.round();
        if !(0.0..=f64::from(u32::MAX)).contains(&rounded) || (scaled - rounded).abs() > 1e-6 {
            return Err(de::Error::custom(format!(
                "a Zipf exponent is a number with at most three decimals, got {x}"
            )));
        }
        Ok(Exponent { thousandths: rounded as u32 })
    }
}

/// The cumulative weights of ranks `1..=keys` (rank `k` weighs `10^30 / k^s`).
pub fn cumulative_weights(keys: u64, s: Exponent) -> Vec<u128> {
    let mut total = 0u128;
    (1..=keys)
        .map(|k| {
            total += weight(k, s);
            total
        })
        .collect()
}

/// `10^30 / k^s`, exact for a whole `s` (k^s <= 10^20 for k <= 10^5 and s <= 4).
fn weight(k: u64, s: Exponent) -> u128 {
    const SCALE: u128 = 10u128.pow(30);
    if s.thousandths % 1000 == 0 {
        return SCALE / u128::from(k).pow(s.thousandths / 1000);
    }
    // 10^30 · e^(-s·ln k): at least 10^10 here, so the conversion keeps 15 significant digits.
    let power = exp(-(f64::from(s.thousandths) / 1000.0) * ln(k as f64));
    ((SCALE as f64) * power) as u128
}

/// `ln x` for `x >= 1`: `x = m·2^e` with `m` in `[1, 2)` (exact, from the bits), then
/// `ln m = 2·atanh((m-1)/(m+1))` by its series (`z <= 1/3`: 40 terms are far below an ulp).
fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    let mut term = z;
    let mut sum = 0.0;
    for n in 0..40 {
        sum += term / f64::from(2 * n + 1);
        term *= z2;
    }
    (e as f64) * std::f64::consts::LN_2 + 2.0 * sum
}

/// `e^y` for `y <= 0` (down to about -700): `y = n·ln 2 + r` with `r` in `[0, ln 2)`, `e^r` by its Taylor
/// series (30 terms), `2^n` exactly from the bits.
fn exp(y: f64) -> f64 {
    let n = (y / std::f64::consts::LN_2).floor();
    let r = y - n * std::f64::consts::LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..30 {
        term = term * r / f64::from(i);
        sum += term;
    }
    let n = n as i64;
    if n < -1022 {
        return 0.0;
    }
    sum * f64::from_bits(((1023 + n) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values of `k^-s` from Python's `decimal` module at 40 digits (`Decimal(k) ** -Decimal(s)`),
    /// as the nearest `f64`.
    const POWERS: &[(u64, u32, f64)] = &[
        (2, 1500, 0.3535533905932738),
        (3, 1200, 0.2675805205867436),
        (10, 500, 0.31622776601683794),
        (7, 850, 0.19127872400120866),
        (100_000, 3_999, 1.0115794542598985e-20),
        (12_345, 1, 0.9906232322458391),
    ];

    #[test]
    fn powers_agree_with_reference_values_to_a_few_ulps() {
        for &(k, t, want) in POWERS {
            let got = exp(-(f64::from(t) / 1000.0) * ln(k as f64));
            let rel = ((got - want) / want).abs();
            assert!(rel < 1e-14, "{k}^-{t}/1000: got {got:e}, want {want:e} (relative error {rel:e})");
        }
    }

    #[test]
    fn whole_exponents_keep_the_integer_weights_and_weights_fall_with_the_rank() {
        let whole = cumulative_weights(5, Exponent::whole(2));
        assert_eq!(whole[0], 10u128.pow(30));
        assert_eq!(whole[1] - whole[0], 10u128.pow(30) / 4);
        let decimal = cumulative_weights(1000, Exponent { thousandths: 1200 });
        let weights: Vec<u128> =
            decimal.iter().scan(0u128, |prev, c| Some(c - std::mem::replace(prev, *c))).collect();
        assert!(weights.windows(2).all(|w| w[0] >= w[1] && w[1] > 0));
    }

    #[test]
    fn exponents_are_numbers_with_at_most_three_decimals() {
        let parse = |t: &str| serde_json::from_str::<Exponent>(t);
        assert_eq!(parse("1").unwrap(), Exponent { thousandths: 1000 });
        assert_eq!(parse("1.2").unwrap(), Exponent { thousandths: 1200 });
        assert_eq!(parse("0.855").unwrap(), Exponent { thousandths: 855 });
        assert!(parse("1.2345").is_err());
        assert!(parse("-1").is_err());
        assert_eq!(serde_json::to_string(&Exponent { thousandths: 1200 }).unwrap(), "1.2");
        assert_eq!(serde_json::to_string(&Exponent::whole(3)).unwrap(), "3");
    }
}
