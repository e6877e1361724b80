//! The classic group coordinator: golden transcripts of coordinator runs (`tests/kafka/groups/*.txt`, each
//! naming the Kafka documentation or test it follows, reviewed against it when written) and a seeded
//! random run of members joining, syncing, heartbeating, committing, leaving and crashing, with the
//! coordinator's invariants checked after every step.
//!
//! Set `BROKERLAB_BLESS=1` to write a missing golden file (it must then be reviewed before committing).

use broker_core::kafka::group::{
    ClassicGroupState, CoordinatorConfig, Delivery, GroupResponse, JoinGroupRequest, LeaveMember,
    OffsetCommitRequest, ProtocolMetadata, SyncGroupRequest,
};
use broker_core::kafka::{
    ClientAssignor, ErrorCode, GroupCoordinator, MemberSubscription, OffsetAndMetadata, TopicPartition,
};
use broker_core::{Prng, VirtualTime};
use std::collections::{BTreeMap, BTreeSet};

const GROUP: &str = "g1";

/// What a member of the test thinks it is doing (a minimal Java-consumer membership state machine).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Not in the group.
    Out,
    /// JoinGroup sent.
    Joining,
    /// SyncGroup sent.
    Syncing,
    /// Assignment received.
    Stable,
    /// Fenced or closed: sends nothing more.
    Dead,
}

struct Member {
    conn: u64,
    client_id: String,
    instance: Option<String>,
    member_id: String,
    generation: i32,
    phase: Phase,
    assignment: Vec<TopicPartition>,
    topics: Vec<String>,
    assignor: ClientAssignor,
    session_timeout_ms: u64,
    rebalance_timeout_ms: u64,
    /// Its poll loop is stuck: the heartbeat thread runs, but it does not rejoin when asked.
    stuck: bool,
}

struct Harness {
    coordinator: GroupCoordinator,
    members: Vec<Member>,
    now: VirtualTime,
    transcript: String,
    partitions: BTreeMap<String, i32>,
    /// Per generation: the assignment each member received (to check no partition has two owners).
    last_generation: i32,
}

impl Harness {
    fn new(config: CoordinatorConfig, seed: u64) -> Self {
        let mut partitions = BTreeMap::new();
        partitions.insert("orders".to_string(), 4);
        partitions.insert("payments".to_string(), 2);
        Harness {
            coordinator: GroupCoordinator::new(config, seed),
            members: Vec::new(),
            now: VirtualTime::ZERO,
            transcript: String::new(),
            partitions,
            last_generation: 0,
        }
    }

    fn add_member(
        &mut self,
        client_id: &str,
        instance: Option<&str>,
        topics: &[&str],
        assignor: ClientAssignor,
    ) -> usize {
        let conn = self.members.len() as u64 + 1;
        self.members.push(Member {
            conn,
            client_id: client_id.to_string(),
            instance: instance.map(String::from),
            member_id: String::new(),
            generation: -1,
            phase: Phase::Out,
            assignment: Vec::new(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            assignor,
            session_timeout_ms: 45_000,
            rebalance_timeout_ms: 300_000,
            stuck: false,
        });
        self.members.len() - 1
    }

    fn log(&mut self, line: String) {
        self.transcript.push_str(&line);
        self.transcript.push('\n');
    }

    fn flush_events(&mut self) {
        for e in self.coordinator.take_events() {
            self.log(format!("  event {e}"));
        }
    }

    fn name(&self, i: usize) -> String {
        self.members[i].client_id.clone()
    }

    fn join(&mut self, i: usize) {
        let m = &mut self.members[i];
        m.phase = Phase::Joining;
        // `onJoinPrepare`: an eager member revokes everything before it joins.
        if m.assignor != ClientAssignor::CooperativeSticky {
            m.assignment.clear();
        }
        let protocols = vec![ProtocolMetadata {
            name: m.assignor.name().to_string(),
            topics: m.topics.clone(),
            owned_partitions: if m.assignor == ClientAssignor::CooperativeSticky {
                m.assignment.clone()
            } else {
                Vec::new()
            },
            generation: m.generation,
            rack_id: None,
        }];
        let request = JoinGroupRequest {
            group_id: GROUP.to_string(),
            session_timeout_ms: m.session_timeout_ms,
            rebalance_timeout_ms: m.rebalance_timeout_ms,
            member_id: m.member_id.clone(),
            group_instance_id: m.instance.clone(),
            protocol_type: "consumer".to_string(),
            protocols,
            client_id: m.client_id.clone(),
            client_host: "/127.0.0.1".to_string(),
        };
        let (conn, at) = (m.conn, self.now);
        self.log(format!("{at} {} JoinGroup member_id={:?}", self.name(i), request.member_id));
        let out = self.coordinator.join_group(at, conn, request);
        self.handle(out);
    }

    fn heartbeat(&mut self, i: usize) {
        let m = &self.members[i];
        let (conn, at, id, instance, generation) =
            (m.conn, self.now, m.member_id.clone(), m.instance.clone(), m.generation);
        self.log(format!("{at} {} Heartbeat generation={generation}", self.name(i)));
        let out = self.coordinator.heartbeat(at, conn, GROUP, &id, instance.as_deref(), generation);
        self.handle(out);
    }

    fn leave(&mut self, i: usize) {
        let m = &mut self.members[i];
        m.phase = Phase::Dead;
        let who = LeaveMember { member_id: m.member_id.clone(), group_instance_id: m.instance.clone() };
        let (conn, at) = (m.conn, self.now);
        self.log(format!("{at} {} LeaveGroup", self.name(i)));
        let out = self.coordinator.leave_group(at, conn, GROUP, &[who]);
        self.handle(out);
    }

    fn commit(&mut self, i: usize, generation: i32, offsets: &[(&str, i32, i64)]) {
        let m = &self.members[i];
        let request = OffsetCommitRequest {
            group_id: GROUP.to_string(),
            generation_id: generation,
            member_id: if generation < 0 { String::new() } else { m.member_id.clone() },
            group_instance_id: if generation < 0 { None } else { m.instance.clone() },
            offsets: offsets
                .iter()
                .map(|(t, p, o)| {
                    (TopicPartition::new(*t, *p), OffsetAndMetadata { offset: *o, metadata: String::new() })
                })
                .collect(),
        };
        let (conn, at) = (m.conn, self.now);
        self.log(format!("{at} {} OffsetCommit generation={generation}", self.name(i)));
        let out = self.coordinator.offset_commit(at, conn, request);
        self.handle(out);
    }

    fn advance(&mut self, ms: u64) {
        self.now = self.now.plus_millis(ms);
        let at = self.now;
        let out = self.coordinator.advance_to(at);
        let events = self.coordinator.take_events();
        if !out.is_empty() || !events.is_empty() {
            self.log(format!("{at} (time passes)"));
        }
        for e in events {
            self.log(format!("  event {e}"));
        }
        self.handle(out);
    }

    fn handle(&mut self, deliveries: Vec<Delivery>) {
        self.flush_events();
        // Responses are read first, then each member acts on its own (SyncGroup after a join, a rejoin).
        let mut follow_ups: Vec<(usize, bool)> = Vec::new();
        let mut syncs: Vec<(usize, SyncGroupRequest)> = Vec::new();
        for d in deliveries {
            let i = (d.to - 1) as usize;
            let name = self.name(i);
            match d.response {
                GroupResponse::JoinGroup(r) => {
                    let err = r.error.map_or("NONE".to_string(), |e| e.name().to_string());
                    self.log(format!(
                        "  -> {name} JoinGroup {err} member_id={} generation={} protocol={} leader={} members={}",
                        r.member_id,
                        r.generation_id,
                        r.protocol_name.as_deref().unwrap_or("-"),
                        if r.leader.is_empty() { "-" } else { &r.leader },
                        r.members.len()
                    ));
                    let m = &mut self.members[i];
                    match r.error {
                        Some(ErrorCode::MemberIdRequired) => {
                            m.member_id = r.member_id;
                            follow_ups.push((i, true));
                        }
                        Some(ErrorCode::UnknownMemberId) => {
                            m.member_id.clear();
                            m.generation = -1;
                            m.phase = Phase::Out;
                        }
                        Some(ErrorCode::FencedInstanceId) => m.phase = Phase::Dead,
                        Some(_) => m.phase = Phase::Out,
                        None => {
                            m.member_id = r.member_id.clone();
                            m.generation = r.generation_id;
                            m.phase = Phase::Syncing;
                            let assignments = if r.leader == r.member_id && !r.skip_assignment {
                                let subs: Vec<MemberSubscription> = r
                                    .members
                                    .iter()
                                    .map(|jm| MemberSubscription {
                                        member_id: jm.member_id.clone(),
                                        group_instance_id: jm.group_instance_id.clone(),
                                        topics: jm.metadata.topics.clone(),
                                        owned_partitions: jm.metadata.owned_partitions.clone(),
                                        generation: Some(jm.metadata.generation).filter(|g| *g >= 0),
                                        rack_id: None,
                                    })
                                    .collect();
                                m.assignor.assign(&subs, &self.partitions).into_iter().collect()
                            } else {
                                Vec::new()
                            };
                            syncs.push((
                                i,
                                SyncGroupRequest {
                                    group_id: GROUP.to_string(),
                                    generation_id: r.generation_id,
                                    member_id: r.member_id,
                                    group_instance_id: m.instance.clone(),
                                    protocol_type: Some("consumer".to_string()),
                                    protocol_name: r.protocol_name,
                                    assignments,
                                },
                            ));
                        }
                    }
                }
                GroupResponse::SyncGroup { error, assignment, .. } => {
                    let err = error.map_or("NONE".to_string(), |e| e.name().to_string());
                    let list: Vec<String> = assignment.iter().map(ToString::to_string).collect();
                    self.log(format!("  -> {name} SyncGroup {err} assignment=[{}]", list.join(",")));
                    let m = &mut self.members[i];
                    match error {
                        None => {
                            // A cooperative member that lost partitions revokes them and rejoins at once, so
                            // the partitions can be given to their new owner in a second rebalance (KIP-429).
                            let revoked = m.assignment.iter().any(|tp| !assignment.contains(tp));
                            m.assignment = assignment;
                            m.phase = Phase::Stable;
                            if revoked && m.assignor == ClientAssignor::CooperativeSticky {
                                follow_ups.push((i, true));
                            }
                        }
                        Some(ErrorCode::RebalanceInProgress) => follow_ups.push((i, true)),
                        Some(ErrorCode::FencedInstanceId) => m.phase = Phase::Dead,
                        Some(_) => {
                            m.member_id.clear();
                            m.generation = -1;
                            m.phase = Phase::Out;
                        }
                    }
                }
                GroupResponse::Heartbeat { error } => {
                    let err = error.map_or("NONE".to_string(), |e| e.name().to_string());
                    self.log(format!("  -> {name} Heartbeat {err}"));
                    let m = &mut self.members[i];
                    match error {
                        None => {}
                        Some(ErrorCode::RebalanceInProgress) => follow_ups.push((i, false)),
                        Some(ErrorCode::FencedInstanceId) => m.phase = Phase::Dead,
                        Some(_) => {
                            m.member_id.clear();
                            m.generation = -1;
                            m.assignment.clear();
                            m.phase = Phase::Out;
                        }
                    }
                }
                GroupResponse::LeaveGroup { error, members } => {
                    let per: Vec<String> = members
                        .iter()
                        .map(|(_, _, e)| e.map_or("NONE".to_string(), |e| e.name().to_string()))
                        .collect();
                    self.log(format!(
                        "  -> {name} LeaveGroup {} [{}]",
                        error.map_or("NONE".to_string(), |e| e.name().to_string()),
                        per.join(",")
                    ));
                }
                GroupResponse::OffsetCommit { partitions } => {
                    let per: Vec<String> = partitions
                        .iter()
                        .map(|(tp, e)| {
                            format!("{tp}:{}", e.map_or("NONE".to_string(), |e| e.name().to_string()))
                        })
                        .collect();
                    self.log(format!("  -> {name} OffsetCommit {}", per.join(" ")));
                }
            }
        }
        check_invariants(&self.coordinator, &mut self.last_generation);
        self.check_owners();
        for (i, request) in syncs {
            let (conn, at) = (self.members[i].conn, self.now);
            self.log(format!("{at} {} SyncGroup generation={}", self.name(i), request.generation_id));
            let out = self.coordinator.sync_group(at, conn, request);
            self.handle(out);
        }
        for (i, _) in follow_ups {
            if self.members[i].phase != Phase::Dead && !self.members[i].stuck {
                // An eager member revokes everything before it rejoins.
                if self.members[i].assignor != ClientAssignor::CooperativeSticky {
                    self.members[i].assignment.clear();
                }
                self.join(i);
            }
        }
        check_invariants(&self.coordinator, &mut self.last_generation);
    }
}

impl Harness {
    /// No partition is held by two members of the current generation at once (eager members revoke
    /// before rejoining; cooperative ones revoke before the partition is reassigned). Members the
    /// coordinator removed (zombies that have not heard yet) are left out, as Kafka cannot stop them.
    fn check_owners(&self) {
        let Some((_, generation, _)) = self.coordinator.group_state(GROUP) else { return };
        let current: BTreeSet<String> =
            self.coordinator.describe_group(GROUP).members.into_iter().map(|m| m.member_id).collect();
        let mut owners: BTreeMap<&TopicPartition, &str> = BTreeMap::new();
        for m in &self.members {
            if m.phase == Phase::Dead || !current.contains(&m.member_id) || m.generation < generation - 1 {
                continue;
            }
            for tp in &m.assignment {
                if let Some(other) = owners.insert(tp, &m.client_id) {
                    let tail: Vec<&str> = self.transcript.lines().rev().take(60).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    panic!("{tp} held by {other} and {} at once\n{}", m.client_id, tail.join("\n"));
                }
            }
        }
    }
}

/// The coordinator's invariants, checked after every step.
fn check_invariants(c: &GroupCoordinator, last_generation: &mut i32) {
    for id in c.group_ids() {
        let (state, generation, leader) = c.group_state(&id).expect("listed");
        let described = c.describe_group(&id);
        if id == GROUP {
            assert!(
                generation >= *last_generation,
                "generation went back from {last_generation} to {generation}"
            );
            *last_generation = generation;
        }
        if state == ClassicGroupState::Empty {
            assert!(described.members.is_empty(), "{id}: Empty with members");
        } else if !described.members.is_empty() {
            // (A group preparing its first rebalance may lose every member before the delay ends.)
            let leader = leader.expect("a group with members has a leader");
            assert!(
                described.members.iter().any(|m| m.member_id == leader),
                "{id}: leader {leader} is not a member"
            );
        }
        let mut owned = BTreeSet::new();
        for m in &described.members {
            for tp in &m.assignment {
                assert!(owned.insert(tp.clone()), "{id}: {tp} owned by two members");
            }
        }
        let instances: Vec<&String> =
            described.members.iter().filter_map(|m| m.group_instance_id.as_ref()).collect();
        let unique: BTreeSet<&&String> = instances.iter().collect();
        assert_eq!(instances.len(), unique.len(), "{id}: an instance id maps to two members");
    }
}

fn check_golden(name: &str, transcript: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/kafka/groups")
        .join(format!("{name}.txt"));
    let expected = std::fs::read_to_string(&path).ok();
    let body = match &expected {
        // The golden starts with `#` lines naming what it follows; the transcript is the rest.
        Some(text) => text.lines().skip_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("\n") + "\n",
        None => String::new(),
    };
    if expected.is_none() && std::env::var("BROKERLAB_BLESS").is_ok() {
        std::fs::write(
            &path,
            format!("# {name}: REVIEW AGAINST KAFKA, THEN REPLACE THIS LINE\n{transcript}"),
        )
        .unwrap();
        return;
    }
    assert!(expected.is_some(), "no golden {}", path.display());
    assert_eq!(body, transcript, "{name} differs from its golden");
}

fn config(delay: u64) -> CoordinatorConfig {
    CoordinatorConfig { initial_rebalance_delay_ms: delay, ..CoordinatorConfig::default() }
}

#[test]
fn two_members_join_then_a_third_triggers_an_eager_rebalance() {
    let mut h = Harness::new(config(0), 1);
    let a = h.add_member("consumer-g1-1", None, &["orders", "payments"], ClientAssignor::Range);
    let b = h.add_member("consumer-g1-2", None, &["orders", "payments"], ClientAssignor::Range);
    h.join(a);
    h.advance(10);
    h.join(b);
    h.advance(3000);
    h.heartbeat(a);
    h.heartbeat(b);
    let c = h.add_member("consumer-g1-3", None, &["orders"], ClientAssignor::Range);
    h.join(c);
    h.heartbeat(a);
    h.heartbeat(b);
    h.advance(3000);
    h.heartbeat(c);
    check_golden("eager_rebalance", &h.transcript);
}

#[test]
fn initial_rebalance_delay_waits_for_late_joiners() {
    let mut h = Harness::new(config(3000), 2);
    let a = h.add_member("c1", None, &["orders"], ClientAssignor::RoundRobin);
    let b = h.add_member("c2", None, &["orders"], ClientAssignor::RoundRobin);
    h.join(a);
    h.advance(2000);
    h.join(b);
    h.advance(2999);
    h.advance(1);
    h.advance(1000);
    h.advance(1000);
    check_golden("initial_rebalance_delay", &h.transcript);
}

#[test]
fn a_silent_member_is_removed_after_its_session_timeout() {
    let mut h = Harness::new(config(0), 3);
    let a = h.add_member("c1", None, &["orders"], ClientAssignor::Range);
    let b = h.add_member("c2", None, &["orders"], ClientAssignor::Range);
    h.members[b].session_timeout_ms = 10_000;
    h.join(a);
    h.join(b);
    h.advance(0);
    for _ in 0..3 {
        h.advance(3000);
        h.heartbeat(a);
    }
    h.advance(1000);
    h.heartbeat(a);
    h.advance(3000);
    h.heartbeat(a);
    check_golden("session_timeout", &h.transcript);
}

#[test]
fn a_member_that_does_not_rejoin_is_dropped_at_the_rebalance_timeout() {
    let mut h = Harness::new(config(0), 4);
    let a = h.add_member("c1", None, &["orders"], ClientAssignor::Range);
    let b = h.add_member("c2", None, &["orders"], ClientAssignor::Range);
    h.members[a].rebalance_timeout_ms = 20_000;
    h.members[b].rebalance_timeout_ms = 20_000;
    h.join(a);
    h.join(b);
    h.heartbeat(a);
    // b's poll loop gets stuck: its heartbeat thread still runs, but it never rejoins.
    h.members[b].stuck = true;
    let c = h.add_member("c3", None, &["orders"], ClientAssignor::Range);
    h.members[c].rebalance_timeout_ms = 20_000;
    h.join(c);
    h.heartbeat(a);
    h.advance(5_000);
    h.heartbeat(b);
    h.advance(14_999);
    h.advance(1);
    h.heartbeat(b);
    check_golden("rebalance_timeout", &h.transcript);
}

#[test]
fn a_static_member_restarts_without_a_rebalance_and_its_old_id_is_fenced() {
    let mut h = Harness::new(config(0), 5);
    let a = h.add_member("c1", Some("instance-a"), &["orders", "payments"], ClientAssignor::Range);
    let b = h.add_member("c2", Some("instance-b"), &["orders", "payments"], ClientAssignor::Range);
    h.join(a);
    h.join(b);
    h.advance(0);
    // b restarts: a new process, the same group.instance.id, no member id yet.
    let old = h.members[b].member_id.clone();
    let restarted = h.add_member("c2", Some("instance-b"), &["orders", "payments"], ClientAssignor::Range);
    h.join(restarted);
    h.heartbeat(a);
    // The old process is still around and heartbeats with its old id.
    h.members[b].member_id = old;
    h.heartbeat(b);
    check_golden("static_member_restart", &h.transcript);
}

#[test]
fn leaving_members_rebalance_the_group_and_the_last_one_empties_it() {
    let mut h = Harness::new(config(0), 6);
    let a = h.add_member("c1", None, &["orders"], ClientAssignor::CooperativeSticky);
    let b = h.add_member("c2", None, &["orders"], ClientAssignor::CooperativeSticky);
    h.join(a);
    h.join(b);
    h.advance(0);
    h.leave(b);
    h.heartbeat(a);
    h.leave(a);
    let listed = h.coordinator.list_groups();
    let listed: Vec<String> =
        listed.iter().map(|g| format!("{} {} {}", g.group_id, g.protocol_type, g.state)).collect();
    h.log(format!("ListGroups {}", listed.join("; ")));
    check_golden("leave_group", &h.transcript);
}

#[test]
fn offset_commits_are_validated_as_kafka_validates_them() {
    let mut h = Harness::new(config(0), 7);
    let a = h.add_member("c1", None, &["orders"], ClientAssignor::Range);
    // A consumer using assign() commits outside the group protocol to a group that does not exist yet.
    h.commit(a, -1, &[("orders", 0, 5)]);
    h.join(a);
    h.commit(a, 1, &[("orders", 0, 7), ("orders", 1, 3)]);
    h.commit(a, 0, &[("orders", 0, 8)]);
    h.commit(a, -1, &[("orders", 0, 9)]);
    let b = h.add_member("c2", None, &["orders"], ClientAssignor::Range);
    h.join(b);
    // a has not rejoined yet: its generation-1 commit is still accepted while the group prepares.
    h.commit(a, 1, &[("orders", 0, 10)]);
    let fetched = h
        .coordinator
        .offset_fetch(GROUP, &[TopicPartition::new("orders", 0), TopicPartition::new("orders", 3)]);
    let fetched: Vec<String> = fetched
        .expect("group exists")
        .iter()
        .map(|(tp, o)| format!("{tp}={}", o.as_ref().map_or(-1, |o| o.offset)))
        .collect();
    h.log(format!("OffsetFetch {}", fetched.join(" ")));
    let deleted = h.coordinator.delete_group(h.now, GROUP);
    h.log(format!("DeleteGroups {}", deleted.err().map_or("NONE", |e| e.name())));
    h.leave(a);
    h.leave(b);
    let deleted = h.coordinator.delete_group(h.now, GROUP);
    let left = h.coordinator.offsets().committed_offset(GROUP, &TopicPartition::new("orders", 0));
    h.log(format!(
        "DeleteGroups {}, committed offsets left: {}",
        deleted.err().map_or("NONE", |e| e.name()),
        left.is_some()
    ));
    h.flush_events();
    check_golden("offset_commit", &h.transcript);
}

#[test]
fn cooperative_members_keep_their_partitions_and_hand_over_in_a_second_rebalance() {
    let mut h = Harness::new(config(0), 8);
    let a = h.add_member("c1", None, &["orders", "payments"], ClientAssignor::CooperativeSticky);
    let b = h.add_member("c2", None, &["orders", "payments"], ClientAssignor::CooperativeSticky);
    h.join(a);
    h.join(b);
    h.heartbeat(a);
    let c = h.add_member("c3", None, &["orders", "payments"], ClientAssignor::CooperativeSticky);
    h.join(c);
    h.heartbeat(a);
    h.heartbeat(b);
    h.advance(3000);
    h.heartbeat(a);
    h.heartbeat(b);
    h.heartbeat(c);
    h.advance(3000);
    h.heartbeat(a);
    h.heartbeat(c);
    h.heartbeat(b);
    check_golden("cooperative_rebalance", &h.transcript);
}

/// Seeded random membership traffic: joins, heartbeats, commits, leaves, crashes (silence), restarts of
/// static members and time passing, with every invariant checked after every step.
#[test]
fn seeded_random_membership_keeps_the_invariants() {
    for seed in 1..=20u64 {
        let mut rng = Prng::new(seed);
        let mut h = Harness::new(config(if seed % 2 == 0 { 0 } else { 3000 }), seed);
        let assignors = ClientAssignor::ALL;
        let assignor = assignors[(seed % 4) as usize];
        for k in 0..6 {
            let instance = if rng.chance(1, 3) { Some(format!("inst-{k}")) } else { None };
            let topics: &[&str] = if rng.chance(1, 2) { &["orders", "payments"] } else { &["orders"] };
            let i = h.add_member(&format!("c{k}"), instance.as_deref(), topics, assignor);
            h.members[i].session_timeout_ms = 10_000;
            h.members[i].rebalance_timeout_ms = 15_000;
        }
        for _ in 0..400 {
            let i = rng.below(h.members.len() as u64) as usize;
            match rng.below(10) {
                0 | 1 if h.members[i].phase == Phase::Out => h.join(i),
                2..=5 if h.members[i].phase == Phase::Stable => h.heartbeat(i),
                6 if h.members[i].phase == Phase::Stable => {
                    let generation = h.members[i].generation;
                    h.commit(i, generation, &[("orders", 0, rng.below(100) as i64)]);
                }
                7 if rng.chance(1, 4) && h.members[i].phase != Phase::Dead => h.leave(i),
                8 if h.members[i].instance.is_some() && rng.chance(1, 4) => {
                    // A static member's process restarts with the same instance id.
                    h.members[i].member_id.clear();
                    h.members[i].generation = -1;
                    h.members[i].assignment.clear();
                    h.members[i].phase = Phase::Out;
                    h.join(i);
                }
                _ => h.advance(rng.below(4000)),
            }
            // Dead members come back as new processes now and then.
            if h.members[i].phase == Phase::Dead && rng.chance(1, 8) {
                h.members[i].phase = Phase::Out;
                h.members[i].member_id.clear();
                h.members[i].generation = -1;
                h.members[i].assignment.clear();
            }
        }
        // Quiet: every timer eventually fires and the group settles without members that stopped.
        h.advance(400_000);
    }
}
