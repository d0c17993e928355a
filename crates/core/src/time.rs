//! UTC timestamps without a date library: civil-from-days (Howard
//! Hinnant's algorithm), valid for any time after 1970.

/// `(year, month, day, hour, minute, second)` of a Unix time.
pub fn civil(secs: u64) -> (u64, u64, u64, u64, u64, u64) {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day, rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// `2026-11-26T02:51:47Z`.
pub fn rfc3339(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Days since 1970-01-01 of a civil date (Hinnant's days-from-civil).
fn days_from_civil(y: u64, m: u64, d: u64) -> Option<u64> {
    let y = if m <= 2 { y.checked_sub(1)? } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

/// The Unix time of an RFC 3339 UTC timestamp as the API server writes
/// them (`2026-11-26T02:51:47Z`, fractions of a second ignored); `None`
/// for anything else.
pub fn parse_rfc3339(s: &str) -> Option<std::time::SystemTime> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', ' '])?;
    let time = time
        .strip_suffix('Z')
        .or_else(|| time.strip_suffix("+00:00"))?;
    let time = time.split('.').next()?;
    let num = |v: &str| v.parse::<u64>().ok();
    let mut d = date.split('-').map(num);
    let (y, mo, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(num);
    let (h, mi, sec) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let secs = days_from_civil(y, mo, day)? * 86_400 + h * 3600 + mi * 60 + sec;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// `20261126T025147Z`, for file names.
pub fn compact_utc(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::compact_utc(1_795_661_507), "20261126T025147Z");
        for secs in [0, 951_782_400, 1_795_661_507] {
            let back = super::parse_rfc3339(&super::rfc3339(secs)).unwrap();
            assert_eq!(
                back.duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs(),
                secs
            );
        }
        assert!(super::parse_rfc3339("2026-11-26T02:51:47.123Z").is_some());
        assert!(super::parse_rfc3339("yesterday").is_none());
    }
}
