// The SQS example's own script: its buttons drive the sandbox through the Brokerlab embed API
// (www/brokerlab-embed.js) and print each queue's counts the API reads back.
(function () {
  "use strict";

  var sandbox = Brokerlab.get("#sandbox-sqs");
  var sent = 0;

  function show(text, isError) {
    var out = document.getElementById("sqs-readout");
    out.textContent = text;
    out.classList.toggle("error", !!isError);
  }

  function queuesText(result) {
    var lines = ["t = " + result.time + (result.finished ? " (run finished)" : "")];
    Object.keys(result.queues).forEach(function (name) {
      var q = result.queues[name];
      lines.push(name + ": visible " + q.visible + " · in flight " + q.inFlight + " · delayed " + q.delayed);
    });
    return lines.join("\n");
  }

  function thenCounters(promise, before) {
    return promise.then(function () {
      return sandbox.counters();
    }).then(function (c) {
      show((before ? before + "\n" : "") + queuesText(c));
    });
  }

  var actions = {
    run29: function () {
      return thenCounters(sandbox.runUntil("29s"));
    },
    run31: function () {
      return thenCounters(sandbox.runUntil("31s"));
    },
    runEnd: function () {
      return sandbox.info().then(function (info) {
        return thenCounters(sandbox.runUntil(info.endMillis));
      });
    },
    send: function () {
      sent += 1;
      return sandbox.send({ queue: "jobs", body: "job from the page #" + sent }).then(function (r) {
        return thenCounters(Promise.resolve(), r.said);
      });
    },
    counters: function () {
      return thenCounters(Promise.resolve());
    },
  };

  document.querySelectorAll(".drive button").forEach(function (button) {
    button.addEventListener("click", function () {
      actions[button.getAttribute("data-do")]().catch(function (e) {
        show(String(e.message || e), true);
      });
    });
  });
})();
