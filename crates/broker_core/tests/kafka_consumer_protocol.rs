//! Kafka 4's consumer group protocol (KIP-848): golden transcripts of ConsumerGroupHeartbeat runs
//! (`tests/kafka/groups/consumer_*.txt`, naming what they follow, reviewed when written) and a seeded random
//! run whose members follow the Java client's reconciliation (revoke first, then acknowledge), checking
//! after every step that no partition is owned by two members and that epochs only move forward.
//!
//! `BROKERLAB_BLESS=1` writes a missing golden (to be reviewed before committing).

use broker_core::kafka::group::{
    ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, ConsumerGroupState, ConsumerGroups,
    ConsumerProtocolConfig,
};
use broker_core::kafka::{KafkaError, TopicPartition};
use broker_core::{Prng, VirtualTime};
use std::collections::{BTreeMap, BTreeSet};

const GROUP: &str = "g1";

struct Client {
    name: String,
    member_id: String,
    instance: Option<String>,
    epoch: i32,
    topics: Vec<String>,
    /// What the client owns (it keeps partitions until it has revoked them).
    owned: BTreeSet<TopicPartition>,
    joined: bool,
}

struct Run {
    groups: ConsumerGroups,
    clients: Vec<Client>,
    now: VirtualTime,
    partitions: BTreeMap<String, i32>,
    transcript: String,
    last_group_epoch: i32,
}

impl Run {
    fn new(seed: u64) -> Self {
        let mut partitions = BTreeMap::new();
        partitions.insert("orders".to_string(), 4);
        partitions.insert("payments".to_string(), 2);
        Run {
            groups: ConsumerGroups::new(ConsumerProtocolConfig::default(), seed),
            clients: Vec::new(),
            now: VirtualTime::ZERO,
            partitions,
            transcript: String::new(),
            last_group_epoch: 0,
        }
    }

    fn client(&mut self, name: &str, instance: Option<&str>, topics: &[&str]) -> usize {
        // The Java client makes its member id itself before its first heartbeat (KIP-1082).
        let member_id = self.groups.new_member_id();
        self.clients.push(Client {
            name: name.to_string(),
            member_id,
            instance: instance.map(String::from),
            epoch: 0,
            topics: topics.iter().map(|t| t.to_string()).collect(),
            owned: BTreeSet::new(),
            joined: false,
        });
        self.clients.len() - 1
    }

    fn log(&mut self, line: String) {
        self.transcript.push_str(&line);
        self.transcript.push('\n');
    }

    fn flush(&mut self) {
        for e in self.groups.take_events() {
            self.log(format!("  event {e}"));
        }
    }

    /// One heartbeat as the Java client sends it: full when joining, with what it owns now.
    fn heartbeat(&mut self, i: usize) -> Result<ConsumerGroupHeartbeatResponse, KafkaError> {
        let c = &self.clients[i];
        let joining = !c.joined;
        let request = ConsumerGroupHeartbeatRequest {
            group_id: GROUP.to_string(),
            member_id: c.member_id.clone(),
            member_epoch: if joining { 0 } else { c.epoch },
            instance_id: c.instance.clone(),
            rack_id: None,
            rebalance_timeout_ms: Some(300_000),
            subscribed_topic_names: Some(c.topics.clone()),
            server_assignor: None,
            owned_partitions: Some(if joining { Vec::new() } else { c.owned.iter().cloned().collect() }),
            client_id: c.name.clone(),
            client_host: "/127.0.0.1".to_string(),
        };
        let line = format!(
            "{} {} heartbeat epoch={} owned=[{}]",
            self.now,
            c.name,
            request.member_epoch,
            list(request.owned_partitions.as_deref().unwrap_or(&[]))
        );
        self.log(line);
        let result = self.groups.heartbeat(self.now, request, &self.partitions);
        self.flush();
        let name = self.clients[i].name.clone();
        match &result {
            Ok(r) => {
                self.log(format!(
                    "  -> {name} epoch={} assignment={}",
                    r.member_epoch,
                    r.assignment.as_ref().map_or("unchanged".to_string(), |a| format!("[{}]", list(a)))
                ));
                let c = &mut self.clients[i];
                c.joined = true;
                c.epoch = r.member_epoch;
                if let Some(a) = &r.assignment {
                    // Revoke what is not in the new assignment first (onPartitionsRevoked), then take the rest.
                    c.owned = a.iter().cloned().collect();
                }
            }
            Err(e) => {
                self.log(format!("  -> {name} {} {e}", e.code.name()));
                let c = &mut self.clients[i];
                // Fenced or unknown: the Java client drops its partitions and rejoins with epoch 0.
                c.joined = false;
                c.epoch = 0;
                c.owned.clear();
            }
        }
        self.check();
        result
    }

    fn leave(&mut self, i: usize, epoch: i32) {
        let c = &self.clients[i];
        let request = ConsumerGroupHeartbeatRequest {
            group_id: GROUP.to_string(),
            member_id: c.member_id.clone(),
            member_epoch: epoch,
            instance_id: c.instance.clone(),
            rack_id: None,
            rebalance_timeout_ms: None,
            subscribed_topic_names: None,
            server_assignor: None,
            owned_partitions: None,
            client_id: c.name.clone(),
            client_host: "/127.0.0.1".to_string(),
        };
        self.log(format!("{} {} leave epoch={epoch}", self.now, c.name));
        let result = self.groups.heartbeat(self.now, request, &self.partitions);
        self.flush();
        let name = self.clients[i].name.clone();
        match result {
            Ok(r) => self.log(format!("  -> {name} epoch={}", r.member_epoch)),
            Err(e) => self.log(format!("  -> {name} {} {e}", e.code.name())),
        }
        let c = &mut self.clients[i];
        c.joined = false;
        c.epoch = 0;
        c.owned.clear();
        self.check();
    }

    fn advance(&mut self, ms: u64) {
        self.now = self.now.plus_millis(ms);
        self.groups.advance_to(self.now);
        let events = self.groups.take_events();
        if !events.is_empty() {
            self.log(format!("{} (time passes)", self.now));
        }
        for e in events {
            self.log(format!("  event {e}"));
        }
        self.check();
    }

    fn state(&mut self) {
        let g = self.groups.group(GROUP).expect("group");
        let line = format!(
            "  group {} epoch {} assignment epoch {} state {}",
            GROUP,
            g.group_epoch,
            g.assignment_epoch,
            g.state()
        );
        self.log(line);
    }

    /// After every step: no partition owned by two clients still in the group; epochs move forward;
    /// member epoch ≤ assignment epoch ≤ group epoch; assigned and revoking partitions disjoint across members.
    fn check(&mut self) {
        let Some(g) = self.groups.group(GROUP) else { return };
        assert!(g.group_epoch >= self.last_group_epoch, "group epoch went back");
        self.last_group_epoch = g.group_epoch;
        assert!(g.assignment_epoch <= g.group_epoch);
        let mut held = BTreeMap::new();
        for m in g.members.values() {
            assert!(m.member_epoch <= g.assignment_epoch, "member epoch above the assignment epoch");
            for tp in m.assigned.iter().chain(&m.pending_revocation) {
                if let Some(other) = held.insert(tp.clone(), m.member_id.clone()) {
                    panic!("{tp} held by {other} and {} in the coordinator", m.member_id);
                }
            }
        }
        let members: BTreeSet<&String> = g.members.keys().collect();
        let mut owners = BTreeMap::new();
        for c in &self.clients {
            if !c.joined || !members.contains(&c.member_id) {
                continue;
            }
            for tp in &c.owned {
                if let Some(other) = owners.insert(tp.clone(), c.name.clone()) {
                    panic!("{tp} owned by {other} and {} at once\n{}", c.name, self.transcript);
                }
            }
        }
        if g.state() == ConsumerGroupState::Stable {
            assert!(g.members.values().all(|m| m.member_epoch == g.assignment_epoch));
        }
    }
}

fn list(partitions: &[TopicPartition]) -> String {
    partitions.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

fn check_golden(name: &str, transcript: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/kafka/groups")
        .join(format!("{name}.txt"));
    let expected = std::fs::read_to_string(&path).ok();
    if expected.is_none() && std::env::var("BROKERLAB_BLESS").is_ok() {
        std::fs::write(
            &path,
            format!("# {name}: REVIEW AGAINST KAFKA, THEN REPLACE THIS LINE\n{transcript}"),
        )
        .unwrap();
        return;
    }
    let expected = expected.unwrap_or_else(|| panic!("no golden {}", path.display()));
    let body = expected.lines().skip_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("\n") + "\n";
    assert_eq!(body, transcript, "{name} differs from its golden");
}

#[test]
fn a_second_member_gets_partitions_only_after_the_first_revokes_them() {
    let mut r = Run::new(1);
    let a = r.client("c1", None, &["orders", "payments"]);
    let b = r.client("c2", None, &["orders", "payments"]);
    r.heartbeat(a).unwrap();
    r.state();
    r.heartbeat(b).unwrap();
    r.state();
    r.advance(1000);
    r.heartbeat(b).unwrap();
    r.heartbeat(a).unwrap();
    r.state();
    r.heartbeat(a).unwrap();
    r.heartbeat(b).unwrap();
    r.state();
    // Errors: a wrong epoch is fenced, a stale commit is refused.
    let mut wrong = r.clients[a].epoch + 5;
    std::mem::swap(&mut r.clients[a].epoch, &mut wrong);
    r.heartbeat(a).unwrap_err();
    let commit = r.groups.validate_offset_commit(GROUP, &r.clients[b].member_id.clone(), 1);
    r.log(format!(
        "OffsetCommit by c2 with epoch 1: {}",
        commit.map_or_else(|e| e.to_string(), |_| "NONE".into())
    ));
    r.advance(45_000);
    r.state();
    check_golden("consumer_protocol_revocation", &r.transcript);
}

#[test]
fn a_static_member_rejoins_with_its_assignment_and_a_duplicate_instance_is_refused() {
    let mut r = Run::new(2);
    let a = r.client("c1", Some("instance-a"), &["orders"]);
    let b = r.client("c2", Some("instance-b"), &["orders"]);
    r.heartbeat(a).unwrap();
    r.heartbeat(b).unwrap();
    r.heartbeat(a).unwrap();
    r.heartbeat(a).unwrap();
    r.heartbeat(b).unwrap();
    r.state();
    // A second process with instance-b while the first still runs.
    let dup = r.client("c2-copy", Some("instance-b"), &["orders"]);
    r.heartbeat(dup).unwrap_err();
    // The first leaves as a static member (epoch -2) and restarts: same assignment, no new group epoch.
    r.leave(b, -2);
    r.state();
    let restarted = r.client("c2-restarted", Some("instance-b"), &["orders"]);
    r.heartbeat(restarted).unwrap();
    r.state();
    check_golden("consumer_protocol_static", &r.transcript);
}

#[test]
fn requests_are_validated_with_kafkas_messages() {
    let mut groups = ConsumerGroups::new(ConsumerProtocolConfig::default(), 3);
    let partitions = BTreeMap::new();
    let base = ConsumerGroupHeartbeatRequest {
        group_id: GROUP.to_string(),
        member_id: "m".to_string(),
        member_epoch: 0,
        instance_id: None,
        rack_id: None,
        rebalance_timeout_ms: Some(300_000),
        subscribed_topic_names: Some(vec!["orders".to_string()]),
        server_assignor: None,
        owned_partitions: Some(Vec::new()),
        client_id: "c".to_string(),
        client_host: "/127.0.0.1".to_string(),
    };
    let cases: Vec<(ConsumerGroupHeartbeatRequest, &str)> = vec![
        (ConsumerGroupHeartbeatRequest { group_id: String::new(), ..base.clone() }, "InvalidRequestException: GroupId can't be empty."),
        (ConsumerGroupHeartbeatRequest { rebalance_timeout_ms: None, ..base.clone() }, "InvalidRequestException: RebalanceTimeoutMs must be provided in first request."),
        (ConsumerGroupHeartbeatRequest { subscribed_topic_names: Some(vec![]), ..base.clone() }, "InvalidRequestException: SubscribedTopicNames must be set in first request."),
        (ConsumerGroupHeartbeatRequest { member_epoch: -3, ..base.clone() }, "InvalidRequestException: MemberEpoch is invalid."),
        (ConsumerGroupHeartbeatRequest { server_assignor: Some("sticky".into()), ..base.clone() }, "UnsupportedAssignorException: ServerAssignor sticky is not supported. Supported assignors: uniform, range."),
        (ConsumerGroupHeartbeatRequest { member_epoch: 3, ..base.clone() }, "GroupIdNotFoundException: Consumer group g1 not found."),
    ];
    for (request, expected) in cases {
        let e = groups.heartbeat(VirtualTime::ZERO, request, &partitions).unwrap_err();
        assert_eq!(e.to_string(), expected);
    }
}

/// Seeded runs: members join, heartbeat (acknowledging revocations), leave, go silent and come back, with
/// every invariant checked after every step.
#[test]
fn seeded_random_consumer_groups_never_double_own_a_partition() {
    for seed in 1..=20u64 {
        let mut rng = Prng::new(seed);
        let mut r = Run::new(seed);
        for k in 0..5 {
            let topics: &[&str] = if rng.chance(1, 2) { &["orders", "payments"] } else { &["orders"] };
            let instance = rng.chance(1, 3).then(|| format!("inst-{k}"));
            r.client(&format!("c{k}"), instance.as_deref(), topics);
        }
        for _ in 0..500 {
            let i = rng.below(r.clients.len() as u64) as usize;
            match rng.below(10) {
                0..=5 => {
                    let _ = r.heartbeat(i);
                }
                6 if r.clients[i].joined && rng.chance(1, 3) => {
                    let epoch = if r.clients[i].instance.is_some() && rng.chance(1, 2) { -2 } else { -1 };
                    r.leave(i, epoch);
                }
                7 if rng.chance(1, 4) => {
                    // Partition count grows (kafka-topics --alter): the group epoch must follow.
                    *r.partitions.get_mut("orders").expect("topic") += 1;
                }
                _ => r.advance(rng.below(20_000)),
            }
        }
    }
}

/// KIP-848's rebalance timeout: a member asked to revoke partitions that does not acknowledge within its
/// rebalance timeout (`max.poll.interval.ms`) is fenced, so the partitions reach their new owner
/// (`GroupMetadataManager.scheduleConsumerGroupRebalanceTimeout`).
#[test]
fn a_member_that_does_not_revoke_in_time_is_fenced() {
    let mut groups = ConsumerGroups::new(ConsumerProtocolConfig::default(), 9);
    let mut partitions = BTreeMap::new();
    partitions.insert("orders".to_string(), 2);
    let join = |member: &str| ConsumerGroupHeartbeatRequest {
        group_id: GROUP.to_string(),
        member_id: member.to_string(),
        member_epoch: 0,
        instance_id: None,
        rack_id: None,
        rebalance_timeout_ms: Some(10_000),
        subscribed_topic_names: Some(vec!["orders".to_string()]),
        server_assignor: None,
        owned_partitions: Some(Vec::new()),
        client_id: member.to_string(),
        client_host: "/127.0.0.1".to_string(),
    };
    let a = groups.heartbeat(VirtualTime::ZERO, join("a"), &partitions).unwrap();
    assert_eq!((a.member_epoch, a.assignment.map(|l| l.len())), (1, Some(2)));
    let b = groups.heartbeat(VirtualTime::from_millis(1000), join("b"), &partitions).unwrap();
    assert_eq!((b.member_epoch, b.assignment), (2, Some(Vec::new())), "b waits for a partition a still owns");
    // a hears it must give one up, but never acknowledges.
    let owned = vec![TopicPartition::new("orders", 0), TopicPartition::new("orders", 1)];
    let heartbeat =
        ConsumerGroupHeartbeatRequest { member_epoch: 1, owned_partitions: Some(owned), ..join("a") };
    let a = groups.heartbeat(VirtualTime::from_millis(2000), heartbeat, &partitions).unwrap();
    assert_eq!((a.member_epoch, a.assignment.map(|l| l.len())), (1, Some(1)));
    assert_eq!(groups.next_deadline(), Some(VirtualTime::from_millis(12_000)), "its rebalance timeout");
    groups.advance_to(VirtualTime::from_millis(12_000));
    let events: Vec<String> = groups.take_events().iter().map(ToString::to_string).collect();
    assert!(events.iter().any(|e| e.ends_with("member a fenced (rebalance timeout)")), "{events:?}");
    let poll =
        ConsumerGroupHeartbeatRequest { member_epoch: 2, owned_partitions: Some(Vec::new()), ..join("b") };
    let b = groups.heartbeat(VirtualTime::from_millis(12_500), poll, &partitions).unwrap();
    assert_eq!(
        (b.member_epoch, b.assignment.map(|l| l.len())),
        (3, Some(2)),
        "b gets both at the next epoch"
    );
    let late =
        ConsumerGroupHeartbeatRequest { member_epoch: 1, owned_partitions: Some(Vec::new()), ..join("a") };
    let e = groups.heartbeat(VirtualTime::from_millis(13_000), late, &partitions).unwrap_err();
    assert_eq!(e.to_string(), "UnknownMemberIdException: Member a is not a member of group g1.");
}
