// dsguard status page: the coverage matrix (DaemonSets × nodes), from /api/v1/matrix. The server
// sends only the rows that matter, capped, plus a summary of every node group; healthy and
// excluded cells come as one-letter codes, gap cells with their details.
"use strict";

dsg.matrix = { data: null, selected: null, collapsed: new Set(), html: "" };

dsg.renderLegend = () => {
  document.getElementById("legend").innerHTML = dsg.STATES.map(([state, code, meaning]) =>
    `<span title="${dsg.esc(meaning)}"><span class="swatch s-${state}">${code}</span>${state}</span>`,
  ).join("") + `<span><span class="swatch cell actionable">!</span>outlined: past its grace period (actionable)</span>`;
};

dsg.nodeBadges = (row) => {
  const badges = [];
  if (row.health !== "ready") badges.push(`<span class="badge down">⚠ ${dsg.esc(row.health.replace("_", " "))}</span>`);
  if (row.cordoned) badges.push(`<span class="badge">⛔ cordoned</span>`);
  for (const hint of row.hints) badges.push(`<span class="badge">${dsg.esc(hint.replace(/_/g, " "))}</span>`);
  return badges.join("");
};

dsg.cellTitle = (state, cell, ds, row) => {
  let text = `${ds.namespace}/${ds.name} on ${row.name}: ${state}`;
  if (cell) {
    text += ` (${cell.reason})`;
    if (cell.detail) text += `\n${cell.detail}`;
    text += `\nsince ${dsg.clock(cell.since)}`;
    if (cell.actionable_at) text += `; actionable ${cell.actionable ? "since" : "at"} ${dsg.clock(cell.actionable_at)}`;
  }
  return text;
};

dsg.matrixHTML = (m) => {
  const codes = m.codes;
  const details = new Map(m.cells.map((c) => [`${c.n}/${c.d}`, c]));
  const head = `<thead><tr><th class="node">node</th>${m.daemonsets.map((d) =>
    `<th class="ds" scope="col"><a href="${dsg.link({ namespace: d.namespace, daemonset: d.name })}"
      title="${dsg.esc(`${d.namespace}/${d.name}: desired ${d.desired}, ready ${d.ready}, gaps ${d.gaps}`)}">${dsg.esc(d.name)}</a></th>`,
  ).join("")}</tr></thead>`;
  const groups = new Map(m.groups.map((g) => [g.name, g]));
  let body = "";
  let group = null;
  m.nodes.forEach((row, n) => {
    if (row.group !== group) {
      group = row.group;
      const g = groups.get(group) || { nodes: 0, down: 0, with_gaps: 0 };
      const open = !dsg.matrix.collapsed.has(group);
      body += `<tr class="group"><th colspan="${m.daemonsets.length + 1}">
        <button type="button" class="toggle" data-group="${dsg.esc(group)}" aria-expanded="${open}">${open ? "▾" : "▸"} ${dsg.esc(group)}</button>
        <span class="muted">${g.nodes} nodes · ${g.down} down · ${g.with_gaps} with gaps</span>
        <a href="${dsg.link({ group })}">only this group</a></th></tr>`;
    }
    if (dsg.matrix.collapsed.has(group)) return;
    const cells = m.daemonsets.map((ds, d) => {
      const state = codes[row.states[d]] || "excluded";
      const cell = details.get(`${n}/${d}`);
      const sel = dsg.matrix.selected;
      const selected = sel && sel.node === row.name && sel.ds === `${ds.namespace}/${ds.name}`;
      return `<td class="cell s-${state}${cell && cell.actionable ? " actionable" : ""}${selected ? " selected" : ""}"
        data-n="${n}" data-d="${d}" data-state="${state}" title="${dsg.esc(dsg.cellTitle(state, cell, ds, row))}">${dsg.CODE[state]}</td>`;
    }).join("");
    body += `<tr data-node="${dsg.esc(row.name)}" data-health="${row.health}"><th class="node" scope="row">
      <a href="${dsg.link({ node: row.name, rows: "all" })}">${dsg.esc(row.name)}</a>${dsg.nodeBadges(row)}</th>${cells}</tr>`;
  });
  return head + `<tbody>${body}</tbody>`;
};

dsg.renderMatrix = (m) => {
  dsg.matrix.data = m;
  const html = dsg.matrixHTML(m);
  // Same rows, same codes, same titles: leave the DOM alone (keeps hover and scroll steady).
  if (html !== dsg.matrix.html) {
    document.getElementById("matrix").innerHTML = html;
    dsg.matrix.html = html;
  }
  const shown = m.nodes.length;
  const hidden = m.matched_rows - shown;
  const kind = dsg.filters().rows === "all" ? "rows" : "rows with gaps or a down node";
  let note = `${shown} of ${m.matched_rows} ${kind} shown (${m.total_nodes} nodes in ${m.groups.length} groups`
    + `${m.group_by ? ` by ${m.group_by}` : ""}).`;
  if (hidden > 0) note += ` ${hidden} more: narrow with the filters (the most urgent rows come first).`;
  if (m.matched_rows === 0) note = `No ${kind} match: every daemon pod that should run is running and ready. ${m.total_nodes} nodes.`;
  document.getElementById("matrix-note").textContent = note;
  dsg.renderDetail();
};

dsg.renderDetail = () => {
  const box = document.getElementById("detail");
  const m = dsg.matrix.data;
  const sel = dsg.matrix.selected;
  if (!m || !sel) { box.hidden = true; return; }
  const n = m.nodes.findIndex((r) => r.name === sel.node);
  const d = m.daemonsets.findIndex((x) => `${x.namespace}/${x.name}` === sel.ds);
  if (n < 0 || d < 0) { box.hidden = true; return; }
  const row = m.nodes[n];
  const ds = m.daemonsets[d];
  const state = m.codes[row.states[d]] || "excluded";
  const cell = m.cells.find((c) => c.n === n && c.d === d);
  const now = dsg.ms(m.evaluated_at);
  const item = (k, v) => `<dt>${k}</dt><dd>${v}</dd>`;
  let dl = item("state", `<span class="swatch s-${state}">${dsg.CODE[state]}</span> ${state}`);
  if (cell) {
    dl += item("reason", `<code>${dsg.esc(cell.reason)}</code> ${dsg.esc(cell.detail || "")}`);
    dl += item("since", dsg.when(cell.since, now));
    dl += item("actionable", cell.actionable_at
      ? `${cell.actionable ? "yes, since" : "in"} ${dsg.when(cell.actionable_at, now)}` : "—");
    if (cell.unreplaced) dl += item("unreplaced", "yes: a daemon pod lost with a failed node has not come back");
    dl += item("pods", cell.pods.map(dsg.esc).join(", ") || "none");
  }
  dl += item("node", `${dsg.esc(row.name)} ${dsg.nodeBadges(row)} · group ${dsg.esc(row.group)}`);
  box.innerHTML = `<strong>${dsg.esc(ds.namespace)}/${dsg.esc(ds.name)} on ${dsg.esc(row.name)}</strong>
    <button type="button" id="detail-close">close</button><dl>${dl}</dl>
    <a href="${dsg.link({ node: row.name, rows: "all" })}">this node's row</a> ·
    <a href="${dsg.link({ namespace: ds.namespace, daemonset: ds.name })}">this DaemonSet's gaps</a> ·
    <a href="api/v1/nodes/${encodeURIComponent(row.name)}">node JSON</a> ·
    <a href="api/v1/daemonsets/${encodeURIComponent(ds.namespace)}/${encodeURIComponent(ds.name)}">DaemonSet JSON</a>`;
  box.hidden = false;
};

dsg.initMatrix = () => {
  document.getElementById("matrix").addEventListener("click", (event) => {
    const toggle = event.target.closest("button.toggle");
    if (toggle) {
      const group = toggle.dataset.group;
      if (!dsg.matrix.collapsed.delete(group)) dsg.matrix.collapsed.add(group);
      dsg.renderMatrix(dsg.matrix.data);
      return;
    }
    const td = event.target.closest("td.cell");
    if (!td || !dsg.matrix.data) return;
    const m = dsg.matrix.data;
    const ds = m.daemonsets[Number(td.dataset.d)];
    dsg.matrix.selected = { node: m.nodes[Number(td.dataset.n)].name, ds: `${ds.namespace}/${ds.name}` };
    dsg.renderMatrix(m);
  });
  document.getElementById("detail").addEventListener("click", (event) => {
    if (event.target.id !== "detail-close") return;
    dsg.matrix.selected = null;
    dsg.renderMatrix(dsg.matrix.data);
  });
};
