use super::*;

#[test]
fn counters_are_named_with_total_units_and_eof_dropped() {
    let openmetrics = "# HELP jobs Jobs done.\n# TYPE jobs counter\njobs_total{kind=\"a\"} 3\n\
                           # HELP wait_seconds Wait.\n# TYPE wait_seconds gauge\n# UNIT wait_seconds seconds\n\
                           wait_seconds 1.5\n# EOF\n";
    assert_eq!(
        from_openmetrics(openmetrics),
        "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total{kind=\"a\"} 3\n\
             # HELP wait_seconds Wait.\n# TYPE wait_seconds gauge\nwait_seconds 1.5\n"
    );
}
