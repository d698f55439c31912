//! Numbers and durations as viewers read them.

/// `113`, `1.2K`, `12K`, `1.5M`: short enough for a badge.
pub fn compact_count(n: u64) -> String {
    fn scaled(n: u64, unit: u64, suffix: &str) -> String {
        // One decimal below 10 units ("1.2K"), none above ("12K"); truncate
        // rather than round so that 999 999 never shows as "1000K".
        if n < 10 * unit {
            let tenths = n * 10 / unit;
            if tenths.is_multiple_of(10) {
                format!("{}{suffix}", tenths / 10)
            } else {
                format!("{}.{}{suffix}", tenths / 10, tenths % 10)
            }
        } else {
            format!("{}{suffix}", n / unit)
        }
    }
    match n {
        0..=999 => n.to_string(),
        1_000..=999_999 => scaled(n, 1_000, "K"),
        1_000_000..=999_999_999 => scaled(n, 1_000_000, "M"),
        _ => scaled(n, 1_000_000_000, "B"),
    }
}

/// `0:07`, `12:03`, `1:02:03`.
pub fn clock(total_secs: u64) -> String {
    let (h, m, s) = (total_secs / 3600, (total_secs / 60) % 60, total_secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_counts() {
        let table = [
            (0, "0"),
            (1, "1"),
            (113, "113"),
            (999, "999"),
            (1_000, "1K"),
            (1_234, "1.2K"),
            (1_299, "1.2K"),
            (9_999, "9.9K"),
            (10_000, "10K"),
            (12_345, "12K"),
            (999_999, "999K"),
            (1_000_000, "1M"),
            (1_500_000, "1.5M"),
            (25_000_000, "25M"),
            (3_000_000_000, "3B"),
        ];
        for (n, want) in table {
            assert_eq!(compact_count(n), want, "{n}");
        }
    }

    #[test]
    fn clocks() {
        for (secs, want) in [
            (0, "0:00"),
            (7, "0:07"),
            (723, "12:03"),
            (3_723, "1:02:03"),
            (36_000, "10:00:00"),
        ] {
            assert_eq!(clock(secs), want);
        }
    }
}
