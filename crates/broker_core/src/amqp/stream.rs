//! A stream queue's log (`x-queue-type: stream`): an append-only sequence of messages numbered by offset
//! from 0, read by each consumer from the offset it asks for (`x-stream-offset`) without removing
//! anything. Acknowledgements only give a consumer credit back; messages leave the log by retention
//! alone (RabbitMQ 3.10's `rabbit_stream_queue` over osiris).
//!
//! The engine writes each publish as its own chunk (osiris batches the writes it finds waiting together,
//! which a client sees only through `"last"`: the golden scenarios publish one message at a time).
//!
//! # Invariants
//! - Entries hold consecutive offsets `first_offset .. next_offset`, oldest first.
//! - `bytes` is the sum of the entries' body sizes.

use super::message::QueuedMessage;
use super::types::{FieldTable, FieldValue, TypedValue};
use crate::clock::VirtualTime;
use std::collections::VecDeque;

/// One message in the log: its offset, when it was written and the message as published.
#[derive(Clone, Debug)]
pub struct StreamEntry {
    pub offset: u64,
    pub written_at: VirtualTime,
    pub message: QueuedMessage,
}

/// The log of one stream queue.
#[derive(Clone, Debug, Default)]
pub struct StreamLog {
    entries: VecDeque<StreamEntry>,
    /// The offset the next appended message gets.
    next_offset: u64,
    bytes: u64,
}

/// Where a new consumer starts reading: RabbitMQ's offset spec (`x-stream-offset`, absent = `next`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetSpec {
    First,
    Last,
    Next,
    /// An offset; one before the log's first (a negative one too) reads from the first, one past the end
    /// waits until the log reaches it.
    Offset(i64),
    /// Milliseconds since 1970 (an AMQP timestamp is seconds: RabbitMQ multiplies by 1000).
    Timestamp(u64),
    /// A string such as `"10m"` (the units of `x-max-age`): the messages written within that many
    /// milliseconds before the consumer started.
    Interval(u64),
}

impl OffsetSpec {
    /// RabbitMQ 3.10's `parse_offset_arg`: `"first"`, `"last"`, `"next"` (any field type carrying that
    /// text), a timestamp, or an integer of any width.
    pub fn parse(arguments: &FieldTable) -> Result<OffsetSpec, OffsetError> {
        let Some(v) = arguments.get("x-stream-offset") else { return Ok(OffsetSpec::Next) };
        match v {
            FieldValue::Str(s) => match s.as_str() {
                "first" => Ok(OffsetSpec::First),
                "last" => Ok(OffsetSpec::Last),
                "next" => Ok(OffsetSpec::Next),
                // RabbitMQ 3.10 reads any other text with `check_max_age`, which crashes on a text without
                // leading digits.
                text if !text.starts_with(|c: char| c.is_ascii_digit()) => Err(OffsetError::BadValue),
                text => super::arguments::max_age_millis(text)
                    .map(OffsetSpec::Interval)
                    .ok_or_else(|| OffsetError::InvalidInterval(text.to_string())),
            },
            FieldValue::Typed(TypedValue::Timestamp(seconds)) => {
                Ok(OffsetSpec::Timestamp(seconds.saturating_mul(1000)))
            }
            other => other.integer().map(OffsetSpec::Offset).ok_or(OffsetError::BadValue),
        }
    }
}

/// An `x-stream-offset` osiris cannot start a reader at: neither a known word, a timestamp nor an
/// integer (RabbitMQ 3.10's channel crashes on it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OffsetError {
    BadValue,
    /// A text with leading digits that is not an `x-max-age` value (`"0s"`, `"10x"`): a 406.
    InvalidInterval(String),
}

impl StreamLog {
    /// Appends a message; returns its offset.
    pub fn append(&mut self, message: QueuedMessage, now: VirtualTime) -> u64 {
        let offset = self.next_offset;
        self.next_offset += 1;
        self.bytes += message.body_len();
        self.entries.push_back(StreamEntry { offset, written_at: now, message });
        offset
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The offset the next message gets.
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// The oldest offset still in the log (`next_offset` when empty).
    pub fn first_offset(&self) -> u64 {
        self.entries.front().map_or(self.next_offset, |e| e.offset)
    }

    /// The offset a reader starting at `spec` at `now` reads first.
    pub fn start_offset(&self, spec: OffsetSpec, now: VirtualTime) -> u64 {
        match spec {
            OffsetSpec::Interval(ms) => {
                self.start_offset(OffsetSpec::Timestamp(now.as_millis().saturating_sub(ms)), now)
            }
            OffsetSpec::First => self.first_offset(),
            OffsetSpec::Next => self.next_offset,
            // Every chunk holds one message: the last chunk starts at the last message.
            OffsetSpec::Last => self.entries.back().map_or(self.next_offset, |e| e.offset),
            OffsetSpec::Offset(o) => u64::try_from(o).unwrap_or(0).max(self.first_offset()),
            OffsetSpec::Timestamp(ms) => self
                .entries
                .iter()
                .find(|e| e.written_at.as_millis() >= ms)
                .map_or(self.next_offset, |e| e.offset),
        }
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &StreamEntry> + ExactSizeIterator {
        self.entries.iter()
    }

    /// Durable recovery: puts back an entry read from disk with its own offset and write instant. The
    /// first one recovered sets where the log starts (retention may have removed older ones); each next
    /// one must follow it, written no earlier. Returns why not otherwise.
    pub fn recover(
        &mut self,
        offset: u64,
        written_at: VirtualTime,
        message: QueuedMessage,
    ) -> Result<(), &'static str> {
        if let Some(last) = self.entries.back() {
            if offset != self.next_offset {
                return Err("its offset does not follow the previous entry's");
            }
            if written_at < last.written_at {
                return Err("it was written before the previous entry");
            }
        } else if offset < self.next_offset {
            return Err("its offset is before the log's next offset");
        }
        self.next_offset = offset;
        self.append(message, written_at);
        Ok(())
    }

    /// Durable recovery: the log continues at `next` (a log whose last entries retention removed still
    /// numbers the next message after them); never goes back.
    pub fn continue_offsets_from(&mut self, next: u64) {
        if self.entries.is_empty() {
            self.next_offset = self.next_offset.max(next);
        }
    }

    /// The entry at `offset`, if it is in the log.
    pub fn get(&self, offset: u64) -> Option<&StreamEntry> {
        let first = self.entries.front()?.offset;
        let i = usize::try_from(offset.checked_sub(first)?).ok()?;
        self.entries.get(i)
    }

    /// Removes every entry (the stream is deleted); returns how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.entries.len();
        self.entries.clear();
        self.bytes = 0;
        n
    }

    /// Checks the log's invariants.
    pub fn assert_invariants(&self) {
        let mut expected = self.first_offset();
        for e in &self.entries {
            assert_eq!(e.offset, expected, "stream offsets not consecutive");
            expected += 1;
        }
        assert_eq!(expected, self.next_offset, "stream next offset");
        let bytes: u64 = self.entries.iter().map(|e| e.message.body_len()).sum();
        assert_eq!(bytes, self.bytes, "stream bytes");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amqp::types::BasicProperties;

    fn offset_arg(v: FieldValue) -> FieldTable {
        [("x-stream-offset".to_string(), v)].into_iter().collect()
    }

    fn log_at(times: &[u64]) -> StreamLog {
        let mut log = StreamLog::default();
        for (i, t) in times.iter().enumerate() {
            let m = QueuedMessage::new(
                crate::amqp::types::MessageId(i as u64),
                "",
                "s",
                BasicProperties::default(),
                b"x",
            );
            log.append(m, VirtualTime::from_millis(*t));
        }
        log
    }

    #[test]
    fn offset_specs_parse_as_rabbitmq_reads_them() {
        assert_eq!(OffsetSpec::parse(&FieldTable::new()), Ok(OffsetSpec::Next));
        assert_eq!(OffsetSpec::parse(&offset_arg(FieldValue::Str("first".into()))), Ok(OffsetSpec::First));
        assert_eq!(OffsetSpec::parse(&offset_arg(FieldValue::Int(-3))), Ok(OffsetSpec::Offset(-3)));
        assert_eq!(
            OffsetSpec::parse(&offset_arg(FieldValue::Typed(TypedValue::Timestamp(2)))),
            Ok(OffsetSpec::Timestamp(2000))
        );
        assert_eq!(
            OffsetSpec::parse(&offset_arg(FieldValue::Str("10m".into()))),
            Ok(OffsetSpec::Interval(600_000))
        );
        assert_eq!(
            OffsetSpec::parse(&offset_arg(FieldValue::Str("0s".into()))),
            Err(OffsetError::InvalidInterval("0s".into()))
        );
        assert_eq!(
            OffsetSpec::parse(&offset_arg(FieldValue::Str("bogus".into()))),
            Err(OffsetError::BadValue)
        );
        assert_eq!(OffsetSpec::parse(&offset_arg(FieldValue::Bool(true))), Err(OffsetError::BadValue));
    }

    #[test]
    fn start_offsets_follow_the_log() {
        let log = log_at(&[0, 1000, 2000]);
        let now = VirtualTime::from_millis(2500);
        assert_eq!(log.start_offset(OffsetSpec::First, now), 0);
        assert_eq!(log.start_offset(OffsetSpec::Last, now), 2);
        assert_eq!(log.start_offset(OffsetSpec::Next, now), 3);
        assert_eq!(log.start_offset(OffsetSpec::Offset(-1), now), 0);
        assert_eq!(log.start_offset(OffsetSpec::Offset(9), now), 9, "past the end: waits there");
        assert_eq!(log.start_offset(OffsetSpec::Timestamp(1000), now), 1);
        assert_eq!(log.start_offset(OffsetSpec::Timestamp(5000), now), 3);
        assert_eq!(log.start_offset(OffsetSpec::Interval(1000), now), 2);
        assert_eq!(StreamLog::default().start_offset(OffsetSpec::Last, now), 0);
        log.assert_invariants();
    }
}
