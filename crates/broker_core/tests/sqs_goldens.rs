//! The SQS golden programs: `tests/scenarios/sqs/<name>/program.sqs` run on the engine (seed 0, as
//! `brokerlab run` does) must print `expected.txt` exactly. `BROKERLAB_BLESS=1` writes a missing golden
//! (to be reviewed before committing). The same programs run on an emulator in `scripts/real-sqs-tests.sh`.

use std::path::PathBuf;

use broker_core::sqs::program;

#[test]
fn every_golden_program_prints_its_expected_transcript() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios/sqs");
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    assert!(dirs.len() >= 6, "golden programs in {}", root.display());
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("program.sqs")).unwrap();
        let parsed = program::parse(&text)
            .unwrap_or_else(|e| panic!("{}", e.located(&dir.join("program.sqs").display().to_string())));
        let got = program::run(&parsed, 0).text();
        let golden = dir.join("expected.txt");
        match std::fs::read_to_string(&golden) {
            Ok(expected) => assert_eq!(got, expected, "{}", dir.display()),
            Err(_) if std::env::var("BROKERLAB_BLESS").is_ok() => std::fs::write(&golden, got).unwrap(),
            Err(e) => panic!("{}: {e}", golden.display()),
        }
    }
}
