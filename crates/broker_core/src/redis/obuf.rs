//! Clients' output buffers and `client-output-buffer-limit`, as redis-server 7.0 keeps them: what a
//! subscriber has been sent and has not read yet, and the limits that cut it off.
//!
//! Redis writes a reply into the client's static buffer (16 KB) while its reply list is empty, and the
//! rest into a list of blocks, each at least 16 KB (the allocator's size class of the bytes it needs:
//! jemalloc's four classes per doubling). The memory a limit is compared with is the list's: the blocks'
//! sizes plus 40 bytes of bookkeeping per block; the static buffer is free. Redis checks the limits when
//! it adds a block and once per `clientsCron` pass, at least once a second; the server writes
//! a client's buffer to its socket at the end of each event-loop turn, so a client that reads keeps an
//! empty buffer, and one that does not read lets it grow.
//!
//! - **Hard limit**: the client is closed as soon as the memory reaches it (`>=`).
//! - **Soft limit**: the first time the memory is seen at or above it, Redis notes the Unix second; a
//!   later check still at or above it more than `soft_seconds` whole seconds after that closes the
//!   client; a check below it forgets the note. An empty list is never checked, so a subscriber that
//!   reads everything at once but is sent a large burst now and then keeps its note across the bursts.
//!
//! Simplification: redis-server's `clientsCron` shrinks an idle client's static buffer to as little as
//! 1 KB (the peak it used, reset every 5 s); the model keeps 16 KB, so a burst of 1–16 KB may reach the
//! list on a real server and not here (the goldens keep clear of that band). Only the pub/sub class's
//! limits are enforced: the model counts the messages pushed to subscribers, not ordinary replies.
//!
//! Invariants: a buffer's list is empty unless its static buffer is full; every block is at least
//! [`REPLY_CHUNK_BYTES`] and holds at most its size.

use serde::{Deserialize, Serialize};

use super::reply::Reply;

/// `PROTO_REPLY_CHUNK_BYTES`: the static buffer and the smallest block of the reply list.
pub const REPLY_CHUNK_BYTES: u64 = 16 * 1024;
/// `sizeof(clientReplyBlock)`: the header of each block, inside its allocation.
const BLOCK_HEADER_BYTES: u64 = 16;
/// `sizeof(listNode) + sizeof(clientReplyBlock)`, counted per block on top of the blocks' sizes.
const PER_BLOCK_BYTES: u64 = 24 + 16;

/// One class's limits: bytes (0: none) and seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: i64,
}

/// `client-output-buffer-limit`: the normal, replica and pub/sub classes' limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub normal: Limit,
    pub replica: Limit,
    pub pubsub: Limit,
}

impl Default for Limits {
    /// redis-server 7.0's defaults: `normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60`.
    fn default() -> Limits {
        Limits {
            normal: Limit { hard_bytes: 0, soft_bytes: 0, soft_seconds: 0 },
            replica: Limit { hard_bytes: 256 << 20, soft_bytes: 64 << 20, soft_seconds: 60 },
            pubsub: Limit { hard_bytes: 32 << 20, soft_bytes: 8 << 20, soft_seconds: 60 },
        }
    }
}

const WRONG_NUMBER: &str = "Wrong number of arguments in buffer limit configuration.";
const BAD_CLASS: &str = "Invalid client class specified in buffer limit configuration.";
const BAD_VALUE: &str = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";

impl Limits {
    pub fn is_default(&self) -> bool {
        *self == Limits::default()
    }

    /// The value `CONFIG GET client-output-buffer-limit` prints.
    pub fn config_value(&self) -> String {
        let one = |l: &Limit| format!("{} {} {}", l.hard_bytes, l.soft_bytes, l.soft_seconds);
        format!("normal {} slave {} pubsub {}", one(&self.normal), one(&self.replica), one(&self.pubsub))
    }

    /// These limits with `CONFIG SET client-output-buffer-limit value` applied: `class hard soft seconds`
    /// groups separated by single spaces (classes `normal`, `slave`/`replica`, `pubsub`; bytes with
    /// Redis's units `b`, `k`, `kb`, `m`, `mb`, `g`, `gb`), checked in order; Redis's reason when refused.
    pub fn with_config(&self, value: &[u8]) -> Result<Limits, &'static str> {
        let text = String::from_utf8_lossy(value);
        let words: Vec<&str> = if text.is_empty() { Vec::new() } else { text.split(' ').collect() };
        if words.len() % 4 != 0 {
            return Err(WRONG_NUMBER);
        }
        let mut out = *self;
        for quad in words.chunks(4) {
            let class = quad[0].to_ascii_lowercase();
            let slot = match class.as_str() {
                "normal" => &mut out.normal,
                "slave" | "replica" => &mut out.replica,
                "pubsub" => &mut out.pubsub,
                _ => return Err(BAD_CLASS),
            };
            let hard = memory_bytes(quad[1]).ok_or(BAD_VALUE)?;
            let soft = memory_bytes(quad[2]).ok_or(BAD_VALUE)?;
            let seconds = seconds(quad[3]).ok_or(BAD_VALUE)?;
            *slot = Limit { hard_bytes: hard, soft_bytes: soft, soft_seconds: seconds };
        }
        Ok(out)
    }
}

/// Redis's `memtoull`: digits, then no unit or one of `b k kb m mb g gb` (any case); no sign. Digits past
/// what 64 bits hold give the largest value, and the unit's product wraps, as `strtoull` and C's
/// unsigned arithmetic do.
fn memory_bytes(word: &str) -> Option<u64> {
    let digits_end = word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len());
    let (digits, unit) = word.split_at(digits_end);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() >= 128 {
        return None;
    }
    let value = digits.bytes().fold(0u64, |v, d| v.saturating_mul(10).saturating_add(u64::from(d - b'0')));
    Some(value.wrapping_mul(multiplier))
}

/// `strtoll` of the whole word (an optional sign, digits; nothing at all is 0), in range, not negative.
fn seconds(word: &str) -> Option<i64> {
    let (negative, digits) = match word.as_bytes().first() {
        Some(b'+') => (false, &word[1..]),
        Some(b'-') => (true, &word[1..]),
        _ => (false, word),
    };
    if word.is_empty() {
        return Some(0);
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    (!negative || n == 0).then_some(n)
}

/// The allocator's usable size for a request of `n` bytes (jemalloc's size classes: four per doubling
/// above 32 bytes).
fn usable_bytes(n: u64) -> u64 {
    if n <= 32 {
        return n.next_power_of_two().max(8);
    }
    let k = 63 - (n - 1).leading_zeros();
    let step = 1u64 << (k - 2);
    n.div_ceil(step) * step
}

/// One client's output: what Redis holds for it that it has not read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputBuffer {
    /// Bytes in the static buffer.
    pub static_bytes: u64,
    /// The reply list's blocks: (size, used).
    pub blocks: Vec<(u64, u64)>,
    /// The Unix second the soft limit was first seen reached (Redis's `obuf_soft_limit_reached_time`).
    pub soft_since: Option<u64>,
}

impl OutputBuffer {
    /// The memory the limits are compared with (`getClientOutputBufferMemoryUsage`).
    pub fn memory_bytes(&self) -> u64 {
        self.blocks.iter().map(|(size, _)| size + PER_BLOCK_BYTES).sum()
    }

    /// Bytes sent and not yet read.
    pub fn pending_bytes(&self) -> u64 {
        self.static_bytes + self.blocks.iter().map(|(_, used)| used).sum::<u64>()
    }

    /// Appends `len` bytes of one `addReply…` call; returns whether a block was added (when Redis
    /// checks the limits).
    fn append(&mut self, mut len: u64) -> bool {
        if self.blocks.is_empty() {
            let take = len.min(REPLY_CHUNK_BYTES - self.static_bytes);
            self.static_bytes += take;
            len -= take;
        }
        if len == 0 {
            return false;
        }
        if let Some((size, used)) = self.blocks.last_mut() {
            let take = len.min(*size - *used);
            *used += take;
            len -= take;
        }
        if len == 0 {
            return false;
        }
        let size = usable_bytes(len.max(REPLY_CHUNK_BYTES) + BLOCK_HEADER_BYTES) - BLOCK_HEADER_BYTES;
        self.blocks.push((size, len));
        true
    }

    /// Appends a pushed message piece by piece as Redis 7.0's `addPubsubMessage` writes it (the array
    /// header, the shared kind bulk, then each bulk's length line, bytes and CRLF); returns whether a
    /// check after one of the pieces says to close the client (it is then written no further).
    pub fn push(&mut self, message: &Reply, limit: &Limit, unix_seconds: u64) -> bool {
        let Reply::Array(items) = message else { return false };
        let mut pieces = vec![format!("*{}\r\n", items.len()).len() as u64];
        for (i, item) in items.iter().enumerate() {
            let Reply::Bulk(bytes) = item else { continue };
            let header = format!("${}\r\n", bytes.len()).len() as u64;
            if i == 0 {
                pieces.push(header + bytes.len() as u64 + 2);
            } else {
                pieces.extend([header, bytes.len() as u64, 2]);
            }
        }
        for len in pieces {
            if self.append(len) && self.over(limit, unix_seconds) {
                return true;
            }
        }
        false
    }

    /// Redis's `checkClientOutputBufferLimits` (not called for an empty list): whether to close now;
    /// notes or forgets when the soft limit was reached.
    pub fn over(&mut self, limit: &Limit, unix_seconds: u64) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let used = self.memory_bytes();
        let hard = limit.hard_bytes > 0 && used >= limit.hard_bytes;
        let mut soft = limit.soft_bytes > 0 && used >= limit.soft_bytes;
        if soft {
            match self.soft_since {
                None => {
                    self.soft_since = Some(unix_seconds);
                    soft = false;
                }
                Some(since) => {
                    if (unix_seconds.saturating_sub(since) as i64) <= limit.soft_seconds {
                        soft = false;
                    }
                }
            }
        } else {
            self.soft_since = None;
        }
        hard || soft
    }

    /// The client read everything (Redis wrote it to the socket): the buffers are empty, the soft
    /// limit's note stays.
    pub fn drain(&mut self) {
        self.static_bytes = 0;
        self.blocks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_parse_as_redis_7_0_parses_them() {
        let d = Limits::default();
        assert_eq!(d.config_value(), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
        let l = d.with_config(b"pubsub 1k 2gb 3 normal 5 6 7").unwrap();
        assert_eq!(l.config_value(), "normal 5 6 7 slave 268435456 67108864 60 pubsub 1000 2147483648 3");
        assert_eq!(d.with_config(b"").unwrap(), d);
        assert_eq!(d.with_config(b"REPLICA 1Mb 1b +3").unwrap().replica.hard_bytes, 1 << 20);
        assert_eq!(d.with_config(b"pubsub 1 2 -0").unwrap().pubsub.soft_seconds, 0);
        assert_eq!(d.with_config(b"pubsub 1 2 03").unwrap().pubsub.soft_seconds, 3);
        assert_eq!(d.with_config(b"pubsub 99999999999999999999 0 0").unwrap().pubsub.hard_bytes, u64::MAX);
        assert_eq!(d.with_config(b"pubsub  7   8 9"), Err(WRONG_NUMBER));
        // Empty words are numbers of nothing: 0.
        assert_eq!(
            d.with_config(b"pubsub 1 2 ").unwrap().pubsub,
            Limit { hard_bytes: 1, soft_bytes: 2, soft_seconds: 0 }
        );
        assert_eq!(d.with_config(b"pubsub  2 3").unwrap().pubsub.hard_bytes, 0);
        assert_eq!(d.with_config(b"normal 1 2"), Err(WRONG_NUMBER));
        assert_eq!(d.with_config(b"master 1 2 3"), Err(BAD_CLASS));
        assert_eq!(d.with_config(b"foo x 2 3"), Err(BAD_CLASS));
        for bad in ["pubsub x 2 3", "pubsub -1 2 3", "pubsub +1 2 3", "pubsub 1.5k 2 3", "pubsub 1tb 2 3"] {
            assert_eq!(d.with_config(bad.as_bytes()), Err(BAD_VALUE), "{bad}");
        }
        for bad in ["pubsub 1 2 -3", "pubsub 1 2 x", "pubsub 1 2 +", "pubsub 1 2 99999999999999999999"] {
            assert_eq!(d.with_config(bad.as_bytes()), Err(BAD_VALUE), "{bad}");
        }
    }

    fn run(redis: &mut crate::redis::Redis, client: usize, words: &[&str]) -> crate::redis::server::Outcome {
        let argv: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        redis.execute(client, &argv).0
    }

    #[test]
    fn a_stalled_subscriber_is_cut_off_by_the_cron_once_past_the_soft_limit_for_its_seconds() {
        use crate::redis::server::Outcome;
        let mut redis = crate::redis::Redis::new();
        run(&mut redis, 0, &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 16kb 2"]);
        run(&mut redis, 1, &["SUBSCRIBE", "c"]);
        run(&mut redis, 2, &["SUBSCRIBE", "c"]);
        redis.set_reading(1, false);
        let body = "x".repeat(1000);
        // 17 messages of about 1 KB: the stalled client's kept bytes spill past its static buffer.
        for _ in 0..17 {
            assert_eq!(run(&mut redis, 0, &["PUBLISH", "c", &body]), Outcome::Reply(Reply::Int(2)));
        }
        assert!(redis.take_closed().is_empty());
        let noted = redis.outputs[&1].soft_since.expect("past the soft limit");
        assert!(redis.outputs.get(&2).is_none_or(|o| o.pending_bytes() == 0), "a reader keeps nothing");
        let due = redis.output_deadline().expect("a close is due");
        assert_eq!(due, (noted + 3) * 1000 - crate::redis::server::EPOCH_MS);
        redis.advance(due - redis.now - 1);
        assert!(redis.take_closed().is_empty(), "not before more than 2 whole seconds");
        redis.advance(1);
        assert_eq!(redis.take_closed(), vec![1]);
        assert_eq!(run(&mut redis, 0, &["PUBLISH", "c", "x"]), Outcome::Reply(Reply::Int(1)));
    }

    #[test]
    fn one_message_past_the_hard_limit_closes_its_subscriber_and_still_counts() {
        use crate::redis::server::Outcome;
        let mut redis = crate::redis::Redis::new();
        run(&mut redis, 0, &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 32kb 0 0"]);
        run(&mut redis, 1, &["SUBSCRIBE", "c"]);
        run(&mut redis, 2, &["PSUBSCRIBE", "*"]);
        // 40,000 bytes: 23,648 past the static buffer in a 24,560-byte block, under 32 KB.
        assert_eq!(run(&mut redis, 0, &["PUBLISH", "c", &"x".repeat(40_000)]), Outcome::Reply(Reply::Int(2)));
        assert!(redis.take_closed().is_empty());
        assert_eq!(redis.take_pushes().len(), 2);
        // 60,000 bytes: a 49,136-byte block, past it.
        assert_eq!(run(&mut redis, 0, &["PUBLISH", "c", &"x".repeat(60_000)]), Outcome::Reply(Reply::Int(2)));
        assert_eq!(redis.take_closed(), vec![1, 2]);
        assert!(redis.take_pushes().is_empty(), "nothing is written to a client being closed");
        assert_eq!(run(&mut redis, 0, &["PUBLISH", "c", "x"]), Outcome::Reply(Reply::Int(0)));
        redis.check_invariants().unwrap();
    }

    #[test]
    fn blocks_take_the_allocators_size_classes() {
        assert_eq!(usable_bytes(16 * 1024 + 16), 20480);
        assert_eq!(usable_bytes(32768), 32768);
        assert_eq!(usable_bytes(32769), 40960);
        let mut b = OutputBuffer::default();
        assert!(!b.append(REPLY_CHUNK_BYTES));
        assert!(b.append(1));
        assert_eq!(b.memory_bytes(), 20480 - 16 + 40);
        assert!(!b.append(20480 - 16 - 1));
        assert!(b.append(40000));
        assert_eq!(b.blocks[1], (40960 - 16, 40000));
        assert!(b.pending_bytes() == REPLY_CHUNK_BYTES + 20464 + 40000);
    }

    #[test]
    fn the_soft_limit_closes_after_its_seconds_and_an_empty_list_keeps_its_note() {
        let limit = Limit { hard_bytes: 0, soft_bytes: 10_000, soft_seconds: 2 };
        let mut b = OutputBuffer::default();
        b.append(REPLY_CHUNK_BYTES + 1);
        assert!(!b.over(&limit, 100));
        assert_eq!(b.soft_since, Some(100));
        b.drain();
        assert!(!b.over(&limit, 105), "an empty list is not checked");
        b.append(REPLY_CHUNK_BYTES + 1);
        assert!(!b.over(&limit, 102));
        assert!(b.over(&limit, 103));
        let hard = Limit { hard_bytes: 20504, soft_bytes: 0, soft_seconds: 0 };
        let mut b = OutputBuffer::default();
        b.append(REPLY_CHUNK_BYTES + 1);
        assert!(b.over(&hard, 0), "the hard limit is reached at equality");
    }
}
