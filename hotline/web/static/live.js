// The live page: one EventSource on /api/v1/live (the session cookie authenticates it),
// tables redrawn from the snapshot and each change; durations tick once a second.
// No framework, no build step.
"use strict";
(function () {
  const words = JSON.parse(document.getElementById("words").textContent);
  const figures = JSON.parse(document.getElementById("figures").textContent);
  let progress = figures.progress || {};
  const calls = new Map(), queues = new Map(), agents = new Map(), campaigns = new Map();
  const status = document.getElementById("status");
  let skew = 0; // server clock minus ours, from the events' "at"

  function cell(text, name) {
    const td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    if (name) td.className = name;
    return td;
  }
  function fill(id, rows) {
    const body = document.querySelector("#" + id + " tbody");
    body.replaceChildren();
    for (const row of rows) {
      const tr = document.createElement("tr");
      tr.dataset.key = row.key;
      row.cells.forEach((v, i) => tr.appendChild(cell(v, row.names ? row.names[i] : "")));
      body.appendChild(tr);
    }
  }
  function since(iso) {
    if (!iso) return "";
    const seconds = Math.max(0, Math.round((Date.now() + skew - Date.parse(iso)) / 1000));
    const m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + String(s).padStart(2, "0");
  }
  function callState(c) {
    if (c.held_since) return words.on_hold + " " + since(c.held_since);
    if (c.agent && c.answered) return words.talking;
    if (c.direction === "outbound") return c.answered ? words.talking : words.dialing;
    if (c.queue) return words.in_queue;
    return c.answered ? words.in_ivr : words.ringing;
  }
  function draw() {
    fill("calls", [...calls.values()].map(c => ({
      key: c.linkedid,
      names: ["", "", "", "", "", "state", "", ""],
      cells: [words[c.direction] || c.direction, c.caller, c.called, c.queue, c.agent,
        callState(c), since(c.started_at), c.hold_count],
    })));
    fill("queues", [...queues.values()].map(q => ({
      key: q.queue, cells: [q.queue, q.waiting, q.longest_wait],
    })));
    fill("agents", [...agents.values()].filter(a => a.status !== "logged_out").map(a => ({
      key: a.id,
      cells: [a.id, a.name, words["st_" + a.status] || a.status,
        a.queues.map(q => q.queue + (q.paused ? "(" + words.paused + ")" : "")).join(" "),
        a.call ? a.call.caller : ""],
    })));
    fill("campaigns", [...campaigns.values()].map(c => {
      const p = progress[c.name];
      const word = c.status === "paused" ? words.st_paused_campaign : words["st_" + c.status];
      return {
        key: c.name, names: ["", "", "status", "", ""],
        cells: [c.name, c.type, word || c.status, c.in_flight, p ? p.done + "/" + p.total : ""],
      };
    }));
  }
  function call(c) {
    if (c.final) calls.delete(c.linkedid); else calls.set(c.linkedid, c);
  }
  function campaign(c) {
    if (c.status === "stopped") {
      for (const [k, v] of campaigns) if (v.id === c.id) campaigns.delete(k);
    } else campaigns.set(c.name, c);
  }
  function on(source, kind, apply) {
    source.addEventListener(kind, e => {
      const data = JSON.parse(e.data);
      if (data.at) skew = data.at * 1000 - Date.now();
      apply(data);
      draw();
    });
  }
  function connect() {
    const source = new EventSource("/api/v1/live");
    source.addEventListener("open", () => { status.textContent = words.connected; });
    source.addEventListener("error", () => { status.textContent = words.disconnected; });
    on(source, "snapshot", s => {
      calls.clear(); queues.clear(); agents.clear(); campaigns.clear();
      s.calls.forEach(call);
      s.queues.forEach(q => queues.set(q.queue, q));
      (s.agents || []).forEach(a => agents.set(a.id, a));
      (s.campaigns || []).forEach(campaign);
    });
    on(source, "call", call);
    on(source, "queue", q => queues.set(q.queue, q));
    on(source, "agent", a => agents.set(a.id, a));
    on(source, "campaign", campaign);
  }
  // the day's figures and campaign progress come from the database: asked every 30 s
  function showFigures(f) {
    document.getElementById("today-unavailable").hidden = Boolean(f.today);
    if (f.today) {
      for (const k of ["calls", "answered", "level", "abandoned", "score"]) {
        document.getElementById("today-" + k).textContent = f.today[k];
      }
    }
    if (f.progress) progress = f.progress;
  }
  async function refresh() {
    try {
      const response = await fetch("/ui/live/figures", {credentials: "same-origin"});
      if (response.ok) { showFigures(await response.json()); draw(); }
    } catch (e) { /* the next round tries again */ }
  }
  connect();
  setInterval(draw, 1000);
  setInterval(refresh, 30000);
})();
