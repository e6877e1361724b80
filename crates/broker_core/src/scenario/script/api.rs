//! The functions a script can call (`ack`, `publish`, `random`, …) and the per-call record they write into.
//!
//! Registered closures share one [`Call`] with the host through `Rc<RefCell<…>>`: the host fills in the
//! call's inputs (virtual time, the message's reply address, the actor's `state`) before running the
//! script and takes the [`ScriptOutcome`] out afterwards. The functions only record; nothing reaches the
//! broker until the simulation acts on the outcome.

use super::convert;
use super::{Decision, ScriptOutcome, ScriptPublish};
use crate::amqp::types::BasicProperties;
use crate::prng::Prng;
use rhai::{Dynamic, Engine, EvalAltResult, Position};
use std::cell::RefCell;
use std::rc::Rc;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// What the running call is for; decides which functions make sense.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) enum CallKind {
    /// No script is running (between calls).
    #[default]
    Idle,
    /// `on_message`: the delivery's reply address, for `reply(…)`.
    Message { reply_to: Option<String>, correlation_id: Option<String> },
    /// `on_tick` of a producer.
    Tick,
}

/// The inputs and the growing outcome of the call in progress.
///
/// # Invariants
/// * `kind == Idle` exactly when no call is running; then `state` is unit and `outcome` is empty.
/// * `output_bytes <= max_output_bytes`; output that would pass the budget is refused, not recorded.
#[derive(Clone, Debug)] // cloned with its host (rewind snapshots)
pub(super) struct Call {
    prng: Prng,
    now_millis: u64,
    kind: CallKind,
    /// The actor's shared `state` map while its call runs.
    state: Dynamic,
    outcome: ScriptOutcome,
    output_bytes: usize,
    max_output_bytes: usize,
    /// `print`/`debug` cannot fail, so passing the budget there is remembered and reported after the call.
    overflowed: bool,
}

impl Call {
    pub(super) fn new(prng: Prng, max_output_bytes: usize) -> Self {
        Call {
            prng,
            now_millis: 0,
            kind: CallKind::Idle,
            state: Dynamic::UNIT,
            outcome: ScriptOutcome::default(),
            output_bytes: 0,
            max_output_bytes,
            overflowed: false,
        }
    }

    pub(super) fn begin(&mut self, now_millis: u64, kind: CallKind, state: Dynamic) {
        debug_assert_eq!(self.kind, CallKind::Idle, "a script call started inside another");
        self.now_millis = now_millis;
        self.kind = kind;
        self.state = state;
        self.outcome = ScriptOutcome::default();
        self.output_bytes = 0;
        self.overflowed = false;
    }

    /// Ends the call: returns its outcome and whether `print`/`debug` passed the output budget.
    pub(super) fn finish(&mut self) -> (ScriptOutcome, bool) {
        self.kind = CallKind::Idle;
        self.state = Dynamic::UNIT;
        (std::mem::take(&mut self.outcome), std::mem::replace(&mut self.overflowed, false))
    }

    /// The running actor's shared `state` (unit between calls).
    pub(super) fn state(&self) -> Dynamic {
        self.state.clone()
    }

    fn running(&self, function: &str) -> Res<()> {
        if self.kind == CallKind::Idle {
            return Err(fail(format!("{function}() can only run inside on_message or on_tick")));
        }
        Ok(())
    }

    fn spend(&mut self, bytes: usize) -> Res<()> {
        let total = self.output_bytes.saturating_add(bytes);
        if total > self.max_output_bytes {
            return Err(fail(format!(
                "too much output in one call (limit {} bytes of logs and publishes)",
                self.max_output_bytes
            )));
        }
        self.output_bytes = total;
        Ok(())
    }

    fn log(&mut self, line: String) -> Res<()> {
        self.running("log")?;
        self.spend(line.len())?;
        self.outcome.logs.push(line);
        Ok(())
    }

    fn decide(&mut self, decision: Decision) -> Res<()> {
        let settles = matches!(decision, Decision::Ack | Decision::Nack { .. } | Decision::Reject { .. });
        match self.kind {
            CallKind::Idle => {
                return Err(fail(format!("{decision} can only run inside on_message or on_tick")));
            }
            CallKind::Tick if settles => {
                return Err(fail(format!("{decision} settles a message, and on_tick has none")));
            }
            _ => {}
        }
        if let Some(previous) = self.outcome.decision {
            return Err(fail(format!(
                "{decision}: this call already decided {previous}; a message is settled once"
            )));
        }
        self.outcome.decision = Some(decision);
        Ok(())
    }

    fn publish(&mut self, publish: ScriptPublish) -> Res<()> {
        self.running("publish")?;
        self.spend(publish.exchange.len() + publish.routing_key.len() + publish.body.len())?;
        self.outcome.publishes.push(publish);
        Ok(())
    }
}

/// A script-visible runtime error; Rhai attaches the call's position.
pub(super) fn fail(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(message), Position::NONE).into()
}

fn requeue_flag(function: &str, requeue: &Dynamic) -> Res<bool> {
    requeue.as_bool().map_err(|_| {
        fail(format!("{function}(requeue): requeue must be true or false, not a {}", requeue.type_name()))
    })
}

fn text_argument(function: &str, name: &str, value: Dynamic) -> Res<String> {
    let type_name = value.type_name();
    value
        .flatten_clone()
        .into_string()
        .map_err(|_| fail(format!("{function}(): {name} must be a string, not a {type_name}")))
}

fn properties(function: &str, options: Option<&Dynamic>) -> Res<BasicProperties> {
    match options {
        None => Ok(BasicProperties::default()),
        Some(options) => convert::publish_properties(function, options).map_err(fail),
    }
}

fn publish(
    call: &RefCell<Call>,
    exchange: Dynamic,
    routing_key: Dynamic,
    body: Dynamic,
    options: Option<&Dynamic>,
) -> Res<()> {
    let exchange = text_argument("publish", "exchange", exchange)?;
    let routing_key = text_argument("publish", "routing_key", routing_key)?;
    let properties = properties("publish", options)?;
    let body = convert::text(&body);
    call.borrow_mut().publish(ScriptPublish { exchange, routing_key, body, properties })
}

/// RPC: publish `body` through the default exchange to the message's `reply_to`, carrying its
/// `correlation_id` unless the options set one.
fn reply(call: &RefCell<Call>, body: Dynamic, options: Option<&Dynamic>) -> Res<()> {
    let mut properties = properties("reply", options)?;
    let mut call = call.borrow_mut();
    let (reply_to, correlation_id) = match &call.kind {
        CallKind::Message { reply_to, correlation_id } => (reply_to.clone(), correlation_id.clone()),
        CallKind::Tick => return Err(fail("reply() answers a message, and on_tick has none".to_string())),
        CallKind::Idle => return Err(fail("reply() can only run inside on_message".to_string())),
    };
    let Some(reply_to) = reply_to else {
        return Err(fail("reply(): the message has no reply_to property".to_string()));
    };
    if properties.correlation_id.is_none() {
        properties.correlation_id = correlation_id;
    }
    let body = convert::text(&body);
    call.publish(ScriptPublish { exchange: String::new(), routing_key: reply_to, body, properties })
}

/// Registers the script API on `engine`, every function writing into `call`.
pub(super) fn register(engine: &mut Engine, call: &Rc<RefCell<Call>>) {
    // `state` is not a scope variable (script functions cannot see the caller's scope): the resolver
    // hands out the actor's shared map, so `state.n += 1` inside any function changes the stored map.
    // A local variable or parameter named `state` (index > 0) shadows it as usual.
    let c = Rc::clone(call);
    #[allow(deprecated)] // Rhai marks `on_var` "volatile", not deprecated.
    engine.on_var(move |name, index, _| {
        if index == 0 && name == "state" {
            let call = c.borrow();
            if call.kind != CallKind::Idle {
                return Ok(Some(call.state.clone()));
            }
        }
        Ok(None)
    });

    // `print` and `debug` would write to stdout; in the sandbox they are log lines.
    let c = Rc::clone(call);
    engine.on_print(move |text| {
        let mut call = c.borrow_mut();
        if call.log(text.to_string()).is_err() {
            call.overflowed = true;
        }
    });
    let c = Rc::clone(call);
    engine.on_debug(move |text, _, _| {
        let mut call = c.borrow_mut();
        if call.log(text.to_string()).is_err() {
            call.overflowed = true;
        }
    });

    let c = Rc::clone(call);
    engine.register_fn("log", move |value: Dynamic| c.borrow_mut().log(convert::text(&value)));

    let c = Rc::clone(call);
    engine.register_fn("ack", move || c.borrow_mut().decide(Decision::Ack));
    // RabbitMQ's (and pika's) default for `basic.nack` and `basic.reject` is `requeue = true`.
    let c = Rc::clone(call);
    engine.register_fn("nack", move || c.borrow_mut().decide(Decision::Nack { requeue: true }));
    let c = Rc::clone(call);
    engine.register_fn("nack", move |requeue: Dynamic| {
        let requeue = requeue_flag("nack", &requeue)?;
        c.borrow_mut().decide(Decision::Nack { requeue })
    });
    let c = Rc::clone(call);
    engine.register_fn("reject", move || c.borrow_mut().decide(Decision::Reject { requeue: true }));
    let c = Rc::clone(call);
    engine.register_fn("reject", move |requeue: Dynamic| {
        let requeue = requeue_flag("reject", &requeue)?;
        c.borrow_mut().decide(Decision::Reject { requeue })
    });
    let c = Rc::clone(call);
    engine.register_fn("crash", move || c.borrow_mut().decide(Decision::Crash));
    let c = Rc::clone(call);
    engine.register_fn("cancel", move || c.borrow_mut().decide(Decision::Cancel));

    let c = Rc::clone(call);
    engine.register_fn("publish", move |exchange: Dynamic, routing_key: Dynamic, body: Dynamic| {
        publish(&c, exchange, routing_key, body, None)
    });
    let c = Rc::clone(call);
    engine.register_fn(
        "publish",
        move |exchange: Dynamic, routing_key: Dynamic, body: Dynamic, options: Dynamic| {
            publish(&c, exchange, routing_key, body, Some(&options))
        },
    );
    let c = Rc::clone(call);
    engine.register_fn("reply", move |body: Dynamic| reply(&c, body, None));
    let c = Rc::clone(call);
    engine.register_fn("reply", move |body: Dynamic, options: Dynamic| reply(&c, body, Some(&options)));

    let c = Rc::clone(call);
    engine.register_fn("now", move || -> Res<i64> {
        let call = c.borrow();
        call.running("now")?;
        Ok(i64::try_from(call.now_millis).unwrap_or(i64::MAX))
    });
    let c = Rc::clone(call);
    engine.register_fn("random", move |bound: i64| -> Res<i64> {
        let Ok(bound @ 1..) = u64::try_from(bound) else {
            return Err(fail(format!("random(n) needs n > 0, got {bound}")));
        };
        let mut call = c.borrow_mut();
        call.running("random")?;
        // below(bound) < bound <= i64::MAX, so the conversion cannot fail.
        Ok(i64::try_from(call.prng.below(bound)).unwrap_or(i64::MAX))
    });
    let c = Rc::clone(call);
    engine.register_fn("sleep", move |millis: i64| -> Res<()> {
        let Ok(millis) = u64::try_from(millis) else {
            return Err(fail(format!("sleep(ms) needs ms >= 0, got {millis}")));
        };
        let mut call = c.borrow_mut();
        call.running("sleep")?;
        let total = call.outcome.processing_millis.unwrap_or(0).saturating_add(millis);
        call.outcome.processing_millis = Some(total);
        Ok(())
    });
}
