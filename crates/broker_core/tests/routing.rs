//! Routing tests: the spec's topic vectors, headers matching in all four `x-match` modes, and seeded
//! comparisons of every exchange type's `BindingTable` against deliberately naive references.
//!
//! A seeded test that fails prints `SEED=<n>`; rerun just that seed with `ROUTING_SEED=<n>`.

use broker_core::amqp::exchange::{Binding, BindingTable, Destination, ExchangeType};
use broker_core::amqp::{ErrorScope, FieldTable, FieldValue, ReplyCode};
use broker_core::Prng;

// ---- helpers ------------------------------------------------------------------------------------------

fn queue(name: &str) -> Destination {
    Destination::Queue(name.into())
}

fn exchange(name: &str) -> Destination {
    Destination::Exchange(name.into())
}

fn binding(destination: Destination, routing_key: &str, arguments: FieldTable) -> Binding {
    Binding { destination, routing_key: routing_key.to_string(), arguments }
}

fn table(entries: &[(&str, FieldValue)]) -> FieldTable {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn s(v: &str) -> FieldValue {
    FieldValue::Str(v.to_string())
}

fn route(t: &BindingTable, key: &str, headers: &FieldTable) -> Vec<Destination> {
    let mut out = Vec::new();
    t.route(key, headers, &mut out);
    out
}

fn route_key(t: &BindingTable, key: &str) -> Vec<Destination> {
    route(t, key, &FieldTable::new())
}

/// Prints the seed if the test panics while this is alive.
struct SeedGuard(u64);

impl Drop for SeedGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("SEED={} (rerun with ROUTING_SEED={})", self.0, self.0);
        }
    }
}

/// The seeds a seeded test runs: `ROUTING_SEED` alone if set, else `count` fixed ones.
fn seeds(count: u64) -> Vec<u64> {
    match std::env::var("ROUTING_SEED") {
        Ok(seed) => vec![seed.parse().expect("ROUTING_SEED is a number")],
        Err(_) => (0..count).map(|i| 0x5eed_0000 + i).collect(),
    }
}

// ---- naive references -----------------------------------------------------------------------------------

/// RabbitMQ's topic matching, written as directly as possible: split both on '.', the empty string
/// being zero words; `*` is one word, `#` is any number of words, anything else is itself.
fn topic_matches(pattern: &str, key: &str) -> bool {
    fn words(s: &str) -> Vec<&str> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split('.').collect()
        }
    }
    fn go(pattern: &[&str], key: &[&str]) -> bool {
        match pattern.split_first() {
            None => key.is_empty(),
            Some((&"#", rest)) => (0..=key.len()).any(|skip| go(rest, &key[skip..])),
            Some((&"*", rest)) => !key.is_empty() && go(rest, &key[1..]),
            Some((word, rest)) => key.first() == Some(word) && go(rest, &key[1..]),
        }
    }
    go(&words(pattern), &words(key))
}

/// RabbitMQ's headers matching, written out per mode.
fn headers_match(arguments: &FieldTable, headers: &FieldTable) -> bool {
    let mode = match arguments.get("x-match") {
        Some(FieldValue::Str(m)) => m.as_str(),
        _ => "all",
    };
    let with_x = mode.ends_with("-with-x");
    let results: Vec<bool> = arguments
        .iter()
        .filter(|(k, _)| if with_x { k.as_str() != "x-match" } else { !k.starts_with("x-") })
        .map(|(k, v)| match v {
            FieldValue::Void => headers.contains_key(k),
            v => headers.get(k).is_some_and(|h| erlang_equal(v, h)),
        })
        .collect();
    if mode.starts_with("any") {
        results.contains(&true)
    } else {
        !results.contains(&false)
    }
}

/// Erlang's `==` on top-level header values, as RabbitMQ 3.10.8 compares them
/// (tests/scenarios/amqp/headers-value-comparison): numbers by value whatever their type.
fn erlang_equal(a: &FieldValue, b: &FieldValue) -> bool {
    match (a, b) {
        (FieldValue::Int(i), FieldValue::Float(f)) | (FieldValue::Float(f), FieldValue::Int(i)) => {
            *i as f64 == *f
        }
        _ => a == b,
    }
}

/// Every binding checked against the message; the destinations sorted, each once.
fn naive_route(
    kind: ExchangeType,
    bindings: &[Binding],
    key: &str,
    headers: &FieldTable,
) -> Vec<Destination> {
    let mut out: Vec<Destination> = bindings
        .iter()
        .filter(|b| match kind {
            ExchangeType::Direct => b.routing_key == key,
            ExchangeType::Fanout => true,
            ExchangeType::Topic => topic_matches(&b.routing_key, key),
            ExchangeType::Headers => headers_match(&b.arguments, headers),
        })
        .map(|b| b.destination.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

// ---- topic: spec vectors ---------------------------------------------------------------------------------

/// RabbitMQ tutorial 5: Q1 binds `*.orange.*`; Q2 binds `*.*.rabbit` and `lazy.#`.
fn tutorial_five() -> BindingTable {
    let mut t = BindingTable::new(ExchangeType::Topic);
    for (q, key) in [("Q1", "*.orange.*"), ("Q2", "*.*.rabbit"), ("Q2", "lazy.#")] {
        assert_eq!(t.bind(binding(queue(q), key, FieldTable::new())), Ok(true));
    }
    t.assert_invariants();
    t
}

#[test]
fn topic_tutorial_five_vectors() {
    let t = tutorial_five();
    let cases: [(&str, &[&str]); 11] = [
        ("quick.orange.rabbit", &["Q1", "Q2"]),
        ("lazy.orange.elephant", &["Q1", "Q2"]),
        ("quick.orange.fox", &["Q1"]),
        ("lazy.brown.fox", &["Q2"]),
        // Matches both of Q2's bindings, delivered once.
        ("lazy.pink.rabbit", &["Q2"]),
        ("quick.brown.fox", &[]),
        ("orange", &[]),
        ("quick.orange.male.rabbit", &[]),
        ("lazy.orange.male.rabbit", &["Q2"]),
        ("lazy", &["Q2"]),
        ("", &[]),
    ];
    for (key, expected) in cases {
        let expected: Vec<Destination> = expected.iter().map(|q| queue(q)).collect();
        assert_eq!(route_key(&t, key), expected, "routing key '{key}'");
    }
}

#[test]
fn topic_spec_per_pattern_vectors() {
    let takes: [(&str, &[&str]); 3] = [
        ("*.orange.*", &["quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox"]),
        (
            "lazy.#",
            &[
                "lazy.orange.elephant",
                "lazy.brown.fox",
                "lazy.pink.rabbit",
                "lazy.orange.male.rabbit",
                "lazy",
            ],
        ),
        ("*.*.rabbit", &["quick.orange.rabbit", "lazy.pink.rabbit"]),
    ];
    let all_keys: Vec<&str> = takes.iter().flat_map(|(_, keys)| keys.iter().copied()).collect();
    for (pattern, taken) in takes {
        let mut t = BindingTable::new(ExchangeType::Topic);
        t.bind(binding(queue("q"), pattern, FieldTable::new())).unwrap();
        for key in &all_keys {
            let expected = if taken.contains(key) { vec![queue("q")] } else { vec![] };
            assert_eq!(route_key(&t, key), expected, "pattern '{pattern}' key '{key}'");
        }
    }
    // `#` takes every key, the empty one included.
    let mut t = BindingTable::new(ExchangeType::Topic);
    t.bind(binding(queue("all"), "#", FieldTable::new())).unwrap();
    for key in all_keys.iter().copied().chain(["", ".", "a..b", "#", "*"]) {
        assert_eq!(route_key(&t, key), [queue("all")], "key '{key}'");
    }
}

#[test]
fn topic_edge_patterns_follow_rabbitmq() {
    let cases = [
        ("#.#", "", true),
        ("#.#", "a.b.c", true),
        ("a.#.b", "a.b", true),
        ("a.#.b", "a.x.y.b", true),
        ("a.#.b", "a.b.x", false),
        ("#.a", "a", true),
        ("#.a", "x.a", true),
        ("#.a", "a.x", false),
        ("*", "", false),
        ("*", "a", true),
        ("*", "a.b", false),
        ("a.*.b", "a..b", true),
        ("a..b", "a..b", true),
        ("a..b", "a.b", false),
        ("a.*", "a.", true),
        ("a", "a.", false),
        ("", "", true),
        ("", "a", false),
        ("*.*", ".", true),
        ("a*", "ab", false),
        ("a*", "a*", true),
    ];
    for (pattern, key, expected) in cases {
        assert_eq!(topic_matches(pattern, key), expected, "reference: pattern '{pattern}' key '{key}'");
        let mut t = BindingTable::new(ExchangeType::Topic);
        t.bind(binding(queue("q"), pattern, FieldTable::new())).unwrap();
        let routed = route_key(&t, key) == [queue("q")];
        assert_eq!(routed, expected, "trie: pattern '{pattern}' key '{key}'");
        assert_eq!(t.explain(key, &FieldTable::new())[0].matched, expected, "explain: '{pattern}' '{key}'");
    }
}

#[test]
fn topic_explain_gives_reasons() {
    let t = tutorial_five();
    let checks = t.explain("quick.orange.rabbit", &FieldTable::new());
    let lines: Vec<(bool, &str)> = checks.iter().map(|c| (c.matched, c.reason.as_str())).collect();
    assert_eq!(
        lines,
        [
            (true, "pattern '*.orange.*' matches 'quick.orange.rabbit'"),
            (true, "pattern '*.*.rabbit' matches 'quick.orange.rabbit'"),
            (false, "pattern 'lazy.#' does not match 'quick.orange.rabbit'"),
        ]
    );
    assert_eq!(checks[2].binding.destination, queue("Q2"));
}

// ---- topic: seeded comparison with the naive matcher ------------------------------------------------------

/// A random pattern or key over a tiny alphabet so that collisions, wildcards and empty words are common.
fn random_words(prng: &mut Prng, alphabet: &[&str], max_words: u64) -> String {
    let n = prng.range_inclusive(0, max_words);
    let words: Vec<&str> = (0..n).map(|_| *prng.pick(alphabet).unwrap()).collect();
    words.join(".")
}

const PATTERN_WORDS: &[&str] = &["a", "b", "", "*", "#", "*", "#"];
const KEY_WORDS: &[&str] = &["a", "b", "", "c", "*", "#"];

#[test]
fn topic_trie_agrees_with_naive_matcher() {
    for seed in seeds(60) {
        let _guard = SeedGuard(seed);
        let mut prng = Prng::new(seed);
        let mut t = BindingTable::new(ExchangeType::Topic);
        let mut model: Vec<Binding> = Vec::new();
        for _step in 0..60 {
            match prng.below(10) {
                0..=5 => {
                    let dest = queue(&format!("q{}", prng.below(12)));
                    let b = binding(dest, &random_words(&mut prng, PATTERN_WORDS, 5), FieldTable::new());
                    let fresh = !model.contains(&b);
                    assert_eq!(t.bind(b.clone()), Ok(fresh), "bind {b:?}");
                    if fresh {
                        model.push(b);
                    }
                }
                6..=7 if !model.is_empty() => {
                    let b = model.remove(prng.below(model.len() as u64) as usize);
                    assert!(t.unbind(&b.destination, &b.routing_key, &b.arguments), "unbind {b:?}");
                    assert!(!t.unbind(&b.destination, &b.routing_key, &b.arguments), "unbind twice {b:?}");
                }
                8 => {
                    let dest = queue(&format!("q{}", prng.below(12)));
                    let expected = model.iter().filter(|b| b.destination == dest).count();
                    model.retain(|b| b.destination != dest);
                    assert_eq!(t.remove_destination(&dest), expected, "remove_destination {dest}");
                }
                _ => {}
            }
            t.assert_invariants();
            assert_eq!(t.bindings().cloned().collect::<Vec<_>>(), model, "binding order");
            for _ in 0..25 {
                let key = random_words(&mut prng, KEY_WORDS, 6);
                let expected = naive_route(ExchangeType::Topic, &model, &key, &FieldTable::new());
                assert_eq!(route_key(&t, &key), expected, "key '{key}' bindings {model:?}");
                let checks = t.explain(&key, &FieldTable::new());
                assert_eq!(checks.len(), model.len());
                for (check, b) in checks.iter().zip(&model) {
                    assert_eq!(&check.binding, b);
                    assert_eq!(check.matched, topic_matches(&b.routing_key, &key), "explain '{key}' {b:?}");
                }
            }
        }
    }
}

#[test]
fn topic_trie_is_pruned_after_removing_everything() {
    for seed in seeds(5) {
        let _guard = SeedGuard(seed);
        let mut prng = Prng::new(seed);
        let mut t = BindingTable::new(ExchangeType::Topic);
        assert_eq!(t.topic_node_count(), Some(1));
        for i in 0..400 {
            let pattern = random_words(&mut prng, &["a", "b", "c", "*", "#", ""], 6);
            t.bind(binding(queue(&format!("q{}", i % 7)), &pattern, FieldTable::new())).unwrap();
        }
        assert!(t.topic_node_count().unwrap() > 1);
        for i in 0..7 {
            t.remove_destination(&queue(&format!("q{i}")));
            t.assert_invariants();
        }
        assert!(t.is_empty());
        assert_eq!(t.topic_node_count(), Some(1), "trie keeps empty nodes");
    }
}

#[test]
fn topic_pathological_hashes_route_quickly() {
    // Each '#' multiplies the ways to split a key; this only finishes because matching remembers what it
    // has visited (the naive reference would take millions of steps here).
    let mut t = BindingTable::new(ExchangeType::Topic);
    t.bind(binding(queue("q"), "#.a.#.a.#.a.#.a.#.a.#.b", FieldTable::new())).unwrap();
    let key = vec!["a"; 60].join(".");
    assert_eq!(route_key(&t, &key), []);
    assert_eq!(route_key(&t, &format!("{key}.b")), [queue("q")]);
    assert!(!t.explain(&key, &FieldTable::new())[0].matched);
}

// ---- direct and fanout ------------------------------------------------------------------------------------

#[test]
fn direct_routes_by_exact_key_each_destination_once_sorted() {
    let mut t = BindingTable::new(ExchangeType::Direct);
    t.bind(binding(queue("z"), "black", FieldTable::new())).unwrap();
    t.bind(binding(queue("a"), "black", FieldTable::new())).unwrap();
    t.bind(binding(exchange("e"), "black", FieldTable::new())).unwrap();
    // Same destination and key, other arguments: a second binding, still one delivery.
    assert_eq!(t.bind(binding(queue("a"), "black", table(&[("k", s("v"))]))), Ok(true));
    assert_eq!(t.bind(binding(queue("a"), "black", FieldTable::new())), Ok(false));
    t.bind(binding(queue("a"), "", FieldTable::new())).unwrap();
    t.assert_invariants();
    assert_eq!(t.len(), 5);
    assert_eq!(route_key(&t, "black"), [queue("a"), queue("z"), exchange("e")]);
    assert_eq!(route_key(&t, "Black"), []);
    assert_eq!(route_key(&t, "black."), []);
    assert_eq!(route_key(&t, ""), [queue("a")]);
    let checks = t.explain("black", &FieldTable::new());
    assert_eq!(checks[0].reason, "binding key 'black' equals routing key 'black'");
    assert!(checks[4].reason.contains("differs"), "{}", checks[4].reason);
    assert!(!checks[4].matched);
}

#[test]
fn fanout_takes_every_binding_and_ignores_the_key() {
    let mut t = BindingTable::new(ExchangeType::Fanout);
    t.bind(binding(queue("b"), "x", FieldTable::new())).unwrap();
    t.bind(binding(queue("a"), "y", FieldTable::new())).unwrap();
    t.bind(binding(queue("b"), "z", FieldTable::new())).unwrap();
    assert_eq!(route_key(&t, "anything"), [queue("a"), queue("b")]);
    assert_eq!(t.remove_destination(&queue("b")), 2);
    assert_eq!(route_key(&t, ""), [queue("a")]);
    t.assert_invariants();
    assert!(t.explain("k", &FieldTable::new()).iter().all(|c| c.matched));
}

#[test]
fn route_appends_and_leaves_earlier_entries_alone() {
    let t = tutorial_five();
    // The last earlier entry equals the first appended one: still appended.
    let mut out = vec![queue("earlier"), queue("Q2")];
    t.route("lazy.pink.rabbit", &FieldTable::new(), &mut out);
    assert_eq!(out, [queue("earlier"), queue("Q2"), queue("Q2")]);
    t.route("quick.orange.rabbit", &FieldTable::new(), &mut out);
    assert_eq!(out, [queue("earlier"), queue("Q2"), queue("Q2"), queue("Q1"), queue("Q2")]);
}

// ---- headers -------------------------------------------------------------------------------------------

#[test]
fn headers_matching_table() {
    let pdf_report = table(&[("format", s("pdf")), ("type", s("report"))]);
    let pdf_only = table(&[("format", s("pdf"))]);
    let zip_log = table(&[("format", s("zip")), ("type", s("log"))]);
    let with_x = table(&[("format", s("pdf")), ("x-tag", s("t"))]);
    let none = FieldTable::new();
    let int_one = table(&[("n", FieldValue::Int(1))]);
    let float_one = table(&[("n", FieldValue::Float(1.0))]);
    let void_header = table(&[("format", FieldValue::Void)]);
    // (binding arguments, message headers, expected)
    let cases: Vec<(FieldTable, &FieldTable, bool)> = vec![
        // all (also the default)
        (table(&[("x-match", s("all")), ("format", s("pdf")), ("type", s("report"))]), &pdf_report, true),
        (table(&[("x-match", s("all")), ("format", s("pdf")), ("type", s("report"))]), &pdf_only, false),
        (table(&[("format", s("pdf")), ("type", s("report"))]), &pdf_report, true),
        (table(&[("format", s("pdf")), ("type", s("report"))]), &pdf_only, false),
        (table(&[("x-match", s("all"))]), &none, true),
        (table(&[("x-match", s("all")), ("x-tag", s("other"))]), &with_x, true),
        (table(&[("x-match", s("all")), ("format", FieldValue::Void)]), &pdf_only, true),
        (table(&[("x-match", s("all")), ("format", FieldValue::Void)]), &void_header, true),
        (table(&[("x-match", s("all")), ("format", FieldValue::Void)]), &none, false),
        (table(&[("x-match", s("all")), ("n", FieldValue::Int(1))]), &int_one, true),
        // RabbitMQ 3.10.8 matches 1 with 1.0 (tests/scenarios/amqp/headers-value-comparison).
        (table(&[("x-match", s("all")), ("n", FieldValue::Int(1))]), &float_one, true),
        (table(&[("x-match", s("all")), ("n", s("1"))]), &int_one, false),
        (table(&[("x-match", s("all")), ("format", s("pdf"))]), &void_header, false),
        // any
        (table(&[("x-match", s("any")), ("format", s("pdf")), ("type", s("report"))]), &pdf_only, true),
        (table(&[("x-match", s("any")), ("format", s("pdf")), ("type", s("report"))]), &zip_log, false),
        (table(&[("x-match", s("any"))]), &pdf_report, false),
        (table(&[("x-match", s("any")), ("x-tag", s("t"))]), &with_x, false),
        (table(&[("x-match", s("any")), ("x-tag", s("t")), ("type", FieldValue::Void)]), &zip_log, true),
        // all-with-x: x- arguments count, x-match itself does not
        (table(&[("x-match", s("all-with-x")), ("x-tag", s("t")), ("format", s("pdf"))]), &with_x, true),
        (table(&[("x-match", s("all-with-x")), ("x-tag", s("u")), ("format", s("pdf"))]), &with_x, false),
        (table(&[("x-match", s("all-with-x")), ("x-tag", FieldValue::Void)]), &pdf_only, false),
        (table(&[("x-match", s("all-with-x"))]), &none, true),
        // any-with-x
        (table(&[("x-match", s("any-with-x")), ("x-tag", s("t"))]), &with_x, true),
        (table(&[("x-match", s("any-with-x")), ("x-tag", s("t"))]), &pdf_report, false),
        (table(&[("x-match", s("any-with-x")), ("x-tag", s("u")), ("format", s("pdf"))]), &with_x, true),
        (table(&[("x-match", s("any-with-x"))]), &with_x, false),
    ];
    for (i, (arguments, headers, expected)) in cases.into_iter().enumerate() {
        assert_eq!(headers_match(&arguments, headers), expected, "reference, case {i}");
        let mut t = BindingTable::new(ExchangeType::Headers);
        assert_eq!(t.bind(binding(queue("q"), "ignored", arguments.clone())), Ok(true), "case {i}");
        let routed = route(&t, "any.key", headers) == [queue("q")];
        assert_eq!(routed, expected, "route, case {i}: {arguments:?} vs {headers:?}");
        let check = &t.explain("any.key", headers)[0];
        assert_eq!(check.matched, expected, "explain, case {i}: {}", check.reason);
        assert!(check.reason.starts_with("x-match "), "case {i}: {}", check.reason);
    }
}

#[test]
fn headers_explain_reasons() {
    let mut t = BindingTable::new(ExchangeType::Headers);
    t.bind(binding(queue("a"), "", table(&[("x-match", s("all")), ("format", s("pdf"))]))).unwrap();
    t.bind(binding(queue("b"), "", table(&[("x-match", s("any")), ("format", s("pdf"))]))).unwrap();
    t.bind(binding(queue("c"), "", table(&[("format", FieldValue::Void)]))).unwrap();
    let reasons: Vec<String> =
        t.explain("", &table(&[("format", s("zip"))])).into_iter().map(|c| c.reason).collect();
    assert_eq!(
        reasons,
        [
            "x-match all: header 'format' = \"pdf\" but the message has \"zip\"",
            "x-match any: no header matched",
            "x-match all: 1 of 1 headers matched",
        ]
    );
    let reasons: Vec<String> = t.explain("", &FieldTable::new()).into_iter().map(|c| c.reason).collect();
    assert_eq!(reasons[0], "x-match all: header 'format' = \"pdf\" but the message has no 'format'");
    assert_eq!(reasons[2], "x-match all: header 'format' is missing");
    let pdf = table(&[("format", s("pdf"))]);
    assert_eq!(t.explain("", &pdf)[1].reason, "x-match any: header 'format' = \"pdf\" matches");
    assert_eq!(route(&t, "", &pdf), [queue("a"), queue("b"), queue("c")]);
}

#[test]
fn headers_invalid_x_match_is_a_precondition_failed_channel_error() {
    let mut t = BindingTable::new(ExchangeType::Headers);
    let e = t.bind(binding(queue("q"), "", table(&[("x-match", s("one"))]))).unwrap_err();
    assert_eq!(e.scope, ErrorScope::Channel);
    assert_eq!(e.code, ReplyCode::PreconditionFailed);
    assert_eq!(
        e.text,
        "PRECONDITION_FAILED - Invalid x-match field value <<\"one\">>; expected all, any, all-with-x, or any-with-x"
    );
    let e = t.bind(binding(queue("q"), "", table(&[("x-match", FieldValue::Bool(true))]))).unwrap_err();
    assert_eq!(
        e.text,
        "PRECONDITION_FAILED - Invalid x-match field type bool (value true); expected longstr"
    );
    assert!(t.is_empty());
    t.assert_invariants();
    // Other exchange types do not look at x-match.
    let mut direct = BindingTable::new(ExchangeType::Direct);
    assert_eq!(direct.bind(binding(queue("q"), "", table(&[("x-match", s("one"))]))), Ok(true));
}

// ---- every type: seeded bind / unbind / remove_destination against a naive model ---------------------------

fn random_arguments(prng: &mut Prng, kind: ExchangeType) -> FieldTable {
    let mut arguments = FieldTable::new();
    if kind == ExchangeType::Headers {
        let modes = ["all", "any", "all-with-x", "any-with-x", "(absent)"];
        let mode = *prng.pick(&modes).unwrap();
        if mode != "(absent)" {
            arguments.insert("x-match".to_string(), s(mode));
        }
    }
    let values = [s("1"), s("2"), FieldValue::Int(1), FieldValue::Void];
    for key in ["h1", "h2", "x-h"] {
        if prng.chance(1, 2) {
            arguments.insert(key.to_string(), prng.pick(&values).unwrap().clone());
        }
    }
    arguments
}

fn random_headers(prng: &mut Prng) -> FieldTable {
    let values = [s("1"), s("2"), FieldValue::Int(1), FieldValue::Float(1.0), FieldValue::Void];
    let mut headers = FieldTable::new();
    for key in ["h1", "h2", "x-h", "other"] {
        if prng.chance(1, 2) {
            headers.insert(key.to_string(), prng.pick(&values).unwrap().clone());
        }
    }
    headers
}

fn random_destination(prng: &mut Prng) -> Destination {
    let n = prng.below(5);
    if prng.chance(1, 4) {
        exchange(&format!("e{n}"))
    } else {
        queue(&format!("q{n}"))
    }
}

#[test]
fn every_type_agrees_with_naive_model_under_bind_unbind_remove() {
    let kinds = [ExchangeType::Direct, ExchangeType::Fanout, ExchangeType::Topic, ExchangeType::Headers];
    for seed in seeds(25) {
        let _guard = SeedGuard(seed);
        let mut prng = Prng::new(seed);
        for kind in kinds {
            let mut t = BindingTable::new(kind);
            let mut model: Vec<Binding> = Vec::new();
            for _step in 0..80 {
                match prng.below(10) {
                    0..=4 => {
                        let key = random_words(&mut prng, &["a", "b", "*", "#"], 2);
                        let b =
                            binding(random_destination(&mut prng), &key, random_arguments(&mut prng, kind));
                        let fresh = !model.contains(&b);
                        assert_eq!(t.bind(b.clone()), Ok(fresh), "{kind}: bind {b:?}");
                        if fresh {
                            model.push(b);
                        }
                    }
                    5 if !model.is_empty() => {
                        // Bind again something that exists: a no-op.
                        let b = model[prng.below(model.len() as u64) as usize].clone();
                        assert_eq!(t.bind(b), Ok(false));
                    }
                    6..=7 => {
                        // Unbind something that may or may not exist.
                        let b = if !model.is_empty() && prng.chance(2, 3) {
                            model[prng.below(model.len() as u64) as usize].clone()
                        } else {
                            binding(random_destination(&mut prng), "a", random_arguments(&mut prng, kind))
                        };
                        let existed = model.contains(&b);
                        model.retain(|m| m != &b);
                        assert_eq!(t.unbind(&b.destination, &b.routing_key, &b.arguments), existed, "{kind}");
                    }
                    _ => {
                        let dest = random_destination(&mut prng);
                        let expected = model.iter().filter(|b| b.destination == dest).count();
                        model.retain(|b| b.destination != dest);
                        assert_eq!(t.remove_destination(&dest), expected, "{kind}: remove {dest}");
                    }
                }
                t.assert_invariants();
                assert_eq!(t.len(), model.len());
                assert_eq!(t.bindings().cloned().collect::<Vec<_>>(), model, "{kind}: binding order");
                for _ in 0..5 {
                    let key = random_words(&mut prng, &["a", "b", ""], 2);
                    let headers = random_headers(&mut prng);
                    let expected = naive_route(kind, &model, &key, &headers);
                    assert_eq!(
                        route(&t, &key, &headers),
                        expected,
                        "{kind}: key '{key}' headers {headers:?}"
                    );
                    let explained: Vec<Destination> = {
                        let mut d: Vec<Destination> = t
                            .explain(&key, &headers)
                            .into_iter()
                            .filter(|c| c.matched)
                            .map(|c| c.binding.destination)
                            .collect();
                        d.sort();
                        d.dedup();
                        d
                    };
                    assert_eq!(explained, expected, "{kind}: explain agrees with route");
                }
            }
        }
    }
}
