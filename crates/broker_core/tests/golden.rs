//! Golden scenario tests: every `tests/scenarios/amqp/<name>/` folder holds a `scenario.*` file and the
//! `expected.txt` transcript it must produce, byte for byte. An optional `args` file holds transcript
//! options (`--all-events`, `--events KINDS`, `--seed N`). `UPDATE_GOLDEN=1 cargo test --test golden`
//! rewrites the expected files; read every rewritten transcript before committing it.

use broker_core::scenario::{run, EventFilter, Report, RunOptions, Scenario};
use std::path::{Path, PathBuf};

fn scenarios_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

struct Golden {
    name: String,
    scenario: PathBuf,
    expected: PathBuf,
    filter: EventFilter,
    options: RunOptions,
}

fn goldens(model: &str) -> Vec<Golden> {
    let dir = scenarios_root().join(model);
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    folders
        .into_iter()
        .map(|folder| {
            let name = folder.file_name().expect("a folder name").to_string_lossy().into_owned();
            let scenarios: Vec<PathBuf> = std::fs::read_dir(&folder)
                .expect("readable golden folder")
                .map(|e| e.expect("readable entry").path())
                .filter(|p| p.file_stem().is_some_and(|s| s == "scenario"))
                .collect();
            assert_eq!(
                scenarios.len(),
                1,
                "{name}: expected exactly one scenario.* file, found {scenarios:?}"
            );
            let mut filter = EventFilter::default();
            let mut options = RunOptions { check_invariants: true, ..RunOptions::default() };
            if let Ok(args) = std::fs::read_to_string(folder.join("args")) {
                let words: Vec<&str> = args.split_whitespace().collect();
                let mut i = 0;
                while i < words.len() {
                    match (words[i], words.get(i + 1)) {
                        ("--all-events", _) => filter = EventFilter::All,
                        ("--events", Some(kinds)) => {
                            filter = EventFilter::parse(kinds);
                            i += 1;
                        }
                        ("--seed", Some(seed)) => {
                            options.seed = Some(seed.parse().expect("--seed N"));
                            i += 1;
                        }
                        (other, _) => panic!("{name}/args: unknown option {other}"),
                    }
                    i += 1;
                }
            }
            Golden {
                name,
                scenario: scenarios[0].clone(),
                expected: folder.join("expected.txt"),
                filter,
                options,
            }
        })
        .collect()
}

fn transcript_of(golden: &Golden) -> (String, Report) {
    let text = std::fs::read_to_string(&golden.scenario).expect("readable scenario");
    let scenario = Scenario::parse(&text)
        .unwrap_or_else(|e| panic!("{}", e.located(&golden.scenario.display().to_string())));
    let report = run(&scenario, &golden.options);
    (report.transcript(&golden.filter), report)
}

/// The first line where two transcripts differ, for a readable failure.
fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        if e.get(i) != a.get(i) {
            return format!(
                "line {}:\n  expected: {}\n  actual:   {}",
                i + 1,
                e.get(i).unwrap_or(&"<end>"),
                a.get(i).unwrap_or(&"<end>")
            );
        }
    }
    "no line differs (line endings?)".to_string()
}

#[test]
fn amqp_goldens_match_their_transcripts() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let goldens = goldens("amqp");
    assert!(goldens.len() >= 6, "the golden folders are missing: found {}", goldens.len());
    let mut failures = Vec::new();
    for golden in &goldens {
        let (actual, report) = transcript_of(golden);
        assert!(report.stopped.is_none(), "{}: the run stopped: {:?}", golden.name, report.stopped);
        let expected = std::fs::read_to_string(&golden.expected).unwrap_or_default();
        if actual != expected {
            if update {
                std::fs::write(&golden.expected, &actual).expect("writable expected.txt");
                eprintln!("updated {}", golden.expected.display());
            } else {
                failures.push(format!("{}: {}", golden.name, first_difference(&expected, &actual)));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden transcript(s) differ (UPDATE_GOLDEN=1 rewrites them; read the diff first):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_same_seed_gives_the_same_report() {
    for golden in goldens("amqp") {
        let (first, report_a) = transcript_of(&golden);
        let (second, report_b) = transcript_of(&golden);
        assert_eq!(first, second, "{}: two runs differ", golden.name);
        assert_eq!(report_a, report_b, "{}: two reports differ", golden.name);
    }
}

#[test]
fn the_json_report_reads_back_as_the_same_report() {
    for golden in goldens("amqp") {
        let (_, report) = transcript_of(&golden);
        let json = report.to_json(&EventFilter::All);
        let back: Report = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("{}: the JSON report does not read back: {e}", golden.name));
        assert_eq!(back, report, "{}: JSON round trip changed the report", golden.name);
    }
}
