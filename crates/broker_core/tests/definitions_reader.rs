//! The definitions reader's answers, case by case: every entity list, every field's default, `null`s,
//! unknown, missing and duplicate fields, wrong types, out-of-range numbers and malformed JSON, each with
//! the value read (its `Debug`) or the error with its line and column. The expected file was written by
//! serde's derived reader, before the entities got their shared hand-written one
//! (`amqp::definitions`' `read` module); both must answer alike. `UPDATE_GOLDEN=1` rewrites it.

use broker_core::amqp::definitions::Definitions;
use std::path::Path;

const CASES: &str = include_str!("definitions/reader-cases.jsonl");
const FIXTURE: &str = include_str!("definitions/rabbitmq-3.10-export.json");

fn answer(text: &str) -> String {
    match Definitions::from_json(text) {
        Ok(defs) => format!("ok {defs:?}"),
        Err(e) => format!("err {e}"),
    }
}

#[test]
fn every_case_reads_as_the_derived_reader_read_it() {
    let mut got = String::new();
    for line in CASES.lines() {
        got.push_str(&format!("{line}\n=> {}\n", answer(line)));
    }
    got.push_str(&format!("rabbitmq-3.10-export.json\n=> {}\n", answer(FIXTURE)));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/definitions/reader-cases.expected");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let expected = std::fs::read_to_string(&path).expect("reader-cases.expected (UPDATE_GOLDEN=1 writes it)");
    for (n, (g, e)) in got.lines().zip(expected.lines()).enumerate() {
        assert_eq!(g, e, "line {} of reader-cases.expected", n + 1);
    }
    assert_eq!(got.lines().count(), expected.lines().count());
}
