//! Replication on a three-broker cluster: acks, the ISR and `replica.lag.time.max.ms`,
//! `min.insync.replicas` before and after the append, the high watermark, brokers down and back, leader
//! election clean and unclean (the records it loses). Rules from Kafka's documentation and
//! `Partition.scala` (ISR shrink; KIP-966 as Kafka 4.1 does it: no high watermark advance while the ISR is
//! smaller than `min.insync.replicas`); the effective minimum ISR is capped at the replication factor as in Kafka 4.1
//! (the real broker accepted `acks=all` with `min.insync.replicas=2` on a one-replica topic:
//! `tests/kafka/admin_probe.golden`).

use broker_core::kafka::cluster::{AlterConfigOp, Cluster, NewTopic, ProduceOutcome, ProduceRequest};
use broker_core::kafka::log::AppendRecord;
use broker_core::kafka::{
    Acks, ErrorCode, IsolationLevel, KafkaEvent, NodeId, PartitionReader, TopicPartition,
};
use broker_core::VirtualTime;

fn at(ms: u64) -> VirtualTime {
    VirtualTime::from_millis(ms)
}

fn req(tp: &TopicPartition, acks: Acks, value: &str) -> ProduceRequest {
    ProduceRequest {
        partition: tp.clone(),
        acks,
        timeout_ms: 120_000,
        records: vec![AppendRecord {
            timestamp: 0,
            key: Some(b"k".to_vec()),
            value: Some(value.as_bytes().to_vec()),
            headers: vec![],
        }],
        producer: None,
    }
}

fn setup(rf: i32, configs: &[(&str, &str)]) -> (Cluster, TopicPartition, Vec<NodeId>) {
    let mut c = Cluster::with_brokers(11, 3);
    let mut t = NewTopic::new("t", 1, rf);
    for (k, v) in configs {
        t = t.config(k, v);
    }
    c.create_topic(at(0), &t).unwrap();
    let tp = TopicPartition::new("t", 0);
    let replicas = c.partition(&tp).unwrap().replicas.clone();
    c.take_events();
    (c, tp, replicas)
}

fn values(c: &mut Cluster, t: u64, tp: &TopicPartition) -> Vec<String> {
    c.fetch(at(t), tp, c.partition(tp).unwrap().log.log_start_offset(), 1000, IsolationLevel::ReadUncommitted)
        .unwrap()
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap()).unwrap())
        .collect()
}

#[test]
fn acks_all_is_answered_when_the_followers_have_fetched_and_consumers_read_up_to_the_high_watermark() {
    let (mut c, tp, _) = setup(3, &[]);
    let ProduceOutcome::Pending(id) = c.produce(at(10), &req(&tp, Acks::All, "a")) else {
        panic!("waits for the ISR")
    };
    assert_eq!(values(&mut c, 10, &tp), Vec::<String>::new(), "not yet below the high watermark");
    assert!(c.take_completions().is_empty());
    c.advance_to(at(11));
    let done = c.take_completions();
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].request, done[0].at, done[0].result.as_ref().unwrap().base_offset), (id, at(11), 0));
    assert_eq!(values(&mut c, 11, &tp), vec!["a"]);
    let ProduceOutcome::Done(Ok(r)) = c.produce(at(20), &req(&tp, Acks::Leader, "b")) else {
        panic!("acks=1 answers at once")
    };
    assert_eq!(r.base_offset, 1);
    assert_eq!(values(&mut c, 20, &tp), vec!["a"], "acks=1: written, not yet committed");
    c.advance_to(at(21));
    assert_eq!(values(&mut c, 21, &tp), vec!["a", "b"]);
    c.assert_invariants();
}

#[test]
fn a_slow_follower_leaves_the_isr_after_replica_lag_time_max_ms_and_rejoins_when_caught_up() {
    let (mut c, tp, replicas) = setup(3, &[]);
    let slow = replicas[2];
    c.set_follower_delay(at(0), slow, 40_000);
    c.produce(at(1000), &req(&tp, Acks::All, "a"));
    c.advance_to(at(31_000));
    assert_eq!(c.partition(&tp).unwrap().isr.len(), 3, "30,000 ms is not more than the lag limit");
    c.advance_to(at(31_001));
    assert_eq!(c.partition(&tp).unwrap().isr, replicas[..2].to_vec());
    let done = c.take_completions();
    assert!(done[0].result.is_ok(), "min.insync.replicas=1: answered once the ISR shrinks");
    // Its fetch (1 + 40,000 ms after the append) brings it up to the end: it rejoins.
    c.advance_to(at(41_001));
    assert_eq!(c.partition(&tp).unwrap().isr, replicas);
    let kinds: Vec<String> =
        c.take_events().into_iter().map(|(t, e)| format!("{} {e}", t.as_millis())).collect();
    assert!(
        kinds.contains(&format!("31001 IsrShrunk t-0 isr=[{},{}]", replicas[0].0, replicas[1].0)),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|k| k.starts_with("41001 IsrExpanded")), "{kinds:?}");
    c.assert_invariants();
}

#[test]
fn not_enough_replicas_before_the_append_and_after_it() {
    let (mut c, tp, replicas) = setup(3, &[("min.insync.replicas", "3")]);
    // A slow follower: the batch is written, then the ISR shrinks below 3 before it is replicated.
    c.set_follower_delay(at(0), replicas[2], 60_000);
    let ProduceOutcome::Pending(id) = c.produce(at(0), &req(&tp, Acks::All, "a")) else { panic!() };
    c.advance_to(at(30_001));
    assert_eq!(c.partition(&tp).unwrap().isr, replicas[..2].to_vec());
    // KIP-966 (Kafka 4.x): under min.insync.replicas the high watermark stays, so the request waits and
    // the record is not readable (the real broker: tests/scenarios/kafka/min-insync-broker-down).
    assert!(c.take_completions().is_empty(), "still waiting for the ISR");
    assert_eq!(values(&mut c, 30_001, &tp), Vec::<String>::new(), "written, not committed");
    // Now the ISR has 2 members: refused before the append.
    let ProduceOutcome::Done(Err(e)) = c.produce(at(30_002), &req(&tp, Acks::All, "b")) else { panic!() };
    assert_eq!(e.code, ErrorCode::NotEnoughReplicas);
    assert_eq!(c.partition(&tp).unwrap().log.log_end_offset(), 1, "nothing written");
    let ProduceOutcome::Done(Ok(_)) = c.produce(at(30_003), &req(&tp, Acks::Leader, "c")) else {
        panic!("acks=1 ignores min.insync.replicas")
    };
    assert_eq!(values(&mut c, 30_003, &tp), Vec::<String>::new(), "acks=1 written, not committed either");
    // The slow follower's fetch catches it up: it rejoins, the ISR is 3 again and the high watermark moves.
    c.advance_to(at(120_000));
    assert_eq!(c.partition(&tp).unwrap().isr.len(), 3);
    let done = c.take_completions();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].request, id);
    assert!(done[0].result.is_ok(), "{:?}", done[0].result);
    assert_eq!(values(&mut c, 120_000, &tp), vec!["a", "c"]);
    c.assert_invariants();
}

#[test]
fn a_broker_down_moves_leadership_and_back_up_it_catches_up_and_rejoins() {
    let (mut c, tp, replicas) = setup(3, &[("min.insync.replicas", "2")]);
    let leader = replicas[0];
    c.produce(at(0), &req(&tp, Acks::All, "a"));
    c.advance_to(at(5));
    c.broker_down(at(10), leader).unwrap();
    let p = c.partition(&tp).unwrap();
    assert_eq!(p.leader, Some(replicas[1]), "the next ISR member in replica order");
    assert_eq!(p.isr, replicas[1..].to_vec());
    c.produce(at(20), &req(&tp, Acks::All, "b"));
    c.advance_to(at(30));
    assert_eq!(values(&mut c, 30, &tp), vec!["a", "b"], "no acknowledged record lost");
    c.broker_up(at(40), leader).unwrap();
    c.advance_to(at(41));
    let p = c.partition(&tp).unwrap();
    assert_eq!(p.isr.len(), 3, "caught up and back in the ISR: {:?}", p.isr);
    assert_eq!(p.leader, Some(replicas[1]), "leadership stays until the controller's imbalance check");
    // auto.leader.rebalance.enable: leader.imbalance.check.interval.seconds (300 s) after the move, the
    // preferred replica (the first) leads again.
    c.advance_to(at(300_009));
    assert_eq!(c.partition(&tp).unwrap().leader, Some(replicas[1]));
    c.advance_to(at(300_010));
    assert_eq!(c.partition(&tp).unwrap().leader, Some(leader));
    assert_eq!(values(&mut c, 300_010, &tp), vec!["a", "b"]);
    c.assert_invariants();
}

#[test]
fn unclean_election_elects_a_stale_replica_and_its_log_wins() {
    let (mut c, tp, replicas) = setup(2, &[]);
    let (first, second) = (replicas[0], replicas[1]);
    c.produce(at(0), &req(&tp, Acks::All, "a"));
    c.advance_to(at(5));
    c.broker_down(at(10), second).unwrap();
    for (i, v) in ["b", "c"].iter().enumerate() {
        let ProduceOutcome::Done(Ok(_)) = c.produce(at(20 + i as u64), &req(&tp, Acks::All, v)) else {
            panic!("ISR [leader] is enough")
        };
    }
    c.broker_down(at(30), first).unwrap();
    assert_eq!(c.partition(&tp).unwrap().leader, None);
    // KIP-966 (Kafka 4.1): the last ISR member leaves the ISR for the ELR; a real broker describes the
    // leaderless partition with an empty ISR (tests/scenarios/kafka/unclean-leader-election).
    assert_eq!(c.partition(&tp).unwrap().isr, Vec::<NodeId>::new());
    assert_eq!(c.partition(&tp).unwrap().elr, vec![first], "the last ISR member is eligible");
    let ProduceOutcome::Done(Err(e)) = c.produce(at(31), &req(&tp, Acks::Leader, "x")) else { panic!() };
    assert_eq!(e.code, ErrorCode::NotLeaderOrFollower);
    c.broker_up(at(40), second).unwrap();
    assert_eq!(c.partition(&tp).unwrap().leader, None, "unclean election is off: offline");
    c.alter_configs(
        at(50),
        "t",
        &[AlterConfigOp { name: "unclean.leader.election.enable".into(), value: Some("true".into()) }],
    )
    .unwrap();
    let p = c.partition(&tp).unwrap();
    assert_eq!((p.leader, p.isr.clone()), (Some(second), vec![second]));
    assert_eq!(values(&mut c, 50, &tp), vec!["a"], "b and c were acknowledged and are lost");
    let events: Vec<String> = c.take_events().into_iter().map(|(_, e)| e.to_string()).collect();
    assert!(
        events.contains(&"RecordsTruncated t-0 log_end_offset=1 records_lost=2".to_string()),
        "{events:?}"
    );
    assert!(events
        .iter()
        .any(|e| e.starts_with(&format!("LeaderElected t-0 leader={} ", second.0))
            && e.ends_with("unclean=true")));
    // The old leader returns as a follower, truncated to the new leader's log, and catches up.
    c.produce(at(60), &req(&tp, Acks::Leader, "d"));
    c.broker_up(at(70), first).unwrap();
    c.advance_to(at(80));
    assert_eq!(c.partition(&tp).unwrap().isr.len(), 2);
    assert_eq!(values(&mut c, 80, &tp), vec!["a", "d"]);
    assert!(matches!(c.take_events().last(), Some((_, KafkaEvent::IsrExpanded { .. }))));
    c.assert_invariants();
}

#[test]
fn a_clone_plays_on_exactly_as_the_original() {
    let (mut c, tp, replicas) = setup(3, &[("segment.ms", "100")]);
    let script = |c: &mut Cluster, start: u64| {
        for i in 0..300u64 {
            let t = start + i * 7;
            c.produce(at(t), &req(&tp, [Acks::All, Acks::Leader][(i % 2) as usize], &format!("v{i}")));
            if i == 150 {
                c.broker_down(at(t), replicas[0]).unwrap();
            }
            if i == 220 {
                c.broker_up(at(t), replicas[0]).unwrap();
            }
        }
        c.advance_to(at(start + 10_000));
        (c.take_events(), c.take_completions(), values(c, start + 10_000, &tp))
    };
    script(&mut c, 0);
    let mut copy = c.clone();
    let before = c.partition(&tp).unwrap().log.heap_bytes();
    assert!(before > 0);
    let original = script(&mut c, 20_000);
    let cloned = script(&mut copy, 20_000);
    assert_eq!(original, cloned);
    c.assert_invariants();
}

#[test]
fn a_slow_follower_delays_the_first_acks_all_send_until_it_has_fetched() {
    let (mut c, tp, replicas) = setup(3, &[]);
    c.set_follower_delay(at(0), replicas[2], 500);
    let ProduceOutcome::Pending(id) = c.produce(at(10), &req(&tp, Acks::All, "a")) else {
        panic!("waits for the ISR")
    };
    c.advance_to(at(500));
    assert!(c.take_completions().is_empty(), "the slow follower has not fetched yet");
    c.advance_to(at(511));
    let done = c.take_completions();
    assert_eq!((done.len(), done[0].request, done[0].at), (1, id, at(511)));
    c.assert_invariants();
}

#[test]
fn a_restarted_broker_that_missed_nothing_rejoins_the_isr() {
    // The real cluster: tests/scenarios/kafka/isr-shrink-and-expand (acks=all with min.insync.replicas=3
    // is accepted again once the broker is back).
    let (mut c, tp, replicas) = setup(3, &[("min.insync.replicas", "3")]);
    let follower = replicas[2];
    c.broker_down(at(10), follower).unwrap();
    assert_eq!(c.partition(&tp).unwrap().isr.len(), 2);
    c.broker_up(at(20), follower).unwrap();
    c.advance_to(at(30));
    assert_eq!(c.partition(&tp).unwrap().isr.len(), 3, "{:?}", c.partition(&tp).unwrap().isr);
    let ProduceOutcome::Pending(_) = c.produce(at(40), &req(&tp, Acks::All, "a")) else {
        panic!("accepted: the ISR has three members again")
    };
    c.advance_to(at(50));
    assert!(c.take_completions()[0].result.is_ok());
    c.assert_invariants();
}

/// A manual assignment: the first replica of each list leads, and the controller's checks, in its order
/// and with its messages (recorded from Kafka 4.1.1: tests/scenarios/kafka/replica-assignment).
#[test]
fn a_manual_assignment_places_replicas_as_written_and_is_checked_as_the_controller_checks_it() {
    let mut c = Cluster::with_brokers(11, 3);
    let n = |v: &[i32]| v.iter().map(|&b| NodeId(b)).collect::<Vec<_>>();
    c.create_topic(at(0), &NewTopic::with_assignment("placed", vec![(0, n(&[1, 2, 3])), (1, n(&[2, 3, 1]))]))
        .unwrap();
    let p1 = c.partition(&TopicPartition::new("placed", 1)).unwrap();
    assert_eq!(
        (p1.leader, p1.replicas.clone(), p1.isr.clone()),
        (Some(NodeId(2)), n(&[2, 3, 1]), n(&[2, 3, 1]))
    );
    type Assignment<'a> = &'a [(i32, &'a [i32])];
    let cases: &[(Assignment, &str)] = &[
        (&[(0, &[1, 1])], "The manual partition assignment includes the broker 1 more than once."),
        (&[(0, &[1, 7])], "The manual partition assignment includes broker 7, but no such broker is registered."),
        (
            &[(0, &[1, 2]), (1, &[3])],
            "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent \
             with previous partitions, which have 2 replica(s).",
        ),
        (&[(0, &[1]), (2, &[2])], "partitions should be a consecutive 0-based integer sequence"),
        (&[(0, &[])], "The manual partition assignment includes an empty replica list."),
    ];
    for (assignment, message) in cases {
        let t = NewTopic::with_assignment("bad", assignment.iter().map(|(p, r)| (*p, n(r))).collect());
        let e = c.create_topic(at(1), &t).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (ErrorCode::InvalidReplicaAssignment, *message));
    }
    c.broker_down(at(2), NodeId(3)).unwrap();
    let e = c.create_topic(at(3), &NewTopic::with_assignment("fenced", vec![(0, n(&[3]))])).unwrap_err();
    assert_eq!(
        e.message,
        "All brokers specified in the manual partition assignment for partition 0 are fenced or in controlled shutdown."
    );
    c.assert_invariants();
}

/// A killed broker keeps its leadership and ISR place until broker.session.timeout.ms has passed
/// (tests/scenarios/kafka/broker-crash-session-timeout, recorded with a 4 s session).
#[test]
fn a_killed_leader_is_fenced_only_when_its_session_expires() {
    let mut c = Cluster::new(
        11,
        broker_core::kafka::cluster::ClusterSettings {
            broker_session_timeout_ms: 4000,
            ..Default::default()
        },
    );
    for i in 1..=3 {
        c.add_broker(NodeId(i), None).unwrap();
    }
    let n = |v: &[i32]| v.iter().map(|&b| NodeId(b)).collect::<Vec<_>>();
    c.create_topic(at(0), &NewTopic::with_assignment("ledger", vec![(0, n(&[1, 2, 3]))])).unwrap();
    let tp = TopicPartition::new("ledger", 0);
    c.broker_crash(at(10), NodeId(1)).unwrap();
    c.advance_to(at(4009));
    let p = c.partition(&tp).unwrap();
    assert_eq!((p.leader, p.isr.clone()), (Some(NodeId(1)), n(&[1, 2, 3])), "not fenced yet");
    c.advance_to(at(4010));
    let p = c.partition(&tp).unwrap();
    assert_eq!((p.leader, p.isr.clone()), (Some(NodeId(2)), n(&[2, 3])), "fenced: the next ISR member leads");
    c.assert_invariants();
}

/// A paused follower (SIGSTOP) leaves the ISR by lag once it is behind, while the controller still counts
/// it; resumed before its session expires it catches up and rejoins. Paused past its session it is fenced,
/// and its resume registers it again (tests/scenarios/kafka/isr-shrink-slow-follower).
#[test]
fn a_paused_follower_leaves_the_isr_by_lag_and_rejoins_when_resumed() {
    let mut c = Cluster::new(
        11,
        broker_core::kafka::cluster::ClusterSettings {
            broker_session_timeout_ms: 60_000,
            replica_lag_time_max_ms: 3000,
            ..Default::default()
        },
    );
    for i in 1..=3 {
        c.add_broker(NodeId(i), None).unwrap();
    }
    let n = |v: &[i32]| v.iter().map(|&b| NodeId(b)).collect::<Vec<_>>();
    c.create_topic(at(0), &NewTopic::with_assignment("orders", vec![(0, n(&[1, 2, 3]))])).unwrap();
    let tp = TopicPartition::new("orders", 0);
    c.broker_pause(at(100), NodeId(3)).unwrap();
    c.produce(at(200), &req(&tp, Acks::Leader, "a"));
    c.advance_to(at(3000));
    assert_eq!(c.partition(&tp).unwrap().isr, n(&[1, 2, 3]), "behind for less than the lag");
    c.advance_to(at(3300));
    assert_eq!(c.partition(&tp).unwrap().isr, n(&[1, 2]), "out of the ISR by lag");
    assert!(c.brokers().iter().all(|b| b.up), "still registered: not fenced");
    c.broker_resume(at(5000), NodeId(3)).unwrap();
    c.advance_to(at(6000));
    assert_eq!(c.partition(&tp).unwrap().isr, n(&[1, 2, 3]), "caught up and back");
    // Paused past its session: fenced; the resume registers it again and it rejoins.
    c.broker_pause(at(7000), NodeId(3)).unwrap();
    c.advance_to(at(67_001));
    assert!(!c.brokers().iter().find(|b| b.id == NodeId(3)).unwrap().up, "fenced");
    c.broker_resume(at(70_000), NodeId(3)).unwrap();
    c.advance_to(at(71_000));
    assert!(c.brokers().iter().all(|b| b.up));
    assert_eq!(c.partition(&tp).unwrap().isr, n(&[1, 2, 3]));
    // A resume of a broker that is not paused changes nothing.
    c.broker_resume(at(72_000), NodeId(2)).unwrap();
    c.assert_invariants();
}

/// A paused leader (SIGSTOP) reads no request: a write to it is neither appended nor answered until the
/// client's request timeout, and the election after its fencing does not answer it either; the frozen
/// leader's followers fetch nothing. Resumed after its fencing, it follows the new leader. Resumed before,
/// what it held and had not appended fails with NOT_LEADER_OR_FOLLOWER (retriable)
/// (tests/scenarios/kafka-documents/paused-leader).
#[test]
fn a_paused_leader_answers_nothing_until_the_clients_timeout_and_follows_once_resumed() {
    let mut c = Cluster::new(
        11,
        broker_core::kafka::cluster::ClusterSettings {
            broker_session_timeout_ms: 4000,
            ..Default::default()
        },
    );
    for i in 1..=3 {
        c.add_broker(NodeId(i), None).unwrap();
    }
    let n = |v: &[i32]| v.iter().map(|&b| NodeId(b)).collect::<Vec<_>>();
    c.create_topic(at(0), &NewTopic::with_assignment("ledger", vec![(0, n(&[2, 3, 1]))])).unwrap();
    let tp = TopicPartition::new("ledger", 0);
    let timed = |t: u64| ProduceRequest { timeout_ms: t, ..req(&tp, Acks::All, "frozen") };
    c.broker_pause(at(100), NodeId(2)).unwrap();
    let ProduceOutcome::Pending(first) = c.produce(at(200), &timed(6000)) else { panic!("no answer") };
    let ProduceOutcome::Pending(second) = c.produce(at(1200), &timed(6000)) else { panic!("no answer") };
    assert_eq!(c.partition(&tp).unwrap().log.log_end_offset(), 0, "nothing appended");
    c.advance_to(at(4100));
    let p = c.partition(&tp).unwrap();
    assert_eq!((p.leader, p.isr.clone()), (Some(NodeId(3)), n(&[3, 1])), "fenced: broker 3 leads");
    assert!(c.take_completions().is_empty(), "the election answers nothing the frozen broker holds");
    c.advance_to(at(6200));
    let done = c.take_completions();
    assert_eq!(done.iter().map(|d| d.request).collect::<Vec<_>>(), vec![first, second], "{done:?}");
    assert!(done
        .iter()
        .all(|d| d.at == at(6200) && d.result.as_ref().is_err_and(|e| e.code == ErrorCode::RequestTimedOut)));
    // The retry goes to the new leader.
    let ProduceOutcome::Pending(retry) = c.produce(at(6300), &timed(6000)) else { panic!("acks=all") };
    c.advance_to(at(6400));
    assert!(c.take_completion(retry).is_some_and(|d| d.result.is_ok()));
    c.broker_resume(at(8000), NodeId(2)).unwrap();
    c.advance_to(at(9000));
    let p = c.partition(&tp).unwrap();
    assert_eq!((p.leader, p.isr.clone()), (Some(NodeId(3)), n(&[3, 1, 2])), "broker 2 follows again");
    assert_eq!(values(&mut c, 9000, &tp), vec!["frozen"], "written once");
    // Paused and resumed before its fencing: what it held unappended fails, retriable.
    c.broker_pause(at(10_000), NodeId(3)).unwrap();
    let ProduceOutcome::Pending(held) = c.produce(at(10_100), &timed(6000)) else { panic!("no answer") };
    c.broker_resume(at(11_000), NodeId(3)).unwrap();
    let d = c.take_completion(held).expect("answered at the resume");
    assert_eq!(d.result.unwrap_err().code, ErrorCode::NotLeaderOrFollower);
    c.assert_invariants();
}

/// `electLeaders(PREFERRED)` gives leadership back to the first replica once it is in the ISR again
/// (appended there, as Kafka's AlterPartition does), and answers ELECTION_NOT_NEEDED when it leads already
/// (tests/scenarios/kafka/leader-failover-and-preferred-election).
#[test]
fn a_preferred_election_restores_the_first_replica() {
    let mut c = Cluster::with_brokers(11, 3);
    let n = |v: &[i32]| v.iter().map(|&b| NodeId(b)).collect::<Vec<_>>();
    c.create_topic(at(0), &NewTopic::with_assignment("payments", vec![(0, n(&[1, 2, 3]))])).unwrap();
    let tp = TopicPartition::new("payments", 0);
    c.broker_down(at(10), NodeId(1)).unwrap();
    let e = c.elect_leaders(at(11), &tp, false).unwrap_err();
    assert_eq!(e.code, ErrorCode::PreferredLeaderNotAvailable);
    c.broker_up(at(20), NodeId(1)).unwrap();
    c.advance_to(at(100));
    let p = c.partition(&tp).unwrap();
    assert_eq!((p.leader, p.isr.clone()), (Some(NodeId(2)), n(&[2, 3, 1])));
    c.elect_leaders(at(101), &tp, false).unwrap();
    assert_eq!(c.partition(&tp).unwrap().leader, Some(NodeId(1)));
    assert_eq!(c.elect_leaders(at(102), &tp, false).unwrap_err().code, ErrorCode::ElectionNotNeeded);
    c.assert_invariants();
}
