//! Kafka programs on a real Apache Kafka: Kafka's own Java client, driven over JSON lines.
//!
//! [`JavaClients`] spawns `KafkaDriver` (`crates/real_broker/kafka-driver/KafkaDriver.java`, compiled with
//! `javac` against the Kafka jars of `scripts/kafka-node.sh`) and implements the program seam
//! ([`KafkaClients`]) by writing each [`ClientCall`] as one JSON line and reading one [`ClientReply`]. The
//! client is the reference one, so partitioner, assignors and exception texts are Kafka's own.
//! [`run_real`] plays a program with it, cleaning the program's topics and groups before and after;
//! [`compare`] diffs two transcripts line by line with the allow-list of `compare` (module docs there).
//!
//! Invariants: one driver process per run, killed when dropped; every reply is awaited at most
//! [`REPLY_TIMEOUT`] (the driver bounds its own waits well below it), so a run never hangs.

use crate::compare::{AllowEntry, Difference, Line};
use broker_core::kafka::program::{
    self, ClientCall, ClientError, ClientReply, KafkaClients, Program, Transcript,
};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// The longest wait for one reply (a poll is bounded at 20 s by the driver, a send's `.get()` by
/// `delivery.timeout.ms`).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(150);

const DRIVER_SOURCE: &str = include_str!("../kafka-driver/KafkaDriver.java");

/// `kafka://host:port` → `host:port`.
pub fn parse_kafka_uri(uri: &str) -> Result<String, String> {
    let rest =
        uri.strip_prefix("kafka://").ok_or_else(|| format!("'{uri}' is not a kafka://host:port URI"))?;
    let rest = rest.trim_end_matches('/');
    // Several brokers as bootstrap.servers lists them (`kafka://h:9092,h:9094`): a client then still
    // starts when one of them is down.
    for address in rest.split(',') {
        match address.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
            _ => return Err(format!("'{uri}' needs a host and a port, like kafka://127.0.0.1:9092")),
        }
    }
    Ok(rest.to_string())
}

/// The folder of Kafka's jars: `$BROKERLAB_KAFKA_LIB`, else `~/.cache/brokerlab/kafka-4.1.1`.
pub fn kafka_lib() -> PathBuf {
    match std::env::var_os("BROKERLAB_KAFKA_LIB") {
        Some(p) => PathBuf::from(p),
        None => {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/brokerlab/kafka-4.1.1")
        }
    }
}

/// The folder holding `KafkaDriver.class`: `$BROKERLAB_KAFKA_DRIVER`, else compiled here once into the temp
/// folder (named by the source's length and checksum, so an edited driver is compiled again).
pub fn driver_classes(lib: &Path) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("BROKERLAB_KAFKA_DRIVER") {
        return Ok(PathBuf::from(p));
    }
    let sum = DRIVER_SOURCE.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let dir = std::env::temp_dir().join(format!("brokerlab-kafka-driver-{}-{sum:08x}", DRIVER_SOURCE.len()));
    if dir.join("KafkaDriver.class").is_file() {
        return Ok(dir);
    }
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    std::fs::write(src.join("KafkaDriver.java"), DRIVER_SOURCE).map_err(|e| e.to_string())?;
    let status = Command::new("javac")
        .arg("-nowarn")
        .arg("-d")
        .arg(&dir)
        .arg("-cp")
        .arg(format!("{}/*", lib.display()))
        .arg(src.join("KafkaDriver.java"))
        .output()
        .map_err(|e| format!("cannot run javac (a JDK is needed): {e}"))?;
    if !status.status.success() {
        return Err(format!(
            "javac could not compile the Kafka driver: {}",
            String::from_utf8_lossy(&status.stderr)
        ));
    }
    Ok(dir)
}

/// The Java client as a [`KafkaClients`].
pub struct JavaClients {
    child: Child,
    stdin: Option<ChildStdin>,
    replies: Receiver<String>,
    broken: Option<String>,
}

impl JavaClients {
    /// Starts the driver against the cluster at `bootstrap` (`host:port`).
    pub fn start(bootstrap: &str) -> Result<Self, String> {
        let lib = kafka_lib();
        if !lib.is_dir() {
            return Err(format!(
                "no Kafka jars at {} (scripts/kafka-node.sh fetches them; or set BROKERLAB_KAFKA_LIB)",
                lib.display()
            ));
        }
        let classes = driver_classes(&lib)?;
        let mut child = Command::new("java")
            .arg("-Xmx256m")
            .arg("-cp")
            .arg(format!("{}/*:{}", lib.display(), classes.display()))
            .arg("KafkaDriver")
            .arg(bootstrap)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start java: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, replies) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(JavaClients { child, stdin: Some(stdin), replies, broken: None })
    }

    fn exchange(&mut self, call: &ClientCall) -> Result<ClientReply, String> {
        let line = serde_json::to_string(call).map_err(|e| e.to_string())?;
        let reply = self.exchange_line(&line)?;
        serde_json::from_str(&reply).map_err(|e| format!("the driver answered '{reply}': {e}"))
    }

    /// One call outside the program seam (the driver's `doc…` commands for Kafka documents), as JSON.
    pub fn exchange_json(&mut self, call: &serde_json::Value) -> Result<serde_json::Value, String> {
        let reply = self.exchange_line(&call.to_string())?;
        serde_json::from_str(&reply).map_err(|e| format!("the driver answered '{reply}': {e}"))
    }

    fn exchange_line(&mut self, line: &str) -> Result<String, String> {
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        let stdin = self.stdin.as_mut().ok_or("the driver is closed")?;
        writeln!(stdin, "{line}")
            .and_then(|_| stdin.flush())
            .map_err(|e| format!("the driver is gone: {e}"))?;
        self.replies
            .recv_timeout(REPLY_TIMEOUT)
            .map_err(|_| format!("the driver did not answer within {} s", REPLY_TIMEOUT.as_secs()))
    }
}

/// Stops or starts broker `node` with `$BROKERLAB_KAFKA_NODE_CONTROL node-stop|node-start N` (the test
/// script sets it to `scripts/kafka-node.sh` with the cluster's folder: `… node-stop DIR N`); it returns
/// when the broker's port is closed (its controlled shutdown done) or open again.
fn control_broker(call: &ClientCall) -> ClientReply {
    let (verb, node) = match call {
        ClientCall::StopBroker { node } => ("node-stop", node),
        ClientCall::KillBroker { node } => ("node-kill", node),
        ClientCall::PauseBroker { node } => ("node-pause", node),
        ClientCall::ResumeBroker { node } => ("node-resume", node),
        ClientCall::StartBroker { node } => ("node-start", node),
        _ => unreachable!("only broker faults come here"),
    };
    let Some(prefix) = std::env::var_os("BROKERLAB_KAFKA_NODE_CONTROL") else {
        return ClientReply::Error {
            error: ClientError {
                exception: "BrokerlabDriverError".into(),
                message: "stopping a broker needs BROKERLAB_KAFKA_NODE_CONTROL (scripts/real-kafka-tests.sh sets it)"
                    .into(),
            },
        };
    };
    let mut words = prefix.to_string_lossy().split_whitespace().map(String::from).collect::<Vec<_>>();
    if words.is_empty() {
        words.push("true".into());
    }
    let cluster_dir = words.split_off(1.min(words.len()));
    let status = Command::new(&words[0])
        .arg(verb)
        .args(&cluster_dir)
        .arg(node.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => ClientReply::Done,
        other => ClientReply::Error {
            error: ClientError {
                exception: "BrokerlabDriverError".into(),
                message: format!("{verb} {node}: {other:?}"),
            },
        },
    }
}

impl KafkaClients for JavaClients {
    fn call(&mut self, call: &ClientCall) -> ClientReply {
        if matches!(
            call,
            ClientCall::StopBroker { .. }
                | ClientCall::StartBroker { .. }
                | ClientCall::KillBroker { .. }
                | ClientCall::PauseBroker { .. }
                | ClientCall::ResumeBroker { .. }
        ) {
            let reply = control_broker(call);
            if let ClientReply::Error { error } = &reply {
                self.broken = Some(error.message.clone());
            }
            return reply;
        }
        match self.exchange(call) {
            Ok(reply) => reply,
            Err(message) => {
                self.broken = Some(message.clone());
                ClientReply::Error {
                    error: ClientError { exception: "BrokerlabDriverError".into(), message },
                }
            }
        }
    }
}

impl Drop for JavaClients {
    fn drop(&mut self) {
        // Closing stdin lets the driver close its clients (and leave its groups); then it is stopped for sure.
        drop(self.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
            if self.broken.is_some() {
                break;
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Deletes `topics` and `groups` (missing ones are fine) and waits until the topics are gone.
/// Uses the run's own driver (one JVM per run): its `cleaner` admin is not one of the program's clients, and
/// admins do not take from the sequences that number producers' and consumers' client ids.
pub(crate) fn clean(c: &mut JavaClients, topics: &[String], groups: &[String]) -> Result<(), String> {
    if topics.is_empty() && groups.is_empty() {
        return Ok(());
    }
    let admin = " cleaner".to_string();
    if let ClientReply::Error { error } =
        c.call(&ClientCall::NewAdmin { admin: admin.clone(), properties: Vec::new() })
    {
        return Err(error.message);
    }
    for g in groups {
        c.call(&ClientCall::DeleteConsumerGroups { admin: admin.clone(), groups: vec![g.clone()] });
    }
    for t in topics {
        c.call(&ClientCall::DeleteTopics { admin: admin.clone(), topics: vec![t.clone()] });
    }
    for t in topics {
        for _ in 0..100 {
            match c.call(&ClientCall::DescribeTopics { admin: admin.clone(), topics: vec![t.clone()] }) {
                ClientReply::Error { error } if error.exception == "BrokerlabDriverError" => {
                    return Err(error.message)
                }
                // Gone (or a name that never could exist).
                ClientReply::Error { .. } => break,
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
    Ok(())
}

/// Plays `program` on the Kafka at `uri` (`kafka://host:port`) through the Java client. With `clean`, the
/// topics the program creates and the groups it uses are deleted before and after.
pub fn run_real(program: &Program, uri: &str, clean_up: bool) -> Result<Transcript, String> {
    let bootstrap = parse_kafka_uri(uri)?;
    let topics = program::created_topics(program);
    let groups = program::used_groups(program);
    let mut clients = JavaClients::start(&bootstrap)?;
    if clean_up {
        clean(&mut clients, &topics, &groups)?;
    }
    let transcript = program::run(program, &mut clients);
    if let Some(why) = &clients.broken {
        return Err(why.clone());
    }
    if clean_up {
        clean(&mut clients, &topics, &groups)?;
    }
    Ok(transcript)
}

/// A transcript as the diff's lines.
pub fn lines(transcript: &Transcript) -> Vec<Line> {
    transcript.lines.iter().map(|l| Line { step_line: l.line, text: l.text.clone() }).collect()
}

/// The two sides of a Kafka comparison, as the differences carry them.
pub const SIDES: [&str; 2] = ["engine", "kafka"];

/// The two sides of a golden check: the transcript recorded from an earlier run of Kafka (a program's
/// `expected.txt`) and this run's.
pub const GOLDEN_SIDES: [&str; 2] = ["golden", "kafka"];

/// A recorded transcript (`Transcript::text`, as `--record` writes it) read back into lines with their
/// statement line: a line that starts with `N: ` opens statement N, the lines after it belong to it.
pub fn recorded(text: &str) -> Transcript {
    let mut transcript = Transcript::default();
    let mut line = 0;
    for l in text.lines() {
        if let Some((n, _)) =
            l.split_once(": ").filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        {
            line = n.parse().unwrap_or(line);
        }
        transcript.lines.push(program::TranscriptLine { line, text: l.to_string() });
    }
    transcript
}

/// The lines of two transcripts of program `name` that differ (`engine` side first, then `kafka`), with
/// the allow-list's reasons.
pub fn compare(name: &str, engine: &Transcript, real: &Transcript, allow: &[AllowEntry]) -> Vec<Difference> {
    let mut differences = sim_kernel::diff::diff(&lines(engine), &lines(real), SIDES);
    sim_kernel::diff::apply_allow_list(name, &mut differences, allow);
    differences
}

/// The lines where this run of Kafka differs from program `name`'s golden (recorded from an earlier run),
/// with the allow-list's reasons: the same allow-list as [`compare`], so a race of the real client is
/// allowed in both checks by one entry.
pub fn compare_with_golden(
    name: &str,
    golden: &Transcript,
    real: &Transcript,
    allow: &[AllowEntry],
) -> Vec<Difference> {
    let mut differences = sim_kernel::diff::diff(&lines(golden), &lines(real), GOLDEN_SIDES);
    sim_kernel::diff::apply_allow_list(name, &mut differences, allow);
    differences
}

/// [`compare_with_golden`]'s differences as text: `- golden` / `+ kafka` lines.
pub fn render_golden(name: &str, differences: &[Difference]) -> String {
    sim_kernel::diff::render(name, differences, GOLDEN_SIDES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_transcript_keeps_each_line_s_statement_and_a_race_is_allowed_against_the_golden() {
        let golden = recorded("3: producer.send(...)\n  partition 0, offset 0\n27: producer.send(...).get()\n  TimeoutException: The request timed out.\n");
        assert_eq!(golden.lines.iter().map(|l| l.line).collect::<Vec<_>>(), [3, 3, 27, 27]);
        let real = recorded("3: producer.send(...)\n  partition 0, offset 0\n27: producer.send(...).get()\n  TimeoutException: Disconnected from node 1 due to timeout\n");
        let race = AllowEntry {
            scenario: "p".to_string(),
            line: 27,
            contains: Some("TimeoutException: ".to_string()),
            reason: "a race".to_string(),
        };
        let differences = compare_with_golden("p", &golden, &real, std::slice::from_ref(&race));
        assert_eq!(differences.len(), 2, "{differences:?}");
        assert!(differences.iter().all(|d| d.allowed.as_deref() == Some("a race")));
        assert_eq!(differences.iter().map(|d| d.side).collect::<Vec<_>>(), GOLDEN_SIDES);
        // Without the entry, and at another statement, the same difference is not allowed.
        assert!(compare_with_golden("p", &golden, &real, &[]).iter().all(|d| d.allowed.is_none()));
        let elsewhere = AllowEntry { line: 3, ..race };
        assert!(compare_with_golden("p", &golden, &real, &[elsewhere]).iter().all(|d| d.allowed.is_none()));
    }

    #[test]
    fn kafka_uris_need_host_and_port() {
        assert_eq!(parse_kafka_uri("kafka://127.0.0.1:9092").unwrap(), "127.0.0.1:9092");
        assert!(parse_kafka_uri("amqp://x:1").is_err());
        assert!(parse_kafka_uri("kafka://127.0.0.1").is_err());
        assert_eq!(
            parse_kafka_uri("kafka://127.0.0.1:9092,127.0.0.1:9094").unwrap(),
            "127.0.0.1:9092,127.0.0.1:9094"
        );
        assert!(parse_kafka_uri("kafka://127.0.0.1:9092,127.0.0.1").is_err());
    }
}
