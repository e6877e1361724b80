// The example tutorial's own script: the buttons under each sandbox drive it through the Brokerlab
// embed API (www/brokerlab-embed.js) and print what the API reads back.
(function () {
  "use strict";

  // One worker, one second per task, prefetch 1, and a task every two seconds for 30 s: the producer keeps
  // the run going, so tasks the page publishes reach the worker at the run's next instant.
  var ONE_WORKER = {
    brokerlab: 2,
    name: "One worker",
    description: "A task every 2 s on a durable queue and a single worker that needs 1 s per task.",
    seed: 1,
    duration: "30s",
    definitions: {
      queues: [{ name: "task_queue", vhost: "/", durable: true, auto_delete: false, arguments: {} }],
    },
    producers: [
      {
        name: "new_task",
        exchange: "",
        routing_key: "task_queue",
        body: "task {seq}",
        properties: { persistent: true },
        rate: 0.5,
        count: 15,
        start: "100ms",
      },
    ],
    consumers: [{ name: "worker", queue: "task_queue", prefetch: 1, processing: "1s" }],
    checks: [
      { description: "at 10 s the worker has caught up: nothing unacknowledged", at: "10s", queue: "task_queue", unacked: 0 },
    ],
  };

  var sandboxes = {
    one: { sandbox: Brokerlab.get("#sandbox-one"), load: { document: ONE_WORKER }, tasks: 0 },
    two: { sandbox: Brokerlab.get("#sandbox-two"), load: { scenario: "02-work-queues" }, tasks: 0 },
  };

  function show(name, text, isError) {
    var out = document.getElementById(name + "-readout");
    out.textContent = text;
    out.classList.toggle("error", !!isError);
  }

  function countersText(result) {
    var lines = ["t = " + result.time + (result.finished ? " (run finished)" : "")];
    Object.keys(result.queues).forEach(function (q) {
      var c = result.queues[q];
      lines.push(
        q + ": ready " + c.ready + " · unacked " + c.unacked + " · published " + c.published +
          " · delivered " + c.delivered + " · acked " + c.acked + " · consumers " + c.consumers
      );
    });
    return lines.join("\n");
  }

  var actions = {
    load: function (s) {
      s.tasks = 0;
      return s.sandbox.load(s.load).then(function (info) {
        return "Loaded “" + info.scenario.name + "” at t = " + info.time + ".";
      });
    },
    play: function (s) {
      return s.sandbox.play().then(function (r) {
        return "Playing from t = " + r.time + " (1 virtual second per second).";
      });
    },
    run: function (s) {
      return s.sandbox.runUntil("10s").then(function () {
        return s.sandbox.counters().then(countersText);
      });
    },
    publish: function (s) {
      s.tasks += 1;
      var body = "task from the page #" + s.tasks;
      return s.sandbox
        .publish({ exchange: "", routingKey: "task_queue", body: body, persistent: true })
        .then(function (r) {
          return "Published “" + body + "” at t = " + r.time + ".";
        });
    },
    counters: function (s) {
      return s.sandbox.counters().then(countersText);
    },
  };

  document.querySelectorAll("button[data-sandbox]").forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.getAttribute("data-sandbox");
      var action = actions[button.getAttribute("data-do")];
      button.disabled = true;
      action(sandboxes[name])
        .then(function (text) {
          show(name, text, false);
        })
        .catch(function (e) {
          show(name, "Error: " + e.message, true);
        })
        .then(function () {
          button.disabled = false;
        });
    });
  });

  // Sandbox two reports its deliveries, acks and requeues as they happen, and its checks at the end.
  var two = sandboxes.two.sandbox;
  two.subscribe(["delivered", "acked", "requeued"]).catch(function (e) {
    document.getElementById("two-events").textContent = "cannot subscribe: " + e.message;
  });
  two.on("event", function (record) {
    document.getElementById("two-events").textContent = record.text;
  });
  two.on("finished", function (result) {
    document.getElementById("two-finished").textContent =
      "at " + result.time + ": " + result.passed + " of " + result.checks.length + " checks pass";
  });
})();
