//! Seeded lock-step runs of the SQS engine against a deliberately naive model (a `Vec` of messages with
//! their timers, scanned in full on every call), with the engine's invariants checked after every step.
//! Short-poll sampling is off, so a receive returns the oldest visible messages in both. 20 standard and
//! 20 FIFO seeds of [`STEPS`] operations each: 100,000 operations in all, every one compared.

use std::collections::BTreeMap;

use broker_core::sqs::types::{ReceiveMessage, SendMessage};
use broker_core::sqs::Sqs;
use broker_core::{Prng, VirtualTime};

#[derive(Clone, Debug)]
struct NaiveMessage {
    body: String,
    group: Option<String>,
    visible_at: u64,
    received: u32,
    /// The body-unique tag of the last receive (so stale handles can be told apart).
    receive_no: u32,
    deleted: bool,
}

#[derive(Default)]
struct Naive {
    now: u64,
    messages: Vec<NaiveMessage>,
}

impl Naive {
    fn live(&self) -> impl Iterator<Item = &NaiveMessage> {
        self.messages.iter().filter(|m| !m.deleted)
    }

    fn visible(&self, m: &NaiveMessage) -> bool {
        m.visible_at <= self.now
    }

    fn receive(&mut self, max: usize, visibility: u64, fifo: bool) -> Vec<String> {
        let now = self.now;
        let mut out = Vec::new();
        let mut taken_groups: Vec<String> = Vec::new();
        let blocked: Vec<String> = self
            .live()
            .filter(|m| m.visible_at > now && m.received > 0)
            .filter_map(|m| m.group.clone())
            .collect();
        if fifo {
            // Group order = order of each group's oldest live message; whole groups first.
            let mut order: Vec<String> = Vec::new();
            for m in self.live() {
                let g = m.group.clone().unwrap_or_default();
                if !order.contains(&g) && !blocked.contains(&g) {
                    order.push(g);
                }
            }
            'outer: for g in order {
                for i in 0..self.messages.len() {
                    let m = &self.messages[i];
                    if m.deleted || m.group.as_deref() != Some(g.as_str()) {
                        continue;
                    }
                    if !self.visible(m) {
                        break;
                    }
                    if out.len() == max {
                        break 'outer;
                    }
                    out.push(i);
                }
                taken_groups.push(g);
            }
        } else {
            for i in 0..self.messages.len() {
                if out.len() < max && !self.messages[i].deleted && self.visible(&self.messages[i]) {
                    out.push(i);
                }
            }
        }
        out.into_iter()
            .map(|i| {
                let m = &mut self.messages[i];
                m.received += 1;
                m.receive_no += 1;
                m.visible_at = now + visibility * 1000;
                m.body.clone()
            })
            .collect()
    }
}

/// Operations per seed.
const STEPS: usize = 2_500;

fn run(seed: u64, fifo: bool) {
    let mut prng = Prng::new(seed);
    let mut sqs = Sqs::new(seed);
    sqs.set_short_poll_sampling(false);
    let mut naive = Naive::default();
    let name = if fifo { "q.fifo" } else { "q" };
    let mut attributes = BTreeMap::new();
    if fifo {
        attributes.insert("FifoQueue".to_string(), "true".to_string());
        attributes.insert("ContentBasedDeduplication".to_string(), "true".to_string());
    }
    let url = sqs.create_queue(name, &attributes).unwrap();
    // Handles of received messages: (body, handle, the naive receive number it belongs to).
    let mut handles: Vec<(String, String, u32)> = Vec::new();
    let mut sent = 0u32;
    for step in 0..STEPS {
        match prng.below(10) {
            0..=2 => {
                let body = format!("m{sent}");
                sent += 1;
                let group = fifo.then(|| format!("g{}", prng.below(3)));
                let delay = if fifo { None } else { Some(prng.below(3) as i64) };
                sqs.send_message(
                    &url,
                    &SendMessage {
                        body: body.clone(),
                        delay_seconds: delay,
                        group_id: group.clone(),
                        ..SendMessage::default()
                    },
                )
                .unwrap();
                naive.messages.push(NaiveMessage {
                    body,
                    group,
                    visible_at: naive.now + delay.unwrap_or(0) as u64 * 1000,
                    received: 0,
                    receive_no: 0,
                    deleted: false,
                });
            }
            3..=5 => {
                let max = prng.range_inclusive(1, 10) as usize;
                let vt = prng.below(4);
                let got = sqs
                    .receive_message(
                        &url,
                        &ReceiveMessage {
                            max_number_of_messages: Some(max as i64),
                            visibility_timeout: Some(vt as i64),
                            ..ReceiveMessage::default()
                        },
                    )
                    .unwrap();
                let expected = naive.receive(max, vt, fifo);
                let got_bodies: Vec<String> = got.iter().map(|m| m.body.clone()).collect();
                assert_eq!(got_bodies, expected, "seed {seed} step {step}: receive");
                for m in got {
                    let no = naive.messages.iter().find(|n| n.body == m.body).map(|n| n.receive_no).unwrap();
                    handles.push((m.body, m.receipt_handle, no));
                }
            }
            6..=7 if !handles.is_empty() => {
                let (body, handle, no) = handles.swap_remove(prng.below(handles.len() as u64) as usize);
                let result = sqs.delete_message(&url, &handle);
                let now = naive.now;
                // Only the most recent handle deletes; on a FIFO queue a handle past its visibility
                // timeout (or superseded) is refused as expired, on a standard queue it does nothing.
                let live = naive.messages.iter_mut().find(|m| m.body == body && !m.deleted);
                let latest = live.as_ref().is_some_and(|m| m.receive_no == no);
                let in_flight = live.as_ref().is_some_and(|m| m.visible_at > now);
                if fifo && live.is_some() && !(latest && in_flight) {
                    assert!(result.is_err(), "seed {seed} step {step}: an expired FIFO handle");
                } else {
                    result.unwrap();
                    if let (Some(m), true) = (live, latest) {
                        m.deleted = true;
                    }
                }
            }
            8 if !handles.is_empty() => {
                let (body, handle, no) = handles[prng.below(handles.len() as u64) as usize].clone();
                let t = prng.below(3);
                let now = naive.now;
                let ok = sqs.change_message_visibility(&url, &handle, t as i64).is_ok();
                let m = naive.messages.iter_mut().find(|m| m.body == body).unwrap();
                let in_flight = !m.deleted && m.receive_no == no && m.visible_at > now;
                assert_eq!(ok, in_flight, "seed {seed} step {step}: change visibility");
                if in_flight {
                    m.visible_at = now + t * 1000;
                }
            }
            _ => {
                naive.now += prng.below(2500);
                sqs.advance_to(VirtualTime::from_millis(naive.now));
            }
        }
        sqs.check_invariants().unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}"));
        let census = sqs.census(name);
        let now = naive.now;
        let live: Vec<&NaiveMessage> = naive.live().collect();
        assert_eq!(
            census.visible,
            live.iter().filter(|m| m.visible_at <= now).count(),
            "seed {seed} step {step}"
        );
        assert_eq!(
            census.in_flight,
            live.iter().filter(|m| m.visible_at > now && m.received > 0).count(),
            "seed {seed} step {step}"
        );
        assert_eq!(
            census.delayed,
            live.iter().filter(|m| m.visible_at > now && m.received == 0).count(),
            "seed {seed} step {step}"
        );
    }
}

#[test]
fn standard_queue_in_lock_step_with_a_naive_model() {
    for seed in 0..20 {
        run(seed, false);
    }
}

#[test]
fn fifo_queue_in_lock_step_with_a_naive_model() {
    for seed in 100..120 {
        run(seed, true);
    }
}
