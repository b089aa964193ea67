//! The matrix: groups, rows with gaps only by default, the cap, state codes, sparse cells.

use jiff::SignedDuration;

use super::*;
use crate::base::Timestamp;
use crate::cluster::build::{daemon_pod, daemonset, node};
use crate::cluster::{Object, Resource, WatchEvent};

fn at(seconds: i64) -> Timestamp {
    "2026-11-22T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(seconds)
}

/// `workers` healthy nodes in pool `a`, plus `w-down` (pool `b`, unreachable, pods stranded)
/// and `w-new` (pool `b`, cordoned, `agent` unschedulable); `agent` runs everywhere,
/// `exporter` only on pool `a`.
fn model(workers: usize) -> Model {
    let mut model = Model::new(Default::default(), SignedDuration::from_secs(60), at(0));
    for resource in Resource::ALL {
        model.handle(WatchEvent::Synced(resource), at(0));
    }
    let agent = daemonset("kube-system", "agent");
    let exporter = daemonset("monitoring", "exporter").node_selector("pool", "a");
    for ds in [&agent, &exporter] {
        model.handle(WatchEvent::Applied(Object::DaemonSet(ds.clone())), at(0));
    }
    let old = at(-86_400);
    let mut apply = |object: Object, t: i64| {
        model.handle(WatchEvent::Applied(object), at(t));
    };
    for i in 0..workers {
        let name = format!("w-{i:04}");
        apply(
            Object::Node(node(&name).labelled("pool", "a").created_at(old)),
            0,
        );
        apply(Object::Pod(daemon_pod(&agent, &name)), 0);
        apply(Object::Pod(daemon_pod(&exporter, &name)), 0);
    }
    apply(
        Object::Node(node("w-down").labelled("pool", "b").created_at(old)),
        0,
    );
    apply(Object::Pod(daemon_pod(&agent, "w-down")), 0);
    let down = node("w-down")
        .labelled("pool", "b")
        .created_at(old)
        .unreachable()
        .health_changed_at(at(300));
    apply(Object::Node(down), 300);
    apply(Object::Pod(daemon_pod(&agent, "w-down").not_ready()), 300);
    let new = node("w-new")
        .labelled("pool", "b")
        .created_at(at(540))
        .cordoned();
    apply(Object::Node(new), 540);
    let pending = daemon_pod(&agent, "w-new")
        .created_at(at(550))
        .unschedulable("0/3 nodes are available: 1 Insufficient cpu.");
    apply(Object::Pod(pending), 550);
    model.tick(at(600));
    model
}

fn query(query: MatrixQuery) -> Filter {
    Filter::new(query).expect("a valid query")
}

#[test]
fn by_default_only_rows_with_gaps_are_sent_grouped_by_the_pool_label_with_every_group_counted() {
    let m = matrix(&model(3), &query(MatrixQuery::default()), at(600));
    assert_eq!(m.group_by, None, "no known label: {:?}", m.group_labels);
    let m = matrix(
        &model(3),
        &query(MatrixQuery {
            group_by: Some("pool".into()),
            ..Default::default()
        }),
        at(600),
    );
    assert_eq!(m.group_by.as_deref(), Some("pool"));
    let names: Vec<_> = m
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.group.as_str()))
        .collect();
    assert_eq!(names, [("w-down", "b"), ("w-new", "b")]);
    assert_eq!((m.total_nodes, m.matched_rows), (5, 2));
    let groups: Vec<_> = m
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.nodes, g.down, g.with_gaps))
        .collect();
    assert_eq!(groups, [("a", 3, 0, 0), ("b", 2, 1, 2)]);
    let down = &m.nodes[0];
    assert_eq!(
        (down.health, down.cordoned, down.states.as_str()),
        ("unreachable", false, "s.")
    );
    let new = &m.nodes[1];
    assert_eq!(
        (new.health, new.cordoned, new.states.as_str()),
        ("ready", true, "p.")
    );
}

#[test]
fn gap_cells_come_as_a_sparse_list_with_their_reason_and_since() {
    let m = matrix(&model(3), &query(MatrixQuery::default()), at(600));
    let cells: Vec<_> = m.cells.iter().map(|c| (c.n, c.d, c.state)).collect();
    assert_eq!(
        cells,
        [(0, 0, CellState::Stranded), (1, 0, CellState::Pending)]
    );
    let pending = &m.cells[1];
    assert_eq!(pending.reason.as_str(), "unschedulable");
    assert!(
        pending
            .detail
            .as_deref()
            .unwrap()
            .contains("Insufficient cpu")
    );
    assert!(pending.since.is_some() && pending.actionable_at.is_some());
    assert_eq!(m.daemonsets[0].name, "agent");
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["codes"]["s"], "stranded");
    assert_eq!(json["codes"]["."], "excluded");
}

#[test]
fn all_rows_are_capped_with_the_urgent_ones_kept_and_the_matched_count_told() {
    let m = matrix(
        &model(50),
        &query(MatrixQuery {
            rows: Some("all".into()),
            limit: Some(10),
            ..Default::default()
        }),
        at(600),
    );
    assert_eq!((m.matched_rows, m.nodes.len(), m.limit), (52, 10, 10));
    assert!(m.nodes.iter().any(|n| n.name == "w-down"));
    assert!(m.nodes.iter().any(|n| n.name == "w-new"));
    assert_eq!(
        m.nodes[0].states, "hh",
        "healthy rows carry codes, no cells"
    );
    let limit = query(MatrixQuery {
        limit: Some(1_000_000),
        ..Default::default()
    });
    assert_eq!(limit.limit, MAX_ROWS);
}

#[test]
fn filters_narrow_columns_rows_and_groups() {
    let only = |q: MatrixQuery| matrix(&model(3), &query(q), at(600));
    let m = only(MatrixQuery {
        daemonset: Some("exporter".into()),
        ..Default::default()
    });
    assert_eq!(m.daemonsets.len(), 1);
    assert!(m.nodes.iter().all(|n| n.health != "ready"), "{:?}", m.nodes);
    let m = only(MatrixQuery {
        state: Some("pending".into()),
        ..Default::default()
    });
    assert_eq!(m.nodes.len(), 1);
    assert_eq!(m.nodes[0].name, "w-new");
    let m = only(MatrixQuery {
        rows: Some("all".into()),
        node: Some("w-00".into()),
        ..Default::default()
    });
    assert_eq!(m.nodes.len(), 3);
    assert!(
        Filter::new(MatrixQuery {
            state: Some("sad".into()),
            ..Default::default()
        })
        .is_err()
    );
    assert!(
        Filter::new(MatrixQuery {
            rows: Some("some".into()),
            ..Default::default()
        })
        .is_err()
    );
}

#[test]
fn a_model_whose_watches_have_not_synced_is_reported_blind() {
    let mut model = Model::new(Default::default(), SignedDuration::from_secs(60), at(0));
    model.tick(at(1));
    let m = matrix(&model, &query(MatrixQuery::default()), at(1));
    assert!(m.blind.is_some(), "blind before the first sync");
    assert!(
        matrix(&self::model(1), &query(MatrixQuery::default()), at(600))
            .blind
            .is_none()
    );
}
