//! Persistence on virtual time: the configuration (`save`, `appendonly`, `appendfsync`) as `CONFIG
//! GET|SET` gives it, the RDB file (`SAVE`, `BGSAVE`, the `save` points, `FLUSHALL` with save points),
//! the AOF and how much of it reached the disk, `DEBUG RELOAD` / `DEBUG LOADAOF`, and what a restart
//! reloads ([`Redis::restart`]).
//!
//! The AOF is modelled by what it holds rather than by its commands: with `appendonly yes` the file
//! written so far always holds the whole dataset (redis-server writes its buffer before it replies), so
//! what matters is the part that is on the disk when the machine fails. Following
//! <https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/>: with `appendfsync
//! always` every acknowledged write; with `everysec` the dataset at the last whole second of virtual
//! time (the background fsync runs once a second); with `no` the dataset at the last whole 30 seconds
//! (the operating system's flush, "every 30 seconds" on Linux by default). The RDB file is the dataset at
//! its last save.
//!
//! Where this model simplifies (each said in `docs/redis-programs.md`): a background save or rewrite
//! completes at the instant it starts (redis-server's child takes milliseconds and is reaped by its
//! cron, so a second one within about 100 ms is refused there); `save` points count one change per
//! write command that succeeded (redis-server counts one per element or field changed) and are checked
//! whenever time advances; only the persistence parameters are known to `CONFIG`.
//!
//! Invariants: the configuration is always one redis-server accepts (`CONFIG SET` checks every value
//! before it applies any); a snapshot is never changed after it is taken.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::args::is;
use super::glob;
use super::reply::Reply;
use super::server::{Entry, Redis, EPOCH_MS};

/// A dataset as a file holds it.
pub type Keys = BTreeMap<Vec<u8>, Entry>;

/// `appendfsync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    pub fn name(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        }
    }

    /// How often the written AOF reaches the disk, in milliseconds (`None`: at every write).
    pub fn period_millis(self) -> Option<u64> {
        match self {
            Fsync::Always => None,
            Fsync::EverySec => Some(1_000),
            Fsync::No => Some(30_000),
        }
    }
}

/// The persistence configuration and the files on disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Persistence {
    /// `save`: (seconds, changes) points; empty: no automatic snapshots.
    pub save: Vec<(u64, u64)>,
    pub appendonly: bool,
    pub appendfsync: Fsync,
    /// The RDB file: the dataset at the last save (`None`: no file).
    pub rdb: Option<Keys>,
    /// Virtual milliseconds of the last successful save (or of the start).
    pub lastsave_millis: u64,
    /// Changes since the last save (Redis's `server.dirty`).
    pub dirty: u64,
    /// The AOF on the disk: with `appendonly yes`, the dataset at the last fsync; with `no`, the file
    /// left when the AOF was turned off or last rewritten. `None`: no AOF file.
    pub aof_synced: Option<Keys>,
    /// Whether the dataset changed since the AOF's last fsync.
    pub aof_behind: bool,
    /// Virtual milliseconds of the AOF's last fsync (with `appendonly yes`).
    pub aof_synced_millis: u64,
}

/// A bound on the `save` points fired in one advance of time (each fires at most once a second).
const MAX_SAVES_PER_ADVANCE: usize = 100_000;

/// redis-server 7.0's default `save` points.
pub const DEFAULT_SAVE: [(u64, u64); 3] = [(3600, 1), (300, 100), (60, 10000)];

impl Default for Persistence {
    /// A server started with redis-server's defaults whose database was flushed at 0 (so an empty RDB
    /// file exists, as `FLUSHALL` with save points writes one).
    fn default() -> Persistence {
        Persistence {
            save: DEFAULT_SAVE.to_vec(),
            appendonly: false,
            appendfsync: Fsync::EverySec,
            rdb: Some(Keys::new()),
            lastsave_millis: 0,
            dirty: 0,
            aof_synced: None,
            aof_behind: false,
            aof_synced_millis: 0,
        }
    }
}

/// The parameters `CONFIG` knows, in the order `CONFIG GET` lists them (`client-output-buffer-limit`
/// is [`super::obuf`]'s).
const PARAMETERS: [&str; 7] = [
    "save",
    "appendonly",
    "appendfsync",
    "appendfilename",
    "appenddirname",
    "dbfilename",
    "client-output-buffer-limit",
];

fn config_failed(name: &str, why: &str) -> Reply {
    Reply::err(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"))
}

/// Parses a `save` value: pairs of integers separated by single spaces, or nothing.
fn parse_save(value: &[u8]) -> Option<Vec<(u64, u64)>> {
    let text = std::str::from_utf8(value).ok()?;
    if text.is_empty() {
        return Some(Vec::new());
    }
    let words: Vec<&str> = text.split(' ').collect();
    if words.len() % 2 != 0 {
        return None;
    }
    let mut out = Vec::new();
    for pair in words.chunks(2) {
        let secs: i64 = pair[0].parse().ok()?;
        let changes: i64 = pair[1].parse().ok()?;
        if secs < 1 || changes < 0 {
            return None;
        }
        out.push((secs as u64, changes as u64));
    }
    Some(out)
}

/// Commands that write the dataset: a success counts as a change for `save` points and puts the AOF
/// behind its fsync.
pub(super) fn is_write(name: &str) -> bool {
    matches!(
        name,
        "set"
            | "del"
            | "expire"
            | "pexpire"
            | "persist"
            | "lpush"
            | "rpush"
            | "lpushx"
            | "rpushx"
            | "lpop"
            | "rpop"
            | "lrem"
            | "ltrim"
            | "lset"
            | "lmove"
            | "rpoplpush"
            | "blpop"
            | "brpop"
            | "blmove"
            | "brpoplpush"
            | "xadd"
            | "xdel"
            | "xtrim"
            | "xgroup"
            | "xreadgroup"
            | "xack"
            | "xclaim"
            | "xautoclaim"
            | "xsetid"
            | "exec"
    )
}

impl Redis {
    /// The dataset changed (a write succeeded, a blocked client was served, a key expired).
    pub(super) fn note_write(&mut self) {
        self.persistence.dirty += 1;
        self.persistence.aof_behind = true;
    }

    /// What time does to the files between `from` and `self.now`: the AOF's fsyncs and the `save`
    /// points' snapshots (Redis's `serverCron`).
    pub(super) fn persist_until_now(&mut self, from: u64) {
        let now = self.now;
        let p = &mut self.persistence;
        if p.appendonly && p.aof_behind {
            if let Some(period) = p.appendfsync.period_millis() {
                if now / period > from / period {
                    p.aof_synced = Some(self.keys.clone());
                    p.aof_behind = false;
                    p.aof_synced_millis = now / period * period;
                }
            }
        }
        // A save point is due when more than its seconds have passed since the last save, in whole
        // seconds of the clock, with at least its changes (`serverCron`); a point of 0 changes fires
        // again and again. The dataset does not change while time advances, so one snapshot serves.
        let mut saved = false;
        for _ in 0..MAX_SAVES_PER_ADVANCE {
            let due = p
                .save
                .iter()
                .filter(|(_, changes)| p.dirty >= *changes)
                .map(|(secs, _)| (p.lastsave_millis / 1000 + secs + 1) * 1000)
                .min();
            let Some(at) = due.filter(|at| *at <= now) else { break };
            p.lastsave_millis = at.max(from);
            p.dirty = 0;
            saved = true;
        }
        if saved {
            p.rdb = Some(self.keys.clone());
        }
    }

    /// The whole dataset is in the AOF on the disk (a rewrite, or a flush and fsync).
    fn sync_aof(&mut self) {
        let p = &mut self.persistence;
        p.aof_synced = Some(self.keys.clone());
        p.aof_behind = false;
        p.aof_synced_millis = self.now;
    }

    /// What a restart now would load, in words (for the run's `restarted` event).
    pub fn reload_source(&self) -> String {
        let p = &self.persistence;
        let at = |ms: u64| format!("{}.{:03}s", ms / 1000, ms % 1000);
        match (p.appendonly, p.appendfsync, &p.rdb) {
            (true, Fsync::Always, _) => "the AOF (appendfsync always: every acknowledged write)".to_string(),
            (true, fsync, _) if p.aof_synced.is_some() => {
                format!("the AOF as fsynced at {} (appendfsync {})", at(p.aof_synced_millis), fsync.name())
            }
            (true, _, _) => "nothing (no AOF on the disk yet)".to_string(),
            (false, _, Some(keys)) => {
                format!("the RDB file saved at {} ({} keys)", at(p.lastsave_millis), keys.len())
            }
            (false, _, None) => "nothing (no RDB file, appendonly no)".to_string(),
        }
    }

    fn save_now(&mut self) {
        self.persistence.rdb = Some(self.keys.clone());
        self.persistence.lastsave_millis = self.now;
        self.persistence.dirty = 0;
    }

    /// `FLUSHALL`: with save points, Redis saves the empty dataset at once.
    pub(super) fn flushed(&mut self) {
        self.note_write();
        if !self.persistence.save.is_empty() {
            self.save_now();
        }
    }

    /// `SAVE`, `BGSAVE`, `LASTSAVE`, `BGREWRITEAOF`, `CONFIG` and `DEBUG`.
    pub(super) fn persistence_command(&mut self, name: &str, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        match name {
            "save" => {
                self.save_now();
                Ok(Reply::ok())
            }
            "bgsave" => {
                match argv.get(1) {
                    Some(a) if argv.len() == 2 && is(a, "SCHEDULE") => {}
                    Some(_) => return Err(Reply::err(super::args::SYNTAX)),
                    None => {}
                }
                self.save_now();
                Ok(Reply::Status("Background saving started".into()))
            }
            "lastsave" => Ok(Reply::Int(((EPOCH_MS + self.persistence.lastsave_millis) / 1000) as i64)),
            "bgrewriteaof" => {
                // The rewritten file holds the dataset and is synced when the child ends.
                self.sync_aof();
                Ok(Reply::Status("Background append only file rewriting started".into()))
            }
            "config" => self.config(argv),
            "debug" => self.debug(argv),
            _ => unreachable!("not a persistence command: {name}"),
        }
    }

    fn config_value(&self, name: &str) -> String {
        let p = &self.persistence;
        match name {
            "save" => p.save.iter().map(|(s, c)| format!("{s} {c}")).collect::<Vec<_>>().join(" "),
            "appendonly" => if p.appendonly { "yes" } else { "no" }.to_string(),
            "appendfsync" => p.appendfsync.name().to_string(),
            "appendfilename" => "appendonly.aof".to_string(),
            "appenddirname" => "appendonlydir".to_string(),
            "dbfilename" => "dump.rdb".to_string(),
            "client-output-buffer-limit" => self.output_limits.config_value(),
            _ => unreachable!("not a parameter: {name}"),
        }
    }

    fn config(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        match sub.as_str() {
            "get" => {
                if argv.len() < 3 {
                    return Err(Reply::err("ERR wrong number of arguments for 'config|get' command"));
                }
                let mut out = Vec::new();
                for name in PARAMETERS {
                    if argv[2..].iter().any(|p| glob::matches(&p.to_ascii_lowercase(), name.as_bytes())) {
                        out.push(Reply::bulk(name));
                        out.push(Reply::bulk(self.config_value(name)));
                    }
                }
                Ok(Reply::Array(out))
            }
            "set" => {
                if argv.len() < 4 || argv.len() % 2 != 0 {
                    return Err(Reply::err("ERR wrong number of arguments for 'config|set' command"));
                }
                // Every value is checked before any is applied, as Redis 7 does.
                let mut changes: Vec<(&str, &[u8])> = Vec::new();
                for pair in argv[2..].chunks(2) {
                    let name = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
                    let Some(known) = PARAMETERS.iter().find(|p| **p == name) else {
                        return Err(Reply::err(format!(
                            "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                            String::from_utf8_lossy(&pair[0])
                        )));
                    };
                    if changes.iter().any(|(n, _)| n == known) {
                        return Err(config_failed(known, "duplicate parameter"));
                    }
                    let value = pair[1].as_slice();
                    if *known == "client-output-buffer-limit" {
                        self.output_limits.with_config(value).map_err(|why| config_failed(known, why))?;
                    }
                    let fine = match *known {
                        "save" => parse_save(value).is_some(),
                        "appendonly" => is(value, "yes") || is(value, "no"),
                        "appendfsync" => ["always", "everysec", "no"].iter().any(|v| is(value, v)),
                        "dbfilename" | "client-output-buffer-limit" => true,
                        _ => return Err(config_failed(known, "can't set immutable config")),
                    };
                    if !fine {
                        return Err(config_failed(
                            known,
                            match *known {
                                "save" => "Invalid save parameters",
                                "appendonly" => "argument must be 'yes' or 'no'",
                                _ => "argument(s) must be one of the following: everysec, always, no",
                            },
                        ));
                    }
                    changes.push((*known, value));
                }
                for (name, value) in changes {
                    match name {
                        "save" => self.persistence.save = parse_save(value).expect("checked"),
                        "appendonly" => {
                            let on = is(value, "yes");
                            if on && !self.persistence.appendonly {
                                // Turning the AOF on writes the whole dataset in a rewrite first.
                                self.sync_aof();
                            }
                            if !on && self.persistence.appendonly {
                                // The file keeps what was written: all of it once the process is gone.
                                self.persistence.aof_synced = Some(self.keys.clone());
                            }
                            self.persistence.appendonly = on;
                        }
                        "appendfsync" => {
                            self.persistence.appendfsync = if is(value, "always") {
                                Fsync::Always
                            } else if is(value, "everysec") {
                                Fsync::EverySec
                            } else {
                                Fsync::No
                            };
                        }
                        "client-output-buffer-limit" => {
                            self.output_limits = self.output_limits.with_config(value).expect("checked");
                        }
                        _ => {}
                    }
                }
                Ok(Reply::ok())
            }
            _ => Err(Reply::err(format!(
                "ERR unknown subcommand '{}'. Try CONFIG HELP.",
                String::from_utf8_lossy(&argv[1]).chars().take(128).collect::<String>()
            ))),
        }
    }

    /// `DEBUG RELOAD [NOSAVE]` (save unless `NOSAVE`, then load the RDB file) and `DEBUG LOADAOF`
    /// (flush the AOF, then load it): the dataset is replaced; unlike a restart, connections,
    /// subscriptions and blocked clients stay.
    fn debug(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        let keys = match sub.as_str() {
            "reload" if argv[2..].iter().all(|a| is(a, "NOSAVE")) => {
                if argv.len() == 2 {
                    self.save_now();
                }
                let Some(rdb) = self.persistence.rdb.clone() else {
                    self.replace_keys(Keys::new());
                    return Err(Reply::err("ERR Error trying to load the RDB dump"));
                };
                rdb
            }
            "loadaof" if argv.len() == 2 => {
                if self.persistence.appendonly {
                    self.sync_aof();
                }
                self.persistence.aof_synced.clone().unwrap_or_default()
            }
            "reload" => return Err(Reply::err("ERR DEBUG RELOAD only takes NOSAVE here (brokerlab)")),
            _ => {
                return Err(Reply::err(format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
                    String::from_utf8_lossy(&argv[1]).chars().take(128).collect::<String>()
                )))
            }
        };
        self.replace_keys(keys);
        Ok(Reply::ok())
    }

    /// The dataset becomes `keys` (loaded from a file): watchers of keys are touched, as emptying a
    /// database touches them in Redis, and expired keys are dropped.
    fn replace_keys(&mut self, keys: Keys) {
        let watched: Vec<Vec<u8>> = self.watched.values().flatten().cloned().collect();
        for k in watched {
            if self.keys.contains_key(&k) || keys.contains_key(&k) {
                self.touch(&k);
            }
        }
        self.keys = keys;
        self.table = Default::default();
        self.table.grow_to(self.keys.len());
        self.expire_loaded();
        // Clients blocked on keys that now hold data are served (see `docs/redis-programs.md`).
        let keys: Vec<Vec<u8>> = self.blocked.iter().flat_map(|b| b.keys.clone()).collect();
        for k in keys {
            if self.keys.contains_key(&k) {
                self.signal_ready(&k);
            }
        }
    }

    /// The server restarts after its machine failed: the dataset is what the disk kept — the AOF's
    /// synced part with `appendonly yes` (Redis loads the AOF in preference to the RDB file), else the
    /// last RDB file, else nothing — and every connection is gone with its blocked command, its
    /// subscriptions, its transaction and its watched keys. Returns the number of keys lost or changed
    /// back (keys whose value differs from before).
    pub fn restart(&mut self) -> usize {
        let p = &self.persistence;
        let loaded = if p.appendonly {
            match p.appendfsync {
                Fsync::Always => self.keys.clone(),
                _ => p.aof_synced.clone().unwrap_or_default(),
            }
        } else {
            p.rdb.clone().unwrap_or_default()
        };
        let mut fresh = Redis::new();
        fresh.now = self.now;
        // The files stay as they are; a server that loaded the AOF has it synced.
        fresh.persistence = Persistence { lastsave_millis: self.now, dirty: 0, ..self.persistence.clone() };
        // Like the persistence settings, the output buffer limits are the server's configuration.
        fresh.output_limits = self.output_limits;
        if fresh.persistence.appendonly {
            fresh.persistence.aof_synced = Some(loaded.clone());
            fresh.persistence.aof_behind = false;
            fresh.persistence.aof_synced_millis = self.now;
        }
        fresh.keys = loaded;
        fresh.table.grow_to(fresh.keys.len());
        fresh.expire_loaded();
        let changed = self.keys.iter().filter(|(k, e)| fresh.keys.get(*k) != Some(*e)).count()
            + fresh.keys.keys().filter(|k| !self.keys.contains_key(*k)).count();
        *self = fresh;
        changed
    }
}

/// Whether `name` is one of the persistence commands.
pub(super) fn is_persistence_command(name: &str) -> bool {
    matches!(name, "save" | "bgsave" | "lastsave" | "bgrewriteaof" | "config" | "debug")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::server::Outcome;

    fn send(redis: &mut Redis, client: usize, line: &str) -> Outcome {
        let argv = crate::redis::program::parse::split_args(line).expect("a line");
        redis.execute(client, &argv).0
    }

    fn reply(redis: &mut Redis, line: &str) -> Reply {
        match send(redis, 0, line) {
            Outcome::Reply(r) => r,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn list(redis: &mut Redis, key: &str) -> Vec<String> {
        let Reply::Array(items) = reply(redis, &format!("LRANGE {key} 0 -1")) else { panic!("an array") };
        items
            .into_iter()
            .map(|r| match r {
                Reply::Bulk(b) => String::from_utf8(b).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// Pushes `a` at 0 s, `b` at 1.2 s and `c` at 31 s, then the machine fails at 31.5 s.
    fn pushes_then_restart(config: &str) -> Vec<String> {
        let mut redis = Redis::new();
        assert_eq!(reply(&mut redis, &format!("CONFIG SET save \"\" {config}")), Reply::ok());
        reply(&mut redis, "RPUSH q a");
        redis.advance(1_200);
        reply(&mut redis, "RPUSH q b");
        redis.advance(29_800);
        reply(&mut redis, "RPUSH q c");
        redis.advance(500);
        redis.restart();
        redis.check_invariants().unwrap();
        list(&mut redis, "q")
    }

    #[test]
    fn a_failing_machine_keeps_what_the_aof_policy_synced() {
        // always: every acknowledged write.
        assert_eq!(pushes_then_restart("appendonly yes appendfsync always"), ["a", "b", "c"]);
        // everysec: the fsync of 31 s had a and b, not c (pushed at 31 s, after that fsync).
        assert_eq!(pushes_then_restart("appendonly yes appendfsync everysec"), ["a", "b"]);
        // no: the operating system's flush at 30 s had a and b.
        assert_eq!(pushes_then_restart("appendonly yes appendfsync no"), ["a", "b"]);
        // No AOF and no save points: the RDB file of the start, empty.
        assert!(pushes_then_restart("appendonly no").is_empty());
    }

    #[test]
    fn with_appendfsync_no_a_failure_before_the_first_flush_loses_what_came_after_turning_it_on() {
        let mut redis = Redis::new();
        reply(&mut redis, "RPUSH q a");
        reply(&mut redis, "CONFIG SET appendonly yes appendfsync no");
        reply(&mut redis, "RPUSH q b");
        redis.advance(29_000);
        redis.restart();
        // Turning the AOF on wrote a (the rewrite is synced); b waited for the flush of 30 s.
        assert_eq!(list(&mut redis, "q"), ["a"]);
    }

    #[test]
    fn a_save_point_fires_when_more_than_its_seconds_passed_with_its_changes() {
        let mut redis = Redis::new();
        reply(&mut redis, "CONFIG SET save \"2 1\"");
        assert_eq!(reply(&mut redis, "LASTSAVE"), Reply::Int(1_700_000_000));
        reply(&mut redis, "RPUSH q a");
        redis.advance(2_500);
        // 2.5 s is not more than 2 s in whole seconds of the clock: 2 - 0 = 2.
        assert_eq!(reply(&mut redis, "LASTSAVE"), Reply::Int(1_700_000_000));
        redis.advance(600);
        assert_eq!(reply(&mut redis, "LASTSAVE"), Reply::Int(1_700_000_003));
        reply(&mut redis, "RPUSH q b");
        // The next snapshot would come at 6 s (more than 2 s after 3 s).
        redis.advance(1_000);
        redis.advance(1_000);
        redis.restart();
        assert_eq!(list(&mut redis, "q"), ["a"]);
        // A restart sets the last save to its instant, as a start does.
        assert_eq!(reply(&mut redis, "LASTSAVE"), Reply::Int(1_700_000_005));
    }

    #[test]
    fn a_restart_keeps_groups_and_pels_and_drops_clients() {
        let mut redis = Redis::new();
        reply(&mut redis, "XADD s 1-1 f v");
        reply(&mut redis, "XGROUP CREATE s g 0");
        reply(&mut redis, "XREADGROUP GROUP g alice STREAMS s >");
        reply(&mut redis, "SET gone-at-2s v");
        reply(&mut redis, "PEXPIRE gone-at-2s 2000");
        assert!(matches!(send(&mut redis, 1, "BRPOP q 0"), Outcome::Blocked));
        assert!(matches!(send(&mut redis, 2, "SUBSCRIBE c"), Outcome::Replies(_)));
        reply(&mut redis, "SAVE");
        reply(&mut redis, "XACK s g 1-1");
        redis.advance(2_500);
        let lost = redis.restart();
        // The PEL of the snapshot is back (the stream counts as changed back); the key that expired
        // meanwhile stays gone.
        assert_eq!(lost, 1);
        assert_eq!(reply(&mut redis, "XPENDING s g - + 10 alice").render().lines().count(), 4);
        assert_eq!(reply(&mut redis, "EXISTS gone-at-2s"), Reply::Int(0));
        assert!(redis.blocked.is_empty());
        assert!(redis.channels.is_empty());
        assert_eq!(reply(&mut redis, "PUBLISH c m"), Reply::Int(0));
        redis.check_invariants().unwrap();
    }

    #[test]
    fn a_refused_config_set_changes_nothing() {
        let mut redis = Redis::new();
        let e = reply(&mut redis, "CONFIG SET save \"\" appendfsync sometimes");
        assert_eq!(
            e,
            Reply::err(
                "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no"
            )
        );
        let Reply::Array(pair) = reply(&mut redis, "CONFIG GET save") else { panic!("an array") };
        assert_eq!(pair[1], Reply::bulk("3600 1 300 100 60 10000"));
        assert!(reply(&mut redis, "CONFIG SET save \" 60 1\"").render().starts_with("(error)"));
    }
}
