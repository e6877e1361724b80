//! The assignors against Kafka: every case in `tests/kafka/assignors/*.txt` carries the assignment Kafka
//! 4.1.1's own assignor classes computed for it (written by `scripts/kafka-probes/AssignorProbe.java`),
//! and this model must compute the same. The cases are Kafka's own assignor tests re-expressed as data
//! (`kafka_tests.txt`) and seeded random groups (`random.txt`, `scripts/kafka-probes/random_cases.py`).
//! Rack-aware assignments (KIP-881) come from Kafka's rack tests (`kafka_rack_tests.txt`: RangeAssignorTest's
//! and AbstractStickyAssignorTest's, for the range, sticky and cooperative-sticky assignors) and seeded
//! random racked groups (`random_racks.txt` for range, `scripts/kafka-probes/random_rack_cases.py`;
//! `random_sticky_racks.txt` for the sticky assignors, `scripts/kafka-probes/random_sticky_rack_cases.py`).
//! Every result is also checked for the invariants every assignment keeps.

use broker_core::kafka::{
    Assignment, ClientAssignor, MemberSubscription, PartitionCounts, PartitionRacks, ServerAssignor,
    ServerMember, TopicPartition,
};
use std::collections::{BTreeMap, BTreeSet};

struct Case {
    name: String,
    line: usize,
    assignor: String,
    topics: PartitionCounts,
    members: Vec<MemberSubscription>,
    /// Rack cases: node id → its rack (`None`: no `broker.rack`).
    brokers: Vec<Option<String>>,
    /// Rack cases: the replicas' racks of each partition.
    racks: PartitionRacks,
    expected: BTreeMap<String, Vec<TopicPartition>>,
}

fn parse_tp(s: &str) -> TopicPartition {
    let dash = s.rfind('-').unwrap_or_else(|| panic!("bad partition {s}"));
    TopicPartition::new(&s[..dash], s[dash + 1..].parse().unwrap_or_else(|_| panic!("bad partition {s}")))
}

fn parse(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let mut words = line.split_whitespace();
        let Some(head) = words.next() else { continue };
        if head.starts_with('#') {
            continue;
        }
        if head == "case" {
            cases.push(Case {
                name: words.next().expect("case name").to_string(),
                line: n + 1,
                assignor: String::new(),
                topics: PartitionCounts::new(),
                members: Vec::new(),
                brokers: Vec::new(),
                racks: PartitionRacks::new(),
                expected: BTreeMap::new(),
            });
            continue;
        }
        let case = cases.last_mut().unwrap_or_else(|| panic!("line {}: outside a case", n + 1));
        match head {
            "source" | "run" => {}
            "assignor" => case.assignor = words.next().expect("assignor").to_string(),
            "brokers" => {
                let list = words.next().expect("racks");
                case.brokers = list.split(',').map(|r| Some(r.to_string()).filter(|r| r != "-")).collect();
            }
            "topic" => {
                let name = words.next().expect("topic name");
                case.topics.insert(name.to_string(), words.next().expect("count").parse().expect("count"));
                if let Some(replicas) = words.next().and_then(|w| w.strip_prefix("replicas=")) {
                    for (p, nodes) in replicas.split(',').enumerate() {
                        let racks: BTreeSet<String> = nodes
                            .split('/')
                            .filter_map(|id| case.brokers[id.parse::<usize>().expect("node id")].clone())
                            .collect();
                        case.racks.insert(TopicPartition::new(name, p as i32), racks);
                    }
                }
            }
            "member" => {
                let mut m = MemberSubscription::new(words.next().expect("member id"), &[]);
                for field in words {
                    let (key, value) = field.split_once('=').expect("key=value");
                    match key {
                        "instance" => m.group_instance_id = Some(value.to_string()),
                        "topics" => {
                            m.topics = value.split(',').filter(|t| !t.is_empty()).map(String::from).collect()
                        }
                        "owned" => {
                            m.owned_partitions =
                                value.split(',').filter(|t| !t.is_empty()).map(parse_tp).collect()
                        }
                        "generation" => m.generation = Some(value.parse().expect("generation")),
                        "rack" => m.rack_id = Some(value.to_string()),
                        other => panic!("line {}: unknown field {other}", n + 1),
                    }
                }
                case.members.push(m);
            }
            "expect" => {
                let member = words.next().expect("member").to_string();
                case.expected.insert(member, words.map(parse_tp).collect());
            }
            other => panic!("line {}: unknown directive {other}", n + 1),
        }
    }
    cases
}

fn run(case: &Case) -> Assignment {
    match case.assignor.as_str() {
        "server-uniform" | "server-range" => {
            let assignor =
                if case.assignor == "server-range" { ServerAssignor::Range } else { ServerAssignor::Uniform };
            let members: Vec<ServerMember> = case
                .members
                .iter()
                .map(|m| ServerMember {
                    member_id: m.member_id.clone(),
                    instance_id: m.group_instance_id.clone(),
                    topics: m.topics.iter().cloned().collect(),
                    assignment: m.owned_partitions.clone(),
                })
                .collect();
            assignor.assign(&members, &case.topics)
        }
        name => ClientAssignor::from_name(name)
            .unwrap_or_else(|| panic!("unknown assignor {name}"))
            .assign_with_racks(&case.members, &case.topics, &case.racks),
    }
}

/// What every assignment keeps: an entry per member, each partition at most once, only partitions of
/// subscribed existing topics (but see the sticky exception below), and (except for what cooperative-sticky holds back) every such partition.
fn check_invariants(case: &Case, result: &Assignment) {
    let ids: BTreeSet<&str> = case.members.iter().map(|m| m.member_id.as_str()).collect();
    let got: BTreeSet<&str> = result.keys().map(String::as_str).collect();
    assert_eq!(ids, got, "{}: one entry per member", case.name);
    let mut seen = BTreeSet::new();
    for m in &case.members {
        for tp in &result[&m.member_id] {
            assert!(seen.insert(tp.clone()), "{}: {tp} assigned twice", case.name);
            // Kafka's sticky assignors give a partition back to its owner of an earlier generation without
            // checking that it still subscribes (the consumer then rejoins); nothing else is unsubscribed.
            let returned = case.assignor.contains("sticky") && m.owned_partitions.contains(tp);
            assert!(
                m.topics.iter().any(|t| *t == tp.topic) || returned,
                "{}: {} got {tp} without subscribing",
                case.name,
                m.member_id
            );
            assert!(tp.partition < case.topics[tp.topic.as_str()], "{}: {tp} does not exist", case.name);
        }
    }
    if case.assignor != "cooperative-sticky" {
        let subscribed: BTreeSet<&String> = case.members.iter().flat_map(|m| m.topics.iter()).collect();
        for topic in subscribed {
            for p in 0..case.topics.get(topic).copied().unwrap_or(0) {
                assert!(
                    seen.contains(&TopicPartition::new(topic, p)),
                    "{}: {topic}-{p} unassigned",
                    case.name
                );
            }
        }
    }
}

fn check_file(text: &str, file: &str) -> usize {
    let cases = parse(text);
    let mut failures = Vec::new();
    for case in &cases {
        assert!(
            !case.expected.is_empty(),
            "{file}:{}: case {} has no expected assignment",
            case.line,
            case.name
        );
        let result = run(case);
        check_invariants(case, &result);
        let got: BTreeMap<String, Vec<TopicPartition>> = result.into_iter().collect();
        if got != case.expected {
            failures.push(format!(
                "{file}:{}: {} ({})\n  kafka: {:?}\n  model: {:?}",
                case.line, case.name, case.assignor, case.expected, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Kafka:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn kafkas_own_assignor_test_cases() {
    let n = check_file(include_str!("kafka/assignors/kafka_tests.txt"), "kafka_tests.txt");
    assert!(n >= 40, "{n} cases");
}

#[test]
fn assignor_names_are_kafkas() {
    assert_eq!(
        ClientAssignor::from_name("org.apache.kafka.clients.consumer.CooperativeStickyAssignor"),
        Some(ClientAssignor::CooperativeSticky)
    );
    assert_eq!(ClientAssignor::from_name("roundrobin"), Some(ClientAssignor::RoundRobin));
    assert_eq!(ClientAssignor::from_name("RangeAssignor"), Some(ClientAssignor::Range));
    assert_eq!(ClientAssignor::from_name("uniform"), None);
    assert_eq!(ServerAssignor::from_name("uniform"), Some(ServerAssignor::Uniform));
    assert_eq!(ServerAssignor::default().name(), "uniform");
}

#[test]
fn seeded_random_groups_match_kafka() {
    let n = check_file(include_str!("kafka/assignors/random.txt"), "random.txt");
    assert!(n >= 300, "{n} cases");
}

#[test]
fn rack_cases_of_kafkas_tests() {
    let n = check_file(include_str!("kafka/assignors/kafka_rack_tests.txt"), "kafka_rack_tests.txt");
    assert!(n >= 110, "{n} cases");
}

#[test]
fn seeded_random_rack_groups_match_kafka() {
    let n = check_file(include_str!("kafka/assignors/random_racks.txt"), "random_racks.txt");
    assert!(n >= 300, "{n} cases");
}

#[test]
fn seeded_random_sticky_rack_groups_match_kafka() {
    let n = check_file(include_str!("kafka/assignors/random_sticky_racks.txt"), "random_sticky_racks.txt");
    assert!(n >= 290, "{n} cases");
}
