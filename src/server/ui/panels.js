// dsguard status page: the blindness banner, the summary, alerts, the reconcile plan and the
// node incidents as a timeline.
"use strict";

dsg.renderBlind = (blind, now) => {
  const box = document.getElementById("blind");
  box.hidden = !blind;
  if (blind) {
    box.textContent = `⚠ dsguard is BLIND since ${dsg.when(blind.since, now)}: ${blind.reason}. `
      + "What this page shows may be stale or incomplete, and coverage alerts are held back.";
  }
};

dsg.renderSummary = (m, alerts, incidents) => {
  const gaps = m.daemonsets.reduce((sum, d) => sum + d.gaps, 0);
  const firing = alerts.alerts.filter((a) => a.state === "firing").length;
  const stat = (value, label, href) =>
    `<span class="stat"><b>${value}</b> ${href ? `<a href="${href}">${label}</a>` : label}</span>`;
  const groups = m.groups.map((g) => stat(g.with_gaps || g.down ? `${g.with_gaps}/${g.nodes}` : `✓ ${g.nodes}`,
    `${dsg.esc(g.name)}${g.down ? ` (${g.down} down)` : ""}`, dsg.link({ group: g.name }))).join("");
  document.getElementById("summary").innerHTML =
    stat(m.total_nodes, "nodes") + stat(m.daemonsets.length, "DaemonSets") + stat(gaps, "gaps")
    + stat(firing, "alerts firing", "#h-alerts") + stat(incidents.open.length, "open incidents", "#h-incidents")
    + (m.groups.length > 1 ? `<span class="muted">groups (nodes with gaps / nodes):</span>${groups}` : "");
};

dsg.renderAlerts = (data, now) => {
  const order = { firing: 0, pending: 1, silenced: 2 };
  const alerts = [...data.alerts].sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3));
  if (!alerts.length) {
    document.getElementById("alerts").innerHTML = `<p class="muted">No active alert.</p>`;
    return;
  }
  const rows = alerts.map((a) => {
    const l = a.labels;
    const node = l.node ? `<a href="${dsg.link({ node: l.node, rows: "all" })}">${dsg.esc(l.node)}</a>` : "";
    const ds = l.daemonset
      ? `<a href="${dsg.link({ namespace: l.namespace || "", daemonset: l.daemonset })}">${dsg.esc(l.namespace ? `${l.namespace}/` : "")}${dsg.esc(l.daemonset)}</a>` : "";
    const glyph = { firing: "▲", pending: "△", silenced: "×" }[a.state] || "";
    return `<tr data-alert="${dsg.esc(l.alertname)}" data-node="${dsg.esc(l.node || "")}" data-state="${a.state}"><td><span class="badge ${a.state}">${glyph} ${a.state}</span></td>
      <td><strong>${dsg.esc(l.alertname)}</strong><br><span class="muted">${dsg.esc(a.annotations.summary || "")}</span></td>
      <td>${node}</td><td>${ds}</td><td>${dsg.when(a.firing_since || a.active_since, now)}</td></tr>`;
  }).join("");
  document.getElementById("alerts").innerHTML = `<table class="list"><thead><tr><th>state</th><th>alert</th>
    <th>node</th><th>DaemonSet</th><th>since</th></tr></thead><tbody>${rows}</tbody></table>`;
};

dsg.renderReconcile = (plan) => {
  const head = `<p class="muted">executor: <strong>${dsg.esc(plan.mode)}</strong>${plan.at ? "" : " (no plan yet)"}${
    plan.blind ? ` · blind, nothing executed: ${dsg.esc(plan.blind)}` : ""}</p>`;
  if (!plan.actions.length) {
    document.getElementById("reconcile").innerHTML = `${head}<p class="muted">Nothing to do.</p>`;
    return;
  }
  const rows = plan.actions.map((a) => `<tr><td><code>${dsg.esc(a.kind)}</code>${a.executable ? "" : " <span class=\"badge\">by hand</span>"}</td>
    <td>${a.node ? `<a href="${dsg.link({ node: a.node, rows: "all" })}">${dsg.esc(a.node)}</a>` : ""}</td>
    <td>${dsg.esc(a.reason)}${a.kubectl ? `<br><code>${dsg.esc(a.kubectl)}</code>` : ""}</td></tr>`).join("");
  document.getElementById("reconcile").innerHTML = `${head}<table class="list"><thead><tr><th>action</th><th>node</th>
    <th>why, and by hand</th></tr></thead><tbody>${rows}</tbody></table>`;
};

dsg.incidentHTML = (i, now) => {
  const start = dsg.ms(i.started);
  const end = i.closed ? dsg.ms(i.closed) : now;
  const width = Math.max(end - start, 1);
  const pct = (t) => `${Math.min(100, Math.max(0, ((t - start) / width) * 100)).toFixed(1)}%`;
  const rows = i.lost.map((p) => {
    const lost = dsg.ms(p.since);
    const back = p.replaced ? dsg.ms(p.replaced) : null;
    const fate = back ? `replaced at ${dsg.clock(p.replaced)}` : i.node_deleted ? "never: the node was deleted" : "not yet";
    const bar = `<div class="track" aria-hidden="true"><div class="bar ${back ? "replaced" : "lost"}"
      style="left:${pct(lost)};width:calc(${pct(back ?? end)} - ${pct(lost)})"></div></div>`;
    return `<tr><td><a href="${dsg.link({ daemonset: p.daemonset.name, namespace: p.daemonset.namespace })}">${dsg.esc(p.daemonset.namespace)}/${dsg.esc(p.daemonset.name)}</a></td>
      <td>${dsg.clock(p.since)}</td><td>${fate}</td><td>${back ? dsg.span((back - start) / 1000) : "—"}</td><td>${bar}</td></tr>`;
  }).join("");
  const status = i.closed ? `closed at ${dsg.clock(i.closed)}` : "<strong>open</strong>";
  return `<div class="incident" data-node="${dsg.esc(i.node)}"><h3><a href="${dsg.link({ node: i.node, rows: "all" })}">${dsg.esc(i.node)}</a>
    <span class="muted">failed at ${dsg.when(i.started, now)} · ${i.lost.length} daemon pods lost${
    i.node_deleted ? ` · node deleted at ${dsg.clock(i.node_deleted)}` : ""} · ${status}</span></h3>
    <table class="list"><thead><tr><th>daemon pod</th><th>lost at</th><th>came back</th><th>time to replace</th><th>timeline</th></tr></thead>
    <tbody>${rows}</tbody></table></div>`;
};

// Open incidents, then the most recent closed ones: a page, not an archive.
const CLOSED_SHOWN = 10;

dsg.renderIncidents = (data, now) => {
  const shown = [...data.open, ...data.closed.slice(0, CLOSED_SHOWN)];
  const more = data.closed.length - Math.min(data.closed.length, CLOSED_SHOWN);
  document.getElementById("incidents").innerHTML = (shown.length
    ? shown.map((i) => dsg.incidentHTML(i, now)).join("") : `<p class="muted">No node has failed.</p>`)
    + (more > 0 ? `<p class="muted">${more} older closed incidents: <a href="api/v1/incidents">api/v1/incidents</a></p>` : "");
};
