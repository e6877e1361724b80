//! `Redis::autoclaim_scan` (what the page shows as "what XAUTOCLAIM takes next") against the engine's
//! own `XAUTOCLAIM`, whose replies the `stream-claiming` golden compares with redis-server 7: on one
//! state, the scan first, then the command, over a grid of min-idle times, starts and counts, and
//! cursor by cursor to the PEL's end. The entries the scan passes over as too young must keep their owner
//! and delivery count through the command.

use broker_core::redis::server::{Outcome, Redis};
use broker_core::redis::stream::{AutoclaimScan, StreamId};
use broker_core::redis::Reply;

fn run(r: &mut Redis, line: &str) -> Reply {
    let argv: Vec<Vec<u8>> = line.split_whitespace().map(|w| w.as_bytes().to_vec()).collect();
    match r.execute(0, &argv).0 {
        Outcome::Reply(reply) => reply,
        other => panic!("{line}: {other:?}"),
    }
}

fn id(ms: u64) -> StreamId {
    StreamId { ms, seq: 0 }
}

fn text(id: StreamId) -> String {
    format!("{}-{}", id.ms, id.seq)
}

fn bulk_ids(reply: &Reply) -> Vec<String> {
    let Reply::Array(items) = reply else { panic!("not an array: {reply:?}") };
    items
        .iter()
        .map(|item| match item {
            Reply::Bulk(b) => String::from_utf8(b.clone()).unwrap(),
            // A full entry: [id, [field, value…]].
            Reply::Array(parts) => bulk_ids(&Reply::Array(vec![parts[0].clone()])).remove(0),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

/// Stream `s` with entries 1-0 … 12-0; alice read 1–5 at 0 ms, bob 6–9 at 1000 ms, carol 10–12 at
/// 1500 ms; 2-0 and 9-0 deleted afterwards; now 1700 ms.
fn state() -> Redis {
    let mut r = Redis::new();
    for ms in 1..=12 {
        run(&mut r, &format!("XADD s {ms}-0 n {ms}"));
    }
    run(&mut r, "XGROUP CREATE s g 0");
    run(&mut r, "XREADGROUP GROUP g alice COUNT 5 STREAMS s >");
    r.advance(1000);
    run(&mut r, "XREADGROUP GROUP g bob COUNT 4 STREAMS s >");
    r.advance(500);
    run(&mut r, "XREADGROUP GROUP g carol COUNT 3 STREAMS s >");
    assert_eq!(run(&mut r, "XDEL s 2-0 9-0"), Reply::Int(2));
    r.advance(200);
    r
}

/// The owner and delivery count of each pending entry, as `XPENDING s g - + 100` replies them.
fn owners(r: &mut Redis) -> Vec<(String, String, i64)> {
    let Reply::Array(rows) = run(r, "XPENDING s g - + 100") else { panic!() };
    rows.iter()
        .map(|row| {
            let Reply::Array(f) = row else { panic!() };
            let s = |r: &Reply| match r {
                Reply::Bulk(b) => String::from_utf8(b.clone()).unwrap(),
                _ => panic!(),
            };
            let Reply::Int(n) = f[3] else { panic!() };
            (s(&f[0]), s(&f[1]), n)
        })
        .collect()
}

/// Scans, then runs `XAUTOCLAIM` on the same state, and checks the two agree; returns the scan.
fn scan_then_claim(r: &mut Redis, min_idle: i64, start: StreamId, count: i64, justid: bool) -> AutoclaimScan {
    let scan = r.autoclaim_scan(b"s", b"g", min_idle, start, count).expect("stream s has group g");
    let before = owners(r);
    let just = if justid { " JUSTID" } else { "" };
    let line = format!("XAUTOCLAIM s g zed {min_idle} {} COUNT {count}{just}", text(start));
    let Reply::Array(reply) = run(r, &line) else { panic!("{line}") };
    let what = format!("{line} (scan {scan:?})");
    assert_eq!(bulk_ids(&Reply::Array(vec![reply[0].clone()])), vec![text(scan.next)], "cursor: {what}");
    assert_eq!(bulk_ids(&reply[1]), scan.claimed.iter().map(|&i| text(i)).collect::<Vec<_>>(), "{what}");
    assert_eq!(bulk_ids(&reply[2]), scan.deleted.iter().map(|&i| text(i)).collect::<Vec<_>>(), "{what}");
    let after = owners(r);
    for (young, _) in &scan.too_young {
        let row = |rows: &[(String, String, i64)]| rows.iter().find(|o| o.0 == text(*young)).cloned();
        assert_eq!(row(&after), row(&before), "a too-young entry kept its owner and count: {what}");
        assert!(row(&after).is_some(), "{what}");
    }
    r.check_invariants().unwrap();
    scan
}

#[test]
fn the_scan_names_what_xautoclaim_then_claims_and_deletes_over_a_grid_of_arguments() {
    let starts = [id(0), id(2), id(3), id(7), id(9), id(12), id(13)];
    for min_idle in [0, 199, 200, 300, 700, 701, 1000, 1700, 1701, 100_000] {
        for start in starts {
            for count in [1, 2, 3, 100] {
                for justid in [true, false] {
                    scan_then_claim(&mut state(), min_idle, start, count, justid);
                }
            }
        }
    }
}

#[test]
fn following_the_cursor_the_scan_and_the_command_agree_to_the_end_of_the_pel() {
    for (min_idle, count) in [(0, 1), (500, 1), (500, 2), (1000, 3), (100_000, 1)] {
        let mut r = state();
        let mut start = id(0);
        for _ in 0..20 {
            start = scan_then_claim(&mut r, min_idle, start, count, false).next;
            if start == StreamId::MIN {
                break;
            }
        }
        assert_eq!(start, StreamId::MIN, "the walk ends at 0-0 (min-idle {min_idle}, COUNT {count})");
    }
}

#[test]
fn the_scan_tells_why_the_others_stay_too_young_deleted_or_beyond_the_count() {
    let r = state();
    let scan = r.autoclaim_scan(b"s", b"g", 1000, id(0), 100).unwrap();
    assert_eq!(scan.claimed, vec![id(1), id(3), id(4), id(5)]);
    assert_eq!(scan.deleted, vec![id(2), id(9)]);
    let young: Vec<(StreamId, i64)> = [(6, 700), (7, 700), (8, 700), (10, 200), (11, 200), (12, 200)]
        .map(|(ms, idle)| (id(ms), idle))
        .into();
    assert_eq!(scan.too_young, young);
    assert_eq!((scan.next, scan.attempts_ran_out), (StreamId::MIN, false));

    // COUNT 2: 1-0 is claimed, 2-0 deleted, and the cursor stops at 3-0 with nothing more looked at.
    let scan = r.autoclaim_scan(b"s", b"g", 1000, id(0), 2).unwrap();
    assert_eq!((scan.claimed, scan.deleted, scan.next), (vec![id(1)], vec![id(2)], id(3)));

    // COUNT 1 with nothing idle enough: ten attempts, 3-0 … 8-0 young, 9-0 deleted ends it at 10-0.
    let scan = r.autoclaim_scan(b"s", b"g", 100_000, id(3), 1).unwrap();
    assert_eq!((scan.claimed.len(), scan.deleted.clone(), scan.next), (0, vec![id(9)], id(10)));

    // Ten attempts run out on a PEL of young entries before COUNT is reached.
    let mut r = Redis::new();
    for ms in 1..=15 {
        run(&mut r, &format!("XADD s {ms}-0 n {ms}"));
    }
    run(&mut r, "XGROUP CREATE s g 0");
    run(&mut r, "XREADGROUP GROUP g alice STREAMS s >");
    let scan = r.autoclaim_scan(b"s", b"g", 10, id(0), 1).unwrap();
    assert_eq!((scan.too_young.len(), scan.next, scan.attempts_ran_out), (10, id(11), true));

    // No such stream or group: nothing to scan.
    assert_eq!(r.autoclaim_scan(b"s", b"nope", 0, id(0), 1), None);
    assert_eq!(r.autoclaim_scan(b"missing", b"g", 0, id(0), 1), None);
}
