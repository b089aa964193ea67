#!/usr/bin/env python3
"""Writes dsguard's Grafana dashboards (dashboards/*.json) and the Grafana provisioning ConfigMap
(deploy/grafana/dashboards-configmap.yaml). Run `make dashboards` after editing; the JSON files are
committed and checked by tests/ship_dashboards.rs and tests/ship_prometheus.rs.

Conventions every panel follows (the tests check them):
- the datasource is the `datasource` variable, never a fixed one;
- every selector carries cluster=~"$cluster" (the operator's Prometheus adds `cluster`; when it
  does not, ".*" also matches the missing label) and the dashboard's other variables;
- series of several dsguard replicas (the `ha` overlay) are merged with `max by (...)`.
"""

import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DS = {"type": "prometheus", "uid": "${datasource}"}

# Label sets after merging replicas.
DS_KEY = "cluster, namespace, daemonset"
CELL_KEY = "cluster, namespace, daemonset, node, state, reason"


def datasource_var():
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "refresh": 1,
    }


def query_var(name, label, query, multi=True):
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "definition": query,
        "query": {"query": query, "refId": f"{name}-values"},
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": multi,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
        "hide": 0,
    }


CLUSTER = query_var("cluster", "Cluster", "label_values(dsguard_build_info, cluster)")
NAMESPACE = query_var(
    "namespace", "Namespace",
    'label_values(dsguard_daemonset_desired_pods{cluster=~"$cluster"}, namespace)')
DAEMONSET = query_var(
    "daemonset", "DaemonSet",
    'label_values(dsguard_daemonset_desired_pods{cluster=~"$cluster", namespace=~"$namespace"}, daemonset)')
NODE = query_var(
    "node", "Node", 'label_values(dsguard_node_desired_daemon_pods{cluster=~"$cluster"}, node)')
INSTANCE = query_var(
    "instance", "dsguard instance", 'label_values(dsguard_build_info{cluster=~"$cluster"}, instance)')

SEL_DS = 'cluster=~"$cluster", namespace=~"$namespace", daemonset=~"$daemonset"'
SEL_CELL = SEL_DS + ', node=~"$node"'
SEL_NODE = 'cluster=~"$cluster", node=~"$node"'
SEL_SELF = 'cluster=~"$cluster", instance=~"$instance"'


def target(expr, legend="__auto", ref="A", instant=False, fmt=None):
    t = {"datasource": DS, "expr": expr, "refId": ref, "legendFormat": legend}
    if instant:
        t.update({"instant": True, "range": False})
    if fmt:
        t["format"] = fmt
    return t


class Board:
    def __init__(self):
        self.panels = []
        self.y = 0
        self.x = 0
        self.row_h = 0

    def add(self, panel, w, h):
        if self.x + w > 24:
            self.x, self.y = 0, self.y + self.row_h
            self.row_h = 0
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        panel["datasource"] = DS
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)

    def stat(self, title, description, expr, w=4, h=4, unit="none", thresholds=None, no_value="0"):
        steps = thresholds or [{"color": "green", "value": None}, {"color": "red", "value": 1}]
        self.add({
            "type": "stat",
            "title": title,
            "description": description,
            "targets": [target(expr, legend="", instant=False)],
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "background", "graphMode": "area", "textMode": "value"},
            "fieldConfig": {"defaults": {"unit": unit, "noValue": no_value,
                                         "thresholds": {"mode": "absolute", "steps": steps}},
                            "overrides": []},
        }, w, h)

    def timeseries(self, title, description, targets, w=12, h=8, unit="none", stack=False):
        self.add({
            "type": "timeseries",
            "title": title,
            "description": description,
            "targets": [target(e, legend=l, ref=chr(65 + i)) for i, (e, l) in enumerate(targets)],
            "options": {"legend": {"displayMode": "table", "placement": "right", "calcs": ["lastNotNull", "max"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}},
            "fieldConfig": {"defaults": {"unit": unit, "custom": {
                "drawStyle": "line", "lineInterpolation": "stepAfter", "fillOpacity": 10,
                "stacking": {"mode": "normal" if stack else "none", "group": "A"}}},
                "overrides": []},
        }, w, h)

    def table(self, title, description, targets, w=24, h=8, rename=None, links=None):
        organize = {"excludeByName": {"Time": True}, "renameByName": rename or {}}
        overrides = []
        for field, (title_, url) in (links or {}).items():
            overrides.append({"matcher": {"id": "byName", "options": field},
                              "properties": [{"id": "links", "value": [{"title": title_, "url": url}]}]})
        self.add({
            "type": "table",
            "title": title,
            "description": description,
            "targets": [target(e, ref=chr(65 + i), instant=True, fmt="table")
                        for i, e in enumerate(targets)],
            "transformations": [{"id": "merge", "options": {}},
                                {"id": "organize", "options": organize}],
            "options": {"showHeader": True, "cellHeight": "sm"},
            "fieldConfig": {"defaults": {}, "overrides": overrides},
        }, w, h)


def dashboard(uid, title, description, variables, board):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["dsguard", "kubernetes", "daemonset"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-3h", "to": "now"},
        "refresh": "30s",
        "timezone": "",
        "links": [{"type": "dashboards", "tags": ["dsguard"], "asDropdown": True,
                   "title": "dsguard", "includeVars": True, "keepTime": True}],
        "annotations": {"list": []},
        "templating": {"list": [datasource_var()] + variables},
        "panels": board.panels,
    }


DS_LINK = ("DaemonSet drill-down",
           "/d/dsguard-daemonset/dsguard-daemonset?var-namespace=${__data.fields.namespace}"
           "&var-daemonset=${__data.fields.daemonset}&${__url_time_range}")
NODE_LINK = ("Node drill-down",
             "/d/dsguard-node/dsguard-node?var-node=${__data.fields.node}&${__url_time_range}")


def overview():
    b = Board()
    b.stat("Coverage", "Ready daemon pods / desired daemon pods, over the selected DaemonSets "
           "(computed by dsguard like the controller: a dead node's pods are not desired, see "
           "Stranded nodes).",
           f"sum(max by ({DS_KEY}) (dsguard_daemonset_ready_pods{{{SEL_DS}}})) / "
           f"sum(max by ({DS_KEY}) (dsguard_daemonset_desired_pods{{{SEL_DS}}}))",
           unit="percentunit", thresholds=[{"color": "red", "value": None},
                                           {"color": "orange", "value": 0.95},
                                           {"color": "green", "value": 1}], no_value="")
    b.stat("Gaps", "Cells (DaemonSet, node) in a gap state now, actionable or not.",
           f"sum(max by ({DS_KEY}, state) (dsguard_daemonset_gaps{{{SEL_DS}}}))",
           thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 1}])
    b.stat("Actionable gaps", "Gaps past their grace period: the ones alerts are made of.",
           f"count(max by ({CELL_KEY}) (dsguard_gap_actionable{{{SEL_CELL}}} == 1))")
    b.stat("Unreplaced pods", "Daemon pods lost in a node incident that have not come back.",
           f"count(max by ({CELL_KEY}) (dsguard_gap_unreplaced{{{SEL_CELL}}} == 1))")
    b.stat("Stranded nodes", "Down nodes whose daemon pods are lost with them (never moved elsewhere).",
           f'count(count by (cluster, node) (dsguard_gap_age_seconds{{state="stranded", {SEL_CELL}}}))')
    b.stat("Open node incidents", "Failed nodes whose lost daemon pods are not all back.",
           'sum(max by (cluster) (dsguard_node_incidents_open{cluster=~"$cluster"}))')

    b.timeseries("Gaps by state", "Cells per gap state (dsguard_daemonset_gaps).",
                 [(f"sum by (state) (max by ({DS_KEY}, state) (dsguard_daemonset_gaps{{{SEL_DS}}}))",
                   "{{state}}")], stack=True)
    b.timeseries("Actionable gaps by state", "Gaps past their grace period, per state.",
                 [(f"sum by (state) (max by ({CELL_KEY}) (dsguard_gap_actionable{{{SEL_CELL}}}))",
                   "{{state}}")], stack=True)
    b.timeseries("Coverage by DaemonSet", "Ready / desired daemon pods per DaemonSet.",
                 [(f"max by ({DS_KEY}) (dsguard_daemonset_ready_pods{{{SEL_DS}}}) / "
                   f"max by ({DS_KEY}) (dsguard_daemonset_desired_pods{{{SEL_DS}}})",
                   "{{namespace}}/{{daemonset}}")], unit="percentunit")
    b.timeseries("Stranded nodes: daemon pods lost", "Per down node, its stranded daemon pods.",
                 [(f"count by (cluster, node) (max by (cluster, namespace, daemonset, node) "
                   f'(dsguard_gap_age_seconds{{state="stranded", {SEL_CELL}}}))', "{{node}}")])
    b.table("Node incidents", "Open node incidents: when the node failed, how many daemon pods it "
            "lost, how many are still not back.",
            ['max by (cluster, node) (dsguard_node_incident_started_timestamp_seconds{cluster=~"$cluster", node=~"$node"}) * 1000',
             'max by (cluster, node) (dsguard_node_incident_lost_pods{cluster=~"$cluster", node=~"$node"})',
             'max by (cluster, node) (dsguard_node_incident_unreplaced_pods{cluster=~"$cluster", node=~"$node"})'],
            w=12, rename={"Value #A": "started", "Value #B": "lost pods", "Value #C": "not back"},
            links={"node": NODE_LINK})
    b.panels[-1]["fieldConfig"]["overrides"].append(
        {"matcher": {"id": "byName", "options": "started"},
         "properties": [{"id": "unit", "value": "dateTimeAsIso"}]})
    b.timeseries("Time to replace (p50, p90, max)", "From a node joining or coming back to its daemon "
                 "pod being ready (dsguard_replacement_duration_seconds), over the dashboard's range.",
                 [(f'histogram_quantile({q}, sum by (le) (max by (cluster, le) '
                   f'(increase(dsguard_replacement_duration_seconds_bucket{{cluster=~"$cluster"}}[$__range]))))',
                   name) for q, name in [("0.5", "p50"), ("0.9", "p90"), ("1", "max")]],
                 w=12, unit="s")
    b.table("Gaps now", "Every gap: state, reason, age, actionable, unreplaced.",
            [f"max by ({CELL_KEY}) (dsguard_gap_age_seconds{{{SEL_CELL}}})",
             f"max by ({CELL_KEY}) (dsguard_gap_actionable{{{SEL_CELL}}})",
             f"max by ({CELL_KEY}) (dsguard_gap_unreplaced{{{SEL_CELL}}})"],
            h=10, rename={"Value #A": "age (s)", "Value #B": "actionable", "Value #C": "unreplaced"},
            links={"daemonset": DS_LINK, "node": NODE_LINK})
    return dashboard("dsguard-overview", "dsguard / overview",
                     "DaemonSet coverage across the cluster: gaps, stranded nodes, incidents, time to replace.",
                     [CLUSTER, NAMESPACE, DAEMONSET, NODE], b)


def daemonset():
    b = Board()
    for i, (metric, title) in enumerate([("desired", "Desired"), ("current", "Current"),
                                         ("ready", "Ready"), ("available", "Available"),
                                         ("updated", "Updated"), ("misscheduled", "Misscheduled")]):
        b.stat(title, f"dsguard_daemonset_{metric}_pods, computed by dsguard like the controller.",
               f"sum(max by ({DS_KEY}) (dsguard_daemonset_{metric}_pods{{{SEL_DS}}}))",
               thresholds=[{"color": "blue", "value": None}], no_value="")
    b.timeseries("Daemon pods", "dsguard's numbers for the selected DaemonSets.",
                 [(f"max by ({DS_KEY}) (dsguard_daemonset_{m}_pods{{{SEL_DS}}})",
                   "{{namespace}}/{{daemonset}} " + m)
                  for m in ["desired", "current", "ready", "available"]])
    b.timeseries("Gaps by state", "Cells of the DaemonSet per gap state.",
                 [(f"max by ({DS_KEY}, state) (dsguard_daemonset_gaps{{{SEL_DS}}}) > 0",
                   "{{namespace}}/{{daemonset}} {{state}}")])
    b.timeseries("Rollout: pods left on usable nodes", "dsguard_daemonset_rollout_pending_pods: pods "
                 "a rollout still has to replace on Ready, uncordoned nodes (DaemonSetRolloutStuck).",
                 [(f"max by ({DS_KEY}) (dsguard_daemonset_rollout_pending_pods{{{SEL_DS}}})",
                   "{{namespace}}/{{daemonset}}")])
    b.timeseries("dsguard minus the controller's status", "dsguard_daemonset_controller_difference "
                 "per field; lasting non-zero values raise DaemonSetControllerMismatch.",
                 [(f"max by ({DS_KEY}, field) (dsguard_daemonset_controller_difference{{{SEL_DS}}})",
                   "{{namespace}}/{{daemonset}} {{field}}")])
    b.table("Cells by node", "Per node, the DaemonSet's cells that are not healthy (healthy and "
            "excluded cells are not exported, unless metrics.full_matrix is set).",
            [f"max by ({CELL_KEY}) (dsguard_gap_age_seconds{{{SEL_CELL}}})",
             f"max by ({CELL_KEY}) (dsguard_gap_actionable{{{SEL_CELL}}})",
             f"max by ({CELL_KEY}) (dsguard_gap_unreplaced{{{SEL_CELL}}})"],
            h=10, rename={"Value #A": "age (s)", "Value #B": "actionable", "Value #C": "unreplaced"},
            links={"node": NODE_LINK})
    return dashboard("dsguard-daemonset", "dsguard / DaemonSet",
                     "One DaemonSet: dsguard's numbers beside the controller's, its gaps node by node, its rollout.",
                     [CLUSTER, NAMESPACE, DAEMONSET, NODE], b)


def node():
    b = Board()
    b.timeseries("Daemon pods on the node", "Desired, scheduled and ready daemon pods per node.",
                 [(f"max by (cluster, node) (dsguard_node_{m}_daemon_pods{{{SEL_NODE}}})", "{{node}} " + m)
                  for m in ["desired", "scheduled", "ready"]])
    b.timeseries("Node conditions", "1 while the node is not_ready, unreachable, cordoned, being "
                 "deleted by the autoscaler, out of service or under maintenance.",
                 [(f"max by (cluster, node, condition) (dsguard_node_condition{{{SEL_NODE}}})",
                   "{{node}} {{condition}}")])
    b.timeseries("Node incident", "Daemon pods lost with the node, and those not back yet.",
                 [(f"max by (cluster, node) (dsguard_node_incident_lost_pods{{{SEL_NODE}}})", "{{node}} lost"),
                  (f"max by (cluster, node) (dsguard_node_incident_unreplaced_pods{{{SEL_NODE}}})",
                   "{{node}} not back")])
    b.timeseries("Gap age by DaemonSet", "How long each gap on the node has lasted.",
                 [(f"max by ({CELL_KEY}) (dsguard_gap_age_seconds{{{SEL_NODE}}})",
                   "{{node}} {{namespace}}/{{daemonset}} {{state}}")], unit="s")
    b.table("Cells on the node", "The node's cells that are not healthy, one row per DaemonSet.",
            [f"max by ({CELL_KEY}) (dsguard_gap_age_seconds{{{SEL_NODE}}})",
             f"max by ({CELL_KEY}) (dsguard_gap_actionable{{{SEL_NODE}}})",
             f"max by ({CELL_KEY}) (dsguard_gap_unreplaced{{{SEL_NODE}}})"],
            h=10, rename={"Value #A": "age (s)", "Value #B": "actionable", "Value #C": "unreplaced"},
            links={"daemonset": DS_LINK})
    return dashboard("dsguard-node", "dsguard / node",
                     "One node: its daemon pods, conditions, incident and gaps.",
                     [CLUSTER, NODE], b)


def health():
    b = Board()
    b.stat("Blind", "1 while dsguard cannot trust its view of the cluster (DsguardBlind).",
           f"max(dsguard_blind{{{SEL_SELF}}})")
    b.stat("Watches synced", "Resources whose first list completed (3: nodes, daemonsets, pods).",
           f"min(sum by (cluster, instance) (dsguard_watch_synced{{{SEL_SELF}}}))",
           thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 3}], no_value="")
    b.table("Build", "dsguard version per instance.", [f"dsguard_build_info{{{SEL_SELF}}}"], w=16, h=4)
    b.timeseries("Watch events / s", "Events from the API server's watches, per resource and type.",
                 [(f"sum by (cluster, instance, resource, type) (rate(dsguard_watch_events_total{{{SEL_SELF}}}[$__rate_interval]))",
                   "{{instance}} {{resource}} {{type}}")], unit="ops")
    b.timeseries("Seconds since the last watch event", "Per resource; bookmarks count, so a healthy "
                 "watch stays well under watch.staleness.",
                 [(f"max by (cluster, instance, resource) (dsguard_watch_last_event_age_seconds{{{SEL_SELF}}})",
                   "{{instance}} {{resource}}")], unit="s")
    b.timeseries("Watch restarts", "Lists after the first one: each means a watch was lost and "
                 "restarted (see dsguard_watch_failures_total for the reasons).",
                 [(f"sum by (cluster, instance, resource) (increase(dsguard_watch_lists_total{{{SEL_SELF}}}[$__rate_interval]))",
                   "{{instance}} {{resource}}")])
    b.timeseries("Evaluation time (p50, p99)", "Time to re-evaluate cells after an event.",
                 [(f"histogram_quantile({q}, sum by (cluster, instance, le) (rate(dsguard_evaluation_duration_seconds_bucket{{{SEL_SELF}}}[$__rate_interval])))",
                   "{{instance}} p" + q[2:]) for q in ["0.5", "0.99"]], unit="s")
    b.timeseries("Evaluations / s", "Incremental evaluations per second.",
                 [(f"sum by (cluster, instance) (rate(dsguard_evaluation_duration_seconds_count{{{SEL_SELF}}}[$__rate_interval]))",
                   "{{instance}}")], unit="ops")
    return dashboard("dsguard-health", "dsguard / health",
                     "dsguard itself: blindness, watches, evaluation time.",
                     [CLUSTER, INSTANCE], b)


def configmap(boards):
    lines = [
        "# Generated by dashboards/generate.py (`make dashboards`); do not edit.",
        "# The dashboards for Grafana's dashboard sidecar (kube-prometheus-stack, grafana helm chart:",
        "# label grafana_dashboard=\"1\"), or mount it at the path of deploy/grafana/provider.yaml.",
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: dsguard-dashboards",
        "  labels:",
        "    app.kubernetes.io/name: dsguard",
        "    app.kubernetes.io/component: dashboards",
        '    grafana_dashboard: "1"',
        "  annotations:",
        "    grafana_folder: dsguard",
        "data:",
    ]
    for name, text in boards:
        lines.append(f"  {name}: |-")
        lines.extend("    " + l for l in text.splitlines())
    return "\n".join(lines) + "\n"


def main():
    boards = []
    for name, build in [("dsguard-overview.json", overview), ("dsguard-daemonset.json", daemonset),
                        ("dsguard-node.json", node), ("dsguard-health.json", health)]:
        text = json.dumps(build(), indent=2) + "\n"
        with open(os.path.join(ROOT, "dashboards", name), "w") as f:
            f.write(text)
        boards.append((name, text.rstrip("\n")))
    os.makedirs(os.path.join(ROOT, "deploy", "grafana"), exist_ok=True)
    with open(os.path.join(ROOT, "deploy", "grafana", "dashboards-configmap.yaml"), "w") as f:
        f.write(configmap(boards))


if __name__ == "__main__":
    main()
