// The Kafka example's own script: its buttons drive the sandbox through the Brokerlab embed API
// (www/brokerlab-embed.js) and print the offsets and lag the API reads back.
(function () {
  "use strict";

  var sandbox = Brokerlab.get("#sandbox-kafka");
  var produced = 0;

  function show(text, isError) {
    var out = document.getElementById("kafka-readout");
    out.textContent = text;
    out.classList.toggle("error", !!isError);
  }

  function lagText(result) {
    var lines = ["t = " + result.time + (result.finished ? " (run finished)" : "")];
    Object.keys(result.topics).forEach(function (topic) {
      result.topics[topic].partitions.forEach(function (p) {
        lines.push(topic + "-" + p.partition + ": log end " + p.logEndOffset + " · high watermark " + p.highWatermark);
      });
    });
    Object.keys(result.groups).forEach(function (group) {
      var g = result.groups[group];
      lines.push(group + ": lag " + g.lag + " (" + g.partitions.map(function (p) {
        return p.topic + "-" + p.partition + " committed " + (p.committedOffset === null ? "–" : p.committedOffset);
      }).join(", ") + ")");
    });
    return lines.join("\n");
  }

  function thenCounters(promise) {
    return promise.then(function () {
      return sandbox.counters();
    }).then(function (c) {
      show(lagText(c));
    });
  }

  var actions = {
    run6: function () {
      return thenCounters(sandbox.runUntil("6s"));
    },
    runEnd: function () {
      return sandbox.info().then(function (info) {
        return thenCounters(sandbox.runUntil(info.endMillis));
      });
    },
    produce: function () {
      produced += 1;
      return sandbox
        .produce({ topic: "sensor-readings", key: "page", value: "reading from the page #" + produced })
        .then(function (r) {
          return sandbox.counters().then(function (c) {
            show(r.produced + "\n" + lagText(c));
          });
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
