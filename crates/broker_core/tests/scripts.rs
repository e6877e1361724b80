//! The script host through its public API: each script function, decisions, state, RPC replies, limits,
//! error locations, determinism of `random`, the sandbox, and a small fuzz that must never panic.

use broker_core::amqp::types::{BasicProperties, FieldTable, FieldValue};
use broker_core::prng::Prng;
use broker_core::scenario::script::{
    Decision, ScriptError, ScriptHost, ScriptLimits, ScriptMessage, ScriptOutcome, ScriptPublish,
};

/// Test names carry `script` so `cargo test -p broker_core script` selects them all.
mod script_host {
    use super::*;

    fn host_with(name: &str, source: &str) -> ScriptHost {
        let mut host = ScriptHost::new(ScriptLimits::default(), 7);
        if let Err(e) = host.compile(name, source) {
            panic!("{e}");
        }
        host
    }

    fn message(seq: u64, body: &str) -> ScriptMessage {
        ScriptMessage {
            seq,
            body: body.to_string(),
            routing_key: "task_queue".to_string(),
            exchange: String::new(),
            delivery_tag: seq + 1,
            ..ScriptMessage::default()
        }
    }

    fn consume(host: &mut ScriptHost, script: &str, msg: &ScriptMessage) -> ScriptOutcome {
        host.on_message(script, "worker-1", 1_000, msg).unwrap_or_else(|e| panic!("{e}"))
    }

    fn call_error(source: &str, limits: ScriptLimits) -> ScriptError {
        let mut host = ScriptHost::new(limits, 1);
        host.compile("s", source).unwrap_or_else(|e| panic!("{e}"));
        match host.on_message("s", "a", 0, &message(0, "x")) {
            Ok(outcome) => panic!("expected an error, got {outcome:?}"),
            Err(e) => e,
        }
    }

    // --- decisions -------------------------------------------------------------------------------

    #[test]
    fn script_decisions_map_to_each_settlement() {
        let cases = [
            ("ack()", Decision::Ack),
            ("nack(false)", Decision::Nack { requeue: false }),
            ("nack(true)", Decision::Nack { requeue: true }),
            ("nack()", Decision::Nack { requeue: true }),
            ("reject(false)", Decision::Reject { requeue: false }),
            ("reject()", Decision::Reject { requeue: true }),
            ("crash()", Decision::Crash),
            ("cancel()", Decision::Cancel),
        ];
        for (call, expected) in cases {
            let mut host = host_with("d", &format!("fn on_message(msg) {{ {call}; }}"));
            let outcome = consume(&mut host, "d", &message(0, "x"));
            assert_eq!(outcome.decision, Some(expected), "{call}");
        }
    }

    #[test]
    fn script_without_a_decision_leaves_it_to_the_consumer() {
        let mut host = host_with("quiet", "fn on_message(msg) { let x = 1; }");
        assert_eq!(consume(&mut host, "quiet", &message(0, "x")).decision, None);
    }

    #[test]
    fn script_flaky_consumer_decides_by_sequence_number() {
        let mut host =
            host_with("flaky", "fn on_message(msg) { if msg.seq % 3 == 0 { nack(false) } else { ack() } }");
        let decisions: Vec<_> =
            (0..6).map(|seq| consume(&mut host, "flaky", &message(seq, "x")).decision).collect();
        let nack = Some(Decision::Nack { requeue: false });
        let ack = Some(Decision::Ack);
        assert_eq!(decisions, [nack, ack, ack, nack, ack, ack]);
    }

    #[test]
    fn script_settling_twice_is_an_error_at_the_second_call() {
        let e = call_error("fn on_message(msg) {\n  ack();\n  nack(false);\n}", ScriptLimits::default());
        assert_eq!((e.line, e.col), (3, 3), "{e}");
        assert!(e.message.contains("already decided ack()"), "{e}");
    }

    #[test]
    fn script_nack_with_a_non_boolean_says_what_it_wanted() {
        let e = call_error("fn on_message(msg) { nack(1) }", ScriptLimits::default());
        assert!(e.message.contains("requeue must be true or false"), "{e}");
        assert_eq!(e.line, 1);
    }

    // --- message fields --------------------------------------------------------------------------

    #[test]
    fn script_sees_every_message_field() {
        let mut headers = FieldTable::new();
        headers.insert("x-retries".to_string(), FieldValue::Int(2));
        headers.insert("tags".to_string(), FieldValue::Array(vec![FieldValue::Str("a".into())]));
        let msg = ScriptMessage {
            seq: 4,
            body: "hello".into(),
            routing_key: "rk".into(),
            exchange: "ex".into(),
            redelivered: true,
            headers,
            properties: BasicProperties {
                correlation_id: Some("c-1".into()),
                priority: Some(5),
                delivery_mode: Some(2),
                ..BasicProperties::default()
            },
            delivery_tag: 9,
        };
        let src = r#"fn on_message(msg) {
            log(`${msg.seq}|${msg.body}|${msg.routing_key}|${msg.exchange}|${msg.redelivered}|${msg.delivery_tag}`);
            log(`${msg.headers["x-retries"]}|${msg.headers.tags[0]}|${msg.persistent}`);
            log(`${msg.properties.correlation_id}|${msg.properties.priority}|${msg.properties.reply_to == ()}`);
        }"#;
        let mut host = host_with("fields", src);
        let outcome = consume(&mut host, "fields", &msg);
        assert_eq!(outcome.logs, ["4|hello|rk|ex|true|9", "2|a|true", "c-1|5|true"]);
    }

    // --- publish, reply, log, now, random, sleep -------------------------------------------------

    #[test]
    fn script_publish_records_exchange_key_body_and_options() {
        let src = r#"fn on_message(msg) {
            publish("logs", "info", "plain");
            publish("", "dlq", msg.body, #{ persistent: true, expiration: 1000, priority: 3,
                     correlation_id: "c9", reply_to: "amq.rabbitmq.reply-to",
                     headers: #{ "x-retries": 1, origin: "worker" } });
            publish("", "n", 42);
        }"#;
        let mut host = host_with("pub", src);
        let outcome = consume(&mut host, "pub", &message(0, "payload"));
        let mut headers = FieldTable::new();
        headers.insert("origin".to_string(), FieldValue::Str("worker".into()));
        headers.insert("x-retries".to_string(), FieldValue::Int(1));
        assert_eq!(
            outcome.publishes,
            [
                ScriptPublish {
                    exchange: "logs".into(),
                    routing_key: "info".into(),
                    body: "plain".into(),
                    properties: BasicProperties::default(),
                },
                ScriptPublish {
                    exchange: String::new(),
                    routing_key: "dlq".into(),
                    body: "payload".into(),
                    properties: BasicProperties {
                        headers,
                        delivery_mode: Some(2),
                        priority: Some(3),
                        correlation_id: Some("c9".into()),
                        reply_to: Some("amq.rabbitmq.reply-to".into()),
                        expiration: Some("1000".into()),
                        ..BasicProperties::default()
                    },
                },
                ScriptPublish {
                    exchange: String::new(),
                    routing_key: "n".into(),
                    body: "42".into(),
                    properties: BasicProperties::default(),
                },
            ]
        );
    }

    #[test]
    fn script_publish_refuses_unknown_options_and_bad_values() {
        for (options, expected) in [
            ("#{ persistant: true }", "unknown option 'persistant'"),
            ("#{ priority: 256 }", "priority must be an integer from 0 to 255"),
            ("#{ persistent: 1 }", "persistent must be true or false"),
            ("#{ persistent: true, delivery_mode: 2 }", "not both"),
            ("5", "options must be an object map"),
        ] {
            let e = call_error(
                &format!("fn on_message(msg) {{\n  publish(\"\", \"q\", \"b\", {options});\n}}"),
                ScriptLimits::default(),
            );
            assert!(e.message.contains(expected), "{options}: {e}");
            assert_eq!(e.line, 2, "{e}");
        }
    }

    #[test]
    fn script_rpc_reply_goes_to_reply_to_with_the_correlation_id() {
        let src = "fn on_message(msg) { let n = parse_int(msg.body); reply(`${n * n}`); ack(); }";
        let mut host = host_with("rpc", src);
        let mut msg = message(0, "12");
        msg.properties.reply_to = Some("amq.gen-client".into());
        msg.properties.correlation_id = Some("req-7".into());
        let outcome = consume(&mut host, "rpc", &msg);
        assert_eq!(outcome.decision, Some(Decision::Ack));
        assert_eq!(
            outcome.publishes,
            [ScriptPublish {
                exchange: String::new(),
                routing_key: "amq.gen-client".into(),
                body: "144".into(),
                properties: BasicProperties { correlation_id: Some("req-7".into()), ..Default::default() },
            }]
        );
    }

    #[test]
    fn script_reply_without_reply_to_is_a_located_error() {
        let e = call_error("fn on_message(msg) {\n  ack();\n  reply(\"x\");\n}", ScriptLimits::default());
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("no reply_to"), "{e}");
    }

    #[test]
    fn script_log_print_and_debug_become_log_lines_in_order() {
        let mut host =
            host_with("log", "fn on_message(msg) { log(\"one\"); print(\"two\"); log(3); debug(4); }");
        let outcome = consume(&mut host, "log", &message(0, "x"));
        assert_eq!(outcome.logs, ["one", "two", "3", "4"]);
    }

    #[test]
    fn script_now_is_the_virtual_time_given_by_the_caller() {
        let mut host = host_with("clock", "fn on_message(msg) { log(`${now()}`); }");
        let outcome = host.on_message("clock", "a", 123_456, &message(0, "x")).unwrap();
        assert_eq!(outcome.logs, ["123456"]);
    }

    #[test]
    fn script_sleep_adds_up_to_the_processing_time() {
        let mut host = host_with("slow", "fn on_message(msg) { sleep(100); sleep(msg.seq * 10); ack(); }");
        assert_eq!(consume(&mut host, "slow", &message(5, "x")).processing_millis, Some(150));
        let mut host = host_with("fast", "fn on_message(msg) { ack(); }");
        assert_eq!(consume(&mut host, "fast", &message(5, "x")).processing_millis, None);
        let e = call_error("fn on_message(msg) { sleep(-1) }", ScriptLimits::default());
        assert!(e.message.contains("ms >= 0"), "{e}");
    }

    #[test]
    fn script_random_stays_in_range_and_rejects_zero() {
        let mut host = host_with("dice", "fn on_message(msg) { for i in 0..200 { log(`${random(6)}`); } }");
        let logs = consume(&mut host, "dice", &message(0, "x")).logs;
        let values: Vec<i64> = logs.iter().map(|l| l.parse().unwrap()).collect();
        assert!(values.iter().all(|v| (0..6).contains(v)));
        for face in 0..6 {
            assert!(values.contains(&face), "face {face} never came up in 200 throws");
        }
        let e = call_error("fn on_message(msg) { random(0) }", ScriptLimits::default());
        assert!(e.message.contains("n > 0"), "{e}");
    }

    // --- determinism -----------------------------------------------------------------------------

    fn random_draws(seed: u64) -> Vec<String> {
        let mut host = ScriptHost::new(ScriptLimits::default(), seed);
        host.compile("r", "fn on_message(msg) { log(`${random(1000000)}`); }").unwrap();
        (0..20).flat_map(|seq| host.on_message("r", "a", 0, &message(seq, "x")).unwrap().logs).collect()
    }

    #[test]
    fn script_random_is_determined_by_the_seed() {
        assert_eq!(random_draws(42), random_draws(42));
        assert_ne!(random_draws(42), random_draws(43));
    }

    #[test]
    fn script_random_draws_are_the_engine_prng_below() {
        // The host's draws are Prng::below on the seed given to `new`, so native and wasm agree.
        let mut prng = Prng::new(42);
        let expected: Vec<String> = (0..20).map(|_| prng.below(1_000_000).to_string()).collect();
        assert_eq!(random_draws(42), expected);
    }

    #[test]
    fn script_map_iteration_follows_key_order_in_every_host() {
        let src = r#"fn on_message(msg) {
            let m = #{ zeta: 1, alpha: 2, mid: 3, beta: 4 };
            m.omega = 5; m.aardvark = 6;
            let keys = "";
            for k in m.keys() { keys += k + " "; }
            log(keys);
        }"#;
        let runs: Vec<Vec<String>> =
            (0..2).map(|_| consume(&mut host_with("m", src), "m", &message(0, "x")).logs).collect();
        assert_eq!(runs[0], ["aardvark alpha beta mid omega zeta "]);
        assert_eq!(runs[0], runs[1]);
    }

    // --- state -----------------------------------------------------------------------------------

    #[test]
    fn script_state_persists_per_actor_between_calls() {
        let src = r#"fn on_message(msg) {
            state.count = (state.count ?? 0) + 1;
            bump();
            log(`${state.count}/${state.helper}`);
        }
        fn bump() { state.helper = (state.helper ?? 0) + 10; }"#;
        let mut host = host_with("count", src);
        let m = message(0, "x");
        let mut logs = Vec::new();
        for actor in ["a", "a", "b", "a"] {
            logs.extend(host.on_message("count", actor, 0, &m).unwrap().logs);
        }
        assert_eq!(logs, ["1/10", "2/20", "1/10", "3/30"]);
        let state = host.state("a").unwrap();
        assert_eq!(state.get("count"), Some(&FieldValue::Int(3)));
        assert_eq!(host.state("nobody"), None);
    }

    #[test]
    fn script_local_named_state_shadows_the_actor_state() {
        let src = "fn on_message(msg) { let state = 5; state += 1; log(`${state}`); }";
        let mut host = host_with("shadow", src);
        assert_eq!(consume(&mut host, "shadow", &message(0, "x")).logs, ["6"]);
        assert_eq!(host.state("worker-1"), Some(FieldTable::new()));
    }

    #[test]
    fn script_state_replaced_by_a_non_map_is_an_error() {
        let e = call_error("fn on_message(msg) { state = 5; }", ScriptLimits::default());
        assert!(e.message.contains("must stay an object map"), "{e}");
    }

    #[test]
    fn script_retry_consumer_republishes_then_dead_letters() {
        let src = r#"fn on_message(msg) {
            let tries = msg.headers["x-tries"] ?? 0;
            if tries < 2 {
                publish("", "retry", msg.body, #{ headers: #{ "x-tries": tries + 1 }, expiration: "500" });
                ack();
            } else {
                nack(false);
            }
        }"#;
        let mut host = host_with("retry", src);
        let mut msg = message(0, "job");
        let first = consume(&mut host, "retry", &msg);
        assert_eq!(first.decision, Some(Decision::Ack));
        assert_eq!(first.publishes[0].properties.headers.get("x-tries"), Some(&FieldValue::Int(1)));
        msg.headers.insert("x-tries".to_string(), FieldValue::Int(2));
        let last = consume(&mut host, "retry", &msg);
        assert_eq!(last.decision, Some(Decision::Nack { requeue: false }));
        assert!(last.publishes.is_empty());
    }

    // --- producers -------------------------------------------------------------------------------

    #[test]
    fn script_producer_on_tick_publishes_with_its_sequence() {
        let src = r#"fn on_tick(seq) {
            let key = if seq % 2 == 0 { "even" } else { "odd" };
            publish("numbers", key, `n=${seq}`, #{ message_id: seq });
            if seq == 3 { cancel(); }
        }"#;
        let mut host = host_with("gen", src);
        assert!(host.has_function("gen", "on_tick"));
        assert!(!host.has_function("gen", "on_message"));
        let outcomes: Vec<_> = (0..4).map(|seq| host.on_tick("gen", "p", seq * 100, seq).unwrap()).collect();
        let keys: Vec<_> = outcomes.iter().map(|o| o.publishes[0].routing_key.as_str()).collect();
        assert_eq!(keys, ["even", "odd", "even", "odd"]);
        assert_eq!(outcomes[2].publishes[0].body, "n=2");
        assert_eq!(outcomes[2].publishes[0].properties.message_id.as_deref(), Some("2"));
        assert_eq!(outcomes[3].decision, Some(Decision::Cancel));
        assert_eq!(outcomes[1].decision, None);
    }

    #[test]
    fn script_producer_without_parameter_and_settling_in_on_tick() {
        let mut host = host_with("p0", "fn on_tick() { publish(\"\", \"q\", \"tick\"); }");
        assert_eq!(host.on_tick("p0", "p", 0, 0).unwrap().publishes.len(), 1);
        let mut host = host_with("p1", "fn on_tick(seq) {\n  ack();\n}");
        let e = host.on_tick("p1", "p", 0, 0).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("on_tick has none"), "{e}");
    }

    #[test]
    fn script_missing_entry_points_and_scripts_are_errors_not_panics() {
        let mut host = host_with("only_tick", "fn on_tick(seq) {}");
        let e = host.on_message("only_tick", "a", 0, &message(0, "x")).unwrap_err();
        assert!(e.message.contains("no `fn on_message(msg)`"), "{e}");
        let e = host.on_tick("nope", "a", 0, 0).unwrap_err();
        assert_eq!(e.to_string(), "script 'nope': no script by this name has been compiled");
        let e = ScriptHost::new(ScriptLimits::default(), 0)
            .compile("bad", "\nfn on_message() { ack() }")
            .unwrap_err();
        assert_eq!((e.line, e.col), (2, 1), "{e}");
        assert!(e.message.contains("fn on_message(msg)"), "{e}");
    }

    // --- limits and locations --------------------------------------------------------------------

    fn small_limits() -> ScriptLimits {
        ScriptLimits {
            max_operations: 10_000,
            max_string_size: 1_000,
            max_array_size: 100,
            max_map_size: 100,
            max_call_levels: 16,
            max_output_bytes: 10_000,
        }
    }

    #[test]
    fn script_infinite_loop_stops_with_the_line() {
        let e =
            call_error("fn on_message(msg) {\n  let x = 0;\n  loop {\n    x += 1;\n  }\n}", small_limits());
        assert_eq!(e.line, 4, "{e}");
        assert_eq!(e.message, "too many operations (limit 10000)");
        assert!(e.to_string().starts_with("script 's' line 4, col "), "{e}");
    }

    #[test]
    fn script_infinite_loop_in_a_helper_function_names_the_helper_line() {
        let src = "fn on_message(msg) {\n  spin();\n}\n\nfn spin() {\n  while true {\n    let y = 1;\n  }\n}";
        let e = call_error(src, small_limits());
        // The limit strikes either on the loop condition or in its body, never at the call site.
        assert!((6..=7).contains(&e.line), "{e}");
        assert!(e.message.starts_with("too many operations"), "{e}");
    }

    #[test]
    fn script_huge_string_stops_with_the_line() {
        let e = call_error("fn on_message(msg) {\n  let s = \"x\";\n  loop { s += s; }\n}", small_limits());
        assert_eq!(e.line, 3, "{e}");
        assert_eq!(e.message, "string too large (limit 1000 bytes)");
    }

    #[test]
    fn script_huge_array_and_map_stop_with_the_line() {
        let e = call_error("fn on_message(msg) {\n  let a = [];\n  a.pad(1000000, 0);\n}", small_limits());
        assert_eq!(e.line, 3, "{e}");
        assert_eq!(e.message, "array too large (limit 100 items)");
        let src = "fn on_message(msg) {\n  let m = #{};\n  for i in 0..1000 {\n    m[`k${i}`] = i;\n  }\n}";
        let e = call_error(src, small_limits());
        assert_eq!(e.line, 4, "{e}");
        assert_eq!(e.message, "object map too large (limit 100 entries)");
        // The actor's state is checked too: it outlives the call, so it must not grow without bound.
        let src = "fn on_message(msg) {\n  for i in 0..1000 {\n    state[`k${i}`] = i;\n  }\n}";
        let e = call_error(src, small_limits());
        assert_eq!(e.line, 3, "{e}");
        assert_eq!(e.message, "object map too large (limit 100 entries)");
        // Strings held in a map count together, as Rhai counts them (here 10 × 200 bytes > 1000).
        let src = "fn on_message(msg) {\n  let s = \"\";\n  s.pad(200, \"y\");\n  let m = #{};\n  for i in 0..10 {\n    m[`k${i}`] = s + i;\n  }\n}";
        let e = call_error(src, small_limits());
        assert_eq!(e.message, "string too large (limit 1000 bytes)", "{e}");
        // Nesting without end is stopped before measuring or dropping it could overflow the stack.
        let src = "fn on_message(msg) {\n  let m = #{};\n  loop {\n    m = #{ inner: m };\n  }\n}";
        let e = call_error(src, ScriptLimits { max_operations: 1_000_000, ..small_limits() });
        assert_eq!(e.message, "arrays and maps nested too deeply (limit 64 levels)");
        assert_eq!(e.line, 4, "{e}");
    }

    #[test]
    fn script_deep_recursion_stops_with_the_line() {
        let src = "fn on_message(msg) {\n  down(0)\n}\nfn down(n) {\n  down(n + 1)\n}";
        let e = call_error(src, small_limits());
        assert_eq!(e.line, 5, "{e}");
        assert_eq!(e.message, "too many nested function calls (limit 16)");
    }

    #[test]
    fn script_default_limits_stop_recursion_without_overflowing_the_stack() {
        // The default call depth must be safe on a test thread's stack in a debug build.
        let src = "fn on_message(msg) { down(0) }\nfn down(n) { let a = [n, n, n]; down(n + 1) + a[0] }";
        let e = call_error(src, ScriptLimits::default());
        assert!(e.message.starts_with("too many nested function calls"), "{e}");
    }

    #[test]
    fn script_output_budget_stops_a_logging_loop() {
        let src = "fn on_message(msg) {\n  let s = \"0123456789\";\n  loop {\n    log(s);\n  }\n}";
        let e = call_error(src, ScriptLimits { max_operations: 1_000_000, ..small_limits() });
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("too much output"), "{e}");
        let e = call_error("fn on_message(msg) {\n  loop { print(\"0123456789\"); }\n}", small_limits());
        assert!(e.message.contains("too much output") || e.message.contains("too many operations"), "{e}");
    }

    #[test]
    fn script_zero_limits_are_not_unlimited() {
        let limits = ScriptLimits { max_operations: 0, ..small_limits() };
        let e = call_error("fn on_message(msg) { loop {} }", limits);
        assert_eq!(e.message, "too many operations (limit 1)");
    }

    #[test]
    fn script_syntax_error_names_line_and_column() {
        let mut host = ScriptHost::new(ScriptLimits::default(), 0);
        let e =
            host.compile("typo", "fn on_message(msg) {\n  if msg.seq > 3 {\n    ack(\n  }\n}").unwrap_err();
        assert_eq!(e.script, "typo");
        assert_eq!((e.line, e.col), (4, 3), "{e}");
        assert!(e.to_string().starts_with("script 'typo' line 4, col 3: "), "{e}");
        assert!(!host.has_function("typo", "on_message"));
    }

    #[test]
    fn script_runtime_errors_are_located() {
        let e =
            call_error("fn on_message(msg) {\n  let x = msg.seq;\n  x.nope();\n}", ScriptLimits::default());
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("nope"), "{e}");
        let e = call_error("fn on_message(msg) {\n\n  throw \"boom\";\n}", ScriptLimits::default());
        assert_eq!((e.line, e.message.as_str()), (3, "boom"), "{e}");
        let e = call_error("fn on_message(msg) {\n  undefined_thing\n}", ScriptLimits::default());
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("undefined_thing"), "{e}");
    }

    // --- sandbox ---------------------------------------------------------------------------------

    #[test]
    fn script_sandbox_has_no_import_eval_or_clock() {
        let mut host = ScriptHost::new(ScriptLimits::default(), 0);
        let e = host.compile("imp", "import \"std\" as s;\nfn on_message(msg) {}").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        let e = host.compile("ev", "fn on_message(msg) {\n  eval(\"ack()\")\n}").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("eval"), "{e}");
        // `timestamp()` (the wall clock) does not exist.
        host.compile("ts", "fn on_message(msg) {\n  let t = timestamp();\n}").unwrap();
        let e = host.on_message("ts", "a", 0, &message(0, "x")).unwrap_err();
        assert!(e.message.contains("timestamp"), "{e}");
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn script_exit_ends_the_call_keeping_what_was_decided() {
        let mut host = host_with("ex", "fn on_message(msg) { ack(); exit(); log(\"unreachable\"); }");
        let outcome = consume(&mut host, "ex", &message(0, "x"));
        assert_eq!(outcome.decision, Some(Decision::Ack));
        assert!(outcome.logs.is_empty());
    }

    #[test]
    fn script_hosts_do_not_share_state_or_randomness() {
        let src = "fn on_message(msg) { state.n = (state.n ?? 0) + 1; log(`${state.n}:${random(100)}`); }";
        let mut a = host_with("s", src);
        let mut b = host_with("s", src);
        let m = message(0, "x");
        a.on_message("s", "w", 0, &m).unwrap();
        let from_a = a.on_message("s", "w", 0, &m).unwrap().logs;
        let from_b = b.on_message("s", "w", 0, &m).unwrap().logs;
        assert_ne!(from_a, from_b, "b must start from its own empty state and seed");
        assert!(from_b[0].starts_with("1:"));
    }

    // --- fuzz ------------------------------------------------------------------------------------

    /// Random token soups and mutations of a valid script: compiling and running them must give results
    /// or errors, never a panic or a hang (the limits are small).
    #[test]
    fn script_fuzzed_sources_never_panic() {
        const PIECES: &[&str] = &[
            "fn ",
            "on_message",
            "(msg)",
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            "#{",
            "loop",
            "while",
            "for",
            " in ",
            "0..",
            "let ",
            "x",
            " = ",
            "+",
            "*",
            "/",
            "%",
            ";",
            "\"",
            "`",
            "${",
            "ack()",
            "nack(",
            "true",
            "false",
            "state",
            ".",
            "msg",
            "seq",
            "body",
            "publish(",
            ",",
            "random(",
            "sleep(",
            "log(",
            "reply(",
            "9223372036854775807",
            "-",
            "1",
            "0",
            "\n",
            "if ",
            "else",
            "return",
            "throw ",
            "fn f(n) { f(n) }",
            "f(1)",
            "s += s",
            "\\",
            "'",
            "::",
            "=>",
            "?",
            "??",
            "!",
            "Fn(\"f\")",
            ".call(",
            "this",
            "import ",
            "eval",
            "exit(",
            "crash()",
            "cancel()",
            "switch x { 1 => 2, _ => 3 }",
            "do {",
            "} until",
            "|x|",
            "[1,2,3].map(|v| v * 2)",
            "to_string()",
            "len()",
            "pad(99999999, 0)",
            "\u{1F600}",
            "é",
        ];
        let limits = ScriptLimits {
            max_operations: 2_000,
            max_string_size: 500,
            max_array_size: 50,
            max_map_size: 50,
            max_call_levels: 8,
            max_output_bytes: 2_000,
        };
        let valid = "fn on_message(msg) { let x = msg.seq; if x % 2 == 0 { ack() } else { nack(false) } }";
        let mut prng = Prng::new(0x5c_1257);
        let mut host = ScriptHost::new(limits, 3);
        let mut compiled = 0;
        for round in 0..400 {
            let source = if round % 2 == 0 {
                let n = prng.below(40) as usize;
                let mut s = String::from("fn on_message(msg) { ");
                for _ in 0..n {
                    s.push_str(prng.pick(PIECES).copied().unwrap_or(""));
                }
                s.push_str(" }");
                s
            } else {
                let mut chars: Vec<char> = valid.chars().collect();
                for _ in 0..1 + prng.below(4) {
                    let at = prng.below(chars.len() as u64) as usize;
                    match prng.below(3) {
                        0 => {
                            chars.remove(at);
                        }
                        1 => chars.insert(
                            at,
                            *prng.pick(&['{', '}', '(', '"', ';', '.', '9', ' ']).unwrap_or(&' '),
                        ),
                        _ => chars[at] = 'x',
                    }
                }
                chars.into_iter().collect()
            };
            if host.compile("fuzz", &source).is_ok() {
                compiled += 1;
                let _ = host.on_message("fuzz", "a", 0, &message(round, "body"));
                let _ = host.on_tick("fuzz", "a", 0, round);
            }
            // Deep nesting must be refused by the parser's depth limit, not the native stack.
            let depth = 1 + prng.below(5_000) as usize;
            let nested = format!("fn on_message(msg) {{ {}1{} }}", "(".repeat(depth), ")".repeat(depth));
            let _ = host.compile("deep", &nested);
        }
        assert!(compiled > 10, "the fuzz should exercise the runtime too, only {compiled} compiled");
    }

    // --- the user documentation --------------------------------------------------------------------

    /// Every ```rhai block of docs/scripts.md compiles, and each example with an entry point runs.
    #[test]
    fn script_examples_in_the_docs_compile_and_run() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/scripts.md")).unwrap();
        let blocks: Vec<&str> =
            doc.split("```rhai\n").skip(1).filter_map(|b| b.split("```").next()).collect();
        assert!(blocks.len() >= 6, "found only {} rhai blocks", blocks.len());
        let mut ran = 0;
        for (i, source) in blocks.iter().enumerate() {
            let name = format!("doc{i}");
            let mut host = ScriptHost::new(ScriptLimits::default(), 11);
            host.compile(&name, source).unwrap_or_else(|e| panic!("{e}\n{source}"));
            let mut msg = message(3, "12");
            msg.properties.reply_to = Some("amq.gen-caller".into());
            msg.properties.correlation_id = Some("c1".into());
            for seq in 0..3 {
                if host.has_function(&name, "on_message") {
                    msg.seq = seq;
                    host.on_message(&name, "actor", 0, &msg).unwrap_or_else(|e| panic!("{e}\n{source}"));
                }
                if host.has_function(&name, "on_tick") {
                    let outcome =
                        host.on_tick(&name, "actor", 0, seq).unwrap_or_else(|e| panic!("{e}\n{source}"));
                    assert!(!outcome.publishes.is_empty(), "{source}");
                }
            }
            ran += usize::from(host.has_function(&name, "on_message") || host.has_function(&name, "on_tick"));
        }
        assert!(ran >= 5, "only {ran} examples have an entry point");
    }

    #[test]
    fn script_error_examples_in_the_docs_are_what_the_host_says() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/scripts.md")).unwrap();
        let cases = [
            ("spin", "fn on_message(msg) {\n  let x = 0;\n  loop {\n    x += 1;\n  }\n}"),
            ("grow", "fn on_message(msg) {\n  let s = \"x\";\n  loop { s += s; }\n}"),
            ("down", "fn on_message(msg) {\n  down(0)\n}\nfn down(n) {\n  down(n + 1)\n}"),
        ];
        for (name, source) in cases {
            let mut host = ScriptHost::new(ScriptLimits::default(), 0);
            host.compile(name, source).unwrap();
            let e = host.on_message(name, "a", 0, &message(0, "x")).unwrap_err();
            assert!(doc.contains(&e.to_string()), "docs/scripts.md should show: {e}");
        }
        let e = ScriptHost::new(ScriptLimits::default(), 0)
            .compile("typo", "fn on_message(msg) {\n  if msg.seq > 3 {\n    ack(\n  }\n}")
            .unwrap_err();
        assert!(doc.contains(&e.to_string()), "docs/scripts.md should show: {e}");
    }
}

/// The script runtime is a value each simulation gets from its caller (`SimOptions::scripts`), not state
/// registered on the thread: two simulations built one after the other on one thread, with different
/// factories, each use their own, and the one with the built-in host is not affected by the other.
mod script_factory {
    use broker_core::scenario::script::{ScriptFactory, ScriptLimits, ScriptRuntime};
    use broker_core::scenario::sim::{CheckStatus, SimOptions, Simulation};

    fn unavailable(_: ScriptLimits, _: u64) -> Result<Box<dyn ScriptRuntime>, String> {
        Err("the test's scripting engine is switched off".to_string())
    }

    fn poison_message() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../www/scenarios/09-poison-message.json"
        ))
        .unwrap()
    }

    #[test]
    fn script_factory_is_per_simulation_not_per_thread() {
        let text = poison_message();
        let refusing = SimOptions { scripts: ScriptFactory::new(unavailable), ..SimOptions::default() };
        let Err(e) = Simulation::from_json(&text, refusing) else { panic!("scripts ran without an engine") };
        let scripts_line = text.lines().position(|l| l.trim_start().starts_with("\"scripts\"")).unwrap() + 1;
        assert_eq!(usize::try_from(e.pos.line).unwrap(), scripts_line, "{e}");
        assert_eq!(e.message, "scripts: the test's scripting engine is switched off");
        // Built next, on the same thread, with the default: the built-in host runs the scripts, and the
        // document's checks (which need its consumer script's nacks) all pass.
        let Ok(mut built_in) = Simulation::from_json(&text, SimOptions::default()) else {
            panic!("it builds")
        };
        built_in.run();
        let results = built_in.check_results();
        assert!(!results.is_empty());
        assert!(results.iter().all(|c| c.status == CheckStatus::Pass), "{results:?}");
    }

    #[test]
    fn script_factory_checks_a_script_with_its_own_runtime() {
        let source = "fn on_message(msg) {\n  ack(\n}";
        let built_in = ScriptFactory::default().check("typo", source).unwrap_err();
        assert_eq!((built_in.line, built_in.script.as_str()), (3, "typo"));
        let refused = ScriptFactory::new(unavailable).check("typo", source).unwrap_err();
        assert_eq!((refused.line, refused.col), (0, 0));
        assert_eq!(refused.message, "the test's scripting engine is switched off");
        assert_ne!(ScriptFactory::new(unavailable), ScriptFactory::default());
        assert_eq!(ScriptFactory::new(unavailable), ScriptFactory::new(unavailable));
    }
}
