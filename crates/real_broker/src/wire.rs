//! One AMQP 0-9-1 connection over a blocking TCP socket: the handshake, sending methods and content,
//! and a reader thread that turns incoming frames into whole methods (content methods with their header
//! and body) and hands them, time-stamped, to one channel shared by every connection of a run.
//!
//! Frames are encoded and decoded by `amq-protocol`; framing (reading exactly one frame off the socket)
//! is done here so the codec always sees a complete frame.

use amq_protocol::frame::{
    gen_frame, parse_frame, AMQPContentHeader, AMQPFrame, ProtocolVersion, WriteContext,
};
use amq_protocol::protocol::{basic, connection, AMQPClass};
use amq_protocol::types::{AMQPValue, FieldTable, LongString, ShortString};
use amq_protocol::uri::AMQPUri;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// What one connection received: a method, or a method with content (deliver, get-ok, return).
#[derive(Debug)]
pub(crate) enum Inbound {
    Method(u16, AMQPClass),
    Content(u16, AMQPClass, Box<basic::AMQPProperties>, Vec<u8>),
    /// The socket closed or a frame could not be read; the text says why.
    Gone(String),
}

/// An [`Inbound`] with the connection it came on (index in the run) and when it arrived.
#[derive(Debug)]
pub(crate) struct Arrival {
    pub conn: usize,
    pub at: Instant,
    pub inbound: Inbound,
}

/// The writing half of a connection (the reader thread owns a clone of the socket).
pub(crate) struct Wire {
    stream: TcpStream,
    frame_max: u32,
}

/// Reads one whole frame at a time off a socket.
struct FrameReader {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl FrameReader {
    fn next(&mut self) -> Result<AMQPFrame, String> {
        loop {
            if let Some(len) = self.whole_frame_len()? {
                let frame = match parse_frame(&self.buf[..len]) {
                    Ok((_, frame)) => frame,
                    Err(e) => return Err(format!("cannot decode a frame from the broker: {e:?}")),
                };
                self.buf.drain(..len);
                return Ok(frame);
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err("the broker closed the socket".to_string()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("socket error: {e}")),
            }
        }
    }

    /// The length of the first frame when the buffer holds all of it.
    fn whole_frame_len(&self) -> Result<Option<usize>, String> {
        if self.buf.len() >= 8 && self.buf.starts_with(b"AMQP") {
            // The broker answers a protocol header it does not speak with its own, then closes.
            return Err(format!("the broker speaks another protocol version: {:?}", &self.buf[..8]));
        }
        if self.buf.len() < 7 {
            return Ok(None);
        }
        let size = u32::from_be_bytes([self.buf[3], self.buf[4], self.buf[5], self.buf[6]]) as usize;
        let len = 7 + size + 1;
        Ok((self.buf.len() >= len).then_some(len))
    }
}

fn encode(frame: &AMQPFrame) -> Result<Vec<u8>, String> {
    gen_frame(frame)(WriteContext::from(Vec::new()))
        .map(|ctx| ctx.into_inner().0)
        .map_err(|e| format!("cannot encode {frame}: {e:?}"))
}

fn expect_method(reader: &mut FrameReader, what: &str) -> Result<AMQPClass, String> {
    loop {
        match reader.next()? {
            AMQPFrame::Method(0, AMQPClass::Connection(connection::AMQPMethod::Close(close))) => {
                return Err(format!(
                    "the broker refused the connection: {} {}",
                    close.reply_code,
                    close.reply_text.as_str()
                ))
            }
            AMQPFrame::Method(0, class) => return Ok(class),
            AMQPFrame::Heartbeat => {}
            other => return Err(format!("expected {what}, received {other}")),
        }
    }
}

impl Wire {
    /// Connects and performs the handshake (PLAIN authentication, heartbeats off), then starts the
    /// reader thread that sends every incoming method to `tx` tagged with `conn`.
    pub(crate) fn open(
        uri: &AMQPUri,
        name: &str,
        conn: usize,
        tx: Sender<Arrival>,
        timeout: Duration,
    ) -> Result<Wire, String> {
        let host = &uri.authority.host;
        let port = uri.authority.port;
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            .map_err(|e| format!("cannot resolve {host}:{port}: {e}"))?
            .next()
            .ok_or_else(|| format!("cannot resolve {host}:{port}"))?;
        let stream = TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        let mut wire = Wire { stream: stream.try_clone().map_err(|e| e.to_string())?, frame_max: 131_072 };
        let mut reader = FrameReader { stream, buf: Vec::new() };

        wire.write(&AMQPFrame::ProtocolHeader(ProtocolVersion::amqp_0_9_1()))?;
        match expect_method(&mut reader, "connection.start")? {
            AMQPClass::Connection(connection::AMQPMethod::Start(_)) => {}
            other => return Err(format!("expected connection.start, received {other:?}")),
        }
        // What pika announces, so the broker sends the same notifications (consumer cancel, nacks).
        let mut capabilities = FieldTable::default();
        for cap in [
            "authentication_failure_close",
            "basic.nack",
            "connection.blocked",
            "consumer_cancel_notify",
            "publisher_confirms",
        ] {
            capabilities.insert(cap.into(), AMQPValue::Boolean(true));
        }
        let mut client_properties = FieldTable::default();
        client_properties.insert("product".into(), AMQPValue::LongString("brokerlab".into()));
        client_properties.insert("connection_name".into(), AMQPValue::LongString(name.into()));
        client_properties.insert("capabilities".into(), AMQPValue::FieldTable(capabilities));
        let user = &uri.authority.userinfo;
        let response = format!("\0{}\0{}", user.username, user.password);
        wire.send_method(
            0,
            AMQPClass::Connection(connection::AMQPMethod::StartOk(connection::StartOk {
                client_properties,
                mechanism: "PLAIN".into(),
                response: LongString::from(response),
                locale: "en_US".into(),
            })),
        )?;
        let tune = match expect_method(&mut reader, "connection.tune")? {
            AMQPClass::Connection(connection::AMQPMethod::Tune(tune)) => tune,
            other => return Err(format!("expected connection.tune, received {other:?}")),
        };
        wire.frame_max = if tune.frame_max == 0 { 131_072 } else { tune.frame_max.min(131_072) };
        wire.send_method(
            0,
            AMQPClass::Connection(connection::AMQPMethod::TuneOk(connection::TuneOk {
                channel_max: tune.channel_max,
                frame_max: wire.frame_max,
                heartbeat: 0,
            })),
        )?;
        wire.send_method(
            0,
            AMQPClass::Connection(connection::AMQPMethod::Open(connection::Open {
                virtual_host: ShortString::from(uri.vhost.clone()),
            })),
        )?;
        match expect_method(&mut reader, "connection.open-ok")? {
            AMQPClass::Connection(connection::AMQPMethod::OpenOk(_)) => {}
            other => return Err(format!("expected connection.open-ok, received {other:?}")),
        }
        // From here on the reader blocks until the broker sends something or the socket closes.
        reader.stream.set_read_timeout(None).map_err(|e| e.to_string())?;
        std::thread::Builder::new()
            .name(format!("amqp-reader-{conn}"))
            .spawn(move || read_loop(reader, conn, tx))
            .map_err(|e| format!("cannot start the reader thread: {e}"))?;
        Ok(wire)
    }

    fn write(&mut self, frame: &AMQPFrame) -> Result<(), String> {
        let bytes = encode(frame)?;
        self.stream.write_all(&bytes).map_err(|e| format!("cannot send to the broker: {e}"))
    }

    pub(crate) fn send_method(&mut self, channel: u16, class: AMQPClass) -> Result<(), String> {
        self.write(&AMQPFrame::Method(channel, class))
    }

    /// A method with its `basic.qos` prefetch-size set: `amq-protocol`'s `Qos` has no such field and
    /// writes 0, so the value goes into its place (after the 7-byte frame header and the class and
    /// method ids) as pika would send it.
    pub(crate) fn send_method_with_prefetch_size(
        &mut self,
        channel: u16,
        class: AMQPClass,
        prefetch_size: u32,
    ) -> Result<(), String> {
        let mut bytes = encode(&AMQPFrame::Method(channel, class))?;
        if prefetch_size != 0 {
            let field = bytes.get_mut(11..15).ok_or("basic.qos frame too short")?;
            field.copy_from_slice(&prefetch_size.to_be_bytes());
        }
        self.stream.write_all(&bytes).map_err(|e| format!("cannot send to the broker: {e}"))
    }

    /// A content method (basic.publish): the method, its header and the body in frames of `frame_max`.
    pub(crate) fn send_content(
        &mut self,
        channel: u16,
        class: AMQPClass,
        properties: basic::AMQPProperties,
        body: &[u8],
    ) -> Result<(), String> {
        let mut bytes = encode(&AMQPFrame::Method(channel, class))?;
        bytes.extend(encode(&AMQPFrame::Header(
            channel,
            AMQPContentHeader { class_id: 60, body_size: body.len() as u64, properties },
        ))?);
        // 8 bytes of frame overhead: type, channel, size, end.
        let chunk = (self.frame_max as usize).saturating_sub(8).max(1);
        for part in body.chunks(chunk) {
            bytes.extend(encode(&AMQPFrame::Body(channel, part.to_vec()))?);
        }
        self.stream.write_all(&bytes).map_err(|e| format!("cannot send to the broker: {e}"))
    }

    /// Closes the socket (the reader thread then ends).
    pub(crate) fn shutdown(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// A content method waiting for its header and body.
struct Pending {
    class: AMQPClass,
    properties: Option<basic::AMQPProperties>,
    size: u64,
    body: Vec<u8>,
}

fn read_loop(mut reader: FrameReader, conn: usize, tx: Sender<Arrival>) {
    let mut pending: BTreeMap<u16, Pending> = BTreeMap::new();
    loop {
        let frame = match reader.next() {
            Ok(frame) => frame,
            Err(e) => {
                let _ = tx.send(Arrival { conn, at: Instant::now(), inbound: Inbound::Gone(e) });
                return;
            }
        };
        let inbound = match frame {
            AMQPFrame::Method(channel, class) => {
                let has_content = matches!(
                    class,
                    AMQPClass::Basic(
                        basic::AMQPMethod::Deliver(_)
                            | basic::AMQPMethod::GetOk(_)
                            | basic::AMQPMethod::Return(_)
                    )
                );
                if has_content {
                    pending.insert(channel, Pending { class, properties: None, size: 0, body: Vec::new() });
                    None
                } else {
                    Some(Inbound::Method(channel, class))
                }
            }
            AMQPFrame::Header(channel, header) => match pending.get_mut(&channel) {
                Some(p) => {
                    p.properties = Some(header.properties);
                    p.size = header.body_size;
                    if p.size == 0 {
                        pending.remove_entry(&channel).map(complete)
                    } else {
                        None
                    }
                }
                None => None,
            },
            AMQPFrame::Body(channel, data) => match pending.get_mut(&channel) {
                Some(p) => {
                    p.body.extend(data);
                    if p.body.len() as u64 >= p.size {
                        pending.remove_entry(&channel).map(complete)
                    } else {
                        None
                    }
                }
                None => None,
            },
            _ => None,
        };
        if let Some(inbound) = inbound {
            let stop = matches!(
                inbound,
                Inbound::Method(0, AMQPClass::Connection(connection::AMQPMethod::CloseOk(_)))
            );
            if tx.send(Arrival { conn, at: Instant::now(), inbound }).is_err() || stop {
                return;
            }
        }
    }
}

fn complete((channel, p): (u16, Pending)) -> Inbound {
    Inbound::Content(channel, p.class, Box::new(p.properties.unwrap_or_default()), p.body)
}
