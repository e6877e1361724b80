/*
 * Brokerlab embed helper (protocol 1): turns <div data-brokerlab data-scenario="02-work-queues"
 * data-panels="controls,topology,queues"></div> into a sandbox in an iframe, and gives the page a small
 * promise API over postMessage:
 *
 *   const sandbox = Brokerlab.get(element);          // the element, its iframe, or a CSS selector
 *   await sandbox.load({ scenario: "02-work-queues" });   // or { document: {...scenario document...} }
 *   await sandbox.play(); await sandbox.pause(); await sandbox.step();
 *   await sandbox.runUntil("10s");                    // or milliseconds
 *   await sandbox.publish({ routingKey: "task_queue", body: "task", persistent: true });
 *   const { queues, timeMillis } = await sandbox.counters();  // per queue: ready, unacked, published,
 *                                                              // delivered, acked, consumers
 *   const { checks, passed, failed } = await sandbox.checks();
 *
 * Kafka documents play in a Kafka sandbox: <div data-brokerlab data-model="kafka" data-scenario="quickstart"
 * data-panels="controls,partitions,groups"></div>; there `produce({topic, key, value})` writes a record and
 * `counters({topic, group})` gives offsets, high watermarks and lag per group and partition.
 * SQS documents play in an SQS sandbox: <div data-brokerlab data-model="sqs" data-scenario="visibility-timeout"
 * data-panels="controls,queues"></div>; there `send({queue, body})`, `receive({queue, visibilityTimeout})`
 * and `deleteMessage({queue, receiptHandle})` are the SQS calls, and `counters({queue})` gives each queue's
 * visible, in-flight and delayed counts.
 * Redis documents play in a Redis sandbox: <div data-brokerlab data-model="redis"
 * data-scenario="streams-consumer-groups-and-xautoclaim" data-panels="controls,keys,console"></div>; there
 * `command("XADD orders * item book")` sends a redis-cli line on the sandbox's console connection, and
 * `counters("orders")` gives each list's length, each stream's groups' pending entries and lag, each
 * channel's publishes, deliveries and missed messages.
 *   const stop = sandbox.on("event", record => …);    // engine events; also "finished", "ready"
 *
 * The sandbox is loaded from index.html next to this script (override with data-src). It only obeys
 * messages from this page's origin (passed as ?origin=), and this script only accepts messages from the
 * sandbox's own window. Every message is checked before it is used. See docs/embed.md.
 *
 * Isolation: the iframe is sandboxed with `allow-scripts` but never `allow-same-origin` (the two together
 * let a framed page remove its own sandbox). The sandbox therefore runs in an opaque origin: its messages
 * arrive with the origin "null", so they are recognised by their source window (this page's own iframe),
 * and messages to it are posted with the target origin "*" (an opaque origin cannot be named; they carry
 * commands, never secrets). The app's files must be fetchable from an opaque origin, i.e. served with
 * `Access-Control-Allow-Origin: *` (GitHub Pages and most static hosts do).
 */
(function () {
  "use strict";

  var PROTOCOL = 1;
  var REPLY_TIMEOUT_MS = 20000;
  var PING_INTERVAL_MS = 150;
  var HEIGHT_SLACK_PX = 6;
  var script = document.currentScript;
  // Relative to this script, so a copy of the built files works from any static server and any folder.
  var DEFAULT_APP = new URL("index.html", (script && script.src) || document.baseURI).href;
  var NOTIFICATIONS = ["ready", "events", "finished", "resize"];

  var sandboxes = [];
  var nextId = 1;

  function isObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  function BrokerlabError(message) {
    var e = new Error(message);
    e.name = "BrokerlabError";
    return e;
  }

  /** One embedded sandbox: its iframe, pending requests and listeners. */
  function Sandbox(host, frame, origin) {
    this.element = host;
    this.frame = frame;
    this.origin = origin;
    this.isReady = false;
    this.pending = {};
    this.queued = [];
    this.listeners = { ready: [], event: [], finished: [] };
    this.subscribed = false;
    this.autoHeight = !host.hasAttribute("data-height");
    var self = this;
    this.readyPromise = new Promise(function (resolve) {
      self.resolveReady = resolve;
    });
  }

  Sandbox.prototype.post = function (message) {
    var target = this.frame.contentWindow;
    // The sandboxed frame's origin is opaque: no origin can be named, the window is the address.
    if (target) target.postMessage(message, "*");
  };

  /** Sends a request; resolves with its result, rejects with its error (or after a timeout). */
  Sandbox.prototype.request = function (type, params) {
    if (typeof type !== "string" || !type) return Promise.reject(BrokerlabError("a request needs a type"));
    if (params !== undefined && !isObject(params)) {
      return Promise.reject(BrokerlabError("request parameters must be an object"));
    }
    var self = this;
    var id = "bl-" + nextId++;
    var message = Object.assign({}, params || {}, { brokerlab: PROTOCOL, id: id, type: type });
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        delete self.pending[id];
        reject(BrokerlabError("no reply to '" + type + "' within " + REPLY_TIMEOUT_MS / 1000 + " s"));
      }, REPLY_TIMEOUT_MS);
      self.pending[id] = { resolve: resolve, reject: reject, timer: timer };
      if (self.isReady) self.post(message);
      else self.queued.push(message);
    });
  };

  Sandbox.prototype.ready = function () {
    return this.readyPromise;
  };
  Sandbox.prototype.info = function () {
    return this.request("info");
  };
  /** `load("02-work-queues")`, `load({scenario: id})` or `load({document: object or JSON text})`. */
  Sandbox.prototype.load = function (what) {
    return this.request("load", typeof what === "string" ? { scenario: what } : what);
  };
  Sandbox.prototype.play = function () {
    return this.request("play");
  };
  Sandbox.prototype.pause = function () {
    return this.request("pause");
  };
  Sandbox.prototype.step = function () {
    return this.request("step");
  };
  /** `time`: milliseconds, or a duration text such as "10s" or "250ms" (virtual time, absolute). */
  Sandbox.prototype.runUntil = function (time) {
    return this.request("runUntil", { time: time });
  };
  Sandbox.prototype.setSpeed = function (speed) {
    return this.request("setSpeed", { speed: speed });
  };
  /**
   * Kafka sandboxes (data-model="kafka"): a record to a topic, `{topic, key, value, partition, headers, acks}`
   * (key and value text or null; partition: the key's by default; headers: an object of strings; acks:
   * "all" (default), 1 or 0). Resolves with the clock and `produced` (where the record went).
   */
  Sandbox.prototype.produce = function (record) {
    return this.request("produce", record);
  };
  /**
   * SQS sandboxes (data-model="sqs"): SendMessage, `{queue, body, messageAttributes, delaySeconds,
   * messageGroupId, messageDeduplicationId}` (attributes: an object of strings). Resolves with the clock
   * and `said` (the MessageId); a refusal is SQS's error as boto3 words it.
   */
  Sandbox.prototype.send = function (message) {
    return this.request("send", message);
  };
  /**
   * SQS: ReceiveMessage, `{queue, maxNumberOfMessages, visibilityTimeout, waitTimeSeconds}`. Resolves with
   * `messages` (each `messageId`, `body`, `receiptHandle`, `attributes`) and `waiting` (a long poll still open).
   */
  Sandbox.prototype.receive = function (request) {
    return this.request("receive", request);
  };
  /** SQS: DeleteMessage, `{queue, receiptHandle}` (the handle of the message's latest receive). */
  Sandbox.prototype.deleteMessage = function (request) {
    return this.request("delete", request);
  };
  /**
   * Redis sandboxes (data-model="redis"): one redis-cli command line, sent now on the sandbox's console
   * connection (`"LPUSH jobs job-9"`). Resolves with the clock, `output` (the reply as redis-cli prints it,
   * or null while a blocking command waits) and `waiting`; an error reply rejects with redis-cli's text
   * (`(error) WRONGTYPE …`), the command still sent.
   */
  Sandbox.prototype.command = function (line) {
    return this.request("command", { line: line });
  };
  /** `{exchange, routingKey, body, persistent, mandatory, headers, priority, expiration, ...}`. */
  Sandbox.prototype.publish = function (message) {
    return this.request("publish", message);
  };
  /**
   * RabbitMQ: `counters()` or `counters("task_queue")`. Kafka: `counters()` or `counters({topic, group})`:
   * per topic partition `logStartOffset`, `highWatermark`, `logEndOffset`, `leader`, `isr`; per group its
   * `state`, total `lag` and per partition `committedOffset` and `lag`. SQS: `counters()` or
   * `counters("payments")`: per queue `visible`, `inFlight`, `delayed`, `fifo` and `deadLetter`. Redis:
   * `counters()` or `counters("orders")` (a key, channel or pattern): `lists`, `streams` (per group
   * `pending`, `lag`, …), `channels` (`publishes`, `receivers`, `toNobody`, `missed`, `subscribers`),
   * `patterns`.
   */
  Sandbox.prototype.counters = function (which) {
    if (which === undefined) return this.request("counters", {});
    if (isObject(which)) return this.request("counters", which);
    return this.request("counters", this.model === "redis" ? { key: which } : { queue: which });
  };
  Sandbox.prototype.checks = function () {
    return this.request("checks");
  };
  /** Event notifications of these kinds only (e.g. ["delivered", "acked"]), or all when omitted. */
  Sandbox.prototype.subscribe = function (kinds) {
    this.subscribed = true;
    return this.request("subscribe", kinds === undefined ? {} : { events: kinds });
  };
  Sandbox.prototype.unsubscribe = function () {
    this.subscribed = false;
    return this.request("unsubscribe");
  };

  /**
   * Listens to "event" (one engine event record each), "finished" (the checks at a run's end) or "ready".
   * The first "event" listener subscribes to every event kind unless subscribe() was called. Returns a
   * function that removes the listener.
   */
  Sandbox.prototype.on = function (name, fn) {
    if (!this.listeners[name]) throw BrokerlabError("unknown notification '" + name + "'");
    if (typeof fn !== "function") throw BrokerlabError("a listener must be a function");
    var list = this.listeners[name];
    list.push(fn);
    if (name === "event" && !this.subscribed) this.subscribe().catch(function () {});
    if (name === "ready" && this.isReady) fn(this.readyInfo);
    return function () {
      var i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  };

  Sandbox.prototype.emit = function (name, value) {
    this.listeners[name].slice().forEach(function (fn) {
      try {
        fn(value);
      } catch (e) {
        setTimeout(function () {
          throw e;
        });
      }
    });
  };

  Sandbox.prototype.becomeReady = function (info) {
    if (this.isReady) return;
    this.isReady = true;
    this.readyInfo = info;
    clearInterval(this.pinger);
    var queued = this.queued;
    this.queued = [];
    for (var i = 0; i < queued.length; i++) this.post(queued[i]);
    this.resolveReady(info);
    this.emit("ready", info);
  };

  /** Until the sandbox answers, asks it who it is (the wasm app starts a moment after the frame loads). */
  Sandbox.prototype.startPinging = function () {
    var self = this;
    var ping = function () {
      if (self.isReady) return;
      var id = "bl-ping-" + nextId++;
      self.pending[id] = {
        ping: true,
        resolve: function (info) {
          self.becomeReady(info);
        },
        reject: function () {},
      };
      self.post({ brokerlab: PROTOCOL, id: id, type: "info" });
    };
    ping();
    this.pinger = setInterval(ping, PING_INTERVAL_MS);
  };

  /** Handles a message known to come from this sandbox's window and origin; checks its shape first. */
  Sandbox.prototype.receive = function (data) {
    if (!isObject(data) || data.brokerlab !== PROTOCOL || typeof data.type !== "string") return;
    if (data.type === "reply") {
      if (typeof data.id !== "string" || typeof data.ok !== "boolean") return;
      var p = this.pending[data.id];
      if (!p) return;
      if (data.ok && !isObject(data.result)) return;
      if (!data.ok && typeof data.error !== "string") return;
      delete this.pending[data.id];
      clearTimeout(p.timer);
      if (data.ok) p.resolve(data.result);
      else p.reject(BrokerlabError(data.error));
      if (p.ping) {
        // Other pings still waiting are answered by now too.
        for (var id in this.pending) {
          if (this.pending[id].ping) delete this.pending[id];
        }
      }
      return;
    }
    if (NOTIFICATIONS.indexOf(data.type) < 0) return;
    if (data.type === "ready") {
      this.becomeReady(data);
    } else if (data.type === "events") {
      if (!Array.isArray(data.events)) return;
      for (var i = 0; i < data.events.length; i++) {
        var record = data.events[i];
        if (isObject(record) && typeof record.event === "string" && typeof record.at === "number") {
          this.emit("event", record);
        }
      }
    } else if (data.type === "finished") {
      if (Array.isArray(data.checks)) this.emit("finished", data);
    } else if (data.type === "resize") {
      var h = data.height;
      if (this.autoHeight && typeof h === "number" && isFinite(h) && h > 0 && h < 20000) {
        // The frame's borders are outside the sandbox's content whatever the page's box-sizing.
        var borders = this.frame.offsetHeight - this.frame.clientHeight;
        // A few pixels of slack: content positioned outside the body's flow must not bring a scrollbar.
        this.frame.style.height = Math.ceil(h) + Math.max(0, borders) + HEIGHT_SLACK_PX + "px";
      }
    }
  };

  function appUrl(host, options) {
    var src = options.src || host.getAttribute("data-src") || DEFAULT_APP;
    var url = new URL(src, document.baseURI);
    url.searchParams.set("embed", "1");
    var pick = function (name) {
      return options[name] !== undefined ? options[name] : host.getAttribute("data-" + name);
    };
    // "kafka" opens the Kafka sandbox, "sqs" the SQS sandbox, "redis" the Redis sandbox (each its own
    // module); RabbitMQ's otherwise.
    ["model", "scenario", "panels", "theme", "speed"].forEach(function (name) {
      var v = pick(name);
      if (v !== null && v !== undefined && v !== "") url.searchParams.set(name, String(v));
    });
    // The sandbox obeys this page only.
    url.searchParams.set("origin", window.location.origin);
    return url;
  }

  /** Puts a sandbox into `host` (once); options override the element's data- attributes. */
  function mount(host, options) {
    options = options || {};
    var existing = find(host);
    if (existing) return existing;
    var url = appUrl(host, options);
    var frame = document.createElement("iframe");
    frame.className = "brokerlab-frame";
    frame.title = host.getAttribute("data-title") || options.title || "Brokerlab sandbox";
    // Never together with allow-same-origin: scripts plus the page's origin could lift the sandbox.
    frame.setAttribute("sandbox", "allow-scripts allow-popups allow-popups-to-escape-sandbox");
    frame.style.width = "100%";
    frame.style.border = "1px solid #d5dae1";
    frame.style.borderRadius = "6px";
    frame.style.display = "block";
    var height = host.getAttribute("data-height") || options.height;
    frame.style.height = (height ? parseInt(height, 10) : 420) + "px";
    var sandbox = new Sandbox(host, frame, url.origin);
    // Which request a plain `counters("name")` makes depends on the model (a queue, or a Redis key).
    sandbox.model = url.searchParams.get("model") || "rabbitmq";
    frame.addEventListener("load", function () {
      sandbox.startPinging();
    });
    frame.src = url.href;
    host.appendChild(frame);
    sandboxes.push(sandbox);
    return sandbox;
  }

  function find(target) {
    for (var i = 0; i < sandboxes.length; i++) {
      var s = sandboxes[i];
      if (s.element === target || s.frame === target) return s;
    }
    return null;
  }

  /** The sandbox of an element (the data-brokerlab element or its iframe) or of a CSS selector. */
  function get(target) {
    var el = typeof target === "string" ? document.querySelector(target) : target;
    if (!el) throw BrokerlabError("no element matches " + target);
    var found = find(el);
    if (found) return found;
    if (el.hasAttribute && el.hasAttribute("data-brokerlab")) return mount(el);
    throw BrokerlabError("this element holds no Brokerlab sandbox");
  }

  function mountAll() {
    var hosts = document.querySelectorAll("[data-brokerlab]");
    for (var i = 0; i < hosts.length; i++) mount(hosts[i]);
  }

  window.addEventListener("message", function (event) {
    for (var i = 0; i < sandboxes.length; i++) {
      var s = sandboxes[i];
      // Only the sandbox's own window, from its opaque origin ("null") or, were the frame not sandboxed,
      // from the app's origin: anything else is ignored.
      if (event.source === s.frame.contentWindow && (event.origin === "null" || event.origin === s.origin)) {
        s.receive(event.data);
        return;
      }
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();

  window.Brokerlab = { get: get, mount: mount, all: function () { return sandboxes.slice(); }, protocol: PROTOCOL };
})();
