//! The values documents are written in, shared by every model: times ([`Millis`]), rates ([`Rate`]),
//! probabilities ([`Ratio`]) and expected numbers ([`Comparison`]).
//!
//! # Invariants
//! - Every value is integer arithmetic once read (a rate is kept per 1,000 s, a probability as `p/q`), so
//!   native and wasm runs agree exactly.
//! - A time is at most [`MAX_TIME_MILLIS`]; reading a larger one is an error that says so.

use crate::clock::VirtualTime;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The latest virtual time a scenario may name or reach, in milliseconds: 2^53 − 1, about 285,000 years.
/// It is the largest integer JavaScript keeps exact, so a time survives the page's JSON and `postMessage`
/// unchanged, and the sum of two such times stays far below `u64::MAX` (nothing saturates silently).
/// Every time a scenario or document writes, and the clock a scenario's waits move, is checked
/// against it with an error that says so.
pub const MAX_TIME_MILLIS: u64 = (1 << 53) - 1;

/// A duration or a point in virtual time, in milliseconds. In JSON: an integer (milliseconds) or a
/// string `"250ms"`, `"1.5s"`, `"2m"`, `"1h"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    /// Parses `"250ms"`, `"1.5s"`, `"2m"`, `"1h"` (a whole number of milliseconds in the end), at most
    /// [`MAX_TIME_MILLIS`].
    pub fn parse(text: &str) -> Result<Millis, String> {
        let t = text.trim();
        if t.starts_with('-') {
            return Err(format!("a duration cannot be negative ('{text}')"));
        }
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let scale: u64 = match unit.trim() {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "" => return Err(format!("duration '{text}' needs a unit (ms, s, m, h)")),
            other => return Err(format!("unknown duration unit '{other}' in '{text}' (use ms, s, m, h)")),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return Err(format!("'{text}' is not a duration"));
        }
        let too_long = || format!("duration '{text}' is too long: {}", Millis::MAX_TEXT);
        // Digits only here: a number past u64 is too long, not malformed.
        let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_long())? };
        // The fraction in integer arithmetic: "1.5s" is 1,500 ms exactly, and "1.0005s" is refused
        // rather than rounded.
        let mut millis = whole.checked_mul(scale).ok_or_else(too_long)?;
        let mut place = scale;
        for digit in fraction.chars() {
            let d = u64::from(digit.to_digit(10).ok_or_else(|| format!("'{text}' is not a duration"))?);
            if place % 10 != 0 {
                return Err(format!("duration '{text}' is finer than a millisecond"));
            }
            place /= 10;
            millis = millis.checked_add(d * place).ok_or_else(too_long)?;
        }
        if millis > MAX_TIME_MILLIS {
            return Err(too_long());
        }
        Ok(Millis(millis))
    }

    /// What the error texts say about the longest time.
    pub const MAX_TEXT: &'static str =
        "times are at most 9007199254740991 ms (2^53 - 1, about 285,000 years)";
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", VirtualTime(self.0))
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a duration: milliseconds as an integer, or a string like \"250ms\", \"1.5s\", \"2m\"",
                )
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millis, E> {
                if v > MAX_TIME_MILLIS {
                    return Err(E::custom(format!("the duration {v} ms is too long: {}", Millis::MAX_TEXT)));
                }
                Ok(Millis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Millis, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("a duration cannot be negative ({v})"))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Millis, E> {
                // serde_json reads an integer past u64 (or with a fraction or exponent) as a float.
                if v < 0.0 {
                    Err(E::custom(format!("a duration cannot be negative ({v})")))
                } else if v.fract() == 0.0 {
                    Err(E::custom(format!("the duration {v} ms is too long: {}", Millis::MAX_TEXT)))
                } else {
                    Err(E::custom(format!(
                        "a duration in milliseconds is a whole number ({v}); write \"1.5s\" for fractions"
                    )))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Millis, E> {
                Millis::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Messages per second, kept as messages per 1,000 seconds so schedules are integer arithmetic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rate {
    pub per_kilosecond: u64,
}

impl Rate {
    pub fn per_second(rate: u64) -> Rate {
        Rate { per_kilosecond: rate.saturating_mul(1_000) }
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.per_kilosecond % 1_000 == 0 {
            s.serialize_u64(self.per_kilosecond / 1_000)
        } else {
            s.serialize_f64(self.per_kilosecond as f64 / 1_000.0)
        }
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        // IEEE multiplication and rounding are exact operations, identical natively and in wasm.
        if !(0.0..=1e12).contains(&v) {
            return Err(de::Error::custom(format!("a rate is messages per second, 0 or more (got {v})")));
        }
        Ok(Rate { per_kilosecond: (v * 1_000.0).round() as u64 })
    }
}

/// An integer probability `p/q`, written `"1/10"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    pub numerator: u64,
    pub denominator: u64,
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}/{}", self.numerator, self.denominator))
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bad = || {
            de::Error::custom(format!("a probability is \"p/q\" with 0 <= p <= q and q > 0, got '{text}'"))
        };
        let (p, q) = text.split_once('/').ok_or_else(bad)?;
        let numerator: u64 = p.trim().parse().map_err(|_| bad())?;
        let denominator: u64 = q.trim().parse().map_err(|_| bad())?;
        if denominator == 0 || numerator > denominator {
            return Err(bad());
        }
        Ok(Ratio { numerator, denominator })
    }
}

/// How an observed number compares with the expected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">")]
    Gt,
}

/// An expected number: `3` (equal) or a string `"<= 3"`, `">= 10"`, `"< 5"`, `"> 0"`, `"= 3"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub op: Op,
    pub value: u64,
}

impl Comparison {
    pub fn holds(&self, observed: u64) -> bool {
        match self.op {
            Op::Eq => observed == self.value,
            Op::Le => observed <= self.value,
            Op::Ge => observed >= self.value,
            Op::Lt => observed < self.value,
            Op::Gt => observed > self.value,
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Eq => "=",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Gt => ">",
        };
        write!(f, "{op} {}", self.value)
    }
}

impl Serialize for Comparison {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.op {
            Op::Eq => s.serialize_u64(self.value),
            _ => s.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Comparison {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Comparison;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number, or a string like \"<= 3\", \">= 10\", \"= 0\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Comparison, E> {
                Ok(Comparison { op: Op::Eq, value: v })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Comparison, E> {
                let t = v.trim();
                let (op, rest) =
                    [("<=", Op::Le), (">=", Op::Ge), ("=", Op::Eq), ("<", Op::Lt), (">", Op::Gt)]
                        .iter()
                        .find_map(|(p, op)| t.strip_prefix(p).map(|rest| (*op, rest)))
                        .unwrap_or((Op::Eq, t));
                let value = rest
                    .trim()
                    .parse()
                    .map_err(|_| E::custom(format!("'{v}' is not a comparison like \">= 3\"")))?;
                Ok(Comparison { op, value })
            }
        }
        d.deserialize_any(V)
    }
}
