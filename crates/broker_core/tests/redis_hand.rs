//! Commands typed by hand on a running Redis document (the page's console): each line gets what
//! redis-cli prints for redis-server 7's reply or error (the texts as the Redis goldens, compared with a
//! real redis-server, have them), acts on the run at once (a push serves a blocked worker, a `PUBLISH`
//! reaches subscribers, an `XREADGROUP` makes entries pending for a consumer of the console's own),
//! keeps the run going (its ledgers follow what the hand did; no run stops), and a blocking command
//! waits on the run's clock. The same lines at the same instants replay the same run.

use broker_core::redis::scenario::{
    help, HandLine, RedisEvent, RedisRun, RedisRunOptions, BAD_REPEAT, CLEAR_SCREEN, CTRL_C, HAND,
    HELP_INTRO, READING_MESSAGES, RESTART,
};
use broker_core::redis::server::Value;
use broker_core::VirtualTime;
use std::path::Path;

fn tutorial(name: &str) -> RedisRun {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scenarios/redis-tutorials")
        .join(name)
        .join("document.json");
    let text = std::fs::read_to_string(path).expect("the tutorial");
    RedisRun::from_json(&text, RedisRunOptions::default()).expect("opens")
}

fn at(run: &mut RedisRun, ms: u64) {
    run.run_until(VirtualTime::from_millis(ms));
}

fn to_end(run: &mut RedisRun) {
    let end = run.end_time().as_millis();
    at(run, end);
}

fn typed(run: &mut RedisRun, line: &str) -> String {
    run.hand_command(line)
        .unwrap_or_else(|e| panic!("{line}: not sent: {e}"))
        .unwrap_or_else(|| "(blocked)".into())
}

fn list(run: &RedisRun, key: &str) -> Vec<String> {
    match run.server().keys.get(key.as_bytes()).map(|e| &e.value) {
        Some(Value::List(l)) => l.iter().map(|e| String::from_utf8_lossy(e).into_owned()).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn replies_and_errors_are_redis_cli_s_text() {
    let mut run = tutorial("job-queue-brpop-and-blmove");
    at(&mut run, 2_500);
    assert_eq!(list(&run, "jobs"), ["job-3", "job-2"]);
    assert_eq!(typed(&mut run, "LLEN jobs"), "(integer) 2\n");
    assert_eq!(typed(&mut run, "LPUSH jobs 'by hand'"), "(integer) 3\n");
    assert_eq!(typed(&mut run, "LRANGE jobs 0 -1"), "1) \"by hand\"\n2) \"job-3\"\n3) \"job-2\"\n");
    assert_eq!(typed(&mut run, "lpush"), "(error) ERR wrong number of arguments for 'lpush' command\n");
    assert_eq!(
        typed(&mut run, "XADD jobs * f v"),
        "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n"
    );
    assert_eq!(
        typed(&mut run, "FOO bar"),
        "(error) ERR unknown command 'FOO', with args beginning with: 'bar' \n"
    );
    assert_eq!(typed(&mut run, "GET nothing"), "(nil)\n");
    assert_eq!(typed(&mut run, "TYPE jobs"), "list\n");
    assert_eq!(typed(&mut run, "LRANGE nothing 0 -1"), "(empty array)\n");
    // redis-cli refuses an unbalanced quote itself: nothing is sent, nothing recorded.
    let lines = run.hand_lines().len();
    assert_eq!(run.hand_command("LPUSH jobs \"open"), Err("Invalid argument(s)".to_string()));
    assert_eq!(run.hand_command("   "), Err(String::new()));
    assert_eq!(run.hand_lines().len(), lines);
    // Every command sent is in the event log as the console's.
    let typed_events =
        run.events().iter().filter(|(_, e)| matches!(e, RedisEvent::Typed { by, .. } if by == HAND)).count();
    assert_eq!(typed_events, 9);
    assert!(run.events().iter().any(|(_, e)| e.to_string() == "you> LPUSH jobs 'by hand' -> (integer) 3"));
    // The run goes on and its checks are decided on what happened, the hand's element included.
    to_end(&mut run);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

#[test]
fn a_push_by_hand_serves_a_blocked_worker_at_once() {
    let mut run = tutorial("reliable-queue-with-a-reaper");
    // At 0.5 s worker-b waits in BLMOVE on the empty list jobs.
    at(&mut run, 500);
    assert_eq!(typed(&mut run, "RPUSH jobs urgent"), "(integer) 1\n");
    let took = run.events().iter().rev().find_map(|(t, e)| match e {
        RedisEvent::Took { worker, body, .. } => Some((t.as_millis(), worker.clone(), body.clone())),
        _ => None,
    });
    assert_eq!(took, Some((500, "worker-b".to_string(), "urgent".to_string())));
    assert_eq!(list(&run, "jobs"), Vec::<String>::new());
    assert_eq!(list(&run, "jobs:processing:worker-b"), ["urgent"]);
    // Taken off a list by hand: the run's ledger follows, and nothing breaks.
    at(&mut run, 2_500);
    assert_eq!(typed(&mut run, "RPOP jobs"), "\"job-2\"\n");
    to_end(&mut run);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

#[test]
fn a_blocking_command_by_hand_waits_on_the_run_s_clock() {
    let mut run = tutorial("reliable-queue-with-a-reaper");
    at(&mut run, 500);
    // Nothing in `extra`: BLPOP waits; the console cannot send another command meanwhile.
    assert_eq!(run.hand_command("BLPOP extra 2").unwrap(), None);
    assert_eq!(run.hand_waiting(), Some(("BLPOP extra 2", VirtualTime::from_millis(500))));
    let refused = run.hand_command("PING").unwrap_err();
    assert!(refused.contains("waits in BLPOP extra 2 since 0.500 s"), "{refused}");
    // Its timeout ends at 2.5 s: redis-cli prints (nil).
    at(&mut run, 2_400);
    assert!(run.hand_waiting().is_some());
    at(&mut run, 2_500);
    assert_eq!(run.hand_waiting(), None);
    let (t, last) = run.hand_lines().last().unwrap().clone();
    assert_eq!(t.as_millis(), 2_500);
    assert_eq!(
        last,
        HandLine::Unblocked { command: "BLPOP extra 2".into(), waited_ms: 2_000, text: "(nil)\n".into() }
    );
    // Served: behind worker-b (blocked first, served first), the console's BLPOP gets the second push.
    let mut run = tutorial("reliable-queue-with-a-reaper");
    at(&mut run, 500);
    assert_eq!(run.hand_command("BLPOP jobs 0").unwrap(), None);
    at(&mut run, 1_000);
    assert!(run.hand_waiting().is_some(), "job-2 went to worker-b, blocked before the console");
    at(&mut run, 2_000);
    assert_eq!(run.hand_waiting(), None);
    let (_, last) = run.hand_lines().last().unwrap().clone();
    assert_eq!(
        last,
        HandLine::Unblocked {
            command: "BLPOP jobs 0".into(),
            waited_ms: 1_500,
            text: "1) \"jobs\"\n2) \"job-3\"\n".into()
        }
    );
    to_end(&mut run);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

#[test]
fn xreadgroup_by_hand_makes_entries_pending_for_the_console_s_consumer() {
    let mut run = tutorial("streams-consumer-groups-and-xautoclaim");
    at(&mut run, 1_500);
    assert_eq!(typed(&mut run, "XLEN orders"), "(integer) 1\n");
    // alice took the first order at 1 s; an order added by hand goes to the console's consumer `me`.
    assert_eq!(typed(&mut run, "XADD orders 1700000001200-0 item by-hand"), "\"1700000001200-0\"\n");
    // (alice and bob block in XREADGROUP … BLOCK 0: the XADD served one of them at once.)
    let out = typed(&mut run, "XREADGROUP GROUP shipping me COUNT 1 STREAMS orders >");
    assert_eq!(out, "(nil)\n", "the entry added by hand was delivered to a blocked worker already");
    assert_eq!(
        typed(&mut run, "XREADGROUP GROUP shipping me COUNT 1 STREAMS orders 0"),
        "1) 1) \"orders\"\n   2) (empty array)\n"
    );
    at(&mut run, 2_000);
    let out = typed(&mut run, "XREADGROUP GROUP nosuch me STREAMS orders >");
    assert_eq!(
        out,
        "(error) NOGROUP No such key 'orders' or consumer group 'nosuch' in XREADGROUP with GROUP option\n"
    );
    // The shop adds at 2 s; bob and alice are busy: the console's consumer reads it.
    at(&mut run, 2_100);
    let out = typed(&mut run, "XREADGROUP GROUP shipping me COUNT 1 STREAMS orders >");
    assert!(out.starts_with("1) 1) \"orders\"\n   2) 1) 1) \"1700000002000-0\"\n"), "{out}");
    let pending = typed(&mut run, "XPENDING orders shipping - + 10 me");
    assert_eq!(pending, "1) 1) \"1700000002000-0\"\n   2) \"me\"\n   3) (integer) 0\n   4) (integer) 1\n");
    // Acknowledged by hand.
    assert_eq!(typed(&mut run, "XACK orders shipping 1700000002000-0"), "(integer) 1\n");
    to_end(&mut run);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

#[test]
fn subscribe_and_publish_by_hand() {
    let mut run = tutorial("pubsub-fire-and-forget");
    at(&mut run, 1_200);
    let out = typed(&mut run, "SUBSCRIBE scores.football");
    assert_eq!(
        out,
        format!("{READING_MESSAGES}\n1) \"subscribe\"\n2) \"scores.football\"\n3) (integer) 1\n")
    );
    // redis-cli 7.0 now only reads messages: a line typed is not sent.
    let refused = run.hand_command("GET x").unwrap_err();
    assert!(refused.contains("reads messages until Ctrl-C"), "{refused}");
    assert!(run.hand_reading());
    at(&mut run, 1_500);
    let (t, last) = run.hand_lines().last().unwrap().clone();
    assert_eq!(t.as_millis(), 1_500);
    assert_eq!(
        last,
        HandLine::Received { text: "1) \"message\"\n2) \"scores.football\"\n3) \"goal-2\"\n".into() }
    );
    // A PUBLISH by hand (on a fresh run): subscribers get it and its reply counts them; those away miss it.
    let mut run = tutorial("pubsub-fire-and-forget");
    at(&mut run, 1_200);
    assert_eq!(typed(&mut run, "PUBLISH scores.football hello"), "(integer) 2\n");
    let got: Vec<String> =
        run.events().iter().filter(|(t, _)| t.as_millis() == 1_200).map(|(_, e)| e.to_string()).collect();
    assert_eq!(
        got,
        [
            "you> PUBLISH scores.football hello -> (integer) 2",
            "dashboard <- message scores.football hello",
            "archiver <- pmessage scores.* scores.football hello",
            "mobile missed scores.football hello (not subscribed when it was published: nothing is kept)",
        ]
    );
    to_end(&mut run);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

#[test]
fn the_same_lines_at_the_same_instants_replay_the_same_run() {
    let play = || {
        let mut run = tutorial("streams-consumer-groups-and-xautoclaim");
        for (ms, line) in [
            (1_500, "XADD orders * item extra"),
            (2_100, "XREADGROUP GROUP shipping me COUNT 2 STREAMS orders >"),
            (9_000, "XAUTOCLAIM orders shipping me 0 0-0"),
            (9_000, "DEL orders"),
        ] {
            at(&mut run, ms);
            let _ = run.hand_command(line);
        }
        to_end(&mut run);
        (run.transcript(), run.hand_lines().to_vec())
    };
    let (a, lines_a) = play();
    let (b, lines_b) = play();
    assert_eq!(a, b);
    assert_eq!(lines_a, lines_b);
    assert!(a.contains("you> DEL orders -> (integer) 1"), "{a}");
}

#[test]
fn ctrl_c_leaves_the_subscription_and_a_wait_on_a_new_connection() {
    let mut run = tutorial("pubsub-fire-and-forget");
    at(&mut run, 1_200);
    typed(&mut run, "SUBSCRIBE scores.football");
    at(&mut run, 2_500);
    // Reading messages for 1.3 s: redis-cli prints the time, and the subscription is gone with the old
    // connection (the next message reaches the two subscribers of the document only).
    assert_eq!(typed(&mut run, CTRL_C), "^C\n(1.30s)\n");
    assert!(!run.hand_reading());
    assert_eq!(typed(&mut run, "PUBLISH scores.football by-hand"), "(integer) 2\n");
    // In a blocking command redis-cli ends; its BLPOP is gone from the server with the connection.
    assert_eq!(run.hand_command("BLPOP nothing 0").unwrap(), None);
    assert_eq!(typed(&mut run, CTRL_C), "^C\n");
    assert_eq!(run.hand_waiting(), None);
    assert!(run.server().blocked.is_empty(), "{:?}", run.server().blocked);
    to_end(&mut run);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

fn typed_events(run: &RedisRun) -> Vec<String> {
    run.events()
        .iter()
        .filter(|(_, e)| matches!(e, RedisEvent::Typed { by, .. } if by == HAND))
        .map(|(_, e)| e.to_string())
        .collect()
}

/// `help`, `clear` and `restart` are redis-cli's own: printed on the console without the server (no
/// event, no change to the run), `help` after a repeat count too, once.
#[test]
fn help_clear_and_restart_are_answered_by_redis_cli_itself() {
    let mut run = tutorial("job-queue-brpop-and-blmove");
    at(&mut run, 2_500);
    let events = run.events().len();
    let keys = format!("{:?}", run.server().keys);
    assert_eq!(typed(&mut run, "help"), HELP_INTRO);
    assert!(HELP_INTRO.starts_with("redis-cli 7.0.15\n"), "{HELP_INTRO}");
    assert_eq!(typed(&mut run, "?"), HELP_INTRO);
    assert_eq!(typed(&mut run, "3 HELP"), HELP_INTRO, "a repeat count prints it once");
    assert_eq!(run.hand_command("0 help"), Err(BAD_REPEAT.to_string()));
    let llen =
        "\n  \x1b[1mLLEN\x1b[0m \x1b[90mkey\x1b[0m\n  \x1b[33msummary:\x1b[0m Get the length of a list\n  \
                \x1b[33msince:\x1b[0m 1.0.0\n  \x1b[33mgroup:\x1b[0m list\n\n";
    assert_eq!(typed(&mut run, "help llen"), llen);
    assert_eq!(typed(&mut run, "? LLen"), llen);
    // A group lists its entries without their group; a container lists its subcommands too.
    let list = typed(&mut run, "help @LIST");
    assert!(list.contains("\n  \x1b[1mLLEN\x1b[0m \x1b[90mkey\x1b[0m\n  \x1b[33msummary:\x1b[0m Get the length of a list\n  \x1b[33msince:\x1b[0m 1.0.0\n\n"), "{list}");
    assert!(!list.contains("group:") && !list.contains("XADD"), "{list}");
    let xinfo = typed(&mut run, "help xinfo");
    for name in ["XINFO", "XINFO CONSUMERS", "XINFO GROUPS", "XINFO STREAM"] {
        assert!(xinfo.contains(&format!("\x1b[1m{name}\x1b[0m")), "{name}: {xinfo}");
    }
    // Nothing found: redis-cli's blank line only.
    for topic in ["help nosuch", "help @li", "help llen jobs", "help ?"] {
        assert_eq!(typed(&mut run, topic), "\n", "{topic}");
    }
    assert_eq!(typed(&mut run, "restart"), format!("{RESTART}\n"));
    assert_eq!(typed(&mut run, "clear"), CLEAR_SCREEN);
    assert_eq!(run.hand_lines().last().map(|(_, l)| l.clone()), Some(HandLine::Cleared));
    // `clear` with words, or after a count, is a command for the server.
    assert_eq!(
        typed(&mut run, "clear x"),
        "(error) ERR unknown command 'clear', with args beginning with: 'x' \n"
    );
    assert_eq!(
        typed_events(&run),
        ["you> clear x -> (error) ERR unknown command 'clear', with args beginning with: 'x'"]
    );
    assert_eq!(run.events().len(), events + 1, "redis-cli's own lines are not the server's events");
    assert_eq!(format!("{:?}", run.server().keys), keys);
    to_end(&mut run);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

/// Every command the engine implements has redis-cli's help entry (recorded from the real redis-cli by
/// scripts/redis-cli-help.py), with its group line.
#[test]
fn help_knows_every_command_the_engine_implements() {
    let commands = "PING ECHO FLUSHALL DBSIZE DEL EXISTS TYPE TTL PTTL PERSIST GET LLEN XLEN KEYS SCAN EXPIRE \
        PEXPIRE SET LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LRANGE LREM LTRIM LSET LINDEX LPOS LMOVE RPOPLPUSH BLPOP \
        BRPOP BLMOVE BRPOPLPUSH XADD XRANGE XREVRANGE XDEL XTRIM XGROUP XREADGROUP XREAD XACK XCLAIM XAUTOCLAIM \
        XINFO XSETID XPENDING SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE PUBLISH \
        SPUBLISH PUBSUB MULTI EXEC DISCARD UNWATCH WATCH CONFIG DEBUG SAVE LASTSAVE BGREWRITEAOF BGSAVE";
    for name in commands.split_whitespace() {
        let text = help(&[name.to_lowercase().into_bytes()]);
        assert!(text.starts_with(&format!("\n  \x1b[1m{name}\x1b[0m \x1b[90m")), "{name}: {text:?}");
        assert!(text.contains("\x1b[33mgroup:\x1b[0m "), "{name}: {text:?}");
    }
}

/// `quit` and `exit` end redis-cli as Ctrl-C at its prompt does: the connection closes (its transaction
/// with it) and the next command opens a new one. Not while redis-cli waits or reads messages: it does
/// not read the line then.
#[test]
fn quit_and_exit_close_the_console_s_connection() {
    let mut run = tutorial("job-queue-brpop-and-blmove");
    at(&mut run, 500);
    assert_eq!(typed(&mut run, "MULTI"), "OK\n");
    assert_eq!(typed(&mut run, "RPUSH extra a"), "QUEUED\n");
    assert!(run.hand_in_transaction());
    assert_eq!(typed(&mut run, "quit"), "");
    assert!(!run.hand_in_transaction(), "the transaction is gone with the connection");
    assert_eq!(typed(&mut run, "EXEC"), "(error) ERR EXEC without MULTI\n");
    assert_eq!(list(&run, "extra"), Vec::<String>::new());
    assert_eq!(typed(&mut run, "WATCH extra"), "OK\n");
    assert_eq!(typed(&mut run, "EXIT now"), "", "words after it change nothing");
    assert_eq!(
        typed_events(&run)[2..],
        [
            "you> quit -> (connection closed)",
            "you> EXEC -> (error) ERR EXEC without MULTI",
            "you> WATCH extra -> OK",
            "you> EXIT now -> (connection closed)"
        ]
    );
    // After a repeat count it is a command for the server (which this model does not know).
    assert!(typed(&mut run, "2 exit").starts_with("(error) ERR unknown command 'exit'"));
    // Waiting in a blocking command, redis-cli reads no line: only Ctrl-C ends it.
    assert_eq!(run.hand_command("BLPOP nothing 0").unwrap(), None);
    assert!(run.hand_command("quit").is_err());
    assert!(run.hand_waiting().is_some());
    typed(&mut run, CTRL_C);
    typed(&mut run, "SUBSCRIBE news");
    assert!(run.hand_command("exit").is_err());
    assert!(run.hand_reading());
    to_end(&mut run);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

#[test]
fn a_repeated_line_sends_its_command_that_many_times_and_waits_between_them() {
    let mut run = tutorial("reliable-queue-with-a-reaper");
    at(&mut run, 500);
    assert_eq!(typed(&mut run, "3 RPUSH extra x"), "(integer) 1\n(integer) 2\n(integer) 3\n");
    assert_eq!(run.hand_command("0 LLEN extra").unwrap_err(), BAD_REPEAT);
    // Two BLPOPs on an empty list, 1 s each: the first times out at 1.5 s, then the second is sent and
    // times out at 2.5 s; redis-cli times the whole line (2 s).
    assert_eq!(run.hand_command("2 BLPOP extra2 1").unwrap(), None);
    at(&mut run, 1_000);
    assert!(run.hand_waiting().is_some());
    at(&mut run, 1_500);
    let lines: Vec<HandLine> = run.hand_lines().iter().rev().take(2).map(|(_, l)| l.clone()).collect();
    assert_eq!(
        lines,
        [
            HandLine::Blocked { command: "2 BLPOP extra2 1".into() },
            HandLine::Output { text: "(nil)\n".into() }
        ],
        "the first reply, then the second repetition waits"
    );
    at(&mut run, 2_500);
    assert_eq!(run.hand_waiting(), None);
    assert_eq!(
        run.hand_lines().last().unwrap().1,
        HandLine::Unblocked { command: "2 BLPOP extra2 1".into(), waited_ms: 2_000, text: "(nil)\n".into() }
    );
    to_end(&mut run);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}

/// The lines the streams tutorial's description asks the reader to type on the console, at 4.2 s: the
/// shop has added four orders (1–4 s); alice holds the third and bob the second, unacknowledged; the
/// group audit has read nothing yet. Each reply is what its description says it shows.
#[test]
fn the_streams_tutorial_s_console_lines_show_what_its_description_says() {
    let mut run = tutorial("streams-and-consumer-groups");
    at(&mut run, 4_200);
    // Reading leaves the stream as it was: four entries with the ids `*` gave them.
    assert_eq!(typed(&mut run, "XLEN orders"), "(integer) 4\n");
    assert_eq!(
        typed(&mut run, "XREVRANGE orders + - COUNT 1"),
        "1) 1) \"1700000004000-0\"\n   2) 1) \"item\"\n      2) \"book-4\"\n      3) \"qty\"\n      4) \"2\"\n"
    );
    let all = typed(&mut run, "XRANGE orders - +");
    assert!(all.starts_with("1) 1) \"1700000001000-0\"\n   2) 1) \"item\"\n      2) \"book-1\"\n"), "{all}");
    assert!(all.contains("\n4) 1) \"1700000004000-0\"\n"), "{all}");
    let read = typed(&mut run, "XREAD COUNT 2 STREAMS orders 0");
    assert!(read.starts_with("1) 1) \"orders\"\n   2) 1) 1) \"1700000001000-0\"\n"), "{read}");
    assert!(
        read.contains("      2) 1) \"1700000002000-0\"\n") && !read.contains("1700000003000-0"),
        "{read}"
    );
    // The PEL: one order each, bob's idle since 2 s and alice's since 3 s.
    assert_eq!(
        typed(&mut run, "XPENDING orders shipping"),
        "1) (integer) 2\n2) \"1700000002000-0\"\n3) \"1700000003000-0\"\n4) 1) 1) \"alice\"\n      2) \"1\"\n   2) 1) \"bob\"\n      2) \"1\"\n"
    );
    assert_eq!(
        typed(&mut run, "XPENDING orders shipping - + 10"),
        "1) 1) \"1700000002000-0\"\n   2) \"bob\"\n   3) (integer) 2200\n   4) (integer) 1\n\
         2) 1) \"1700000003000-0\"\n   2) \"alice\"\n   3) (integer) 1200\n   4) (integer) 1\n"
    );
    // shipping has read three of the four orders (lag 1: the fourth waits for a free consumer); audit
    // has read none, so its lag is every order added.
    let groups = typed(&mut run, "XINFO GROUPS orders");
    assert!(groups.starts_with("1)  1) \"name\"\n    2) \"audit\"\n"), "{groups}");
    assert!(
        groups.contains("    9) \"entries-read\"\n   10) (nil)\n   11) \"lag\"\n   12) (integer) 4\n2)"),
        "{groups}"
    );
    assert!(
        groups.ends_with("    9) \"entries-read\"\n   10) (integer) 3\n   11) \"lag\"\n   12) (integer) 1\n"),
        "{groups}"
    );
    // bob's own history: the order he holds, and nothing of alice's.
    assert_eq!(
        typed(&mut run, "XREADGROUP GROUP shipping bob STREAMS orders 0"),
        "1) 1) \"orders\"\n   2) 1) 1) \"1700000002000-0\"\n         2) 1) \"item\"\n            2) \"book-2\"\n            \
         3) \"qty\"\n            4) \"3\"\n"
    );
    // XREAD BLOCK on `$` waits for the next order, added at 5 s.
    assert_eq!(typed(&mut run, "XREAD BLOCK 0 STREAMS orders $"), "(blocked)");
    at(&mut run, 5_000);
    let (t, last) = run.hand_lines().last().unwrap().clone();
    assert_eq!(t.as_millis(), 5_000);
    let HandLine::Unblocked { waited_ms, text, .. } = last else { panic!("{last:?}") };
    assert_eq!(waited_ms, 800);
    assert!(text.starts_with("1) 1) \"orders\"\n   2) 1) 1) \"1700000005000-0\"\n"), "{text}");
    at(&mut run, 6_000);
    // ledger read the five orders at 5.5 s and acknowledged them: audit's lag is 0 again.
    let groups = typed(&mut run, "XINFO GROUPS orders");
    assert!(groups.contains("    2) \"audit\"\n"), "{groups}");
    assert!(
        groups
            .contains("    9) \"entries-read\"\n   10) (integer) 6\n   11) \"lag\"\n   12) (integer) 0\n2)"),
        "{groups}"
    );
    to_end(&mut run);
    assert!(run.stopped().is_none(), "{:?}", run.stopped());
}
