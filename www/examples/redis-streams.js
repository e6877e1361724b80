// The Redis example's own script: its buttons drive the sandbox through the Brokerlab embed API
// (www/brokerlab-embed.js): runs to a time, sends a redis-cli command on the sandbox's console connection,
// and prints the stream's and its group's counters the API reads back.
(function () {
  "use strict";

  var sandbox = Brokerlab.get("#sandbox-redis");

  function show(text, isError) {
    var out = document.getElementById("redis-readout");
    out.textContent = text;
    out.classList.toggle("error", !!isError);
  }

  function streamsText(result) {
    var lines = ["t = " + result.time + (result.finished ? " (run finished)" : "")];
    Object.keys(result.streams).forEach(function (name) {
      var s = result.streams[name];
      var groups = Object.keys(s.groups).map(function (g) {
        var group = s.groups[g];
        var lag = group.lag === null ? "(nil)" : group.lag;
        return "group " + g + ": pending " + group.pending + " · lag " + lag +
          " · last-delivered " + group.lastDeliveredId;
      });
      lines.push(name + ": length " + s.length + (groups.length ? " · " + groups.join(" · ") : ""));
    });
    return lines.join("\n");
  }

  function thenCounters(promise, before) {
    return promise.then(function () {
      return sandbox.counters();
    }).then(function (c) {
      show((before ? before + "\n" : "") + streamsText(c));
    });
  }

  var actions = {
    run35: function () {
      return thenCounters(sandbox.runUntil("3.5s"));
    },
    run85: function () {
      return thenCounters(sandbox.runUntil("8.5s"));
    },
    runEnd: function () {
      return sandbox.info().then(function (info) {
        return thenCounters(sandbox.runUntil(info.endMillis));
      });
    },
    xpending: function () {
      return sandbox.command("XPENDING orders shipping - + 10").then(function (r) {
        show("t = " + r.time + "\n127.0.0.1:6379> XPENDING orders shipping - + 10\n" + r.output);
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
