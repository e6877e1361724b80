//! Runs a parsed program against a [`KafkaClients`] and writes its transcript.
//!
//! The transcript is the program's statements in order, each as `LINE: source` followed by what it returned,
//! indented by two spaces (see `docs/kafka-programs.md`). It holds nothing that differs between two runs
//! of equal behaviour: member ids the coordinator generates are numbered by first appearance (`member#1`),
//! topic ids are left out, records a poll returns are sorted by partition and offset, and record timestamps
//! are not shown. The tools are emulated with the same client calls a program makes; their output follows
//! the real tool's text, each line with its trailing blanks trimmed.

use super::client::{
    ClientCall, ClientError, ClientReply, GroupInfo, KafkaClients, NewTopic, OffsetQuery, PartitionOffset,
    SendOutcome, SendRecord, Tp,
};
use super::parse::{Action, Program, ResetSpec, ServerSignal, Tool};
use crate::kafka::tools::{self, PartitionFacts, ResetError};
use crate::kafka::TopicPartition;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One line of a transcript and the program line of the statement it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptLine {
    /// The statement's first line in the program.
    pub line: u32,
    /// The text.
    pub text: String,
}

/// A program's transcript.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// The lines, in order.
    pub lines: Vec<TranscriptLine>,
    /// How many statements threw (a thrown statement is a result, not a failure of the run).
    pub errors: usize,
}

impl Transcript {
    /// As text, one line each, ending with a newline.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            out.push_str(&l.text);
            out.push('\n');
        }
        out
    }
}

/// A key or value as the transcript shows it: as is when it has no blank or quote, else quoted; `null`.
pub fn show(s: &Option<String>) -> String {
    match s {
        None => "null".to_string(),
        Some(s)
            if !s.is_empty()
                && s != "null"
                && s.chars().all(|c| !c.is_whitespace() && !c.is_control() && c != '"') =>
        {
            s.clone()
        }
        Some(s) => format!("{s:?}"),
    }
}

fn error_text(e: &ClientError) -> String {
    let message = producer_id_normalised(&expiry_normalised(&e.message));
    format!("{}: {}", e.exception, timestamp_bounds_normalised(&leader_address_normalised(&message)))
}

/// The Java consumer's `FetchPosition{…}` (an `OffsetOutOfRangeException`) names the leader by its
/// advertised address (`Optional[127.0.0.1:9092 (id: 1 rack: null isFenced: false)]`), which depends on
/// where the broker listens: printed as `HOST:PORT`.
fn leader_address_normalised(message: &str) -> String {
    const OPEN: &str = "leader=Optional[";
    const ID: &str = " (id: ";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(OPEN) {
        let (head, tail) = rest.split_at(at + OPEN.len());
        out.push_str(head);
        match tail.find(ID) {
            Some(end) if end > 0 && !tail[..end].contains([' ', ']']) => {
                out.push_str("HOST:PORT");
                rest = &tail[end..];
            }
            _ => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// A refused `CreateTime` names the bounds the leader's clock gave (`The timestamp should be within
/// [-9223370240304540893, 1796553834914]`), which differ from run to run: printed as `[N, N]`.
fn timestamp_bounds_normalised(message: &str) -> String {
    const KEY: &str = "The timestamp should be within [";
    let Some(at) = message.find(KEY) else { return message.to_string() };
    let tail = &message[at + KEY.len()..];
    let Some(close) = tail.find(']') else { return message.to_string() };
    let inside = &tail[..close];
    if inside.split(", ").count() == 2
        && inside.split(", ").all(|n| {
            let n = n.strip_prefix('-').unwrap_or(n);
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
        })
    {
        format!("{}{KEY}N, N{}", &message[..at], &tail[close..])
    } else {
        message.to_string()
    }
}

/// A transactional producer's error names its producer id (`(producerId=7, epoch=0)`), which a real
/// broker hands out from one counter for every producer it has served: printed as `producerId=N`.
fn producer_id_normalised(message: &str) -> String {
    const KEY: &str = "producerId=";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        let digits = tail.bytes().take_while(|b| b.is_ascii_digit()).count();
        out.push_str(if digits > 0 { "N" } else { "" });
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// A batch expiry's message names the milliseconds the batch waited, which on a real client is the
/// delivery timeout plus however late its sender thread looked (`…:3001 ms has passed since batch
/// creation`): printed as `N ms` so that equal behaviour prints the same text.
fn expiry_normalised(message: &str) -> std::borrow::Cow<'_, str> {
    const TAIL: &str = " ms has passed since batch creation";
    let Some(end) = message.strip_suffix(TAIL) else { return message.into() };
    let Some(colon) = end.rfind(':') else { return message.into() };
    if colon + 1 < end.len() && end[colon + 1..].bytes().all(|b| b.is_ascii_digit()) {
        format!("{}:N{TAIL}", &end[..colon]).into()
    } else {
        message.into()
    }
}

fn outcome_text(o: &SendOutcome) -> String {
    match &o.error {
        None => format!("{}-{}@{}", o.topic, o.partition, o.offset),
        Some(e) => format!("{}: {}", o.topic, error_text(e)),
    }
}

/// A group with its members sorted by client id, then instance id: the coordinator lists them in its hash
/// map's order, which differs from run to run on a real broker.
fn sorted_members(g: &GroupInfo) -> GroupInfo {
    let mut g = g.clone();
    g.members.sort_by(|a, b| (&a.client_id, &a.instance_id).cmp(&(&b.client_id, &b.instance_id)));
    g
}

struct Runner<'a, C: KafkaClients> {
    clients: &'a mut C,
    out: Transcript,
    line: u32,
    members: Vec<String>,
    tools_admin: bool,
}

const TOOLS_ADMIN: &str = "kafka-tools";

/// What `kafka-topics --create` prints first for a name with '.' or '_' (Kafka 4.1.1's TopicCommand).
const TOPIC_COLLISION_WARNING: &str = "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.";

impl<C: KafkaClients> Runner<'_, C> {
    fn emit(&mut self, text: impl Into<String>) {
        let text: String = text.into();
        self.out.lines.push(TranscriptLine {
            line: self.line,
            text: format!("  {}", text.trim_end()).trim_end().to_string(),
        });
    }

    fn member(&mut self, id: &str) -> String {
        if id.is_empty() {
            return String::new();
        }
        let n = match self.members.iter().position(|m| m == id) {
            Some(i) => i + 1,
            None => {
                self.members.push(id.to_string());
                self.members.len()
            }
        };
        format!("member#{n}")
    }

    fn call(&mut self, call: &ClientCall) -> ClientReply {
        self.clients.call(call)
    }

    fn admin(&mut self) -> Result<String, ClientError> {
        if !self.tools_admin {
            if let ClientReply::Error { error } =
                self.call(&ClientCall::NewAdmin { admin: TOOLS_ADMIN.into(), properties: Vec::new() })
            {
                return Err(error);
            }
            self.tools_admin = true;
        }
        Ok(TOOLS_ADMIN.to_string())
    }

    fn show_reply(&mut self, reply: &ClientReply) {
        match reply {
            ClientReply::Done => self.emit("ok"),
            ClientReply::Sent { outcome } => self.emit(outcome_text(outcome)),
            ClientReply::SendOutcomes { outcomes } => {
                if outcomes.is_empty() {
                    self.emit("ok");
                }
                for o in outcomes {
                    self.emit(outcome_text(o));
                }
            }
            ClientReply::Records { records } => {
                let mut records = records.clone();
                records.sort_by(|a, b| {
                    (&a.topic, a.partition, a.offset).cmp(&(&b.topic, b.partition, b.offset))
                });
                self.emit(format!("{} record(s)", records.len()));
                for r in &records {
                    let mut line = format!(
                        "{}-{}@{} key={} value={}",
                        r.topic,
                        r.partition,
                        r.offset,
                        show(&r.key),
                        show(&r.value)
                    );
                    if let Some(n) = r.delivery_count {
                        line.push_str(&format!(" delivery={n}"));
                    }
                    if !r.headers.is_empty() {
                        let headers: Vec<String> =
                            r.headers.iter().map(|(k, v)| format!("{}={}", k, show(v))).collect();
                        line.push_str(&format!(" headers=[{}]", headers.join(", ")));
                    }
                    self.emit(line);
                }
            }
            ClientReply::Offset { offset } => {
                self.emit(offset.map(|o| o.to_string()).unwrap_or_else(|| "null".into()))
            }
            ClientReply::Offsets { offsets } => {
                if offsets.is_empty() {
                    self.emit("{}");
                }
                for o in offsets {
                    let v = o.offset.map(|o| o.to_string()).unwrap_or_else(|| "null".into());
                    self.emit(format!("{}-{}: {v}", o.topic, o.partition));
                }
            }
            ClientReply::Partitions { partitions } => {
                let list: Vec<String> = partitions.iter().map(|p| p.to_string()).collect();
                self.emit(format!("[{}]", list.join(", ")));
            }
            ClientReply::Nodes { nodes } => {
                let list: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
                self.emit(format!("nodes [{}]", list.join(", ")));
            }
            ClientReply::Topics { topics } => {
                for t in topics {
                    for p in &t.partitions {
                        let leader = p.leader.map(|l| l.to_string()).unwrap_or_else(|| "none".into());
                        self.emit(format!(
                            "{}-{} leader={leader} replicas={:?} isr={:?}",
                            t.name, p.partition, p.replicas, p.isr
                        ));
                    }
                }
            }
            ClientReply::Configs { configs } => {
                if configs.is_empty() {
                    self.emit("(all defaults)");
                }
                for (k, v) in configs {
                    self.emit(format!("{k}={v}"));
                }
            }
            ClientReply::Groups { groups } => {
                for g in groups {
                    let g = sorted_members(g);
                    self.emit(format!(
                        "group {} state={} assignor={}",
                        g.group_id,
                        g.state,
                        if g.assignor.is_empty() { "-" } else { &g.assignor }
                    ));
                    for m in &g.members {
                        let id = self.member(&m.member_id);
                        let parts: Vec<String> = m.assignment.iter().map(|p| p.to_string()).collect();
                        let instance = m.instance_id.clone().unwrap_or_else(|| "null".into());
                        self.emit(format!(
                            "  {id} instance={instance} client={} host={} assignment=[{}]",
                            m.client_id,
                            m.host,
                            parts.join(", ")
                        ));
                    }
                }
            }
            // `.all().get()`: the first partition's error, else nothing.
            ClientReply::PartitionResults { results } => {
                match results.iter().find_map(|r| r.error.as_ref()) {
                    Some(error) => {
                        self.out.errors += 1;
                        self.emit(error_text(error));
                    }
                    None => self.emit("ok"),
                }
            }
            ClientReply::GroupMetadata { group_id, generation_id, member_id, instance_id } => {
                let member = self.member(member_id);
                let member = if member.is_empty() { "\"\"".to_string() } else { member };
                let instance = instance_id.clone().unwrap_or_else(|| "null".into());
                self.emit(format!(
                    "group={group_id} generation={generation_id} member={member} instance={instance}"
                ));
            }
            ClientReply::Error { error } => {
                self.out.errors += 1;
                self.emit(error_text(error));
            }
        }
    }

    fn tool(&mut self, tool: &Tool) {
        if let Err(e) = self.tool_inner(tool) {
            self.out.errors += 1;
            self.emit(format!("Error: {}", error_text(&e)));
        }
    }

    fn ok(reply: ClientReply) -> Result<ClientReply, ClientError> {
        match reply {
            ClientReply::Error { error } => Err(error),
            r => Ok(r),
        }
    }

    fn list_offset(&mut self, admin: &str, tp: &Tp, spec: OffsetQuery) -> Result<Option<i64>, ClientError> {
        match Self::ok(self.call(&ClientCall::ListOffsets {
            admin: admin.into(),
            partition: tp.clone(),
            spec,
        }))? {
            ClientReply::Offset { offset } => Ok(offset),
            _ => Ok(None),
        }
    }

    fn group(&mut self, admin: &str, group: &str) -> Result<(GroupInfo, Vec<PartitionOffset>), ClientError> {
        let reply =
            Self::ok(self.call(&ClientCall::DescribeConsumerGroups {
                admin: admin.into(),
                groups: vec![group.into()],
            }))?;
        let info = match reply {
            ClientReply::Groups { mut groups } if !groups.is_empty() => groups.remove(0),
            _ => {
                return Err(ClientError {
                    exception: "GroupIdNotFoundException".into(),
                    message: format!("Group {group} not found."),
                })
            }
        };
        let committed = match Self::ok(
            self.call(&ClientCall::ListConsumerGroupOffsets { admin: admin.into(), group: group.into() }),
        )? {
            ClientReply::Offsets { offsets } => offsets,
            _ => Vec::new(),
        };
        Ok((info, committed))
    }

    /// As `kafka-topics` reports a failure; it checks that a topic exists before it alters, describes or
    /// deletes it.
    fn topic_command_error(&mut self, topic: &str, error: &ClientError) {
        self.out.errors += 1;
        if error.exception == "UnknownTopicOrPartitionException" {
            self.emit(format!(
                "Error while executing topic command : Topic '{topic}' does not exist as expected"
            ));
        } else {
            self.emit(format!("Error while executing topic command : {}", error.message));
        }
    }

    fn tool_inner(&mut self, tool: &Tool) -> Result<(), ClientError> {
        match tool {
            Tool::TopicsCreate { topic } => {
                // The tool's own checks of --replica-assignment, before it sends anything.
                if let Some(message) = replica_assignment_tool_error(&topic.replica_assignment) {
                    self.out.errors += 1;
                    self.emit(format!("Error while executing topic command : {message}"));
                    return Ok(());
                }
                let admin = self.admin()?;
                // TopicCommand warns before it asks, whatever the answer (Kafka 4.1.1's text, seen on the
                // real tool): '.' and '_' map to the same character in metric names.
                if topic.name.contains(['.', '_']) {
                    self.emit(TOPIC_COLLISION_WARNING.to_string());
                }
                match self.call(&ClientCall::CreateTopics { admin, topics: vec![topic.clone()] }) {
                    ClientReply::Error { error } => {
                        self.out.errors += 1;
                        self.emit(format!("Error while executing topic command : {}", error.message));
                    }
                    _ => self.emit(format!("Created topic {}.", topic.name)),
                }
            }
            Tool::TopicsDelete { topic } => {
                let admin = self.admin()?;
                if let ClientReply::Error { error } =
                    self.call(&ClientCall::DeleteTopics { admin, topics: vec![topic.clone()] })
                {
                    self.topic_command_error(topic, &error);
                }
            }
            Tool::TopicsAlter { topic, partitions } => {
                let admin = self.admin()?;
                if let ClientReply::Error { error } = self.call(&ClientCall::CreatePartitions {
                    admin,
                    topic: topic.clone(),
                    total: *partitions,
                }) {
                    self.topic_command_error(topic, &error);
                }
            }
            Tool::TopicsDescribe { topic } => {
                let admin = self.admin()?;
                let topics = match self
                    .call(&ClientCall::DescribeTopics { admin: admin.clone(), topics: vec![topic.clone()] })
                {
                    ClientReply::Topics { topics } => topics,
                    ClientReply::Error { error } => {
                        self.topic_command_error(topic, &error);
                        return Ok(());
                    }
                    _ => Vec::new(),
                };
                let configs = match Self::ok(
                    self.call(&ClientCall::DescribeConfigs { admin, topic: topic.clone() }),
                )? {
                    ClientReply::Configs { configs } => configs,
                    _ => Vec::new(),
                };
                let configs: Vec<String> = configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                for t in &topics {
                    let rf = t.partitions.first().map(|p| p.replicas.len()).unwrap_or(0);
                    self.emit(format!(
                        "Topic: {}\tPartitionCount: {}\tReplicationFactor: {rf}\tConfigs: {}",
                        t.name,
                        t.partitions.len(),
                        configs.join(",")
                    ));
                    for p in &t.partitions {
                        let list = |v: &[i32]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
                        let leader = p.leader.map(|l| l.to_string()).unwrap_or_else(|| "none".into());
                        self.emit(format!("\tTopic: {}\tPartition: {}\tLeader: {leader}\tReplicas: {}\tIsr: {}\tElr: \tLastKnownElr: ", t.name, p.partition, list(&p.replicas), list(&p.isr)));
                    }
                }
            }
            Tool::ConsoleProducer { topic, parse_key, separator, properties, lines } => {
                let producer = format!("console-producer@{}", self.line);
                Self::ok(self.call(&ClientCall::NewProducer {
                    producer: producer.clone(),
                    properties: properties.clone(),
                }))?;
                let mut outcomes = Vec::new();
                for l in lines {
                    let (key, value) = match (parse_key, l.split_once(separator.as_str())) {
                        (true, Some((k, v))) => (Some(k.to_string()), Some(v.to_string())),
                        (true, None) => {
                            self.out.errors += 1;
                            self.emit(format!(
                                "Error: KafkaException: No key separator found on line number 1: '{l}'"
                            ));
                            break;
                        }
                        (false, _) => (None, Some(l.clone())),
                    };
                    let record = SendRecord {
                        topic: topic.clone(),
                        partition: None,
                        timestamp: None,
                        key,
                        value,
                        headers: Vec::new(),
                    };
                    if let ClientReply::Error { error } =
                        self.call(&ClientCall::Send { producer: producer.clone(), record, get: false })
                    {
                        outcomes.push(SendOutcome {
                            topic: topic.clone(),
                            partition: -1,
                            offset: -1,
                            error: Some(error),
                        });
                    }
                }
                if let ClientReply::SendOutcomes { outcomes: o } =
                    self.call(&ClientCall::CloseProducer { producer, timeout_ms: None })
                {
                    outcomes.extend(o);
                }
                for o in &outcomes {
                    if o.error.is_some() {
                        self.out.errors += 1;
                    }
                    self.emit(outcome_text(o));
                }
            }
            Tool::ConsoleConsumer { topic, from_beginning, group, max_messages, print_key } => {
                let consumer = format!("console-consumer@{}", self.line);
                let mut properties = vec![(
                    "auto.offset.reset".to_string(),
                    if *from_beginning { "earliest" } else { "latest" }.to_string(),
                )];
                match group {
                    Some(g) => properties.push(("group.id".into(), g.clone())),
                    None => properties.push(("group.id".into(), format!("console-consumer-{}", self.line))),
                }
                if let Some(n) = max_messages {
                    properties.push(("max.poll.records".into(), n.max(&1).to_string()));
                }
                Self::ok(self.call(&ClientCall::NewConsumer { consumer: consumer.clone(), properties }))?;
                let reply = self
                    .call(&ClientCall::Subscribe { consumer: consumer.clone(), topics: vec![topic.clone()] });
                Self::ok(reply)?;
                let records = match Self::ok(
                    self.call(&ClientCall::Poll { consumer: consumer.clone(), timeout_ms: 10_000 }),
                )? {
                    ClientReply::Records { mut records } => {
                        records.sort_by(|a, b| {
                            (&a.topic, a.partition, a.offset).cmp(&(&b.topic, b.partition, b.offset))
                        });
                        if let Some(n) = max_messages {
                            records.truncate(usize::try_from(*n).unwrap_or(0));
                        }
                        records
                    }
                    _ => Vec::new(),
                };
                for r in &records {
                    let value = r.value.clone().unwrap_or_else(|| "null".into());
                    if *print_key {
                        self.emit(format!("{}\t{value}", r.key.clone().unwrap_or_else(|| "null".into())));
                    } else {
                        self.emit(value);
                    }
                }
                self.emit(format!("Processed a total of {} messages", records.len()));
                Self::ok(self.call(&ClientCall::CloseConsumer { consumer }))?;
            }
            Tool::GroupsDescribe { group } => {
                let admin = self.admin()?;
                let (info, committed) = match self.group(&admin, group) {
                    Ok((info, committed)) => (sorted_members(&info), committed),
                    Err(e) => {
                        self.out.errors += 1;
                        self.emit(format!("Error: Executing consumer group command failed due to org.apache.kafka.common.errors.{}", error_text(&e)));
                        return Ok(());
                    }
                };
                // Rows: every assigned partition with its member, then committed partitions nobody has.
                let mut rows: Vec<(Tp, Option<i64>, String, String, String)> = Vec::new();
                for m in &info.members {
                    let id = self.member(&m.member_id);
                    for tp in &m.assignment {
                        let current = committed
                            .iter()
                            .find(|c| c.topic == tp.topic && c.partition == tp.partition)
                            .and_then(|c| c.offset);
                        rows.push((tp.clone(), current, id.clone(), m.host.clone(), m.client_id.clone()));
                    }
                }
                for c in &committed {
                    let tp = Tp { topic: c.topic.clone(), partition: c.partition };
                    if !rows.iter().any(|r| r.0 == tp) {
                        rows.push((tp, c.offset, "-".into(), "-".into(), "-".into()));
                    }
                }
                rows.sort_by(|a, b| a.0.cmp(&b.0));
                if info.members.is_empty() {
                    self.emit("");
                    self.emit(format!("Consumer group '{group}' has no active members."));
                }
                self.emit("");
                let gw = rows.iter().map(|_| group.len()).max().unwrap_or(0).max(15);
                let tw = rows.iter().map(|r| r.0.topic.len()).max().unwrap_or(0).max(15);
                let cw = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(15);
                let hw = rows.iter().map(|r| r.3.len()).max().unwrap_or(0).max(15);
                self.emit(format!(
                    "{:gw$} {:tw$} {:10} {:15} {:15} {:15} {:cw$} {:hw$} CLIENT-ID",
                    "GROUP",
                    "TOPIC",
                    "PARTITION",
                    "CURRENT-OFFSET",
                    "LOG-END-OFFSET",
                    "LAG",
                    "CONSUMER-ID",
                    "HOST"
                ));
                for (tp, current, id, host, client) in rows {
                    let end = self.list_offset(&admin, &tp, OffsetQuery::Latest)?;
                    let show = |o: Option<i64>| o.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
                    let lag = match (current, end) {
                        (Some(c), Some(e)) => Some(e - c),
                        _ => None,
                    };
                    self.emit(format!(
                        "{group:gw$} {:tw$} {:<10} {:15} {:15} {:15} {id:cw$} {host:hw$} {client}",
                        tp.topic,
                        tp.partition,
                        show(current),
                        show(end),
                        show(lag)
                    ));
                }
            }
            Tool::Server { start, node, signal } => {
                let node = *node;
                let call = match signal {
                    _ if *start => ClientCall::StartBroker { node },
                    ServerSignal::Kill => ClientCall::KillBroker { node },
                    ServerSignal::Term => ClientCall::StopBroker { node },
                    ServerSignal::Stop => ClientCall::PauseBroker { node },
                    ServerSignal::Cont => ClientCall::ResumeBroker { node },
                };
                let reply = self.call(&call);
                self.show_reply(&reply);
            }
            Tool::LeaderElection { election, topic, partition } => {
                // As `LeaderElectionCommand`: elected, not needed, or an error line and the count of
                // failures the command then throws (AdminCommandFailedException).
                let admin = self.admin()?;
                let tp = format!("{topic}-{partition}");
                match self.call(&ClientCall::ElectLeaders {
                    admin,
                    election: election.clone(),
                    partitions: vec![super::client::Tp { topic: topic.clone(), partition: *partition }],
                }) {
                    ClientReply::Error { error } if error.exception == "ElectionNotNeededException" => {
                        self.emit(format!("Valid replica already elected for partitions {tp}"));
                    }
                    ClientReply::Error { error } => {
                        self.out.errors += 1;
                        self.emit(format!(
                            "Error completing leader election ({election}) for partition: {tp}: \
                             org.apache.kafka.common.errors.{}: {}",
                            error.exception, error.message
                        ));
                        self.emit("1 replica(s) could not be elected".to_string());
                    }
                    _ => self.emit(format!(
                        "Successfully completed leader election ({election}) for partitions {tp}"
                    )),
                }
            }
            Tool::GroupsDeleteOffsets { group, topics } => {
                // As `ConsumerGroupCommand.deleteOffsets`: a topic named without partitions stands for all
                // of them (an unknown one is a row of its own), then one OffsetDelete for the rest.
                let admin = self.admin()?;
                let mut rows: Vec<(String, String, Option<ClientError>)> = Vec::new();
                let mut asked = Vec::new();
                for (topic, list) in topics {
                    match list {
                        Some(list) => {
                            asked.extend(list.iter().map(|&p| Tp { topic: topic.clone(), partition: p }))
                        }
                        None => match self.call(&ClientCall::DescribeTopics {
                            admin: admin.clone(),
                            topics: vec![topic.clone()],
                        }) {
                            ClientReply::Topics { topics } => {
                                for t in topics {
                                    asked.extend(
                                        t.partitions
                                            .iter()
                                            .map(|p| Tp { topic: t.name.clone(), partition: p.partition }),
                                    );
                                }
                            }
                            ClientReply::Error { error } => {
                                rows.push((topic.clone(), "-".into(), Some(error)))
                            }
                            _ => {}
                        },
                    }
                }
                let results = match Self::ok(self.call(&ClientCall::DeleteConsumerGroupOffsets {
                    admin,
                    group: group.clone(),
                    partitions: asked,
                }))? {
                    ClientReply::PartitionResults { results } => results,
                    _ => Vec::new(),
                };
                // The headline speaks of the OffsetDelete alone; an unknown topic is only a row.
                let errors: Vec<ClientError> = results.iter().filter_map(|r| r.error.clone()).collect();
                let group_error = !errors.is_empty()
                    && errors.len() == results.len()
                    && matches!(
                        errors[0].exception.as_str(),
                        "GroupIdNotFoundException" | "NonEmptyGroupException"
                    );
                for r in results {
                    rows.push((r.topic, r.partition.to_string(), r.error));
                }
                // The tool sorts its rows by `TopicPartition.toString()`.
                rows.sort_by(|a, b| format!("{}-{}", a.0, a.1).cmp(&format!("{}-{}", b.0, b.1)));
                if errors.is_empty() {
                    self.emit(format!("Request succeeded for deleting offsets from group {group}."));
                } else if group_error {
                    self.out.errors += 1;
                    self.emit("");
                    self.emit(format!("Error: {}", errors[0].message));
                } else {
                    self.out.errors += 1;
                    self.emit("");
                    self.emit("Error: Encountered some partition-level error, see the follow-up details.");
                }
                let tw = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(15);
                self.emit("");
                self.emit(format!("{:tw$} {:10} {:15}", "TOPIC", "PARTITION", "STATUS"));
                for (topic, partition, error) in &rows {
                    let status = match error {
                        None => "Successful".to_string(),
                        Some(e) => format!("Error: org.apache.kafka.common.errors.{}", error_text(e)),
                    };
                    self.emit(format!("{topic:tw$} {partition:10} {status:15}"));
                }
            }
            Tool::GroupsReset { group, topic, spec, execute } => {
                let admin = self.admin()?;
                let (info, committed) = match self.group(&admin, group) {
                    Ok(x) => x,
                    Err(e) if e.exception == "GroupIdNotFoundException" => (
                        GroupInfo {
                            group_id: group.clone(),
                            state: "Dead".into(),
                            assignor: String::new(),
                            members: Vec::new(),
                        },
                        Vec::new(),
                    ),
                    Err(e) => return Err(e),
                };
                if let Err(e) = tools::check_inactive(group, &info.state) {
                    self.out.errors += 1;
                    self.emit(format!("Error: {e}"));
                    return Ok(());
                }
                let partitions =
                    match Self::ok(self.call(&ClientCall::DescribeTopics {
                        admin: admin.clone(),
                        topics: vec![topic.clone()],
                    }))? {
                        ClientReply::Topics { topics } => topics
                            .into_iter()
                            .flat_map(|t| {
                                t.partitions
                                    .into_iter()
                                    .map(move |p| Tp { topic: t.name.clone(), partition: p.partition })
                            })
                            .collect::<Vec<_>>(),
                        _ => Vec::new(),
                    };
                let mut facts = Vec::new();
                for tp in &partitions {
                    let earliest = self.list_offset(&admin, tp, OffsetQuery::Earliest)?.unwrap_or(0);
                    let latest = self.list_offset(&admin, tp, OffsetQuery::Latest)?.unwrap_or(0);
                    let for_datetime = match spec {
                        ResetSpec::ToDatetime(ms) => {
                            self.list_offset(&admin, tp, OffsetQuery::ForTimestamp(*ms))?
                        }
                        _ => None,
                    };
                    let committed = committed
                        .iter()
                        .find(|c| c.topic == tp.topic && c.partition == tp.partition)
                        .and_then(|c| c.offset);
                    facts.push(PartitionFacts {
                        partition: TopicPartition::new(tp.topic.clone(), tp.partition),
                        earliest,
                        latest: latest.max(earliest),
                        committed,
                        for_datetime,
                    });
                }
                let new_offsets = match tools::reset_offsets(group, &info.state, &facts, spec) {
                    Ok(offsets) => offsets
                        .into_iter()
                        .map(|o| PartitionOffset {
                            topic: o.partition.topic.to_string(),
                            partition: o.partition.partition,
                            offset: Some(o.offset),
                        })
                        .collect::<Vec<_>>(),
                    Err(e @ ResetError::GroupNotInactive { .. }) => {
                        self.out.errors += 1;
                        self.emit(format!("Error: {e}"));
                        return Ok(());
                    }
                    Err(e) => {
                        // An IllegalArgumentException: the tool prints its message (then its usage).
                        self.out.errors += 1;
                        self.emit(e.to_string());
                        return Ok(());
                    }
                };
                if *execute {
                    Self::ok(self.call(&ClientCall::AlterConsumerGroupOffsets {
                        admin,
                        group: group.clone(),
                        offsets: new_offsets.clone(),
                    }))?;
                }
                self.emit("");
                self.emit(format!("{:30} {:30} {:10} {:15}", "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"));
                for o in &new_offsets {
                    self.emit(format!(
                        "{group:30} {:30} {:<10} {:<15}",
                        o.topic,
                        o.partition,
                        o.offset.unwrap_or(0)
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Runs `program` on `clients` and returns its transcript.
pub fn run<C: KafkaClients>(program: &Program, clients: &mut C) -> Transcript {
    let mut r =
        Runner { clients, out: Transcript::default(), line: 0, members: Vec::new(), tools_admin: false };
    for s in &program.statements {
        r.line = s.line;
        r.out.lines.push(TranscriptLine { line: s.line, text: format!("{}: {}", s.line, s.source) });
        match &s.action {
            Action::Local => {}
            Action::Call(call) => {
                let reply = r.call(call);
                r.show_reply(&reply);
            }
            Action::PartitionCount(call) => match r.call(call) {
                ClientReply::Records { records } => {
                    let partitions: BTreeSet<(&str, i32)> =
                        records.iter().map(|rec| (rec.topic.as_str(), rec.partition)).collect();
                    r.emit(partitions.len().to_string());
                }
                other => r.show_reply(&other),
            },
            Action::Tool(tool) => r.tool(tool),
        }
    }
    r.out
}

/// The consumer groups a program's consumers and tools use (for cleaning them away on a real broker).
pub fn used_groups(program: &Program) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &program.statements {
        let group = match &s.action {
            Action::Call(
                ClientCall::NewConsumer { properties, .. } | ClientCall::NewShareConsumer { properties, .. },
            ) => properties.iter().find(|(k, _)| k == "group.id").map(|(_, v)| v.clone()),
            Action::Tool(Tool::ConsoleConsumer { group, .. }) => {
                Some(group.clone().unwrap_or_else(|| format!("console-consumer-{}", s.line)))
            }
            Action::Tool(
                Tool::GroupsDescribe { group }
                | Tool::GroupsReset { group, .. }
                | Tool::GroupsDeleteOffsets { group, .. },
            ) => Some(group.clone()),
            _ => None,
        };
        if let Some(g) = group {
            if !out.contains(&g) {
                out.push(g);
            }
        }
    }
    out
}

/// The topics a program creates (for cleaning them away before and after a run on a real broker).
pub fn created_topics(program: &Program) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |t: &NewTopic| {
        if !out.contains(&t.name) {
            out.push(t.name.clone());
        }
    };
    for s in &program.statements {
        match &s.action {
            Action::Call(ClientCall::CreateTopics { topics, .. }) => topics.iter().for_each(&mut add),
            Action::Tool(Tool::TopicsCreate { topic }) => add(topic),
            _ => {}
        }
    }
    out
}

/// `kafka-topics --replica-assignment`'s own checks (TopicCommand, before any request): no broker twice in
/// a partition's list, and every list as long as the first.
fn replica_assignment_tool_error(assignment: &[(i32, Vec<i32>)]) -> Option<String> {
    let first = assignment.first().map(|(_, r)| r.len())?;
    for (partition, replicas) in assignment {
        let mut duplicates: Vec<i32> = replicas
            .iter()
            .enumerate()
            .filter(|(i, b)| replicas[..*i].contains(b))
            .map(|(_, b)| *b)
            .collect();
        duplicates.sort_unstable();
        duplicates.dedup();
        if !duplicates.is_empty() {
            let list: Vec<String> = duplicates.iter().map(|b| b.to_string()).collect();
            return Some(format!(
                "Partition replica lists may not contain duplicate entries: {}",
                list.join(",")
            ));
        }
        if replicas.len() != first {
            let list: Vec<String> = replicas.iter().map(|b| b.to_string()).collect();
            return Some(format!(
                "Partition {partition} has different replication factor: [{}]",
                list.join(", ")
            ));
        }
    }
    None
}

#[cfg(test)]
mod normalisation_tests {
    use super::{leader_address_normalised, producer_id_normalised, timestamp_bounds_normalised};

    #[test]
    fn producer_ids_in_error_messages_print_as_n() {
        // The message as Kafka 4.1.1's client gave it on a broker that had served 17 producers before.
        assert_eq!(
            producer_id_normalised("Producer with transactionalId 'auditor' and (producerId=17, epoch=0) attempted to produce with an old epoch"),
            "Producer with transactionalId 'auditor' and (producerId=N, epoch=0) attempted to produce with an old epoch"
        );
        assert_eq!(producer_id_normalised("no id here"), "no id here");
        assert_eq!(producer_id_normalised("producerId=, producerId=3"), "producerId=, producerId=N");
        assert_eq!(
            leader_address_normalised(
                "Fetch position FetchPosition{offset=1, offsetEpoch=Optional.empty, currentLeader=LeaderAndEpoch{leader=Optional[127.0.0.1:29092 (id: 1 rack: null isFenced: false)], epoch=0}} is out of range for partition t-0"
            ),
            "Fetch position FetchPosition{offset=1, offsetEpoch=Optional.empty, currentLeader=LeaderAndEpoch{leader=Optional[HOST:PORT (id: 1 rack: null isFenced: false)], epoch=0}} is out of range for partition t-0"
        );
        assert_eq!(leader_address_normalised("leader=Optional.empty"), "leader=Optional.empty");
        assert_eq!(
            timestamp_bounds_normalised(
                "Timestamp 9 of message with offset 0 is out of range. The timestamp should be within [-92233, 17965]"
            ),
            "Timestamp 9 of message with offset 0 is out of range. The timestamp should be within [N, N]"
        );
    }
}
