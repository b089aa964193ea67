// dsguard status page: shared helpers (escaping, times, states, filters in the URL, theme).
"use strict";
const dsg = {};

// Every state: its two-letter code (never colour alone), its name, and what it means.
dsg.STATES = [
  ["healthy", "OK", "a ready daemon pod runs here"],
  ["missing", "MI", "should run, no pod"],
  ["pending", "PE", "a pod exists but has not started"],
  ["not_ready", "NR", "the pod runs but is not ready"],
  ["stranded", "ST", "the node is down; its daemon pod is lost with it"],
  ["stuck_terminating", "TE", "the pod is stuck terminating"],
  ["orphaned", "OR", "the pod is bound to a node that no longer exists"],
  ["misscheduled", "MS", "a pod runs where it should not"],
  ["excluded", "·", "should not run here"],
];
dsg.CODE = Object.fromEntries(dsg.STATES.map(([s, c]) => [s, c]));

dsg.esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) =>
  ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// RFC 3339 with nanoseconds: keep milliseconds, which Date.parse reads everywhere.
dsg.ms = (ts) => (ts ? Date.parse(String(ts).replace(/(\.\d{3})\d+/, "$1")) : NaN);

dsg.clock = (ts) => {
  const t = dsg.ms(ts);
  return Number.isNaN(t) ? "—" : new Date(t).toISOString().slice(11, 19);
};

dsg.span = (seconds) => {
  if (!Number.isFinite(seconds)) return "—";
  const s = Math.round(Math.abs(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
};

// "12:00:05 (35s ago)" against the server's clock (the simulator's runs faster than ours).
dsg.when = (ts, now) => {
  const t = dsg.ms(ts);
  if (Number.isNaN(t)) return "—";
  const d = (now - t) / 1000;
  return `${dsg.clock(ts)} (${d >= 0 ? `${dsg.span(d)} ago` : `in ${dsg.span(d)}`})`;
};

// Filters live in the URL's fragment, so that a view can be linked to and reloaded.
dsg.FILTERS = ["namespace", "daemonset", "node", "state", "group", "group_by", "rows"];
dsg.filters = () => {
  const params = new URLSearchParams(location.hash.slice(1));
  return Object.fromEntries(dsg.FILTERS.map((k) => [k, params.get(k) || ""]));
};
dsg.link = (changes) => {
  const f = Object.assign(dsg.filters(), changes);
  const params = new URLSearchParams();
  for (const k of dsg.FILTERS) if (f[k]) params.set(k, f[k]);
  return `#${params.toString()}`;
};
dsg.setFilters = (changes) => { location.hash = dsg.link(changes); };
dsg.query = () => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(dsg.filters())) if (v) params.set(k, v);
  return params.toString();
};

dsg.getJSON = async (url) => {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
};

// Light and dark: the system's preference until the toggle says otherwise (remembered).
dsg.initTheme = () => {
  const root = document.documentElement;
  const saved = localStorage.getItem("dsguard-theme");
  if (saved) root.dataset.theme = saved;
  document.getElementById("theme").addEventListener("click", () => {
    const dark = root.dataset.theme
      ? root.dataset.theme === "dark"
      : matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("dsguard-theme", root.dataset.theme);
  });
};
