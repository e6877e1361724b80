//! Argument parsing with Redis's own rules and error texts (`string2ll`, `getTimeoutFromObjectOrReply`,
//! `getRangeLongFromObjectOrReply`, stream ids).
//!
//! Invariants: integers are accepted exactly as Redis's `string2ll` accepts them (an optional `-`, digits,
//! no `+`, no spaces, no leading zeros except `0` itself, within `i64`); every failure is the reply Redis
//! sends for it.

use super::reply::Reply;
use super::stream::StreamId;

pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const SYNTAX: &str = "ERR syntax error";
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// Redis's `string2ll`.
pub fn int(arg: &[u8]) -> Option<i64> {
    let (neg, digits) = match arg {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, arg),
    };
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return None;
    }
    if neg && digits == b"0" {
        return None;
    }
    let magnitude = decimal(digits)?;
    if neg {
        // Down to `i64::MIN`, whose magnitude is one more than `i64::MAX`.
        (magnitude <= i64::MIN.unsigned_abs()).then(|| 0i64.wrapping_sub_unsigned(magnitude))
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Redis's `string2ull` (stream id parts).
pub fn uint(arg: &[u8]) -> Option<u64> {
    if arg.is_empty() || arg.len() > 20 {
        return None;
    }
    decimal(arg)
}

/// ASCII digits as a number: `None` for anything but digits and past `u64::MAX`. Read in one pass
/// (every stream id and count of a command goes through here); up to 19 digits cannot overflow.
fn decimal(digits: &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for &d in digits {
        let digit = d.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = if digits.len() < 20 {
            n * 10 + u64::from(digit)
        } else {
            n.checked_mul(10)?.checked_add(u64::from(digit))?
        };
    }
    Some(n)
}

/// An integer, or Redis's "not an integer" error.
pub fn int_or_err(arg: &[u8]) -> Result<i64, Reply> {
    int(arg).ok_or_else(|| Reply::err(NOT_INTEGER))
}

/// `getPositiveLongFromObjectOrReply`: a non-integer or a negative number both get `message`.
pub fn non_negative(arg: &[u8], message: &str) -> Result<i64, Reply> {
    match int(arg) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(Reply::err(format!("ERR {message}"))),
    }
}

/// A blocking command's timeout in seconds (a float), as milliseconds; 0 means forever.
pub fn timeout_seconds(arg: &[u8]) -> Result<u64, Reply> {
    // Whole seconds (what clients send) read exactly, without the float parser.
    if (1..=9).contains(&arg.len()) && arg.iter().all(u8::is_ascii_digit) {
        return Ok(arg.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')) * 1000);
    }
    let text =
        std::str::from_utf8(arg).map_err(|_| Reply::err("ERR timeout is not a float or out of range"))?;
    let valid = !text.is_empty()
        && !text.starts_with(char::is_whitespace)
        && !text.ends_with(char::is_whitespace)
        && text.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    let value: f64 = match text.parse::<f64>() {
        Ok(v) if valid && v.is_finite() => v,
        _ => return Err(Reply::err("ERR timeout is not a float or out of range")),
    };
    let millis = (value * 1000.0).ceil();
    if millis < 0.0 {
        return Err(Reply::err("ERR timeout is negative"));
    }
    if millis > 1e15 {
        return Err(Reply::err("ERR timeout is out of range"));
    }
    Ok(millis as u64)
}

/// A stream id: `ms-seq`, or `ms` with `missing_seq`; `-` and `+` unless `strict`.
pub fn stream_id(arg: &[u8], missing_seq: u64, strict: bool) -> Result<StreamId, Reply> {
    let invalid = || Reply::err(INVALID_ID);
    if !strict && arg == b"-" {
        return Ok(StreamId::MIN);
    }
    if !strict && arg == b"+" {
        return Ok(StreamId::MAX);
    }
    match arg.iter().position(|&b| b == b'-') {
        None => Ok(StreamId { ms: uint(arg).ok_or_else(invalid)?, seq: missing_seq }),
        Some(i) => Ok(StreamId {
            ms: uint(&arg[..i]).ok_or_else(invalid)?,
            seq: uint(&arg[i + 1..]).ok_or_else(invalid)?,
        }),
    }
}

/// A range bound: `(id` exclusive (strict id), or an id with `-` and `+`.
pub fn interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), Reply> {
    if arg.len() > 1 && arg[0] == b'(' {
        return Ok((stream_id(&arg[1..], missing_seq, true)?, true));
    }
    Ok((stream_id(arg, missing_seq, false)?, false))
}

/// Case-insensitive comparison with an ASCII keyword.
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_read_as_string2ll_and_string2ull_read_them() {
        assert_eq!(int(b"0"), Some(0));
        assert_eq!(int(b"-1"), Some(-1));
        assert_eq!(int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(int(b"9223372036854775808"), None);
        assert_eq!(int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(int(b"-9223372036854775809"), None);
        assert_eq!(int(b"99999999999999999999"), None);
        for refused in [&b""[..], b"-", b"-0", b"01", b"+1", b" 1", b"1 ", b"1.0", b"123456789012345678901"] {
            assert_eq!(int(refused), None, "{:?}", String::from_utf8_lossy(refused));
        }
        assert_eq!(uint(b"007"), Some(7));
        assert_eq!(uint(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(uint(b"18446744073709551616"), None);
        assert_eq!(uint(b"99999999999999999999"), None);
        for refused in [&b""[..], b"-1", b"+1", b"1-", b"123456789012345678901"] {
            assert_eq!(uint(refused), None, "{:?}", String::from_utf8_lossy(refused));
        }
    }
}
