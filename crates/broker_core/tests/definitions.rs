//! RabbitMQ `definitions.json` import and export: a hand-written RabbitMQ 3.10 export imports as is,
//! policies take effect per RabbitMQ's rules, errors name the entity, and export → import round-trips.

use broker_core::amqp::definitions::{
    export, export_with_policies, import, import_json, Definitions, EntityKind, ImportReport,
};
use broker_core::amqp::{
    BasicProperties, Broker, BrokerConfig, ChannelNumber, ConnectionId, FieldTable, FieldValue, Method,
};
use broker_core::VirtualTime;

const FIXTURE: &str = include_str!("definitions/rabbitmq-3.10-export.json");

fn broker() -> Broker {
    Broker::new(BrokerConfig::default(), 7)
}

fn t(millis: u64) -> VirtualTime {
    VirtualTime::from_millis(millis)
}

fn table(pairs: &[(&str, FieldValue)]) -> FieldTable {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn int(i: i64) -> FieldValue {
    FieldValue::Int(i)
}

fn text(s: &str) -> FieldValue {
    FieldValue::Str(s.to_string())
}

fn client(b: &mut Broker, at: VirtualTime) -> (ConnectionId, ChannelNumber) {
    let c = b.connect(at, "test");
    let ch = ChannelNumber(1);
    b.apply(at, c, ch, Method::ChannelOpen).expect("channel opens");
    (c, ch)
}

fn publish(b: &mut Broker, at: VirtualTime, exchange: &str, key: &str) {
    let (c, ch) = client(b, at);
    let method = Method::BasicPublish {
        exchange: exchange.into(),
        routing_key: key.into(),
        mandatory: false,
        properties: BasicProperties::default(),
        body: b"m".to_vec(),
        immediate: false,
    };
    b.apply(at, c, ch, method).expect("publish");
    b.close_connection(at, c);
}

fn ready(b: &Broker, queue: &str) -> u32 {
    b.queue(queue).unwrap_or_else(|| panic!("queue {queue} exists")).info.messages_ready
}

/// The arguments the queue acts on: its own with the policy's effective values.
fn args(b: &Broker, queue: &str) -> FieldTable {
    b.queue(queue).unwrap_or_else(|| panic!("queue {queue} exists")).effective_arguments
}

/// The queue's own arguments, as declared (what a redeclaration is compared with).
fn declared(b: &Broker, queue: &str) -> FieldTable {
    b.queue(queue).unwrap_or_else(|| panic!("queue {queue} exists")).arguments
}

fn imported_fixture() -> (Broker, ImportReport) {
    let mut b = broker();
    let report = import_json(&mut b, t(0), FIXTURE).unwrap_or_else(|e| panic!("fixture imports: {e}"));
    b.assert_invariants();
    (b, report)
}

fn policy_of<'r>(report: &'r ImportReport, kind: EntityKind, name: &str) -> Option<&'r str> {
    report.applied_policies.iter().find(|a| a.kind == kind && a.name == name).map(|a| a.policy.as_str())
}

// ---- A real export imports as is ---------------------------------------------------------------------

#[test]
fn rabbitmq_export_imports_with_this_vhosts_entities() {
    let (b, report) = imported_fixture();
    assert_eq!(report.exchanges, ["events", "events.audit", "dlx", "unrouted"]);
    assert_eq!(
        report.queues,
        ["orders.created", "orders.audit", "payments", "notifications", "dlq", "unrouted"]
    );
    assert_eq!(report.bindings, 7);
    let x = b.exchanges();
    let audit = x.iter().find(|x| x.name == "events.audit").expect("declared");
    assert!(audit.internal && audit.durable);
    // The exchange-to-exchange binding.
    let events = x.iter().find(|x| x.name == "events").expect("declared");
    assert!(events
        .bindings
        .iter()
        .any(|b| b.routing_key == "orders.#" && b.destination.to_string() == "exchange 'events.audit'"));
    // A binding from a predeclared exchange is imported too.
    let amq_topic = x.iter().find(|x| x.name == "amq.topic").expect("predeclared");
    assert_eq!(amq_topic.bindings.len(), 1);
    // The quorum queue is a quorum queue.
    assert_eq!(format!("{:?}", b.queue("payments").unwrap().queue_type), "Quorum");
    // Connection used for the import is closed again.
    assert!(!b.is_open(ConnectionId(1)));
}

#[test]
fn other_vhosts_and_unmodelled_settings_are_reported() {
    let (_, report) = imported_fixture();
    let warnings = report.warnings.join("\n");
    for expected in [
        "queues[6] 'orders.created': skipped: vhost 'staging' is not simulated (this broker is vhost '/')",
        "exchanges[4] 'events': skipped: vhost 'staging'",
        "bindings[7] 'events -> orders.created': skipped: vhost 'staging'",
        "policies[4] 'short-ttl': skipped: vhost 'staging'",
        "users: 2 kept but not enforced",
        "parameters[0] 'federation-upstream/dc2': runtime parameters are not simulated",
    ] {
        assert!(warnings.contains(expected), "missing warning {expected:?} in:\n{warnings}");
    }
}

#[test]
fn routing_through_the_imported_topology_works() {
    let (mut b, _) = imported_fixture();
    publish(&mut b, t(1), "events", "orders.created");
    assert_eq!(ready(&b, "orders.created"), 1);
    // Through the e2e binding into the internal exchange and on to the audit queue.
    assert_eq!(ready(&b, "orders.audit"), 1);
    // Unroutable on `events`: the policy's alternate exchange takes it.
    publish(&mut b, t(1), "events", "nobody.listens");
    assert_eq!(ready(&b, "unrouted"), 1);
    publish(&mut b, t(1), "amq.topic", "notify.email");
    assert_eq!(ready(&b, "notifications"), 1);
    b.assert_invariants();
}

// ---- Policies ------------------------------------------------------------------------------------------

#[test]
fn policy_priority_and_merge_rules_from_the_fixture() {
    let (b, report) = imported_fixture();
    // `orders-dlx` (priority 10) beats `ha-all` (0); message-ttl: the lower of 30000 (policy) and 60000.
    assert_eq!(policy_of(&report, EntityKind::Queue, "orders.created"), Some("orders-dlx"));
    assert_eq!(
        args(&b, "orders.created"),
        table(&[
            ("x-dead-letter-exchange", text("dlx")),
            ("x-max-length", int(10000)),
            ("x-message-ttl", int(30000)),
            ("x-queue-type", text("classic")),
        ])
    );
    // The queue's own dead-letter exchange wins over the policy's.
    assert_eq!(args(&b, "orders.audit").get("x-dead-letter-exchange"), Some(&text("audit-dlx")));
    // Quorum queue: `ha-all` is not applicable (ha-mode), `payments-limit` is; delivery-limit min(3, 5).
    assert_eq!(policy_of(&report, EntityKind::Queue, "payments"), Some("payments-limit"));
    assert_eq!(args(&b, "payments").get("x-delivery-limit"), Some(&int(3)));
    assert_eq!(policy_of(&report, EntityKind::Queue, "notifications"), None);
    // A classic queue that only `ha-all` matches: in effect, but without effect in Brokerlab.
    let dlq = report.applied_policies.iter().find(|a| a.name == "dlq").expect("ha-all applies");
    assert_eq!(dlq.policy, "ha-all");
    assert!(dlq.arguments.is_empty());
    assert_eq!(dlq.without_effect, ["ha-mode", "ha-sync-mode"]);
    // Exchanges: the alternate exchange comes from the policy.
    assert_eq!(policy_of(&report, EntityKind::Exchange, "events"), Some("events-ae"));
}

#[test]
fn policy_ttl_and_dlx_really_act() {
    let (mut b, _) = imported_fixture();
    publish(&mut b, t(0), "events", "orders.created");
    b.advance_to(t(29_999));
    assert_eq!(ready(&b, "orders.created"), 1);
    assert_eq!(ready(&b, "dlq"), 0);
    // The policy's 30 s TTL (not the queue's 60 s) expires it into the policy's dead-letter exchange.
    b.advance_to(t(30_000));
    assert_eq!(ready(&b, "orders.created"), 0);
    assert_eq!(ready(&b, "dlq"), 1);
    b.assert_invariants();
}

fn with_policies(policies: &str, queues: &str) -> String {
    format!(r#"{{"policies": [{policies}], "queues": [{queues}]}}"#)
}

fn import_text(text: &str) -> (Broker, Result<ImportReport, String>) {
    let mut b = broker();
    let r = import_json(&mut b, t(0), text).map_err(|e| e.to_string());
    (b, r)
}

#[test]
fn classic_and_quorum_queues_resolve_conflicts_differently() {
    // overflow and expires: the argument wins (overflow) or the lower wins (expires) on classic queues;
    // the policy wins on quorum queues.
    let text = with_policies(
        r#"{"name": "p", "pattern": "^q", "definition": {"overflow": "reject-publish", "expires": 600000}, "priority": 0}"#,
        r#"{"name": "q-classic", "durable": true, "arguments": {"x-overflow": "drop-head", "x-expires": 300000}},
           {"name": "q-quorum", "durable": true, "arguments": {"x-queue-type": "quorum", "x-overflow": "drop-head", "x-expires": 300000}},
           {"name": "q-bare", "durable": true, "arguments": {}}"#,
    );
    let (b, r) = import_text(&text);
    r.expect("imports");
    assert_eq!(args(&b, "q-classic").get("x-overflow"), Some(&text_v("drop-head")));
    assert_eq!(args(&b, "q-classic").get("x-expires"), Some(&int(300_000)));
    assert_eq!(args(&b, "q-quorum").get("x-overflow"), Some(&text_v("reject-publish")));
    assert_eq!(args(&b, "q-quorum").get("x-expires"), Some(&int(600_000)));
    assert_eq!(
        args(&b, "q-bare"),
        table(&[("x-expires", int(600_000)), ("x-overflow", text_v("reject-publish"))])
    );
}

fn text_v(s: &str) -> FieldValue {
    text(s)
}

#[test]
fn equal_priorities_first_listed_wins_and_apply_to_is_respected() {
    let text = with_policies(
        r#"{"name": "first", "pattern": "jobs", "definition": {"max-length": 1}, "priority": 1},
           {"name": "second", "pattern": "jobs", "definition": {"max-length": 2}, "priority": 1},
           {"name": "exchanges-only", "pattern": "jobs", "apply-to": "exchanges", "definition": {"max-length": 3}, "priority": 9}"#,
        r#"{"name": "jobs", "durable": true}"#,
    );
    let (b, r) = import_text(&text);
    let report = r.expect("imports");
    assert_eq!(policy_of(&report, EntityKind::Queue, "jobs"), Some("first"));
    assert_eq!(args(&b, "jobs").get("x-max-length"), Some(&int(1)));
}

#[test]
fn pattern_is_a_regex_searched_anywhere_in_the_name() {
    let text = with_policies(
        r#"{"name": "p", "pattern": "\\.(dlq|retry)$", "definition": {"message-ttl": 5}, "priority": 0}"#,
        r#"{"name": "a.dlq", "durable": true}, {"name": "a.retry", "durable": true},
           {"name": "a.dlq.x", "durable": true}, {"name": "adlq", "durable": true}"#,
    );
    let (b, r) = import_text(&text);
    r.expect("imports");
    let ttl = |q: &str| args(&b, q).get("x-message-ttl").cloned();
    assert_eq!(ttl("a.dlq"), Some(int(5)));
    assert_eq!(ttl("a.retry"), Some(int(5)));
    assert_eq!(ttl("a.dlq.x"), None);
    assert_eq!(ttl("adlq"), None);
}

/// Erlang's `re` without its `unicode` option, as `rabbit_policy` calls it: a name's UTF-8 bytes read as
/// latin-1. Each row's answer was taken from `re:run(Name, Pattern, [{capture, none}])` in Erlang/OTP 25
/// (RabbitMQ 3.10's runtime).
#[test]
fn patterns_read_names_as_latin1_bytes_as_erlang_re_does() {
    let rows: [(&str, &str, bool); 7] = [
        ("^.$", "é", false), // "é" is two bytes
        ("^..$", "é", true),
        ("(?i)^JOBS", "jobs.a", true), // ASCII case folding
        ("(?i)^É", "é", false),        // no folding beyond ASCII
        (r"^\\w+$", "café", false),    // \w is ASCII (JSON-escaped here)
        (r"^caf\\xC3\\xA9$", "café", true),
        ("^café$", "café", true),
    ];
    for (pattern, name, applies) in rows {
        let text = with_policies(
            &format!(
                r#"{{"name": "p", "pattern": "{pattern}", "definition": {{"message-ttl": 5}}, "priority": 0}}"#
            ),
            &format!(r#"{{"name": "{name}", "durable": true}}"#),
        );
        let (b, r) = import_text(&text);
        r.expect("imports");
        let ttl = args(&b, name).get("x-message-ttl").cloned();
        assert_eq!(ttl.is_some(), applies, "pattern {pattern:?} on the name {name:?}");
    }
}

#[test]
fn dead_letter_routing_key_needs_a_dead_letter_exchange() {
    let text = with_policies(
        r#"{"name": "p", "pattern": ".*", "definition": {"dead-letter-routing-key": "dead"}, "priority": 0}"#,
        r#"{"name": "plain", "durable": true}, {"name": "dl", "durable": true, "arguments": {"x-dead-letter-exchange": "dlx"}}"#,
    );
    let (b, r) = import_text(&text);
    r.expect("a policy's routing key alone does not make the declaration invalid");
    assert!(args(&b, "plain").is_empty());
    assert_eq!(args(&b, "dl").get("x-dead-letter-routing-key"), Some(&text_v("dead")));
}

#[test]
fn invalid_policies_fail_with_rabbitmq_validation_texts() {
    let cases = [
        (
            r#"{"name": "p", "pattern": ".*", "definition": {"message-ttl": "1000"}, "priority": 0}"#,
            r#"policies[0] 'p': Validation failed: <<"1000">> is not a valid message TTL"#,
        ),
        (
            r#"{"name": "p", "pattern": ".*", "definition": {"expires": 0}, "priority": 0}"#,
            "policies[0] 'p': Validation failed: 0 is not a valid queue expiry",
        ),
        (
            r#"{"name": "p", "pattern": ".*", "definition": {"x-message-ttl": 5}, "priority": 0}"#,
            r#"policies[0] 'p': Validation failed: [{<<"x-message-ttl">>,5}] are not recognised policy settings"#,
        ),
        (
            r#"{"name": "p", "pattern": ".*", "apply-to": "queue", "definition": {"max-length": 5}, "priority": 0}"#,
            "policies[0] 'p': Validation failed: apply-to 'queue' unrecognised; should be 'queues', 'exchanges' or 'all'",
        ),
        (
            r#"{"name": "p", "pattern": "(", "definition": {"max-length": 5}, "priority": 0}"#,
            "policies[0] 'p': Validation failed: pattern should be regular expression but is invalid",
        ),
    ];
    for (policy, expected) in cases {
        let (b, r) = import_text(&with_policies(policy, r#"{"name": "q", "durable": true}"#));
        let e = r.expect_err(policy);
        assert!(e.starts_with(expected), "{policy}\n got: {e}\nwant: {expected}…");
        // Policies are validated before anything is declared.
        assert!(b.queue("q").is_none());
    }
}

// ---- Errors name the entity ----------------------------------------------------------------------------

#[test]
fn an_engine_refusal_names_the_entity_and_keeps_rabbitmqs_text() {
    let text = r#"{"queues": [
        {"name": "ok-1", "durable": true},
        {"name": "ok-2", "durable": true},
        {"name": "ok-3", "durable": true},
        {"name": "orders", "durable": true, "arguments": {"x-max-length": -1}}
    ]}"#;
    let (b, r) = import_text(text);
    assert_eq!(
        r.expect_err("invalid argument"),
        "queues[3] 'orders': 406 PRECONDITION_FAILED - invalid arg 'x-max-length' for queue 'orders' in \
         vhost '/': {value_negative,-1}"
    );
    // Not atomic, as RabbitMQ: what came before stays; the import connection is closed.
    assert!(b.queue("ok-3").is_some());
    assert!(b.queue("orders").is_none());
    assert!(!b.is_open(ConnectionId(1)));
}

#[test]
fn declared_arguments_are_validated_before_a_policy_could_hide_them() {
    // The quorum queue's own x-expires 0 is invalid; the policy's expires (which wins on quorum
    // queues) must not make RabbitMQ's refusal disappear.
    let text = with_policies(
        r#"{"name": "p", "pattern": ".*", "definition": {"expires": 1000}, "priority": 0}"#,
        r#"{"name": "qq", "durable": true, "arguments": {"x-queue-type": "quorum", "x-expires": 0}}"#,
    );
    let (_, r) = import_text(&text);
    let e = r.expect_err("invalid x-expires");
    assert!(e.starts_with("queues[0] 'qq': 406 PRECONDITION_FAILED - invalid arg 'x-expires'"), "{e}");
}

#[test]
fn bindings_to_missing_entities_and_bad_destination_types_fail() {
    let (_, r) = import_text(
        r#"{"bindings": [{"source": "nope", "destination": "q", "destination_type": "queue", "routing_key": "k"}]}"#,
    );
    let e = r.expect_err("missing exchange");
    assert!(e.starts_with("bindings[0] 'nope -> q': 404 NOT_FOUND - no "), "{e}");
    let (_, r) = import_text(
        r#"{"bindings": [{"source": "amq.direct", "destination": "q", "destination_type": "topic"}]}"#,
    );
    assert_eq!(
        r.expect_err("bad type"),
        "bindings[0] 'amq.direct -> q': destination_type 'topic' unrecognised; should be 'queue' or 'exchange'"
    );
}

#[test]
fn existing_entities_are_left_alone_as_rabbitmq_does() {
    let mut b = broker();
    let (c, ch) = client(&mut b, t(0));
    let declare = Method::QueueDeclare {
        queue: "jobs".into(),
        passive: false,
        durable: true,
        exclusive: false,
        auto_delete: false,
        arguments: table(&[("x-max-length", int(5))]),
    };
    b.apply(t(0), c, ch, declare).expect("declared");
    // A different definition of the same queue: skipped, not a 406.
    let defs = Definitions::from_json(r#"{"queues": [{"name": "jobs", "durable": false}]}"#).unwrap();
    let report = import(&mut b, t(0), &defs).expect("imports");
    assert!(report.queues.is_empty());
    assert_eq!(report.warnings, ["queues[0] 'jobs': already exists: left as it is"]);
    assert_eq!(args(&b, "jobs"), table(&[("x-max-length", int(5))]));
}

#[test]
fn default_and_amq_entities_are_skipped_and_streams_imported() {
    let text = r#"{
      "exchanges": [{"name": "", "type": "direct"}, {"name": "amq.direct", "type": "direct"}],
      "queues": [{"name": "amq.gen-abc", "durable": false},
                 {"name": "log", "durable": true, "arguments": {"x-queue-type": "stream"}}],
      "bindings": [{"source": "amq.fanout", "destination": "log", "destination_type": "queue"}]
    }"#;
    let (b, r) = import_text(text);
    let report = r.expect("imports");
    assert!(report.exchanges.is_empty());
    assert_eq!(report.queues, ["log"]);
    assert_eq!(report.bindings, 1);
    assert_eq!(report.warnings.len(), 3, "{:#?}", report.warnings);
    let log = b.queue("log").expect("the stream was declared");
    assert_eq!(log.queue_type, broker_core::amqp::arguments::QueueType::Stream);
}

// ---- JSON errors are located --------------------------------------------------------------------------

#[test]
fn json_errors_carry_line_and_column() {
    let wrong_type = "{\n  \"queues\": [\n    {\"name\": \"q\", \"durable\": \"yes\"}\n  ]\n}";
    let e = Definitions::from_json(wrong_type).expect_err("wrong type");
    // serde_json points at the last character of the offending value.
    assert_eq!((e.line, e.column), (3, 34), "{e}");
    assert!(e.message.starts_with("invalid type: string \"yes\", expected a boolean"), "{e}");

    let syntax = "{\"queues\": [\n  {\"name\": \"q\",}\n]}";
    let e = Definitions::from_json(syntax).expect_err("trailing comma");
    assert_eq!(e.line, 2, "{e}");

    let mut b = broker();
    let e = import_json(&mut b, t(0), "{\"exchanges\": [{\"name\": \"x\"}]}").expect_err("missing type");
    assert_eq!(e.to_string(), "json 'definitions.json': line 1, column 28: missing field `type`");
}

#[test]
fn unknown_top_level_keys_are_kept() {
    let defs = Definitions::from_json(r#"{"explicit_id": 7, "queues": []}"#).expect("parses");
    assert_eq!(defs.extra.get("explicit_id"), Some(&serde_json::json!(7)));
    let again = Definitions::from_json(&defs.to_json_pretty()).expect("reparses");
    assert_eq!(again, defs);
}

// ---- Export ---------------------------------------------------------------------------------------------

/// A broker built by hand through AMQP, with what export must leave out.
fn hand_built() -> Broker {
    let mut b = broker();
    let (c, ch) = client(&mut b, t(0));
    let x = |name: &str, kind: &str, internal: bool, arguments: FieldTable| Method::ExchangeDeclare {
        exchange: name.into(),
        exchange_type: kind.into(),
        passive: false,
        durable: true,
        auto_delete: false,
        internal,
        arguments,
    };
    let q = |name: &str, durable: bool, exclusive: bool, arguments: FieldTable| Method::QueueDeclare {
        queue: name.into(),
        passive: false,
        durable,
        exclusive,
        auto_delete: false,
        arguments,
    };
    let methods = vec![
        x("orders", "topic", false, table(&[("alternate-exchange", text("ae"))])),
        x("ae", "fanout", false, FieldTable::new()),
        x("audit", "headers", true, FieldTable::new()),
        q(
            "orders.new",
            true,
            false,
            table(&[("x-message-ttl", int(1000)), ("x-dead-letter-exchange", text("ae"))]),
        ),
        q("qq", true, false, table(&[("x-queue-type", text("quorum")), ("x-delivery-limit", int(2))])),
        q("transient", false, false, FieldTable::new()),
        q("mine", false, true, FieldTable::new()),
        q("", false, false, FieldTable::new()),
        Method::QueueBind {
            queue: "orders.new".into(),
            exchange: "orders".into(),
            routing_key: "orders.*.new".into(),
            arguments: FieldTable::new(),
        },
        Method::QueueBind {
            queue: "mine".into(),
            exchange: "orders".into(),
            routing_key: "#".into(),
            arguments: FieldTable::new(),
        },
        Method::ExchangeBind {
            destination: "audit".into(),
            source: "orders".into(),
            routing_key: "".into(),
            arguments: FieldTable::new(),
        },
        Method::QueueBind {
            queue: "qq".into(),
            exchange: "audit".into(),
            routing_key: "".into(),
            arguments: table(&[("x-match", text("any")), ("kind", text("payment"))]),
        },
        Method::QueueBind {
            queue: "transient".into(),
            exchange: "amq.fanout".into(),
            routing_key: "".into(),
            arguments: FieldTable::new(),
        },
    ];
    for m in methods {
        b.apply(t(0), c, ch, m.clone()).unwrap_or_else(|e| panic!("{m:?}: {e}"));
    }
    b
}

#[test]
fn export_lists_what_rabbitmq_would_export() {
    let b = hand_built();
    let defs = export(&b);
    let names: Vec<&str> = defs.queues.iter().map(|q| q.name.as_str()).collect();
    // No exclusive queue, no server-named queue.
    assert_eq!(names, ["orders.new", "qq", "transient"]);
    let names: Vec<&str> = defs.exchanges.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["ae", "audit", "orders"]);
    let bindings: Vec<String> = defs
        .bindings
        .iter()
        .map(|b| format!("{} -[{}]-> {} {}", b.source, b.routing_key, b.destination_type, b.destination))
        .collect();
    assert_eq!(
        bindings,
        [
            "amq.fanout -[]-> queue transient",
            "audit -[]-> queue qq",
            "orders -[orders.*.new]-> queue orders.new",
            "orders -[]-> exchange audit",
        ]
    );
    assert_eq!(defs.queues[1].kind.as_deref(), Some("quorum"));
    assert_eq!(defs.vhosts.len(), 1);
    let json = defs.to_json_pretty();
    assert!(json.contains("\"destination_type\": \"exchange\""), "{json}");
    assert!(json.contains("\"auto_delete\": false"), "{json}");
}

/// The topology of a broker as comparable data: exchanges with bindings, queues with their properties.
fn topology(b: &Broker) -> String {
    let mut out = String::new();
    for x in b.exchanges() {
        out += &format!("{x:?}\n");
    }
    for q in b.queues().into_iter().filter(|q| !q.exclusive && !q.name.starts_with("amq.")) {
        let d = b.queue(&q.name).unwrap();
        out += &format!("{} {:?} {} {} {:?}\n", q.name, d.queue_type, q.durable, q.auto_delete, d.arguments);
    }
    out
}

#[test]
fn export_then_import_gives_the_same_topology() {
    let mut original = hand_built();
    // Drop what an export cannot carry (the exclusive queue and its binding) to compare the rest.
    original.close_connection(t(1), ConnectionId(1));
    let defs = Definitions::from_json(&export(&original).to_json_pretty()).expect("our own export parses");
    let mut copy = broker();
    let report = import(&mut copy, t(0), &defs).expect("our own export imports");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(topology(&copy), topology(&original));
    assert!(topology(&copy).contains(r#"Exchange("audit")"#), "the e2e binding survives");
}

#[test]
fn export_with_policies_round_trips_the_fixture() {
    let (b, report) = imported_fixture();
    let defs = export_with_policies(&b, &report);
    // The policy values are policies again, not arguments.
    let orders = defs.queues.iter().find(|q| q.name == "orders.created").unwrap();
    assert_eq!(orders.arguments, table(&[("x-message-ttl", int(60000)), ("x-queue-type", text("classic"))]));
    assert_eq!(defs.policies.len(), 4);
    let mut copy = broker();
    import(&mut copy, t(0), &defs).expect("re-imports");
    assert_eq!(topology(&copy), topology(&b));
    // The broker keeps the policies itself: a plain export carries them too.
    assert_eq!(export(&b).policies, defs.policies);
    let mut plain = broker();
    import(&mut plain, t(0), &export(&b)).expect("re-imports");
    assert_eq!(topology(&plain), topology(&b));
}

// ---- Policies stay policies: the broker applies them, declarations keep their own arguments --------------

/// `queue.declare` of a durable queue, as pika's `queue_declare(name, durable=True, arguments=...)`.
fn declare(b: &mut Broker, at: VirtualTime, queue: &str, arguments: FieldTable) -> Result<(), String> {
    let (c, ch) = client(b, at);
    let method = Method::QueueDeclare {
        queue: queue.into(),
        passive: false,
        durable: true,
        exclusive: false,
        auto_delete: false,
        arguments,
    };
    let result = b.apply(at, c, ch, method).map(|_| ()).map_err(|e| e.to_string());
    b.close_connection(at, c);
    result
}

/// How long a message published at 0 to `queue` through the default exchange stays ready (ms, up to
/// `limit`): the queue's effective TTL.
fn lifetime(b: &mut Broker, queue: &str, limit: u64) -> Option<u64> {
    let start = b.now().as_millis();
    publish(b, t(start), "", queue);
    assert_eq!(ready(b, queue), 1, "published into {queue}");
    let mut at = start;
    while at < start + limit {
        at += 100;
        b.advance_to(t(at));
        if ready(b, queue) == 0 {
            return Some(at - start);
        }
    }
    None
}

const TTL_POLICY: &str = r#"{"name": "ttl", "pattern": "^q", "apply-to": "queues", "definition": {"message-ttl": 1000}, "priority": 0}"#;

#[test]
fn a_queue_a_policy_applies_to_accepts_a_redeclare_without_arguments() {
    let (mut b, r) = import_text(&with_policies(TTL_POLICY, r#"{"name": "q", "durable": true}"#));
    r.expect("imports");
    // pika's `queue_declare('q', durable=True)`: RabbitMQ compares only the queue's own arguments.
    declare(&mut b, t(0), "q", FieldTable::new()).expect("a redeclare without arguments is accepted");
    assert!(declared(&b, "q").is_empty(), "the policy is not a declared argument");
    assert_eq!(b.queue("q").unwrap().policy.as_deref(), Some("ttl"));
    // The policy still acts: the message expires after the policy's 1000 ms.
    assert_eq!(lifetime(&mut b, "q", 5000), Some(1000));
    b.assert_invariants();
}

#[test]
fn own_ttl_and_policy_ttl_the_lower_applies_and_the_own_redeclares() {
    let queues = r#"{"name": "q-own-higher", "durable": true, "arguments": {"x-message-ttl": 5000}},
                    {"name": "q-own-lower", "durable": true, "arguments": {"x-message-ttl": 500}}"#;
    let (mut b, r) = import_text(&with_policies(TTL_POLICY, queues));
    r.expect("imports");
    // `rabbit_amqqueue_process:process_args_policy`: message-ttl takes the lower of argument and policy.
    assert_eq!(lifetime(&mut b, "q-own-higher", 6000), Some(1000));
    assert_eq!(lifetime(&mut b, "q-own-lower", 6000), Some(500));
    let now = b.now();
    declare(&mut b, now, "q-own-higher", table(&[("x-message-ttl", int(5000))]))
        .expect("redeclared with its own arguments");
    let e = declare(&mut b, now, "q-own-higher", table(&[("x-message-ttl", int(1000))]))
        .expect_err("the effective value is not the declared one");
    assert!(e.contains("406 PRECONDITION_FAILED - inequivalent arg 'x-message-ttl'"), "{e}");
}

#[test]
fn a_queue_declared_after_the_import_gets_the_policy() {
    let (mut b, r) = import_text(&with_policies(TTL_POLICY, ""));
    r.expect("imports");
    declare(&mut b, t(0), "q-late", FieldTable::new()).expect("declared");
    declare(&mut b, t(0), "other", FieldTable::new()).expect("declared");
    assert_eq!(lifetime(&mut b, "q-late", 5000), Some(1000));
    assert_eq!(lifetime(&mut b, "other", 3000), None, "the pattern does not match 'other'");
}

#[test]
fn of_two_matching_policies_the_higher_priority_applies_also_later() {
    let policies = r#"{"name": "low", "pattern": "^q", "definition": {"message-ttl": 1000}, "priority": 1},
                      {"name": "high", "pattern": "^q", "definition": {"message-ttl": 3000}, "priority": 5}"#;
    let (mut b, r) = import_text(&with_policies(policies, ""));
    r.expect("imports");
    declare(&mut b, t(0), "q", FieldTable::new()).expect("declared");
    assert_eq!(b.queue("q").unwrap().policy.as_deref(), Some("high"));
    assert_eq!(lifetime(&mut b, "q", 5000), Some(3000));
}

#[test]
fn an_exchange_declared_after_the_import_gets_the_policys_alternate_exchange() {
    let text = r#"{"policies": [{"name": "ae", "pattern": "^events$", "apply-to": "exchanges",
                                 "definition": {"alternate-exchange": "unrouted"}, "priority": 0}],
                   "exchanges": [{"name": "unrouted", "type": "fanout"}],
                   "queues": [{"name": "lost", "durable": true}],
                   "bindings": [{"source": "unrouted", "destination": "lost", "destination_type": "queue", "routing_key": ""}]}"#;
    let (mut b, r) = import_text(text);
    r.expect("imports");
    let (c, ch) = client(&mut b, t(0));
    let method = Method::ExchangeDeclare {
        exchange: "events".into(),
        exchange_type: "topic".into(),
        passive: false,
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: FieldTable::new(),
    };
    b.apply(t(0), c, ch, method).expect("declared");
    b.close_connection(t(0), c);
    publish(&mut b, t(1), "events", "nobody.binds.this");
    assert_eq!(ready(&b, "lost"), 1);
}

#[test]
fn policies_export_as_policies_and_round_trip() {
    let queues = r#"{"name": "q", "durable": true, "arguments": {"x-message-ttl": 5000}}"#;
    let (b, r) = import_text(&with_policies(TTL_POLICY, queues));
    r.expect("imports");
    let defs = export(&b);
    assert_eq!(defs.policies.len(), 1);
    assert_eq!(defs.policies[0].name, "ttl");
    assert_eq!(defs.policies[0].vhost.as_deref(), Some("/"));
    let q = defs.queues.iter().find(|q| q.name == "q").unwrap();
    assert_eq!(q.arguments, table(&[("x-message-ttl", int(5000))]), "the queue's own arguments");
    let mut copy = broker();
    import(&mut copy, t(0), &Definitions::from_json(&defs.to_json_pretty()).unwrap()).expect("re-imports");
    assert_eq!(export(&copy), defs);
    assert_eq!(lifetime(&mut copy, "q", 6000), Some(1000));
}

#[test]
fn policies_survive_a_restart_through_the_durable_image() {
    let (b, r) = import_text(&with_policies(TTL_POLICY, r#"{"name": "q", "durable": true}"#));
    r.expect("imports");
    let image = b.durable_image();
    let (mut restarted, _) =
        Broker::from_durable_image(BrokerConfig::default(), 7, &image).expect("recovers");
    assert_eq!(restarted.policies(), b.policies());
    let now = restarted.now();
    declare(&mut restarted, now, "q", FieldTable::new()).expect("redeclared without arguments");
    declare(&mut restarted, now, "q-new", FieldTable::new()).expect("declared");
    assert_eq!(lifetime(&mut restarted, "q", 5000), Some(1000));
    assert_eq!(lifetime(&mut restarted, "q-new", 5000), Some(1000));
}

#[test]
fn set_policy_reapplies_to_existing_queues() {
    let mut b = broker();
    declare(&mut b, t(0), "q", FieldTable::new()).expect("declared");
    declare(&mut b, t(0), "q-before", FieldTable::new()).expect("declared");
    assert_eq!(lifetime(&mut b, "q-before", 3000), None);
    let policy: broker_core::amqp::definitions::Policy = serde_json::from_str(TTL_POLICY).expect("a policy");
    b.set_policy(policy.clone()).expect("valid");
    assert_eq!(lifetime(&mut b, "q", 5000), Some(1000));
    let bad = broker_core::amqp::definitions::Policy { definition: Default::default(), ..policy };
    assert_eq!(b.set_policy(bad), Err("Validation failed: no policy provided".to_string()));
}
