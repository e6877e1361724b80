//! The generic half of `--compare`: two runs of one scenario as normalised lines (each model normalises
//! its own), a longest-common-subsequence diff of them, and the allow-list that names each difference
//! kept with its reason.
//!
//! # Invariants
//! - The diff lists exactly the lines one side has and the other has not, in order.
//! - Every allow-list entry has a reason; an unknown key is an error, never ignored.

use std::collections::BTreeMap;

/// One normalised line and the scenario line of the step it belongs to (0: the end lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub step_line: u32,
    pub text: String,
}

/// A line one side has and the other has not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The name of the side that has the line (`"engine"`, or the real system's).
    pub side: &'static str,
    pub line: Line,
    /// The reason from the allow-list, when an entry covers this difference.
    pub allowed: Option<String>,
}

/// One allow-list entry: differences at `line` of scenario `scenario` (whose text contains `contains`,
/// when given) are inherent, for `reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowEntry {
    pub scenario: String,
    pub line: u32,
    pub contains: Option<String>,
    pub reason: String,
}

/// Parses the allow-list: a TOML subset of `[[allow]]` tables with `scenario = "…"`, `line = N`,
/// `contains = "…"` (optional) and `reason = "…"` (required, non-empty).
pub fn parse_allow_list(text: &str) -> Result<Vec<AllowEntry>, String> {
    let mut entries: Vec<BTreeMap<String, String>> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[allow]]" {
            entries.push(BTreeMap::new());
            continue;
        }
        let (key, value) =
            line.split_once('=').ok_or_else(|| format!("line {}: expected `key = value`", n + 1))?;
        let key = key.trim().to_string();
        let value = value.trim();
        let value = if let Some(quoted) = value.strip_prefix('"') {
            quoted
                .strip_suffix('"')
                .ok_or_else(|| format!("line {}: unterminated string", n + 1))?
                .replace("\\\"", "\"")
                .replace("\\\\", "\\")
        } else {
            value.to_string()
        };
        let entry = entries.last_mut().ok_or_else(|| format!("line {}: a key outside [[allow]]", n + 1))?;
        entry.insert(key, value);
    }
    entries
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            let mut take = |k: &str| e.remove(k);
            let scenario = take("scenario").ok_or_else(|| format!("entry {}: no scenario", i + 1))?;
            let line = take("line")
                .ok_or_else(|| format!("entry {}: no line", i + 1))?
                .parse()
                .map_err(|_| format!("entry {}: line must be a number", i + 1))?;
            let contains = take("contains");
            let reason = take("reason").filter(|r| !r.trim().is_empty());
            let reason = reason.ok_or_else(|| format!("entry {}: every entry needs a reason", i + 1))?;
            if let Some(k) = e.keys().next() {
                return Err(format!("entry {}: unknown key '{k}'", i + 1));
            }
            Ok(AllowEntry { scenario, line, contains, reason })
        })
        .collect()
}

/// The lines only one side has, in order (a longest-common-subsequence diff); `sides` names the left and
/// the right side.
pub fn diff(left: &[Line], right: &[Line], sides: [&'static str; 2]) -> Vec<Difference> {
    let (n, m) = (left.len(), right.len());
    // lcs[i][j]: the longest common subsequence of left[i..] and right[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if left[i].text == right[j].text {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && left[i].text == right[j].text {
            i += 1;
            j += 1;
        } else if j == m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(Difference { side: sides[0], line: left[i].clone(), allowed: None });
            i += 1;
        } else {
            out.push(Difference { side: sides[1], line: right[j].clone(), allowed: None });
            j += 1;
        }
    }
    out
}

/// Marks each difference of scenario `name` that an allow-list entry covers with the entry's reason.
pub fn apply_allow_list(name: &str, differences: &mut [Difference], allow: &[AllowEntry]) {
    for d in differences {
        d.allowed = allow
            .iter()
            .find(|a| {
                a.scenario == name
                    && a.line == d.line.step_line
                    && a.contains.as_ref().is_none_or(|c| d.line.text.contains(c.as_str()))
            })
            .map(|a| a.reason.clone());
    }
}

/// The differences as text: `- left` / `+ right` lines with the scenario line, allowed ones marked;
/// `left` is the left side's name.
pub fn render(name: &str, differences: &[Difference], left: &str) -> String {
    let mut out = String::new();
    for d in differences {
        let sign = if d.side == left { '-' } else { '+' };
        let at = if d.line.step_line == 0 { "end".to_string() } else { format!("line {}", d.line.step_line) };
        out.push_str(&format!("{sign} {name} {at} [{}] {}", d.side, d.line.text));
        if let Some(reason) = &d.allowed {
            out.push_str(&format!("   (allowed: {reason})"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_finds_lines_one_side_lacks() {
        let l = |t: &str| Line { step_line: 1, text: t.to_string() };
        let d = diff(&[l("a"), l("b"), l("c")], &[l("a"), l("c"), l("d")], ["left", "right"]);
        let sides: Vec<(&str, &str)> = d.iter().map(|d| (d.side, d.line.text.as_str())).collect();
        assert_eq!(sides, vec![("left", "b"), ("right", "d")]);
    }

    #[test]
    fn allow_list_needs_a_reason_and_known_keys_and_marks_what_it_covers() {
        let ok =
            parse_allow_list("# c\n[[allow]]\nscenario = \"s\"\nline = 1\nreason = \"jitter\"\n").unwrap();
        assert_eq!(
            ok,
            vec![AllowEntry { scenario: "s".into(), line: 1, contains: None, reason: "jitter".into() }]
        );
        assert!(parse_allow_list("[[allow]]\nscenario = \"s\"\nline = 3\n").is_err());
        assert!(
            parse_allow_list("[[allow]]\nscenario = \"s\"\nline = 3\nreason = \"r\"\nwhy = \"x\"\n").is_err()
        );
        let l = |t: &str| Line { step_line: 1, text: t.to_string() };
        let mut d = diff(&[l("a")], &[l("b")], ["left", "right"]);
        apply_allow_list("s", &mut d, &ok);
        assert_eq!(
            render("s", &d, "left"),
            "- s line 1 [left] a   (allowed: jitter)\n+ s line 1 [right] b   (allowed: jitter)\n"
        );
    }
}
