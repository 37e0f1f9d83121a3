// Overview: refresh the figures and the hourly chart from /api/dashboard/overview without a reload.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var pollMs = Number(live.dataset.poll || 5) * 1000;
  var hours = live.dataset.hours || "24";
  var state = document.getElementById("live-state");
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
  var chart = null;

  function age(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    seconds = Math.max(seconds, 0);
    if (seconds < 90) { return seconds.toFixed(0) + " s"; }
    var minutes = seconds / 60;
    if (minutes < 90) { return minutes.toFixed(0) + " min"; }
    var h = minutes / 60;
    if (h < 48) { return Math.floor(h) + " h " + Math.floor(minutes % 60) + " min"; }
    return (h / 24).toFixed(1) + " d";
  }

  var FORMATS = {
    "int": function (v) { return v === null ? "—" : String(v); },
    "pct": function (v) { return v === null ? "—" : (v * 100).toFixed(1) + " %"; },
    "hours": function (v) { return Number(v).toFixed(2); },
    "age": age
  };

  function pick(source, path) {
    return path.split(".").reduce(function (o, k) { return o === null || o === undefined ? undefined : o[k]; }, source);
  }

  function update(data) {
    var table = document.getElementById("bots");
    var names = data.bots.map(function (b) { return b.bot; }).join(",");
    if (table && table.dataset.bots !== names) { window.location.reload(); return; }
    document.querySelectorAll("[data-field]").forEach(function (el) {
      var row = el.closest("tr[data-bot]");
      var source = row ? data.bots.find(function (b) { return b.bot === row.dataset.bot; }) : data;
      if (!source) { return; }
      var value = pick(source, el.dataset.field);
      if (value === undefined) { return; }
      var format = FORMATS[el.dataset.format || "int"] || FORMATS["int"];
      var link = el.querySelector("a");
      (link || el).textContent = format(value);
    });
    draw(data);
    if (state) {
      var when = new Date(data.generated_at).toLocaleTimeString("en-GB", { timeZone: data.timezone });
      state.textContent = " · live, updated " + when;
    }
  }

  function draw(data) {
    var box = document.getElementById("chart");
    if (!box || typeof uPlot === "undefined") { return; }
    var xs = data.hour_starts.map(function (t) { return Date.parse(t) / 1000; });
    var series = [{}];
    var values = [xs];
    data.bots.forEach(function (b, i) {
      series.push({ label: b.bot, stroke: COLORS[i % COLORS.length], width: 2 });
      values.push(b.hourly_done);
    });
    series.push({ label: "all bots", stroke: "#333", width: 2, dash: [6, 4] });
    values.push(data.total.hourly_done);
    if (chart && chart.series.length === series.length) { chart.setData(values); return; }
    if (chart) { chart.destroy(); }
    chart = new uPlot({
      width: Math.max(box.clientWidth, 320),
      height: 260,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), data.timezone); },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(max, 1)]; } } },
      axes: [{}, { label: "items / hour" }],
      series: series
    }, values, box);
  }

  function refresh() {
    fetch("/api/dashboard/overview?hours=" + encodeURIComponent(hours), {
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (response.status === 401) { window.location.href = "/login?next=%2F"; return null; }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      if (data) { update(data); }
    }).catch(function (error) {
      if (state) { state.textContent = " · update failed (" + error.message + "), retrying"; }
    });
  }

  refresh();
  window.setInterval(refresh, pollMs);
}());
