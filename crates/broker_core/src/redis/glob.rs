//! Redis's glob matching (`KEYS`, `SCAN MATCH`, `PSUBSCRIBE`, `PUBSUB CHANNELS`), with the rules of
//! Redis 7.0's `stringmatchlen`: `*` any run of bytes, `?` one byte, `[abc]`, `[^abc]`, `[a-z]` (a
//! reversed range matches too; `\x` inside a class is `x`), and `\x` the byte `x` literally (a trailing
//! `\` is itself).
//!
//! Where those rules are unusual, they are kept: a pattern is tried only while text is left, so `*`
//! does not match the empty string (Redis skips the pattern for `KEYS *` and `SCAN MATCH *`, but a
//! `PSUBSCRIBE *` subscriber gets nothing published on the channel `""`); an unclosed `[` class runs
//! to the pattern's end; `[a-]` is the range from `a` to `]`.
//!
//! Invariants: matching works on bytes and never panics on a malformed pattern. Its work is bounded as
//! Redis bounds it — once the rest of a pattern after a `*` matches from no position of the text, no
//! earlier `*` tries a longer run (Redis's `skipLongerMatches`) — and by a step budget on top, so a
//! hostile pattern cannot make it run long.

/// Whether `text` matches the glob `pattern`.
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let mut state = State { skip_longer: false, budget: 10_000_000 };
    step(pattern, text, &mut state)
}

struct State {
    /// Set when the rest of a pattern after a `*` matched from no position: no longer run can help.
    skip_longer: bool,
    budget: u32,
}

fn step(mut p: &[u8], mut s: &[u8], st: &mut State) -> bool {
    while !p.is_empty() && !s.is_empty() {
        if st.budget == 0 {
            return false;
        }
        st.budget -= 1;
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if step(&p[1..], s, st) {
                        return true;
                    }
                    if st.skip_longer || st.budget == 0 {
                        return false;
                    }
                    s = &s[1..];
                }
                st.skip_longer = true;
                return false;
            }
            b'?' => s = &s[1..],
            b'[' => {
                let ch = s[0];
                p = &p[1..];
                let not = p.first() == Some(&b'^');
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    match p {
                        [b'\\', x, ..] => {
                            matched |= *x == ch;
                            p = &p[1..];
                        }
                        [b']', ..] => break,
                        // Unclosed: the class ends the pattern, so the text must end after this byte.
                        [] => return matched != not && s.len() == 1,
                        [lo, b'-', hi, ..] => {
                            let (a, b) = if lo <= hi { (*lo, *hi) } else { (*hi, *lo) };
                            matched |= (a..=b).contains(&ch);
                            p = &p[2..];
                        }
                        [x, ..] => matched |= *x == ch,
                    }
                    p = &p[1..];
                }
                if matched == not {
                    return false;
                }
                s = &s[1..];
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if p[0] != s[0] {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if c != s[0] {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while p.first() == Some(&b'*') {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_glob_rules() {
        assert!(matches(b"h?llo", b"hello"));
        assert!(matches(b"h*llo", b"heeeello"));
        assert!(matches(b"h[ae]llo", b"hallo"));
        assert!(!matches(b"h[^e]llo", b"hello"));
        assert!(matches(b"h[a-b]llo", b"hbllo"));
        assert!(matches(b"h[b-a]llo", b"hallo"));
        assert!(matches(b"a\\*", b"a*"));
        assert!(!matches(b"a\\*", b"ab"));
        assert!(!matches(b"job:*:x", b"job:1:y"));
        assert!(matches(b"a*", b"a"));
        assert!(matches(b"a**", b"a"));
        assert!(matches(b"", b""));
        assert!(!matches(b"?", b""));
    }

    #[test]
    fn the_unusual_corners_of_stringmatchlen() {
        // `*` is tried only while text is left: it does not match the empty string.
        assert!(!matches(b"*", b""));
        assert!(!matches(b"**", b""));
        // An unclosed class runs to the pattern's end and then needs the text to end too.
        assert!(matches(b"a[bc", b"ab"));
        assert!(matches(b"a[bc", b"ac"));
        assert!(!matches(b"a[bc", b"abc"));
        assert!(matches(b"[^", b"x"));
        // `[a-]` is the range a..']', and what follows is still inside the class.
        assert!(matches(b"[a-]x", b"]"));
        assert!(matches(b"[a-]x", b"x"));
        // An escape inside a class; a trailing backslash is itself.
        assert!(matches(b"[\\]]", b"]"));
        assert!(matches(b"a\\", b"a\\"));
        assert!(matches(b"[\\", b"\\"));
    }

    #[test]
    fn cases_from_redis_own_tests() {
        // tests/unit/keyspace.tcl, "KEYS with pattern".
        let keys: [&[u8]; 6] = [b"key_x", b"key_y", b"key_z", b"foo_a", b"foo_b", b"foo_c"];
        let foo: Vec<&[u8]> = keys.iter().copied().filter(|k| matches(b"foo*", k)).collect();
        assert_eq!(foo, [&b"foo_a"[..], b"foo_b", b"foo_c"]);
        // "Regression for pattern matching long nested loops": no match, and quickly.
        assert!(!matches(b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", &[b'a'; 40]));
        // tests/unit/pubsub.tcl, "PUBLISH/PSUBSCRIBE basics".
        for (channel, hits) in
            [("foo.1", true), ("bar.1", true), ("foo1", false), ("barfoo.1", false), ("qux.1", false)]
        {
            let got = matches(b"foo.*", channel.as_bytes()) || matches(b"bar.*", channel.as_bytes());
            assert_eq!(got, hits, "{channel}");
        }
        assert!(matches(b"ch*", b"channel"));
    }

    #[test]
    fn a_hostile_pattern_is_answered_without_backtracking_forever() {
        let text: Vec<u8> = b"a".repeat(99).into_iter().chain(*b"b").collect();
        assert!(!matches(&b"*a".repeat(30), &text));
        assert!(matches(&b"*a".repeat(30), &b"a".repeat(100)));
    }
}
