//! Text tables for people: left-aligned columns separated by two spaces. Every cell comes from
//! outside (object names from a dump, labels from an API) and goes to a terminal, so each is made
//! safe first by [`cell`]: control characters escaped, and cut to [`CELL_LIMIT`] characters.

use std::fmt::Write as _;

/// The widest a cell gets, in characters: the longest Kubernetes object name (a DNS subdomain,
/// 253 characters) fits, with room for a namespace; a 65,536-character name no longer widens
/// every row of the table (nor exceeds what `format!` can pad).
pub const CELL_LIMIT: usize = 320;

/// `text` with control characters and bidirectional overrides escaped, at any length (for
/// error lines, which must stay whole).
pub fn escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                c.escape_unicode().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `text` safe for a terminal: control characters (escape sequences, new lines, carriage
/// returns) and the bidirectional overrides that reorder a line shown as `\u{..}` escapes, and
/// the result cut to [`CELL_LIMIT`] characters with an ellipsis.
pub fn cell(text: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    for c in text.chars() {
        let piece: String = if c.is_control() || is_bidi_control(c) {
            c.escape_unicode().collect()
        } else {
            c.to_string()
        };
        let len = piece.chars().count();
        if count + len > CELL_LIMIT - 1 {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        count += len;
    }
    out
}

/// The Unicode controls that change the order of the text around them (Trojan Source).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Left-aligned columns separated by two spaces; the last column is not padded. Cells go
/// through [`cell`].
pub fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| (*h).to_owned()).collect())
        .chain(rows.map(|row| row.iter().map(|c| cell(c)).collect()))
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, text) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(text);
            } else {
                let pad = widths[i].saturating_sub(text.chars().count());
                let _ = write!(line, "{text}{:pad$}  ", "");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
