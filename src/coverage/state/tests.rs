use super::*;

#[test]
fn state_names_round_trip() {
    for state in CellState::ALL {
        assert_eq!(CellState::parse(state.as_str()), Some(state));
        assert_eq!(CellState::ALL[state.index()], state);
    }
    assert_eq!(CellState::parse("lost"), None);
}

#[test]
fn only_healthy_and_excluded_are_not_gaps() {
    let gaps: Vec<_> = CellState::ALL.into_iter().filter(|s| !s.is_gap()).collect();
    assert_eq!(gaps, vec![CellState::Healthy, CellState::Excluded]);
}
