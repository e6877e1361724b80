//! The parser's statements and errors, and the transcript's rendering over a scripted client.

use super::client::*;
use super::parse::{parse, Action, ResetSpec, Tool};
use super::run::run;

fn error_of(text: &str) -> String {
    parse(text).expect_err("should not parse").to_string()
}

fn calls(text: &str) -> Vec<ClientCall> {
    parse(text)
        .unwrap()
        .statements
        .into_iter()
        .filter_map(|s| match s.action {
            Action::Call(c) => Some(c),
            _ => None,
        })
        .collect()
}

const SETUP: &str =
    "Properties props = new Properties();\nprops.put(\"bootstrap.servers\", \"localhost:9092\");\n\
                     props.put(\"acks\", \"all\");\nAdmin admin = Admin.create(props);\n\
                     KafkaProducer<String, String> producer = new KafkaProducer<>(props);\n\
                     KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props);\n";

#[test]
fn javadoc_statements_become_client_calls() {
    let text = format!(
        "{SETUP}admin.createTopics(List.of(new NewTopic(\"orders\", 3, (short) 1).configs(Map.of(\"retention.ms\", \"1000\")))).all().get();\n\
         producer.send(new ProducerRecord<>(\"orders\", \"alice\", \"o-1\")).get();\n\
         producer.send(new ProducerRecord<>(\"orders\", 2, null, \"v\"));\n\
         consumer.subscribe(List.of(\"orders\"));\n\
         ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));\n\
         consumer.commitSync(Map.of(new TopicPartition(\"orders\", 0), new OffsetAndMetadata(4)));\n\
         consumer.seek(new TopicPartition(\"orders\", 1),\n    2);\n\
         admin.deleteRecords(Map.of(new TopicPartition(\"orders\", 0), RecordsToDelete.beforeOffset(3))).all().get();\n\
         admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, \"orders\"), \
         List.of(new AlterConfigOp(new ConfigEntry(\"max.message.bytes\", \"200\"), AlterConfigOp.OpType.SET)))).all().get();\n\
         Thread.sleep(100);\n"
    );
    let c = calls(&text);
    assert_eq!(
        c[0],
        ClientCall::NewAdmin {
            admin: "admin".into(),
            properties: vec![
                ("bootstrap.servers".into(), "localhost:9092".into()),
                ("acks".into(), "all".into())
            ]
        }
    );
    assert_eq!(
        c[3],
        ClientCall::CreateTopics {
            admin: "admin".into(),
            topics: vec![NewTopic {
                name: "orders".into(),
                partitions: Some(3),
                replication_factor: Some(1),
                configs: vec![("retention.ms".into(), "1000".into())],
                replica_assignment: Vec::new(),
            }]
        }
    );
    let record = |partition, key: Option<&str>, value: &str| SendRecord {
        topic: "orders".into(),
        partition,
        timestamp: None,
        key: key.map(String::from),
        value: Some(value.into()),
        headers: Vec::new(),
    };
    assert_eq!(
        c[4],
        ClientCall::Send {
            producer: "producer".into(),
            record: record(None, Some("alice"), "o-1"),
            get: true
        }
    );
    assert_eq!(
        c[5],
        ClientCall::Send { producer: "producer".into(), record: record(Some(2), None, "v"), get: false }
    );
    assert_eq!(c[7], ClientCall::Poll { consumer: "consumer".into(), timeout_ms: 500 });
    assert_eq!(
        c[8],
        ClientCall::CommitSync {
            consumer: "consumer".into(),
            offsets: Some(vec![PartitionOffset { topic: "orders".into(), partition: 0, offset: Some(4) }])
        }
    );
    assert_eq!(
        c[9],
        ClientCall::Seek {
            consumer: "consumer".into(),
            partition: Tp { topic: "orders".into(), partition: 1 },
            offset: 2
        }
    );
    assert_eq!(
        c[10],
        ClientCall::DeleteRecords {
            admin: "admin".into(),
            partition: Tp { topic: "orders".into(), partition: 0 },
            before_offset: 3
        }
    );
    assert_eq!(
        c[11],
        ClientCall::IncrementalAlterConfigs {
            admin: "admin".into(),
            topic: "orders".into(),
            ops: vec![ConfigOp { name: "max.message.bytes".into(), value: Some("200".into()) }]
        }
    );
    assert_eq!(c[12], ClientCall::Sleep { ms: 100 });
}

#[test]
fn quickstart_tools_parse_with_their_input_lines() {
    let p = parse(
        "$ bin/kafka-topics.sh --create --topic quickstart-events --partitions 3 --bootstrap-server localhost:9092\n\
         kafka-console-producer --topic quickstart-events --property parse.key=true --property key.separator=:\n\
         >alice:first event\n>bob:second\n\
         kafka-console-consumer --topic quickstart-events --from-beginning --group g --max-messages 2\n\
         kafka-consumer-groups --reset-offsets --group g --topic quickstart-events --shift-by -1 --execute\n",
    )
    .unwrap();
    assert_eq!(p.statements.len(), 4);
    match &p.statements[1].action {
        Action::Tool(Tool::ConsoleProducer { parse_key, separator, lines, .. }) => {
            assert!(parse_key);
            assert_eq!(separator, ":");
            assert_eq!(lines, &vec!["alice:first event".to_string(), "bob:second".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.statements[2].line, 5);
    match &p.statements[3].action {
        Action::Tool(Tool::GroupsReset { spec, execute, .. }) => {
            assert_eq!(spec, &ResetSpec::ShiftBy(-1));
            assert!(execute);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn delete_offsets_takes_whole_topics_and_listed_partitions() {
    let p = parse(
        "kafka-consumer-groups --bootstrap-server localhost:9092 --delete-offsets --group g --topic t --topic u:0,2\n\
         Properties p = new Properties();\n\
         Admin a = Admin.create(p);\n\
         a.deleteConsumerGroupOffsets(\"g\", Set.of(new TopicPartition(\"t\", 1))).all().get();\n",
    )
    .unwrap();
    match &p.statements[0].action {
        Action::Tool(Tool::GroupsDeleteOffsets { group, topics }) => {
            assert_eq!(group, "g");
            assert_eq!(topics, &vec![("t".to_string(), None), ("u".to_string(), Some(vec![0, 2]))]);
        }
        other => panic!("{other:?}"),
    }
    match &p.statements[3].action {
        Action::Call(ClientCall::DeleteConsumerGroupOffsets { group, partitions, .. }) => {
            assert_eq!(group, "g");
            assert_eq!(partitions, &vec![Tp { topic: "t".into(), partition: 1 }]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn each_kind_of_malformed_line_is_located() {
    let cases: &[(&str, &str)] = &[
        ("producer.flush();\n", "1:1: 'producer' is not declared before this line"),
        ("Properties p = new Properties()\n", "1:32: a Java statement ends with ';'"),
        ("Properties p = new Properties();\np.put(\"acks\", \"all);\n", "2:15: this string is not closed on its line"),
        ("Properties p = new Properties();\np.put(\"a\" \"b\");\n", "2:11: expected ')' here"),
        ("Properties p = new Properties();\nAdmin a = Admin.create(p);\na.createTopics(List.of(new NewTopic(\"t\", 3)));\n", "3:42: expected a map here, like Map.of(key, value)"),
        ("Properties p = new Properties();\nAdmin a = Admin.create(p);\na.createTopics(List.of(new NewTopic(\"t\")));\n", "3:24: new NewTopic takes 2 or 3 argument(s), not 1"),
        ("Properties p = new Properties();\nAdmin a = Admin.create(p);\na.createTopics(List.of(new NewTopic(\"t\", Map.of(0, List.of(1), 0, List.of(2)))));\n", "3:64: duplicate key: 0"),
        ("Properties p = new Properties();\nAdmin a = Admin.create(p);\na.electLeaders(ElectionType.ANY, Set.of());\n", "3:16: expected ElectionType.PREFERRED or ElectionType.UNCLEAN here"),
        ("kafka-topics --create --topic t --replica-assignment 1:x\n", "1:54: --replica-assignment takes broker ids like 1:2:3,2:3:1, not '1:x'"),
        ("kafka-topics --create --topic t --partitions 2 --replica-assignment 1:2\n", "1:69: Option \"[replica-assignment]\" can't be used with option \"[partitions]\""),
        ("SIGNAL=HUP kafka-server-stop --node-id 1\n", "1:1: SIGNAL is TERM, KILL, STOP or CONT in a program, not 'HUP'"),
        ("SIGNAL=KILL kafka-topics --describe --topic t\n", "1:1: SIGNAL= goes before kafka-server-stop only"),
        ("Properties p = new Properties();\nKafkaConsumer<String, String> c = new KafkaConsumer<>(p);\nc.poll(500);\n", "3:8: expected Duration.ofMillis(n) here"),
        ("Properties p = new Properties();\nKafkaConsumer<String, String> c = new KafkaConsumer<>(p);\nc.send(new ProducerRecord<>(\"t\", \"v\"));\n", "3:1: 'c' is a KafkaConsumer; this program format has no KafkaConsumer.send"),
        ("Properties p = new Properties();\nProperties p = new Properties();\n", "2:12: 'p' is already declared"),
        ("Properties p = new Properties(); p.put(\"a\", \"b\");\n", "1:34: one statement per line: nothing may follow ';'"),
        ("Thread.sleep(99999999999);\n", "1:14: a sleep in a program is from 0 to one hour"),
        ("Thread.sleep(1) # x;\n", "1:17: unexpected character '#'"),
        ("kafka-topics --create --bootstrap-server x\n", "1:1: kafka-topics needs --topic"),
        ("kafka-topics --create --topic t --partitions three\n", "1:46: 'three' is not a whole number"),
        ("kafka-topics --create --topic t --colour red\n", "1:33: kafka-topics in a program has no option --colour"),
        ("kafka-leader-election --election-type ANY --topic t --partition 0\n", "1:39: --election-type is PREFERRED or UNCLEAN, not 'ANY'"),
        ("kafka-leader-election --election-type PREFERRED --topic t\n", "1:1: kafka-leader-election needs --partition"),
        ("kafka-leader-election --election-type PREFERRED --topic t --partition -1\n", "1:71: '-1' is not a partition"),
        ("kafka-leader-election --election-type PREFERRED --all-topic-partitions\n", "1:49: kafka-leader-election in a program has no option --all-topic-partitions"),
        ("kafka-stuff --x\n", "1:1: unknown tool 'kafka-stuff' (kafka-topics, kafka-console-producer, kafka-console-consumer, kafka-consumer-groups, kafka-server-stop, kafka-server-start, kafka-leader-election)"),
        ("kafka-topics --describe --topic t\n>oops\n", "2:1: only kafka-console-producer takes '>' input lines"),
        (">stray\n", "1:1: a '>' input line belongs after kafka-console-producer"),
        ("kafka-consumer-groups --reset-offsets --group g --topic t --execute\n", "1:1: --reset-offsets needs one of --to-earliest, --to-latest, --to-offset N, --shift-by N"),
        ("kafka-console-producer --topic 't\n", "1:32: this quote is not closed"),
        ("Thread.sleep(99999999999999999999);\n", "1:14: 99999999999999999999 does not fit in a long"),
        ("kafka-server-stop --node-id=12\n", "1:29: --node-id is 1 to 9, not 12"),
        ("kafka-server-start --node-id\n", "1:20: --node-id needs a value"),
        ("Properties p = new Properties();\nKafkaProducer<String, String> k = new KafkaProducer<>(p);\nk.close(5);\n", "3:9: expected Duration.ofMillis(n) here"),
        ("Properties p = new Properties();\nKafkaProducer<String, String> k = new KafkaProducer<>(p);\nk.close(Duration.ofMillis(0), 1);\n", "3:1: close takes 0 or 1 argument(s), not 2"),
        ("kafka-consumer-groups --delete-offsets --group g\n", "1:1: --delete-offsets needs --topic T (or T:0,1)"),
        ("kafka-consumer-groups --delete-offsets --group g --topic t:0,x\n", "1:58: 'x' is not a partition number in --topic t:0,x"),
        ("kafka-consumer-groups --describe --delete-offsets --group g --topic t\n", "1:1: kafka-consumer-groups needs one of --describe, --reset-offsets and --delete-offsets"),
    ];
    for (text, want) in cases {
        assert_eq!(&error_of(text), want, "for {text:?}");
    }
    let deep = format!("Thread.sleep({}1{});\n", "(int) ".repeat(100), "");
    assert_eq!(error_of(&deep), "1:206: expressions nest too deeply");
}

/// Answers from a script, recording the calls.
struct Scripted {
    replies: Vec<ClientReply>,
    seen: Vec<ClientCall>,
}

impl KafkaClients for Scripted {
    fn call(&mut self, call: &ClientCall) -> ClientReply {
        self.seen.push(call.clone());
        if self.replies.is_empty() {
            ClientReply::Done
        } else {
            self.replies.remove(0)
        }
    }
}

#[test]
fn transcript_sorts_records_numbers_members_and_names_exceptions() {
    let program = parse(&format!(
        "{SETUP}consumer.poll(Duration.ofMillis(100));\nadmin.describeConsumerGroups(List.of(\"g\"));\n\
         admin.createTopics(List.of(new NewTopic(\"orders\", 3, (short) 1)));\n"
    ))
    .unwrap();
    let rec = |partition, offset, key: Option<&str>, value: &str| Received {
        topic: "orders".into(),
        partition,
        offset,
        key: key.map(String::from),
        value: Some(value.into()),
        headers: Vec::new(),
        delivery_count: None,
    };
    let member = |id: &str| MemberInfo {
        member_id: id.into(),
        instance_id: None,
        client_id: "consumer-g-1".into(),
        host: "/127.0.0.1".into(),
        assignment: vec![Tp { topic: "orders".into(), partition: 0 }],
    };
    let mut clients = Scripted {
        replies: vec![
            ClientReply::Done,
            ClientReply::Done,
            ClientReply::Done,
            ClientReply::Records {
                records: vec![rec(2, 0, None, "x y"), rec(0, 1, Some("k"), "b"), rec(0, 0, Some("k"), "a")],
            },
            ClientReply::Groups {
                groups: vec![GroupInfo {
                    group_id: "g".into(),
                    state: "Stable".into(),
                    assignor: "range".into(),
                    members: vec![member("consumer-g-1-6f1c"), member("consumer-g-1-0a2b")],
                }],
            },
            ClientReply::Error {
                error: ClientError {
                    exception: "TopicExistsException".into(),
                    message: "Topic 'orders' already exists.".into(),
                },
            },
        ],
        seen: Vec::new(),
    };
    let t = run(&program, &mut clients);
    let text = t.text();
    let tail: Vec<&str> = text.lines().skip(9).collect();
    assert_eq!(
        tail,
        vec![
            "7: consumer.poll(Duration.ofMillis(100));",
            "  3 record(s)",
            "  orders-0@0 key=k value=a",
            "  orders-0@1 key=k value=b",
            "  orders-2@0 key=null value=\"x y\"",
            "8: admin.describeConsumerGroups(List.of(\"g\"));",
            "  group g state=Stable assignor=range",
            "    member#1 instance=null client=consumer-g-1 host=/127.0.0.1 assignment=[orders-0]",
            "    member#2 instance=null client=consumer-g-1 host=/127.0.0.1 assignment=[orders-0]",
            "9: admin.createTopics(List.of(new NewTopic(\"orders\", 3, (short) 1)));",
            "  TopicExistsException: Topic 'orders' already exists.",
        ]
    );
    assert_eq!(t.errors, 1);
}

#[test]
fn calls_and_replies_are_json_lines_with_the_java_method_names() {
    let call = ClientCall::Poll { consumer: "c".into(), timeout_ms: 100 };
    assert_eq!(serde_json::to_string(&call).unwrap(), r#"{"op":"poll","consumer":"c","timeout_ms":100}"#);
    let reply: ClientReply = serde_json::from_str(r#"{"reply":"offset","offset":5}"#).unwrap();
    assert_eq!(reply, ClientReply::Offset { offset: Some(5) });
}

/// Every golden program and bad-input case, mutated with a seeded PRNG (byte flips, deletions, duplicated
/// spans, cut-offs): the parser answers each with a program or a located error, and never panics.
#[test]
fn mutated_programs_never_panic_the_parser() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests");
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    for dir in [root.join("scenarios/kafka"), root.join("bad-input/kafka")] {
        let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
            .expect("the corpus folder")
            .map(|e| e.expect("entry").path())
            .map(|p| if p.is_dir() { p.join("program.kafka") } else { p })
            .filter(|p| p.extension().is_some_and(|e| e == "kafka") && p.is_file())
            .collect();
        paths.sort();
        corpus.extend(paths.iter().map(|p| std::fs::read(p).expect("readable")));
    }
    assert!(corpus.len() >= 20, "the corpus lost programs: {}", corpus.len());
    let mut prng = crate::Prng::new(0x006b_6166_6b61);
    let mut parsed = 0;
    for base in &corpus {
        for _ in 0..40 {
            let mut bytes = base.clone();
            for _ in 0..prng.range_inclusive(1, 4) {
                if bytes.is_empty() {
                    break;
                }
                let at = prng.below(bytes.len() as u64) as usize;
                match prng.below(4) {
                    0 => bytes[at] = b"();.,\"<>=/ \n>$-x0"[prng.below(17) as usize],
                    1 => {
                        bytes.remove(at);
                    }
                    2 => {
                        let end = (at + prng.below(40) as usize).min(bytes.len());
                        let span = bytes[at..end].to_vec();
                        bytes.splice(at..at, span);
                    }
                    _ => bytes.truncate(at),
                }
            }
            if let Ok(text) = std::str::from_utf8(&bytes) {
                match parse(text) {
                    Ok(program) => {
                        parsed += 1;
                        // And the engine runs what parses, without panicking.
                        let mut engine = super::engine::EngineClients::new(1);
                        run(&program, &mut engine);
                    }
                    Err(e) => assert!(e.line >= 1 && e.col >= 1 && !e.message.is_empty(), "{e:?}"),
                }
            }
        }
    }
    assert!(parsed > 0, "no mutation parsed at all: the mutations are too destructive to test much");
}

/// The forms of headers, a seek by timestamp, `sendOffsetsToTransaction` and a share consumer's
/// acknowledging loop parse into the calls the driver and the engine run.
#[test]
fn headers_seek_by_time_transactional_offsets_and_share_loops_parse() {
    let program = parse(
        "Properties p = new Properties();\n\
         KafkaProducer<String, String> producer = new KafkaProducer<>(p);\n\
         KafkaConsumer<String, String> c = new KafkaConsumer<>(p);\n\
         KafkaShareConsumer<String, String> s = new KafkaShareConsumer<>(p);\n\
         producer.send(new ProducerRecord<>(\"t\", 0, \"k\", \"v\", List.of(new RecordHeader(\"h\", \"x\".getBytes()), new RecordHeader(\"n\", null))));\n\
         c.seek(new TopicPartition(\"t\", 0), c.offsetsForTimes(Map.of(new TopicPartition(\"t\", 0), 5L)).get(new TopicPartition(\"t\", 0)).offset());\n\
         producer.sendOffsetsToTransaction(Map.of(new TopicPartition(\"t\", 0), new OffsetAndMetadata(3)), c.groupMetadata());\n\
         ConsumerRecords<String, String> records = s.poll(Duration.ofMillis(100));\n\
         for (ConsumerRecord<String, String> r : records) s.acknowledge(r, AcknowledgeType.RELEASE);\n",
    )
    .unwrap();
    let calls: Vec<&ClientCall> = program
        .statements
        .iter()
        .filter_map(|s| match &s.action {
            Action::Call(c) => Some(c),
            _ => None,
        })
        .collect();
    match calls[3] {
        ClientCall::Send { record, .. } => assert_eq!(
            record.headers,
            vec![("h".to_string(), Some("x".to_string())), ("n".to_string(), None)]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        calls[4],
        &ClientCall::SeekToTimestamp {
            consumer: "c".into(),
            partition: Tp { topic: "t".into(), partition: 0 },
            timestamp: 5
        }
    );
    assert_eq!(
        calls[5],
        &ClientCall::SendOffsetsToTransaction {
            producer: "producer".into(),
            offsets: vec![PartitionOffset { topic: "t".into(), partition: 0, offset: Some(3) }],
            consumer: Some("c".into()),
            group: None
        }
    );
    assert_eq!(calls[7], &ClientCall::ShareAcknowledge { share: "s".into(), kind: "RELEASE".into() });
}

#[test]
fn reset_offsets_shift_by_without_a_committed_offset_is_the_tools_refusal() {
    // kafka-tools 4.1.1's ConsumerGroupCommand throws IllegalArgumentException for this (it then prints
    // its usage); the runner prints the message and counts the statement as failed.
    let program = parse(
        "Properties props = new Properties();\n\
         props.put(\"bootstrap.servers\", \"localhost:9092\");\n\
         Admin admin = Admin.create(props);\n\
         admin.createTopics(List.of(new NewTopic(\"clicks\", 1, (short) 1))).all().get();\n\
         kafka-consumer-groups --reset-offsets --group fresh --topic clicks --shift-by -1 --execute --bootstrap-server localhost:9092\n",
    )
    .unwrap();
    let mut engine = super::engine::EngineClients::new(1);
    let t = run(&program, &mut engine);
    assert_eq!(t.errors, 1, "{}", t.text());
    assert!(
        t.text().ends_with(
            "  Cannot shift offset for partition clicks-0 since there is no current committed offset\n"
        ),
        "{}",
        t.text()
    );
}

#[test]
fn repeated_values_and_partition_counts_parse_within_bounds() {
    let head = "Properties props = new Properties();\nKafkaProducer<String, String> p = new KafkaProducer<>(props);\n";
    let c = calls(&format!("{head}p.send(new ProducerRecord<>(\"t\", \"k\", \"ab\".repeat(3))).get();\n"));
    match &c[1] {
        ClientCall::Send { record, .. } => assert_eq!(record.value.as_deref(), Some("ababab")),
        other => panic!("{other:?}"),
    }
    let big = format!("{head}p.send(new ProducerRecord<>(\"t\", \"k\", \"ab\".repeat(9000000))).get();\n");
    assert_eq!(error_of(&big), "3:44: repeat makes at most 16777216 bytes in a program");
    let negative = format!("{head}p.send(new ProducerRecord<>(\"t\", \"k\", \"a\".repeat(-1))).get();\n");
    assert_eq!(error_of(&negative), "3:43: count is negative: -1");
    let consumer = "Properties props = new Properties();\nKafkaConsumer<String, String> c = new KafkaConsumer<>(props);\nc.poll(Duration.ofMillis(10)).partitions().size();\n";
    let program = parse(consumer).unwrap();
    assert_eq!(
        program.statements[2].action,
        Action::PartitionCount(ClientCall::Poll { consumer: "c".into(), timeout_ms: 10 })
    );
}
