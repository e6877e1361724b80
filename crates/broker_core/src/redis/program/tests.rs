use super::*;
use crate::redis::reply::Reply;

#[test]
fn redis_cli_quoting_and_errors_name_line_and_column() {
    let p = parse("RPUSH q \"a b\" 'c\\'d' \"\\x41\\n\"\n").unwrap();
    assert_eq!(
        p.statements[0].kind,
        StatementKind::Command(vec![
            b"RPUSH".to_vec(),
            b"q".to_vec(),
            b"a b".to_vec(),
            b"c'd".to_vec(),
            b"A\n".to_vec()
        ])
    );
    assert_eq!(
        parse("# c\nSET a \"b\"c\n").unwrap_err().located("p.redis"),
        "p.redis:2:10: Invalid argument(s)"
    );
    assert_eq!(parse("SET a \"b\n").unwrap_err().located("p.redis"), "p.redis:1:7: Invalid argument(s)");
    assert!(parse("sleep -1").is_err());
    assert!(parse("sleep 61").is_err());
    assert!(parse("client a b").is_err());
    assert!(parse("client bad!name").is_err());
}

#[test]
fn redis_cli_prints_nested_arrays() {
    let r = Reply::Array(vec![Reply::Array(vec![
        Reply::bulk("1-1"),
        Reply::Array(vec![Reply::bulk("a"), Reply::bulk("x\"\n\x01")]),
    ])]);
    assert_eq!(r.render(), "1) 1) \"1-1\"\n   2) 1) \"a\"\n      2) \"x\\\"\\n\\x01\"\n");
    let wide = Reply::Array((0..10).map(Reply::Int).collect());
    assert!(wide.render().starts_with(" 1) (integer) 0\n 2) (integer) 1\n"));
    assert!(wide.render().ends_with("10) (integer) 9\n"));
    assert_eq!(Reply::Array(vec![]).render(), "(empty array)\n");
}

#[test]
fn a_blocked_pop_is_served_by_another_client() {
    let p = parse("client w\nBRPOP jobs 0\nclient main\nLPUSH jobs a b\nLLEN jobs\n").unwrap();
    assert_eq!(
        run(&p).text(),
        "w> BRPOP jobs 0\n(blocked)\nmain> LPUSH jobs a b\n(integer) 2\nw> (unblocked, line 2)\n1) \"jobs\"\n2) \"a\"\nmain> LLEN jobs\n(integer) 1\n"
    );
}

#[test]
fn the_comparison_sorts_the_keys_of_keys_and_scan_replies_and_nothing_else() {
    let p = parse("KEYS *\nSCAN 0\nLRANGE l 0 -1\n").unwrap();
    let real = "main> KEYS *\n1) \"b\"\n2) \"a\"\nmain> SCAN 0\n1) \"0\"\n2) 1) \"z\"\n   2) \"y\"\nmain> LRANGE l 0 -1\n1) \"b\"\n2) \"a\"\n";
    let same = "main> KEYS *\n1) \"a\"\n2) \"b\"\nmain> SCAN 0\n1) \"0\"\n2) 1) \"y\"\n   2) \"z\"\nmain> LRANGE l 0 -1\n1) \"b\"\n2) \"a\"\n";
    assert!(compare::differences("t", same, real, &p, "").is_empty());
    // A list's order is data: it is compared as printed.
    let list_order = same.replace("LRANGE l 0 -1\n1) \"b\"\n2) \"a\"", "LRANGE l 0 -1\n1) \"a\"\n2) \"b\"");
    assert!(!compare::differences("t", &list_order, real, &p, "").is_empty());
    // So are a SCAN's cursor and the keys themselves.
    let cursor = same.replace("1) \"0\"", "1) \"4\"");
    assert!(!compare::differences("t", &cursor, real, &p, "").is_empty());
    let other_key = same.replace("1) \"y\"", "1) \"x\"");
    assert!(!compare::differences("t", &other_key, real, &p, "").is_empty());
}

#[test]
fn the_comparison_numbers_the_times_of_xinfo_stream_full_by_instant() {
    let p = parse("XINFO STREAM s FULL\nXLEN s\n").unwrap();
    let engine = "main> XINFO STREAM s FULL\n1) (integer) 1700000000000\n2) (integer) 1700000000300\n3) (integer) 1700000000000\nmain> XLEN s\n(integer) 1700000000300\n";
    // The real server's instants are a few milliseconds later, each by its own round trips.
    let real = "main> XINFO STREAM s FULL\n1) (integer) 1765090000004\n2) (integer) 1765090000309\n3) (integer) 1765090000006\nmain> XLEN s\n(integer) 1700000000300\n";
    assert!(compare::differences("t", engine, real, &p, "").is_empty());
    // Which instant each time belongs to is compared.
    let swapped = real.replace("1) (integer) 1765090000004", "1) (integer) 1765090000304");
    assert!(!compare::differences("t", engine, &swapped, &p, "").is_empty());
    // Outside XINFO STREAM … FULL an integer is compared as it is.
    let other = real.replace("(integer) 1700000000300\n", "(integer) 1700000000301\n");
    assert!(!compare::differences("t", engine, &other, &p, "").is_empty());
}
