//! `SCAN` over the keyspace, with Redis's cursor: the keys live in a hash table of a power-of-two size,
//! and a cursor is a bucket index whose *reversed* bits are incremented (Redis's `dictScan`), so a key
//! present from the first call to the last is returned at least once even if the table grows or shrinks
//! in between, and an iteration ends when the cursor comes back to 0.
//!
//! The table is modelled, not stored: [`Table`] keeps only its size, sized as Redis's `dict` is (4 on
//! the first key, the next power of two at or above `used + 1` when an insertion finds it full, shrunk
//! back when under a tenth full at a time advance — Redis's cron does it 10 times a second — and 0 after
//! `FLUSHALL`), and a key's bucket is a fixed 64-bit FNV-1a hash of its bytes masked by the size.
//! Redis hashes with SipHash under a seed drawn at each start, so its cursors and the order of keys
//! between calls differ from run to run; the model's are a reproducible stand-in, which is why the
//! golden programs only show iterations whose first call finishes (`COUNT` at least the number of keys)
//! and the comparison sorts the keys of a `KEYS` or `SCAN` reply (`program::compare`).
//!
//! Invariants: the size is 0 or a power of two of at least 4, and never below the number of keys after a
//! command; a call visits at most `COUNT × 10` buckets (Redis's bound), so its work is bounded.

use serde::{Deserialize, Serialize};

use super::args::{self, SYNTAX};
use super::reply::Reply;

/// Redis's `DICT_HT_INITIAL_SIZE`.
pub const INITIAL_SIZE: u64 = 4;
/// Redis's `HASHTABLE_MIN_FILL`: a table under this percentage full is shrunk.
const MIN_FILL_PERCENT: u64 = 10;

/// The size of the keyspace's hash table (its buckets are computed, not stored).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub size: u64,
}

/// The smallest power of two at least `n`, and at least [`INITIAL_SIZE`] (Redis's `_dictNextExp`).
fn next_power(n: u64) -> u64 {
    n.max(INITIAL_SIZE).checked_next_power_of_two().unwrap_or(1 << 63)
}

impl Table {
    /// After a command: a table holding `used` keys has grown as insertions made it (an insertion into a
    /// full table of `size` makes it `next_power(size + 1)`, so the size is the next power of two at or
    /// above the most keys it has held).
    pub fn grow_to(&mut self, used: usize) {
        if used as u64 > self.size || (self.size == 0 && used > 0) {
            self.size = next_power(used as u64);
        }
    }

    /// Redis's cron (`tryResizeHashTables`): a table larger than the initial size and under a tenth full
    /// shrinks to the next power of two at or above its key count.
    pub fn shrink(&mut self, used: usize) {
        if self.size > INITIAL_SIZE && (used as u64) * 100 / self.size < MIN_FILL_PERCENT {
            self.size = next_power(used as u64);
        }
    }

    /// `FLUSHALL` empties the dict, which frees its table.
    pub fn clear(&mut self) {
        self.size = 0;
    }

    pub fn check(&self, used: usize) -> Result<(), String> {
        if self.size != 0 && (!self.size.is_power_of_two() || self.size < INITIAL_SIZE) {
            return Err(format!("the keyspace table's size {} is not a power of two ≥ 4", self.size));
        }
        if (used as u64) > self.size {
            return Err(format!("{used} keys in a keyspace table of {} buckets", self.size));
        }
        Ok(())
    }

    /// The bucket of `key` in this table (its size is not 0).
    pub fn bucket(&self, key: &[u8]) -> u64 {
        fnv1a(key) & (self.size - 1)
    }
}

/// FNV-1a, 64 bits: a fixed hash so the model's buckets are the same on every run.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The cursor after visiting bucket `v & mask` (Redis's `dictScan`): the unmasked bits set, then the
/// reversed cursor incremented.
pub fn next_cursor(v: u64, mask: u64) -> u64 {
    ((v | !mask).reverse_bits().wrapping_add(1)).reverse_bits()
}

/// Redis 7.0's `parseScanCursorOrReply`: C's `strtoul` (an optional sign, decimal digits, a `-`
/// wrapping around; an empty string is 0), refused if it starts with a space, leaves anything
/// unparsed, or overflows 64 bits.
pub fn parse_cursor(arg: &[u8]) -> Result<u64, Reply> {
    let invalid = || Reply::err("ERR invalid cursor");
    if arg.is_empty() {
        return Ok(0);
    }
    if matches!(arg[0], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        return Err(invalid());
    }
    let (neg, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10).and_then(|v| v.checked_add(u64::from(d - b'0'))).ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// `SCAN`'s options after the cursor; the last of each kind wins, as in Redis.
#[derive(Debug, Default)]
pub struct Options {
    pub count: u64,
    pub pattern: Option<Vec<u8>>,
    pub type_name: Option<Vec<u8>>,
}

/// Parses `[MATCH pattern] [COUNT count] [TYPE type]` as Redis 7.0's `scanGenericCommand` does.
pub fn parse_options(rest: &[Vec<u8>]) -> Result<Options, Reply> {
    let mut o = Options { count: 10, ..Options::default() };
    let mut i = 0;
    while i < rest.len() {
        let has_value = rest.len() - i >= 2;
        let word = &rest[i];
        if args::is(word, "count") && has_value {
            let n = args::int_or_err(&rest[i + 1])?;
            if n < 1 {
                return Err(Reply::err(SYNTAX));
            }
            o.count = n as u64;
        } else if args::is(word, "match") && has_value {
            let p = &rest[i + 1];
            // `MATCH *` matches everything: Redis skips the pattern.
            o.pattern = (p.as_slice() != b"*").then(|| p.clone());
        } else if args::is(word, "type") && has_value {
            o.type_name = Some(rest[i + 1].clone());
        } else {
            return Err(Reply::err(SYNTAX));
        }
        i += 2;
    }
    Ok(o)
}

/// One `SCAN` call's visit: starting at `cursor`, the keys of each bucket visited, until `count` keys
/// are collected, `count × 10` more buckets have been visited, or the cursor is back at 0. Returns the
/// next cursor and the keys, unfiltered (the caller applies `MATCH` and `TYPE` afterwards, as Redis
/// does). `keys` are the keyspace's keys; keys sharing a bucket come in key order (Redis: newest first).
pub fn visit<'a>(
    table: &Table,
    keys: impl Iterator<Item = &'a Vec<u8>>,
    cursor: u64,
    count: u64,
) -> (u64, Vec<Vec<u8>>) {
    if table.size == 0 {
        return (0, Vec::new());
    }
    let mut buckets: std::collections::BTreeMap<u64, Vec<&Vec<u8>>> = std::collections::BTreeMap::new();
    for k in keys {
        buckets.entry(table.bucket(k)).or_default().push(k);
    }
    if buckets.is_empty() {
        return (0, Vec::new());
    }
    let mask = table.size - 1;
    let mut out = Vec::new();
    let mut v = cursor;
    let mut budget = count.saturating_mul(10);
    loop {
        if let Some(ks) = buckets.get(&(v & mask)) {
            out.extend(ks.iter().map(|k| (*k).clone()));
        }
        v = next_cursor(v, mask);
        if v == 0 || budget == 0 || out.len() as u64 >= count {
            break;
        }
        budget -= 1;
    }
    (v, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_walks_every_bucket_once_in_reversed_bit_order() {
        // Redis's dict.c comment: a table of 16 buckets is visited 0, 8, 4, 12, 2, 10, …
        let mut v = 0;
        let mut seen = Vec::new();
        loop {
            seen.push(v & 15);
            v = next_cursor(v, 15);
            if v == 0 {
                break;
            }
        }
        assert_eq!(seen, [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15]);
    }

    #[test]
    fn cursors_parse_as_strtoul_with_redis_checks() {
        // Seen on redis-server 7.0.15: `SCAN -1` and `SCAN +5` are cursors, `SCAN " 5"`, `SCAN abc` and
        // `SCAN 18446744073709551616` are "ERR invalid cursor".
        assert_eq!(parse_cursor(b"-1").unwrap(), u64::MAX);
        assert_eq!(parse_cursor(b"+5").unwrap(), 5);
        assert_eq!(parse_cursor(b"18446744073709551615").unwrap(), u64::MAX);
        assert_eq!(parse_cursor(b"").unwrap(), 0);
        for bad in [&b" 5"[..], b"abc", b"18446744073709551616", b"+", b"5 ", b"0x1"] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_key_present_throughout_is_returned_although_the_table_grows_between_calls() {
        let mut table = Table::default();
        let mut keys: Vec<Vec<u8>> = (0..6).map(|i| format!("k{i}").into_bytes()).collect();
        table.grow_to(keys.len());
        assert_eq!(table.size, 8);
        let (mut cursor, mut got) = visit(&table, keys.iter(), 0, 1);
        // The table grows to 64 buckets mid-iteration.
        keys.extend((0..40).map(|i| format!("new{i}").into_bytes()));
        table.grow_to(keys.len());
        assert_eq!(table.size, 64);
        let mut calls = 0;
        while cursor != 0 {
            let (next, more) = visit(&table, keys.iter(), cursor, 1);
            got.extend(more);
            cursor = next;
            calls += 1;
            assert!(calls < 1000);
        }
        for i in 0..6 {
            assert!(got.contains(&format!("k{i}").into_bytes()), "k{i} missed");
        }
        table.shrink(3);
        assert_eq!(table.size, 4);
    }
}
