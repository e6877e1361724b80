//! Format 1's limits: nesting is refused before the parser's recursion can overflow the stack, and the
//! statement count is bounded; each refusal is located.

use broker_core::scenario::syntax::MAX_STATEMENTS;
use broker_core::scenario::Scenario;

fn nested(open: &str, close: &str, depth: usize) -> String {
    format!(
        "brokerlab-scenario 1\nconn = connect(\"c\")\nch = conn.channel()\nx = {}1{}\n",
        open.repeat(depth),
        close.repeat(depth)
    )
}

/// 100,000 nested brackets used to overflow the parser's stack (a crash, not an error); on a thread with
/// an ordinary stack they are now an error at the bracket past the limit.
#[test]
// A thread of its own only to give the parser a small stack (256 KiB); the engine stays single-threaded.
#[allow(clippy::disallowed_methods)]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let cases = [
        (nested("[", "]", 100_000), "4:105: brackets nest more than 100 levels deep"),
        (nested("{1: ", "}", 100_000), "4:405: brackets nest more than 100 levels deep"),
        (
            format!(
                "brokerlab-scenario 1\nconn = connect(\"c\")\nch = conn.channel()\nx = ch{}\n",
                ".a".repeat(100_000)
            ),
            "4:205: this expression nests more than 100 levels deep",
        ),
        (
            format!(
                "brokerlab-scenario 1\nconn = connect(\"c\")\nch = conn.channel()\nx = ch.close{}\n",
                "()".repeat(100_000)
            ),
            "4:209: this expression nests more than 100 levels deep",
        ),
    ];
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            cases
                .iter()
                .map(|(text, expected)| {
                    let e = Scenario::parse(text).expect_err("too deep");
                    (e.to_string(), *expected)
                })
                .collect::<Vec<_>>()
        })
        .expect("a thread");
    for (got, expected) in worker.join().expect("no stack overflow") {
        assert!(got.starts_with(expected), "{got}");
    }
}

#[test]
fn too_many_statements_are_refused_with_their_position() {
    let mut text = String::from("brokerlab-scenario 1\n");
    for _ in 0..=MAX_STATEMENTS {
        text.push_str("wait 1ms\n");
    }
    let e = Scenario::parse(&text).expect_err("one statement too many");
    assert_eq!(e.pos.line as usize, MAX_STATEMENTS + 2, "{e}");
    assert!(e.message.contains("at most 100000 statements"), "{e}");
}
