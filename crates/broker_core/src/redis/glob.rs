//! Redis's glob matching (`KEYS`, `SCAN MATCH`, `PSUBSCRIBE`): `*` any run of bytes, `?` one byte,
//! `[abc]`, `[^abc]`, `[a-z]` (a reversed range matches too), and `\x` the byte `x` literally.
//!
//! Invariants: matching works on bytes, never panics on a malformed pattern (an unclosed `[` matches up to
//! the pattern's end, as Redis's `stringmatchlen` does), and its work is bounded by a step budget — Redis
//! caps nested `*` backtracking the same way — so a hostile pattern cannot make it run long.

/// Whether `text` matches the glob `pattern`.
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let mut budget: u32 = 1_000_000;
    step(pattern, text, &mut budget)
}

fn step(mut p: &[u8], mut s: &[u8], budget: &mut u32) -> bool {
    while let Some(&c) = p.first() {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match c {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for i in 0..=s.len() {
                    if step(&p[1..], &s[i..], budget) {
                        return true;
                    }
                    if *budget == 0 {
                        return false;
                    }
                }
                return false;
            }
            b'?' => {
                if s.is_empty() {
                    return false;
                }
                s = &s[1..];
            }
            b'[' => {
                let Some(&ch) = s.first() else { return false };
                p = &p[1..];
                let not = p.first() == Some(&b'^');
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    match p.first() {
                        None => break,
                        Some(b'\\') if p.len() >= 2 => {
                            if p[1] == ch {
                                matched = true;
                            }
                            p = &p[2..];
                        }
                        Some(b']') => break,
                        Some(&lo) if p.len() >= 3 && p[1] == b'-' => {
                            let hi = p[2];
                            let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
                            if ch >= a && ch <= b {
                                matched = true;
                            }
                            p = &p[3..];
                        }
                        Some(&x) => {
                            if x == ch {
                                matched = true;
                            }
                            p = &p[1..];
                        }
                    }
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s = &s[1..];
                if p.is_empty() {
                    // An unclosed class ends the pattern.
                    return s.is_empty();
                }
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if s.first() != Some(&p[0]) {
                    return false;
                }
                s = &s[1..];
            }
            _ => {
                if s.first() != Some(&c) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
    }
    s.is_empty()
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
        assert!(matches(b"*", b""));
        assert!(!matches(b"job:*:x", b"job:1:y"));
        assert!(!matches(
            &b"*a".repeat(30),
            &b"a".repeat(100)[..99].iter().chain(b"b").copied().collect::<Vec<_>>()
        ));
    }
}
