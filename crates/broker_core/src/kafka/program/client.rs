//! The seam a Kafka program runs against: one call per client method, named as the Java client names it
//! (`createTopics`, `send`, `poll`, `commitSync`, …), and what each returns.
//!
//! A program's statements become [`ClientCall`]s; an implementation of [`KafkaClients`] answers each with a
//! [`ClientReply`]. Two implementations exist: the engine's (`kafka::program::engine`, over the model) and the
//! real one (`real_broker::kafka`, which sends each call as one JSON line to a Java driver holding real
//! `Admin`, `KafkaProducer` and `KafkaConsumer` objects). The calls and replies are plain serde data, so the
//! JSON lines on the wire are these types and nothing is translated twice.
//!
//! Clients are named by the program's variable (`producer`, `c1`); a call on a name never created is
//! refused by the parser, never sent.

use serde::{Deserialize, Serialize};

/// A topic and partition (`new TopicPartition("orders", 0)`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tp {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
}

impl std::fmt::Display for Tp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// `new NewTopic(name, partitions, (short) replicationFactor).configs(Map.of(…))`; `Optional.empty()` for a
/// count leaves it to the broker's default. `new NewTopic(name, Map.of(0, List.of(1, 2, 3), …))` assigns the
/// replicas by hand (both counts are then `None`: the request says -1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTopic {
    /// The topic's name.
    pub name: String,
    /// The partition count, or the broker's `num.partitions`.
    pub partitions: Option<i32>,
    /// The replication factor, or the broker's `default.replication.factor`.
    pub replication_factor: Option<i16>,
    /// Topic configs, in the order written.
    pub configs: Vec<(String, String)>,
    /// A manual replica assignment: partition → broker ids, the first the preferred leader; sorted by
    /// partition (Java's `Map.of` iterates in a random order, so the driver sends a `TreeMap`'s). Empty
    /// for none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replica_assignment: Vec<(i32, Vec<i32>)>,
}

/// One `AlterConfigOp`: `SET` a value or `DELETE` it (back to the default).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigOp {
    /// The config's name.
    pub name: String,
    /// The value for `SET`; `None` for `DELETE`.
    pub value: Option<String>,
}

/// A record to send, with string key and value (`StringSerializer`); `None` is Java's `null`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRecord {
    /// The topic.
    pub topic: String,
    /// An explicit partition, or the partitioner's choice.
    pub partition: Option<i32>,
    /// An explicit timestamp (ms).
    pub timestamp: Option<i64>,
    /// The key.
    pub key: Option<String>,
    /// The value.
    pub value: Option<String>,
    /// Headers in order (`new RecordHeader(key, value.getBytes())`), values as UTF-8 strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, Option<String>)>,
}

/// A partition and an offset (a commit, a reset, a seek target).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartitionOffset {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset; `None` where there is none (nothing committed).
    pub offset: Option<i64>,
}

/// One call of a client method. Field names are the wire's (snake case); variants are the Java methods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum ClientCall {
    /// `Admin.create(props)` under a name (the properties other than `bootstrap.servers` are passed on).
    NewAdmin { admin: String, properties: Vec<(String, String)> },
    /// `admin.createTopics(…).all().get()`.
    CreateTopics { admin: String, topics: Vec<NewTopic> },
    /// `admin.deleteTopics(…).all().get()`.
    DeleteTopics { admin: String, topics: Vec<String> },
    /// `admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(total))).all().get()`.
    CreatePartitions { admin: String, topic: String, total: i32 },
    /// `admin.electLeaders(ElectionType.PREFERRED|UNCLEAN, Set.of(tp, …)).all().get()`: `election` is
    /// `PREFERRED` or `UNCLEAN`; the reply is the first partition's failure (as `all().get()` throws it).
    ElectLeaders { admin: String, election: String, partitions: Vec<Tp> },
    /// `admin.describeTopics(…).allTopicNames().get()`.
    DescribeTopics { admin: String, topics: Vec<String> },
    /// `admin.describeCluster().nodes().get()`: the registered, unfenced brokers.
    DescribeCluster { admin: String },
    /// `admin.incrementalAlterConfigs(…)` on one topic.
    IncrementalAlterConfigs { admin: String, topic: String, ops: Vec<ConfigOp> },
    /// `admin.incrementalAlterConfigs(…)` on one group (`ConfigResource.Type.GROUP`: a share group's
    /// `share.auto.offset.reset`, `share.record.lock.duration.ms`, …).
    AlterGroupConfigs { admin: String, group: String, ops: Vec<ConfigOp> },
    /// `admin.describeConfigs(…)` on one topic: the entries that are not the default.
    DescribeConfigs { admin: String, topic: String },
    /// `admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(n)))`: answers the new low watermark.
    DeleteRecords { admin: String, partition: Tp, before_offset: i64 },
    /// `admin.listOffsets(Map.of(tp, OffsetSpec.earliest()|latest()|forTimestamp(t)))`.
    ListOffsets { admin: String, partition: Tp, spec: OffsetQuery },
    /// `admin.listConsumerGroupOffsets(group)`.
    ListConsumerGroupOffsets { admin: String, group: String },
    /// `admin.describeConsumerGroups(…)`.
    DescribeConsumerGroups { admin: String, groups: Vec<String> },
    /// `admin.deleteConsumerGroups(…)` (the runner uses it to clean up on a real broker).
    DeleteConsumerGroups { admin: String, groups: Vec<String> },
    /// `admin.deleteConsumerGroupOffsets(group, Set.of(tp, …))` (OffsetDelete; what
    /// `kafka-consumer-groups --delete-offsets` does): answers each partition's outcome.
    DeleteConsumerGroupOffsets { admin: String, group: String, partitions: Vec<Tp> },
    /// `admin.alterConsumerGroupOffsets(group, …)` (what `kafka-consumer-groups --reset-offsets` does).
    AlterConsumerGroupOffsets { admin: String, group: String, offsets: Vec<PartitionOffset> },
    /// `new KafkaProducer<>(props)` with `StringSerializer`s.
    NewProducer { producer: String, properties: Vec<(String, String)> },
    /// `producer.send(record)`, with `.get()` when `get` (then the reply is the record's metadata).
    Send { producer: String, record: SendRecord, get: bool },
    /// `producer.flush()`: answers the outcome of every send not yet reported, in send order.
    Flush { producer: String },
    /// `producer.initTransactions()`.
    InitTransactions { producer: String },
    /// `producer.beginTransaction()`.
    BeginTransaction { producer: String },
    /// `producer.commitTransaction()`: answers the outcome of the sends not yet reported.
    CommitTransaction { producer: String },
    /// `producer.abortTransaction()`.
    AbortTransaction { producer: String },
    /// `producer.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(n)), c.groupMetadata())`: the
    /// group of consumer `consumer` (or `new ConsumerGroupMetadata(group)`) commits with the transaction.
    SendOffsetsToTransaction {
        producer: String,
        offsets: Vec<PartitionOffset>,
        consumer: Option<String>,
        group: Option<String>,
    },
    /// `producer.close()` (or `close(Duration.ofMillis(n))`): answers the outcome of the sends not yet
    /// reported. A graceful close sends what is queued and aborts an open transaction; `close` with a zero
    /// timeout is forced and leaves the transaction open, as a producer that crashed leaves it.
    CloseProducer {
        producer: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// `new KafkaConsumer<>(props)` with `StringDeserializer`s.
    NewConsumer { consumer: String, properties: Vec<(String, String)> },
    /// `consumer.subscribe(List.of(…))`.
    Subscribe { consumer: String, topics: Vec<String> },
    /// `consumer.assign(List.of(…))`.
    Assign { consumer: String, partitions: Vec<Tp> },
    /// `consumer.unsubscribe()`.
    Unsubscribe { consumer: String },
    /// `consumer.poll(Duration.ofMillis(timeout_ms))`: see `docs/kafka-programs.md` for what a poll
    /// returns in a program (every record the consumer gets until it has caught up, bounded).
    Poll { consumer: String, timeout_ms: i64 },
    /// `consumer.commitSync()` (the positions) or `commitSync(Map.of(…))`.
    CommitSync { consumer: String, offsets: Option<Vec<PartitionOffset>> },
    /// `consumer.commitAsync()`; the outcome is known by the next statement on this consumer.
    CommitAsync { consumer: String },
    /// `consumer.seek(tp, offset)`.
    Seek { consumer: String, partition: Tp, offset: i64 },
    /// `consumer.seekToBeginning(…)`.
    SeekToBeginning { consumer: String, partitions: Vec<Tp> },
    /// `consumer.seekToEnd(…)`.
    SeekToEnd { consumer: String, partitions: Vec<Tp> },
    /// `consumer.offsetsForTimes(Map.of(tp, timestamp, …))`: per partition the earliest offset whose
    /// timestamp is at or after the one given (`None` when there is none).
    OffsetsForTimes { consumer: String, query: Vec<(Tp, i64)> },
    /// `consumer.seek(tp, consumer.offsetsForTimes(Map.of(tp, timestamp)).get(tp).offset())`: seek by
    /// timestamp, as the Java idiom does (a null lookup throws `NullPointerException`).
    SeekToTimestamp { consumer: String, partition: Tp, timestamp: i64 },
    /// `consumer.position(tp)`.
    Position { consumer: String, partition: Tp },
    /// `consumer.committed(Set.of(…))`.
    Committed { consumer: String, partitions: Vec<Tp> },
    /// `consumer.pause(…)`.
    Pause { consumer: String, partitions: Vec<Tp> },
    /// `consumer.resume(…)`.
    Resume { consumer: String, partitions: Vec<Tp> },
    /// `consumer.assignment()`.
    Assignment { consumer: String },
    /// `consumer.groupMetadata()`: the group, the generation (the member epoch with
    /// `group.protocol=consumer`), the member id and the instance id.
    GroupMetadata { consumer: String },
    /// `consumer.close()`.
    CloseConsumer { consumer: String },
    /// `new KafkaShareConsumer<>(props)` (KIP-932) with `StringDeserializer`s; `group.id` names the share
    /// group.
    NewShareConsumer { share: String, properties: Vec<(String, String)> },
    /// `share.subscribe(List.of(…))`.
    ShareSubscribe { share: String, topics: Vec<String> },
    /// `share.poll(Duration.ofMillis(timeout_ms))`: the records of the first poll that returns any, or none
    /// once `timeout_ms` has passed.
    SharePoll { share: String, timeout_ms: i64 },
    /// `for (ConsumerRecord<String, String> r : records) share.acknowledge(r, AcknowledgeType.X);` over the
    /// records of the share consumer's last poll; `kind` is `ACCEPT`, `RELEASE` or `REJECT`.
    ShareAcknowledge { share: String, kind: String },
    /// `share.commitSync()`.
    ShareCommitSync { share: String },
    /// `share.close()`.
    ShareClose { share: String },
    /// `Thread.sleep(ms)`.
    Sleep { ms: i64 },
    /// `kafka-server-stop --node-id N`: broker N shuts down (a controlled shutdown).
    StopBroker { node: i32 },
    /// `SIGNAL=KILL kafka-server-stop --node-id N`: broker N is killed (a crash: no controlled shutdown;
    /// the controller fences it once its session times out).
    KillBroker { node: i32 },
    /// `kafka-server-start --node-id N`: broker N starts again.
    StartBroker { node: i32 },
    /// `SIGNAL=STOP kafka-server-stop --node-id N`: broker N's process is paused (SIGSTOP): a frozen,
    /// still registered broker, fenced only after `broker.session.timeout.ms`.
    PauseBroker { node: i32 },
    /// `SIGNAL=CONT kafka-server-stop --node-id N`: a paused broker N goes on (SIGCONT).
    ResumeBroker { node: i32 },
}

/// Which offset `listOffsets` asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetQuery {
    /// `OffsetSpec.earliest()`.
    Earliest,
    /// `OffsetSpec.latest()`.
    Latest,
    /// `OffsetSpec.forTimestamp(ms)`.
    ForTimestamp(i64),
}

/// A Java exception as the program would catch it: its simple class name and message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientError {
    /// `TopicExistsException`.
    pub exception: String,
    /// `Topic 'orders' already exists.`
    pub message: String,
}

/// Where a sent record went, or why it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendOutcome {
    /// The topic.
    pub topic: String,
    /// The partition written to (`-1` if unknown).
    pub partition: i32,
    /// The record's offset (`-1` if unknown, as with `acks=0`).
    pub offset: i64,
    /// The failure, for a send that failed.
    pub error: Option<ClientError>,
}

/// A record as a consumer received it (string key and value; no timestamp: a producer's clock).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Received {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// The key.
    pub key: Option<String>,
    /// The value.
    pub value: Option<String>,
    /// The record's headers in order (values read as UTF-8).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, Option<String>)>,
    /// A share consumer's record: how often it has been delivered (`deliveryCount()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_count: Option<i32>,
}

/// One partition of a described topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionInfo {
    /// The partition.
    pub partition: i32,
    /// The leader's node id, `None` when there is none.
    pub leader: Option<i32>,
    /// The replicas' node ids, in assignment order.
    pub replicas: Vec<i32>,
    /// The in-sync replicas.
    pub isr: Vec<i32>,
}

/// A described topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicInfo {
    /// The topic's name.
    pub name: String,
    /// Its partitions, by index.
    pub partitions: Vec<PartitionInfo>,
}

/// One partition's outcome of a call that answers per partition (`partitionResult(tp).get()`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionResult {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// What it threw; `None` when it succeeded.
    pub error: Option<ClientError>,
}

/// A member of a described group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// The member id the coordinator gave.
    pub member_id: String,
    /// `group.instance.id`, for a static member.
    pub instance_id: Option<String>,
    /// The consumer's `client.id`.
    pub client_id: String,
    /// The member's host as the coordinator saw it (`/127.0.0.1`).
    pub host: String,
    /// Its assigned partitions, sorted.
    pub assignment: Vec<Tp>,
}

/// A described consumer group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// The group id.
    pub group_id: String,
    /// `Stable`, `Empty`, `Dead`, … as `GroupState` prints.
    pub state: String,
    /// The assignor of the current generation (`range`), empty when none.
    pub assignor: String,
    /// The members, in the coordinator's order.
    pub members: Vec<MemberInfo>,
}

/// What a call returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "camelCase")]
pub enum ClientReply {
    /// It completed and returns nothing.
    Done,
    /// `send(…).get()`: the record's metadata.
    Sent { outcome: SendOutcome },
    /// The outcomes of earlier sends, in send order (flush, commitTransaction, close).
    SendOutcomes { outcomes: Vec<SendOutcome> },
    /// The records a poll returned.
    Records { records: Vec<Received> },
    /// One offset (`position`, `listOffsets`, `deleteRecords`' low watermark); `None` when none.
    Offset { offset: Option<i64> },
    /// Offsets per partition (`committed`, `listConsumerGroupOffsets`), sorted.
    Offsets { offsets: Vec<PartitionOffset> },
    /// Partitions (`assignment`), sorted.
    Partitions { partitions: Vec<Tp> },
    /// Described topics, in the order asked.
    Topics { topics: Vec<TopicInfo> },
    /// `describeCluster().nodes()`: the brokers' node ids, sorted.
    Nodes { nodes: Vec<i32> },
    /// Config entries that are not the default, sorted by name.
    Configs { configs: Vec<(String, String)> },
    /// Described groups, in the order asked.
    Groups { groups: Vec<GroupInfo> },
    /// Per partition, in the order asked (`deleteConsumerGroupOffsets`); `.all().get()` throws the first
    /// partition's error.
    PartitionResults { results: Vec<PartitionResult> },
    /// `groupMetadata()`.
    GroupMetadata { group_id: String, generation_id: i32, member_id: String, instance_id: Option<String> },
    /// The call threw.
    Error { error: ClientError },
}

/// Something that runs client calls: the engine, or a real Kafka through the Java client.
pub trait KafkaClients {
    /// Runs one call and returns what it returned (or threw).
    fn call(&mut self, call: &ClientCall) -> ClientReply;
}
