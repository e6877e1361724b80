//! Bad input never panics the Redis model: seeded runs of commands from its whole vocabulary with
//! arguments drawn from edge values (huge and negative numbers, malformed ids, options in the wrong
//! place), on several clients with time advancing, the engine's invariants checked after every step;
//! and malformed program lines are refused with `file:line:col`.

use broker_core::redis::program;
use broker_core::redis::server::{Outcome, Redis};
use broker_core::Prng;

const COMMANDS: &[&str] = &[
    "PING",
    "ECHO",
    "DEL",
    "EXISTS",
    "TYPE",
    "KEYS",
    "EXPIRE",
    "PEXPIRE",
    "TTL",
    "PTTL",
    "PERSIST",
    "SET",
    "GET",
    "LPUSH",
    "RPUSH",
    "LPUSHX",
    "LPOP",
    "RPOP",
    "LLEN",
    "LRANGE",
    "LINDEX",
    "LSET",
    "LREM",
    "LPOS",
    "LTRIM",
    "LMOVE",
    "RPOPLPUSH",
    "BLPOP",
    "BRPOP",
    "BLMOVE",
    "BRPOPLPUSH",
    "XADD",
    "XLEN",
    "XRANGE",
    "XREVRANGE",
    "XDEL",
    "XTRIM",
    "XGROUP",
    "XREADGROUP",
    "XACK",
    "XPENDING",
    "XREAD",
    "XCLAIM",
    "XAUTOCLAIM",
    "XINFO",
    "XSETID",
    "MULTI",
    "EXEC",
    "DISCARD",
    "WATCH",
    "UNWATCH",
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "UNSUBSCRIBE",
    "PUNSUBSCRIBE",
    "PUBLISH",
    "FLUSHALL",
    "DBSIZE",
    "NOPE",
];
const WORDS: &[&str] = &[
    "k",
    "l",
    "s",
    "g",
    "c",
    "0",
    "1",
    "-1",
    "2",
    "100",
    "0.1",
    "-0.5",
    "x",
    "*",
    "$",
    ">",
    "-",
    "+",
    "(",
    "(1-1",
    "1-1",
    "1-*",
    "0-0",
    "18446744073709551615-18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "MAXLEN",
    "MINID",
    "~",
    "=",
    "LIMIT",
    "NOMKSTREAM",
    "COUNT",
    "RANK",
    "STREAMS",
    "GROUP",
    "NOACK",
    "IDLE",
    "BLOCK",
    "TIME",
    "RETRYCOUNT",
    "FORCE",
    "JUSTID",
    "LASTID",
    "STREAM",
    "GROUPS",
    "CONSUMERS",
    "ENTRIESADDED",
    "MAXDELETEDID",
    "CREATE",
    "SETID",
    "DESTROY",
    "CREATECONSUMER",
    "DELCONSUMER",
    "MKSTREAM",
    "ENTRIESREAD",
    "LEFT",
    "RIGHT",
    "NX",
    "XX",
    "GT",
    "LT",
    "[",
    "\\",
    "*[^a-",
    "",
];

#[test]
fn random_commands_never_panic_and_keep_the_invariants() {
    for seed in 0..30 {
        let mut rng = Prng::new(seed);
        let mut redis = Redis::new();
        for step in 0..600 {
            if rng.chance(1, 10) {
                redis.advance(rng.below(300));
            } else {
                let client = rng.below(4) as usize;
                if redis.is_blocked(client) {
                    // A blocked client sends nothing (redis-cli cannot, and the runner does not).
                    continue;
                }
                let mut argv = vec![rng.pick(COMMANDS).unwrap().as_bytes().to_vec()];
                for _ in 0..rng.below(9) {
                    argv.push(rng.pick(WORDS).unwrap().as_bytes().to_vec());
                }
                let (outcome, _) = redis.execute(client, &argv);
                if let Outcome::Blocked = outcome {
                    assert!(redis.is_blocked(client));
                }
                redis.take_pushes();
            }
            redis.check_invariants().unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}"));
        }
    }
}

#[test]
fn malformed_lines_are_refused_with_file_line_and_column() {
    let cases = [
        ("PING\nSET a 'b\n", "p.redis:2:7: Invalid argument(s)"),
        ("  ECHO \"x\"y\n", "p.redis:1:11: Invalid argument(s)"),
        ("sleep soon\n", "p.redis:1:1: expected `sleep SECONDS` (0 to 60 seconds)"),
        ("client\n", "p.redis:1:1: expected `client NAME`"),
    ];
    for (text, want) in cases {
        assert_eq!(program::parse(text).unwrap_err().located("p.redis"), want);
    }
    let mut garbage = Prng::new(7);
    for _ in 0..2000 {
        let bytes: Vec<u8> =
            (0..garbage.below(40)).map(|_| *garbage.pick(b"ab \"'\\x0\n#").unwrap()).collect();
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(p) = program::parse(&text) {
            program::run(&p);
        }
    }
}
