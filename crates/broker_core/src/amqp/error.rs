//! Reply codes and error texts, exactly as RabbitMQ sends them.
//!
//! A failing method closes its channel (a *channel* error: the connection stays open) or, for a few
//! protocol violations, the whole connection. The text is RabbitMQ's reply-text, which always starts
//! with the code's name: `PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': …`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// AMQP 0-9-1 reply codes that RabbitMQ uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReplyCode {
    NoRoute,
    ConnectionForced,
    AccessRefused,
    NotFound,
    ResourceLocked,
    PreconditionFailed,
    FrameError,
    CommandInvalid,
    ChannelError,
    UnexpectedFrame,
    NotAllowed,
    NotImplemented,
    InternalError,
}

impl ReplyCode {
    pub fn code(self) -> u16 {
        match self {
            ReplyCode::NoRoute => 312,
            ReplyCode::ConnectionForced => 320,
            ReplyCode::AccessRefused => 403,
            ReplyCode::NotFound => 404,
            ReplyCode::ResourceLocked => 405,
            ReplyCode::PreconditionFailed => 406,
            ReplyCode::FrameError => 501,
            ReplyCode::CommandInvalid => 503,
            ReplyCode::ChannelError => 504,
            ReplyCode::UnexpectedFrame => 505,
            ReplyCode::NotAllowed => 530,
            ReplyCode::NotImplemented => 540,
            ReplyCode::InternalError => 541,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ReplyCode::NoRoute => "NO_ROUTE",
            ReplyCode::ConnectionForced => "CONNECTION_FORCED",
            ReplyCode::AccessRefused => "ACCESS_REFUSED",
            ReplyCode::NotFound => "NOT_FOUND",
            ReplyCode::ResourceLocked => "RESOURCE_LOCKED",
            ReplyCode::PreconditionFailed => "PRECONDITION_FAILED",
            ReplyCode::FrameError => "FRAME_ERROR",
            ReplyCode::CommandInvalid => "COMMAND_INVALID",
            ReplyCode::ChannelError => "CHANNEL_ERROR",
            ReplyCode::UnexpectedFrame => "UNEXPECTED_FRAME",
            ReplyCode::NotAllowed => "NOT_ALLOWED",
            ReplyCode::NotImplemented => "NOT_IMPLEMENTED",
            ReplyCode::InternalError => "INTERNAL_ERROR",
        }
    }
}

/// Whether an error closed the channel or the whole connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorScope {
    Channel,
    Connection,
}

/// A channel or connection error as RabbitMQ reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmqpError {
    pub scope: ErrorScope,
    pub code: ReplyCode,
    /// RabbitMQ's reply-text, starting with the code's name, e.g. `NOT_FOUND - no queue 'q' in vhost '/'`.
    pub text: String,
}

impl AmqpError {
    /// A channel error whose text is `NAME - detail`.
    pub fn channel(code: ReplyCode, detail: impl fmt::Display) -> Self {
        AmqpError { scope: ErrorScope::Channel, code, text: reply_text(code, detail) }
    }

    /// A connection error whose text is `NAME - detail`.
    pub fn connection(code: ReplyCode, detail: impl fmt::Display) -> Self {
        AmqpError { scope: ErrorScope::Connection, code, text: reply_text(code, detail) }
    }

    /// What a crash inside RabbitMQ's channel process sends: the connection closes with 541 and the
    /// code's name alone as its text.
    pub fn internal_error() -> Self {
        let code = ReplyCode::InternalError;
        AmqpError { scope: ErrorScope::Connection, code, text: code.name().to_string() }
    }
}

/// The most bytes of a reply-text: it travels as an AMQP short string.
pub const MAX_REPLY_TEXT: usize = 255;

/// `NAME - detail`, cut as RabbitMQ 3.10 cuts a longer one: its first 252 bytes, then `...` (at a
/// character boundary here, where RabbitMQ may split a UTF-8 character).
fn reply_text(code: ReplyCode, detail: impl fmt::Display) -> String {
    let mut text = format!("{} - {detail}", code.name());
    if text.len() > MAX_REPLY_TEXT {
        let mut cut = MAX_REPLY_TEXT - 3;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

impl fmt::Display for AmqpError {
    /// `406 PRECONDITION_FAILED - …`: the code, then RabbitMQ's reply-text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code.code(), self.text)
    }
}

impl std::error::Error for AmqpError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_code_then_rabbitmq_text() {
        let e = AmqpError::channel(ReplyCode::NotFound, "no queue 'q' in vhost '/'");
        assert_eq!(e.to_string(), "404 NOT_FOUND - no queue 'q' in vhost '/'");
        assert_eq!(e.scope, ErrorScope::Channel);
    }
}
