//! Kubernetes resource quantities (`4`, `500m`, `0.5`, `8Gi`, `512Mi`, `1G`, `1e9`), as the API
//! writes CPU and memory: CPU in millicores, memory in bytes. An unreadable quantity is `None`,
//! never a guess.

/// CPU in millicores: `2` → 2000, `500m` → 500, `0.25` → 250.
pub fn cpu_millis(quantity: &str) -> Option<i64> {
    let text = quantity.trim();
    if let Some(millis) = text.strip_suffix('m') {
        return millis.parse::<i64>().ok().filter(|m| *m >= 0);
    }
    let cores: f64 = text.parse().ok()?;
    (cores.is_finite() && cores >= 0.0).then(|| (cores * 1000.0).ceil() as i64)
}

/// Memory in bytes: binary suffixes (`Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`), decimal ones (`k`, `M`,
/// `G`, `T`, `P`, `E`), a plain number or an exponent (`1e9`).
pub fn bytes(quantity: &str) -> Option<i64> {
    const SUFFIXES: [(&str, f64); 12] = [
        ("Ki", 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
        ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("Pi", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("Ei", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let text = quantity.trim();
    let (number, factor) = SUFFIXES
        .iter()
        .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor)))
        .unwrap_or((text, 1.0));
    let value: f64 = number.parse().ok()?;
    let total = value * factor;
    (total.is_finite() && total >= 0.0 && total < i64::MAX as f64).then(|| total.ceil() as i64)
}

#[cfg(test)]
mod tests;
