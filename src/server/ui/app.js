// dsguard status page: the filters and the poll loop. Every second it reads the matrix,
// incidents, alerts and the reconcile plan, so a change shows within about a second.
"use strict";

const POLL_MS = 1000;
// DaemonSets seen so far, for the filter menus (the matrix sends only the columns asked for).
const known = new Map();

function fillSelect(id, values, current, label) {
  const select = document.getElementById(id);
  const html = [`<option value="">${label}</option>`]
    .concat(values.map((v) => `<option value="${dsg.esc(v)}"${v === current ? " selected" : ""}>${dsg.esc(v)}</option>`))
    .join("");
  if (select.dataset.html !== html) {
    select.innerHTML = html;
    select.dataset.html = html;
  }
  select.value = current;
}

function renderFilters(m) {
  const f = dsg.filters();
  for (const d of m.daemonsets) known.set(`${d.namespace}/${d.name}`, d);
  const all = [...known.values()];
  fillSelect("f-namespace", [...new Set(all.map((d) => d.namespace))].sort(), f.namespace, "all");
  fillSelect("f-daemonset", [...new Set(all.filter((d) => !f.namespace || d.namespace === f.namespace)
    .map((d) => d.name))].sort(), f.daemonset, "all");
  fillSelect("f-state", dsg.STATES.map(([s]) => s).filter((s) => s !== "healthy" && s !== "excluded"), f.state, "any gap");
  const labels = m.group_labels.includes(m.group_by) || !m.group_by ? m.group_labels : [m.group_by, ...m.group_labels];
  fillSelect("f-group_by", labels, m.group_by || "", "no grouping");
  const node = document.getElementById("f-node");
  if (document.activeElement !== node) node.value = f.node;
  document.getElementById("f-all").checked = f.rows === "all";
}

function initFilters() {
  for (const key of ["namespace", "daemonset", "state", "group_by"]) {
    document.getElementById(`f-${key}`).addEventListener("change", (event) => {
      const change = { [key]: event.target.value };
      if (key === "namespace") change.daemonset = "";
      dsg.setFilters(change);
    });
  }
  let typing = null;
  document.getElementById("f-node").addEventListener("input", (event) => {
    clearTimeout(typing);
    typing = setTimeout(() => dsg.setFilters({ node: event.target.value.trim() }), 300);
  });
  document.getElementById("f-all").addEventListener("change", (event) =>
    dsg.setFilters({ rows: event.target.checked ? "all" : "" }));
  document.getElementById("f-clear").addEventListener("click", () => { location.hash = ""; });
  document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
  window.addEventListener("hashchange", () => poll());
}

let timer = null;
let generation = 0;
async function poll() {
  clearTimeout(timer);
  const mine = ++generation;
  try {
    const [matrix, incidents, alerts, plan] = await Promise.all([
      dsg.getJSON(`api/v1/matrix?${dsg.query()}`),
      dsg.getJSON("api/v1/incidents"),
      dsg.getJSON("api/v1/alerts"),
      dsg.getJSON("api/v1/reconcile"),
    ]);
    if (mine !== generation) return; // a newer poll (the filters changed) owns the page
    const at = dsg.ms(matrix.evaluated_at);
    dsg.renderBlind(matrix.blind, at);
    renderFilters(matrix);
    dsg.renderSummary(matrix, alerts, incidents);
    dsg.renderMatrix(matrix);
    dsg.renderAlerts(alerts, at);
    dsg.renderReconcile(plan);
    dsg.renderIncidents(incidents, at);
    document.getElementById("offline").hidden = true;
    document.getElementById("updated").textContent = `cluster time ${dsg.clock(matrix.evaluated_at)} · updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = "true";
  } catch (error) {
    if (mine !== generation) return;
    const box = document.getElementById("offline");
    box.textContent = `Cannot reach dsguard (${error.message}); retrying every second. What you see may be stale.`;
    box.hidden = false;
  }
  if (mine === generation) timer = setTimeout(poll, POLL_MS);
}

dsg.initTheme();
dsg.renderLegend();
dsg.initMatrix();
initFilters();
poll();
