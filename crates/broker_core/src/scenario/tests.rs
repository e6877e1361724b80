//! Tests of the scenario parser and checker: what parses, and where malformed input is reported.

use super::{Scenario, ScenarioError};

fn parse(body: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(&format!("brokerlab-scenario 1\n{body}"))
}

/// The `line:col: message` of a malformed scenario (the header is line 1).
fn error(body: &str) -> String {
    match parse(body) {
        Ok(_) => panic!("expected an error for:\n{body}"),
        Err(e) => e.to_string(),
    }
}

const HELLO: &str = r#"
# RabbitMQ tutorial 1
seed 42
conn = connect("c1")
ch = conn.channel()
ch.queue_declare(queue="hello")
ch.basic_publish(exchange="", routing_key="hello", body="Hello World!")
ch.basic_consume(queue="hello", auto_ack=True)
wait 1s
at 5.5s ch.basic_ack(delivery_tag=1)
conn.close()
"#;

#[test]
fn the_tutorial_shape_parses_with_its_seed() {
    let s = parse(HELLO).expect("well-formed");
    assert_eq!(s.seed, 42);
    assert_eq!(s.version, 1);
    assert_eq!(s.statements.len(), 9);
}

#[test]
fn the_header_is_required_and_versioned() {
    assert_eq!(
        Scenario::parse("seed 1\n").unwrap_err().to_string(),
        "1:1: the first line must declare the format version: `brokerlab-scenario 1`"
    );
    assert_eq!(
        Scenario::parse("brokerlab-scenario 7\n").unwrap_err().to_string(),
        "1:20: unsupported format version 7: this runner reads version 1"
    );
    assert_eq!(
        Scenario::parse("brokerlab-scenario one\n").unwrap_err().to_string(),
        "1:20: expected a format version number, found 'one'"
    );
    assert!(Scenario::parse("brokerlab-scenario 1 # a comment\n").is_ok());
    assert!(Scenario::parse("brokerlab-scenario 1").is_ok());
}

#[test]
fn syntax_errors_point_at_line_and_column() {
    assert_eq!(error("ch = connect(\"c\"\n"), "2:13: '(' is never closed");
    assert_eq!(error("c = connect(\"c1)\n"), "2:13: unterminated string: close it on the same line");
    assert_eq!(error("c = connect(\"c1\"))\n"), "2:18: unmatched ')'");
    assert_eq!(error("c = connect(\"c1\") extra\n"), "2:19: expected the end of the line, found 'extra'");
    assert_eq!(error("c = connect(name=\"a\" \"b\")\n"), "2:22: expected ',' or ')', found a string");
    assert_eq!(error("c = @\n"), "2:5: unexpected character '@'");
    assert_eq!(error("x = \"a\\qb\"\n"), "2:7: unknown escape '\\q' in a string");
}

#[test]
fn times_need_units_and_whole_milliseconds() {
    assert_eq!(error("wait 5\n"), "2:6: a time needs a unit: 200ms or 1.5s");
    assert_eq!(error("wait 1.5ms\n"), "2:6: virtual time counts whole milliseconds");
    assert_eq!(error("wait 1.2345s\n"), "2:6: virtual time counts whole milliseconds: at most 3 decimals");
    assert_eq!(error("wait 3h\n"), "2:6: unknown time unit 'h': use ms or s");
    assert_eq!(error("wait\n"), "2:5: expected a time after `wait`, like `wait 200ms` or `wait 1.5s`");
    assert_eq!(
        error("wait 2s\nc = connect()\nat 1s c.close()\n"),
        "4:1: `at 1.000s` is earlier than the current time 2.000s: time only moves forward"
    );
    assert!(parse("wait 200ms\nwait 1.5s\nat 1.7s c = connect()\n").is_ok());
}

#[test]
fn names_are_checked_before_anything_runs() {
    assert_eq!(error("ch.queue_declare(queue=\"q\")\n"), "2:1: unknown variable 'ch'");
    assert_eq!(
        error("c = connect()\nch = c.channel()\nch.queue_declar(queue=\"q\")\n").lines().next().unwrap()
            [..45]
            .to_string(),
        "4:1: a channel has no method 'queue_declar'; "
    );
    assert_eq!(
        error("c = connect()\nch = c.channel()\nch.queue_declare(queue=\"q\", durabel=True)\n"),
        "4:29: queue_declare has no argument 'durabel'; it takes queue, passive, durable, exclusive, auto_delete, arguments"
    );
    assert_eq!(
        error("c = connect()\nch = c.channel()\nch.queue_bind(queue=\"q\")\n"),
        "4:1: queue_bind needs 'exchange'"
    );
    assert_eq!(
        error("c = connect()\nc.open()\n"),
        "3:1: a connection has no method 'open'; it has channel() and close()"
    );
    assert_eq!(error("seed 1\nwait 1s\nseed 2\n"), "4:1: the seed is set twice");
    assert_eq!(error("wait 1s\nseed 2\n"), "3:1: `seed` must come before the first step");
    assert_eq!(error("wait = 3\n"), "2:6: expected a time after `wait`, like `wait 200ms` or `wait 1.5s`");
    assert_eq!(error("True = 3\n"), "2:1: 'True' is reserved and cannot name a variable");
}

#[test]
fn literal_types_follow_pika() {
    let pre = "c = connect()\nch = c.channel()\n";
    assert_eq!(
        error(&format!("{pre}ch.queue_declare(queue=\"q\", durable=1)\n")),
        "4:37: 'durable' must be True or False, found an integer"
    );
    assert_eq!(
        error(&format!("{pre}ch.basic_publish(exchange=\"\", routing_key=\"q\", body=\"x\", properties=BasicProperties(expiration=1000))\n")),
        "4:96: 'expiration' must be a string, found an integer (AMQP's expiration is a string of milliseconds, e.g. \"1000\")"
    );
    assert_eq!(
        error(&format!("{pre}ch.basic_qos(prefetch_count=70000)\n")),
        "4:29: 'prefetch_count' must be between 0 and 65535, found 70000"
    );
    assert_eq!(
        error(&format!("{pre}ch.queue_declare(queue=\"q\", arguments={{1: 2}})\n")),
        "4:40: dict keys are strings, found an integer"
    );
    assert!(
        error(&format!("{pre}ch.basic_consume(queue=\"q\", on_message_callback=cb)\n"))
            .starts_with("4:29: scenario format 1 has no callbacks: leave out on_message_callback"),
        "the callback keyword is explained"
    );
    assert_eq!(
        error(&format!("{pre}ch.queue_declare(\"q\", queue=\"r\")\n")),
        "4:23: argument 'queue' given twice"
    );
    assert_eq!(
        error(&format!("{pre}x = ch.basic_publish(exchange=\"\", routing_key=\"q\", body=None)\n")),
        "4:57: 'body' must be a string or bytes, found None"
    );
}

#[test]
fn values_python_style_and_pika_constants_are_accepted() {
    let ok = parse(
        r#"c = connect("c1")
ch = c.channel()
ch.exchange_declare("logs", ExchangeType.fanout)
ch.queue_declare(queue="q", durable=True, arguments={
    "x-message-ttl": 1_000,          # continuation inside brackets
    "x-dead-letter-exchange": 'dlx',
    "x-list": [1, -2, 3.5, True, None, {"k": b"v\x00"}],
})
props = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent, headers={"h": "v"}, expiration="1000")
ch.basic_publish("", "q", b"raw\xff", props, True)
r = ch.queue_declare(queue="", exclusive=True)
queue_name = r.method.queue
ch.queue_bind(exchange="logs", queue=queue_name)
method, properties, body = ch.basic_get(queue=queue_name)
ch.basic_ack(delivery_tag=method.delivery_tag)
ch.basic_publish(exchange="", routing_key=properties.reply_to, properties=BasicProperties(correlation_id=properties.correlation_id), body="4")
tag = ch.basic_consume(queue="q")
ch.basic_cancel(tag)
"#,
    );
    if let Err(e) = ok {
        panic!("should parse: {e}");
    }
}

#[test]
fn unpacking_is_only_for_basic_get() {
    let pre = "c = connect()\nch = c.channel()\n";
    assert_eq!(
        error(&format!("{pre}a, b = ch.queue_declare(queue=\"q\")\n")),
        "4:4: only `method, properties, body = ch.basic_get(…)` unpacks"
    );
    assert_eq!(
        error(&format!("{pre}ch.basic_get(queue=\"q\").body\n")),
        "4:1: a connection or channel method is a step of its own: write it on its own line"
    );
    assert_eq!(error("x = foo(1)\n"), "2:5: unknown variable 'foo'");
    assert_eq!(error("x = 1\ny = x(1)\n"), "3:5: only BasicProperties(…) and typed values such as int8(…) or Decimal(…) can be called inside a value");
}

#[test]
fn columns_count_characters_not_bytes() {
    // "é" is two bytes in UTF-8; the error column must still be the character column.
    assert_eq!(error("x = \"é\" @\n"), "2:9: unexpected character '@'");
}

#[test]
fn located_errors_carry_the_file_name() {
    let e = parse("c = ?\n").unwrap_err();
    assert_eq!(e.located("s/scenario.txt"), "s/scenario.txt:2:5: unexpected character '?'");
}

fn run_text(body: &str) -> super::Report {
    super::run(
        &parse(body).expect("well-formed"),
        &super::RunOptions { check_invariants: true, ..Default::default() },
    )
}

#[test]
fn a_value_from_a_failed_step_stops_the_run_where_it_is_used() {
    let report = run_text(
        "c = connect()\nch = c.channel()\nr = ch.queue_declare(queue=\"nope\", passive=True)\nname = r.method.queue\nch = c.channel()\n",
    );
    let stop = report.stopped.clone().expect("the run stops");
    assert_eq!((stop.pos.line, stop.pos.col), (5, 8));
    assert_eq!(
        stop.message,
        "no 'method': the step at line 4 failed with 404 NOT_FOUND - no queue 'nope' in vhost '/'"
    );
    assert_eq!(report.steps.len(), 3, "the statement after the stop never ran");
    assert!(report.transcript(&super::EventFilter::default()).contains("stopped at 5:8: no 'method'"));
}

#[test]
fn an_empty_basic_get_binds_none_like_pika() {
    let report = run_text(
        "c = connect()\nch = c.channel()\nch.queue_declare(queue=\"q\")\nmethod, props, body = ch.basic_get(queue=\"q\")\nch.basic_ack(delivery_tag=method.delivery_tag)\n",
    );
    let stop = report.stopped.clone().expect("the run stops");
    assert_eq!(stop.pos.line, 6);
    assert!(stop.message.starts_with("None has no attribute 'delivery_tag'"), "{}", stop.message);
}

#[test]
fn channel_numbers_follow_pika_lowest_free_first() {
    let report = run_text(
        "c = connect()\na = c.channel()\nb = c.channel()\na.close()\nd = c.channel()\ne = c.channel()\nx = c.channel(channel_number=9)\n",
    );
    let numbers: Vec<u16> = report
        .steps
        .iter()
        .filter(|s| s.source.contains("channel("))
        .filter_map(|s| s.channel.map(|c| c.0))
        .collect();
    assert_eq!(numbers, [1, 2, 1, 3, 9]);
}

#[test]
fn the_default_filter_shows_deliveries_but_not_basic_get_twice() {
    let report = run_text(
        "c = connect()\nch = c.channel()\nch.queue_declare(queue=\"q\")\nch.basic_publish(exchange=\"\", routing_key=\"q\", body=\"x\")\nch.basic_get(queue=\"q\", auto_ack=True)\n",
    );
    let transcript = report.transcript(&super::EventFilter::default());
    assert_eq!(transcript.matches("redelivered=").count(), 1, "{transcript}");
    let all = report.transcript(&super::EventFilter::All);
    assert!(all.contains("get m1 from queue 'q'"), "{all}");
    assert!(all.contains("publish m1 on conn1/1"), "{all}");
}

#[test]
fn pika_defaults_reach_the_broker() {
    // queue_bind without a routing key binds with the queue's name (pika), so a direct publish with
    // that key arrives; basic_recover defaults to requeue=False in pika.
    let report = run_text(
        "c = connect()\nch = c.channel()\nch.queue_declare(queue=\"q\")\nch.queue_bind(queue=\"q\", exchange=\"amq.direct\")\n",
    );
    let bind = report.steps.last().expect("the bind step");
    assert_eq!(
        bind.method,
        Some(crate::amqp::Method::QueueBind {
            queue: "q".into(),
            exchange: "amq.direct".into(),
            routing_key: "q".into(),
            arguments: Default::default()
        })
    );
}
