//! Value parsers for flags that take numbers and durations: anything
//! negative, not a number, infinite or out of range is a usage error
//! (exit 2) naming the value, never a panic.

use std::time::Duration;

/// The longest duration any flag takes: a year.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// A registry or repository key, checked as podman checks one before it
/// reads or writes it: `host/repo:tag` and `host/repo@digest` are refused
/// in its words (containers/image `validateKey`), as a usage error.
pub fn registry_key(s: &str) -> Result<String, String> {
    rhpull_core::authfile::keys::validate(s)
        .map(|_| s.to_string())
        .map_err(|e| {
            let what = crate::i18n::text("error.registry_key.what", &[("problem", &e.to_string())]);
            format!(
                "{what}; {}",
                crate::i18n::text("error.registry_key.next", &[])
            )
        })
}

/// `500ms`, `15s`, `2m`, `1h`, or plain seconds, as kubectl's timeouts.
pub fn duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let bad = || crate::i18n::text("error.duration", &[("value", s)]);
    let n: f64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    let d = Duration::try_from_secs_f64(secs).map_err(|_| bad())?;
    if d > MAX_DURATION {
        return Err(crate::i18n::text(
            "error.duration_too_long",
            &[("value", s)],
        ));
    }
    Ok(d)
}

/// A count of at least 1 (concurrency bounds).
pub fn count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err(crate::i18n::text("error.count", &[("value", s)])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_range_parse_and_the_rest_are_refused() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("8760h"), Ok(MAX_DURATION));
        for bad in [
            "",
            "-1s",
            "nan",
            "NaN",
            "inf",
            "1e400",
            "99999999999999999999h",
            "8761h",
            "1.2.3s",
            "5d",
            "0x10",
        ] {
            assert!(duration(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn counts_are_positive_and_bounded() {
        assert_eq!(count("16"), Ok(16));
        for bad in ["0", "-1", "nan", "1e3", "99999999999999999999", "10001", ""] {
            assert!(count(bad).is_err(), "{bad:?} accepted");
        }
    }
}
