//! Finds the line of a field in scenario text, for errors found after parsing (an unknown node,
//! two actions in one step). The YAML parser does not keep positions for parsed values, so this
//! walks the block structure of the text along a path such as `timeline[3].fail_node`.

/// 1-based line of the field at `path` (`a[1].b`), or of its closest ancestor found; 1 if none.
pub fn line_of(text: &str, path: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let (mut lo, mut hi) = (0, lines.len());
    let mut found = 0;
    for segment in path.split('.') {
        let (key, indexes) = split_indexes(segment);
        let Some(k) = (lo..hi).find(|&i| is_key_line(lines[i], key)) else {
            break;
        };
        found = k;
        let column = key_column(lines[k], key);
        let end = block_end(&lines, k, hi, column);
        let (mut start, mut stop) = (k, end);
        for index in indexes {
            match nth_item(&lines, start + 1, stop, index) {
                Some((item_start, item_end)) => {
                    found = item_start;
                    (start, stop) = (item_start, item_end);
                }
                None => return found + 1,
            }
        }
        lo = start;
        hi = stop;
    }
    found + 1
}

fn split_indexes(segment: &str) -> (&str, Vec<usize>) {
    let key = segment.split('[').next().unwrap_or(segment);
    let indexes = segment
        .split('[')
        .skip(1)
        .filter_map(|part| part.trim_end_matches(']').parse().ok())
        .collect();
    (key, indexes)
}

fn leading(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

fn is_key_line(line: &str, key: &str) -> bool {
    let mut t = line.trim_start();
    while let Some(rest) = t.strip_prefix("- ") {
        t = rest.trim_start();
    }
    let needle = format!("{key}:");
    t.starts_with(&needle)
        || [" ", "{", ","]
            .iter()
            .any(|sep| line.contains(&format!("{sep}{needle}")))
}

fn key_column(line: &str, key: &str) -> usize {
    line.find(&format!("{key}:"))
        .unwrap_or_else(|| leading(line))
}

/// The lines after a key that belong to its value.
fn block_end(lines: &[&str], key_line: usize, hi: usize, column: usize) -> usize {
    let mut end = key_line + 1;
    while end < hi {
        let line = lines[end];
        let col = leading(line);
        if is_blank(line) || col > column || (col == column && line.trim_start().starts_with('-')) {
            end += 1;
        } else {
            break;
        }
    }
    end
}

/// The line range of the `index`-th sequence item in `lo..hi`.
fn nth_item(lines: &[&str], lo: usize, hi: usize, index: usize) -> Option<(usize, usize)> {
    let first = (lo..hi).find(|&i| lines[i].trim_start().starts_with('-'))?;
    let column = leading(lines[first]);
    let starts: Vec<usize> = (first..hi)
        .filter(|&i| leading(lines[i]) == column && lines[i].trim_start().starts_with('-'))
        .collect();
    let start = *starts.get(index)?;
    let end = starts.get(index + 1).copied().unwrap_or(hi);
    Some((start, end))
}

#[cfg(test)]
mod tests;
