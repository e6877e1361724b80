//! RabbitMQ's script API (`ack`, `nack`, `reject`, `crash`, `cancel`, `publish`, `reply`) and its part of the
//! per-call record.
//!
//! The kernel's sandbox (`sim_kernel::script`) registers the functions every model has (`log`, `now`,
//! `random`, `sleep`, `state`) and shares one [`Call`] between itself and the registered closures through
//! `Rc<RefCell<…>>`; this module's functions write RabbitMQ's decision and publishes into
//! [`Call::model`](sim_kernel::script::Call::model) and count the bytes they publish against the call's
//! output limit. The functions only record; nothing reaches the broker until the simulation acts on the
//! outcome.

use super::convert;
use super::{Decision, ScriptPublish};
use crate::amqp::types::BasicProperties;
use sim_kernel::script::rhai::{Dynamic, Engine};
use sim_kernel::script::{fail, text, ScriptResult as Res};
use std::cell::RefCell;
use std::rc::Rc;

/// The call in progress, as the kernel's sandbox shares it with RabbitMQ's functions.
type Call = sim_kernel::script::Call<AmqpCall>;

/// What the running call is for; decides which functions make sense.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) enum CallKind {
    /// `on_message`: the delivery's reply address, for `reply(…)`.
    Message { reply_to: Option<String>, correlation_id: Option<String> },
    /// `on_tick` of a producer (also the value between calls, when no function works at all).
    #[default]
    Tick,
}

/// RabbitMQ's part of one call: what it is for (an input) and what the script decided and published.
#[derive(Clone, Debug, Default)] // cloned with its host (rewind snapshots)
pub(super) struct AmqpCall {
    pub(super) kind: CallKind,
    pub(super) decision: Option<Decision>,
    pub(super) publishes: Vec<ScriptPublish>,
}

fn decide(call: &mut Call, decision: Decision) -> Res<()> {
    let settles = matches!(decision, Decision::Ack | Decision::Nack { .. } | Decision::Reject { .. });
    if !call.is_running() {
        return Err(fail(format!("{decision} can only run inside {}", call.inside())));
    }
    if call.model.kind == CallKind::Tick && settles {
        return Err(fail(format!("{decision} settles a message, and on_tick has none")));
    }
    if let Some(previous) = call.model.decision {
        return Err(fail(format!(
            "{decision}: this call already decided {previous}; a message is settled once"
        )));
    }
    call.model.decision = Some(decision);
    Ok(())
}

fn record_publish(call: &mut Call, publish: ScriptPublish) -> Res<()> {
    call.running("publish")?;
    call.spend(publish.exchange.len() + publish.routing_key.len() + publish.body.len())?;
    call.model.publishes.push(publish);
    Ok(())
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
    let body = text(&body);
    record_publish(&mut call.borrow_mut(), ScriptPublish { exchange, routing_key, body, properties })
}

/// RPC: publish `body` through the default exchange to the message's `reply_to`, carrying its
/// `correlation_id` unless the options set one.
fn reply(call: &RefCell<Call>, body: Dynamic, options: Option<&Dynamic>) -> Res<()> {
    let mut properties = properties("reply", options)?;
    let mut call = call.borrow_mut();
    if !call.is_running() {
        return Err(fail("reply() can only run inside on_message".to_string()));
    }
    let (reply_to, correlation_id) = match &call.model.kind {
        CallKind::Message { reply_to, correlation_id } => (reply_to.clone(), correlation_id.clone()),
        CallKind::Tick => return Err(fail("reply() answers a message, and on_tick has none".to_string())),
    };
    let Some(reply_to) = reply_to else {
        return Err(fail("reply(): the message has no reply_to property".to_string()));
    };
    if properties.correlation_id.is_none() {
        properties.correlation_id = correlation_id;
    }
    let body = text(&body);
    record_publish(
        &mut call,
        ScriptPublish { exchange: String::new(), routing_key: reply_to, body, properties },
    )
}

/// Registers RabbitMQ's script API on `engine`, every function writing into `call` (the kernel's sandbox
/// has registered the common functions already).
pub(super) fn register(engine: &mut Engine, call: &Rc<RefCell<Call>>) {
    let c = Rc::clone(call);
    engine.register_fn("ack", move || decide(&mut c.borrow_mut(), Decision::Ack));
    // RabbitMQ's (and pika's) default for `basic.nack` and `basic.reject` is `requeue = true`.
    let c = Rc::clone(call);
    engine.register_fn("nack", move || decide(&mut c.borrow_mut(), Decision::Nack { requeue: true }));
    let c = Rc::clone(call);
    engine.register_fn("nack", move |requeue: Dynamic| {
        let requeue = requeue_flag("nack", &requeue)?;
        decide(&mut c.borrow_mut(), Decision::Nack { requeue })
    });
    let c = Rc::clone(call);
    engine.register_fn("reject", move || decide(&mut c.borrow_mut(), Decision::Reject { requeue: true }));
    let c = Rc::clone(call);
    engine.register_fn("reject", move |requeue: Dynamic| {
        let requeue = requeue_flag("reject", &requeue)?;
        decide(&mut c.borrow_mut(), Decision::Reject { requeue })
    });
    let c = Rc::clone(call);
    engine.register_fn("crash", move || decide(&mut c.borrow_mut(), Decision::Crash));
    let c = Rc::clone(call);
    engine.register_fn("cancel", move || decide(&mut c.borrow_mut(), Decision::Cancel));

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
}
