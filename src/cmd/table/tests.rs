use super::*;

#[test]
fn tables_align_columns_and_trim_trailing_space() {
    let text = table(
        &["A", "LONG"],
        vec![vec!["xyz".to_owned(), String::new()]].into_iter(),
    );
    assert_eq!(text, "A    LONG\nxyz\n");
}

#[test]
fn a_huge_cell_is_cut_with_an_ellipsis() {
    let text = table(
        &["A", "B"],
        vec![vec!["x".repeat(65_536), "y".into()]].into_iter(),
    );
    let first = text.lines().nth(1).unwrap();
    assert!(
        first.starts_with(&format!("{}…  y", "x".repeat(CELL_LIMIT - 1))),
        "{first}"
    );
}

#[test]
fn escape_sequences_and_bidi_overrides_are_shown_escaped() {
    assert_eq!(cell("a\u{1b}[31mred\r\n"), "a\\u{1b}[31mred\\u{d}\\u{a}");
    assert_eq!(cell("x\u{202e}y"), "x\\u{202e}y");
}
