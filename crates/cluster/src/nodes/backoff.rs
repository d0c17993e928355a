//! When the kubelet tries a failed pull again. The kubelet keeps one
//! back-off per pod and image (`flowcontrol.NewBackOff(backOffPeriod,
//! MaxContainerBackOff)`: 10 s and 300 s, `pkg/kubelet/kubelet.go`,
//! Kubernetes 1.27 to 1.35 alike); each failed pull calls `Next`, which
//! starts an expired or new entry at 10 s and otherwise doubles it, capped
//! at 300 s; an entry not updated for twice the cap has expired
//! (`client-go/util/flowcontrol/backoff.go`). While `IsInBackOffSinceUpdate`
//! holds, `EnsureImageExists` answers ImagePullBackOff without pulling
//! (`pkg/kubelet/images/image_manager.go`).
//!
//! The API shows none of this directly; it shows the kubelet's `Failed`
//! "Failed to pull image" event, whose `count` is the failed pulls and
//! whose `lastTimestamp` is the latest. From those the next try is due at
//! `latest + min(10 s · 2^(count−1), 300 s)`; the pod worker then syncs
//! the pod on its own next requeue, so this is when it is due, not when
//! it happens to the second. A node-wide fix reaches such a pod only then.

use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// `backOffPeriod` in `pkg/kubelet/kubelet.go`.
const INITIAL: Duration = Duration::from_secs(10);
/// `MaxContainerBackOff` in `pkg/kubelet/kubelet.go`.
const MAX: Duration = Duration::from_secs(300);

/// The back-off after `failures` failed pulls in a row.
pub fn period(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    INITIAL.saturating_mul(1 << doublings).min(MAX)
}

/// When the kubelet's next try is due, after `failures` failed pulls, the
/// latest at `latest`; `None` when the back-off has expired (the next sync
/// tries at once).
pub fn next_try(latest: Timestamp, failures: u32, now: Timestamp) -> Option<Timestamp> {
    let expiry = SignedDuration::try_from(MAX * 2).ok()?;
    if now.duration_since(latest) > expiry {
        return None;
    }
    let period = SignedDuration::try_from(period(failures)).ok()?;
    latest.checked_add(period).ok()
}

/// How long until `due`, from `now`: zero once it has passed.
pub fn remaining(due: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(due.duration_since(now)).unwrap_or_default()
}

/// How long until `next_try` (RFC 3339, as [`next_try`] gives it), from
/// now; `None` if it is not a timestamp.
pub fn left(next_try: &str) -> Option<Duration> {
    Some(remaining(next_try.parse().ok()?, Timestamp::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn the_period_doubles_from_ten_seconds_to_five_minutes() {
        let secs: Vec<u64> = (1..=7).map(|n| period(n).as_secs()).collect();
        assert_eq!(secs, [10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(period(0).as_secs(), 10);
        assert_eq!(period(u32::MAX).as_secs(), 300);
    }

    #[test]
    fn the_next_try_is_the_latest_failure_plus_its_period() {
        let latest = at("2026-12-06T10:00:00Z");
        let now = at("2026-12-06T10:00:05Z");
        assert_eq!(next_try(latest, 3, now), Some(at("2026-12-06T10:00:40Z")));
        assert_eq!(remaining(at("2026-12-06T10:00:40Z"), now).as_secs(), 35);
        assert_eq!(remaining(latest, now), Duration::ZERO);
    }

    #[test]
    fn an_entry_older_than_twice_the_cap_has_expired() {
        let latest = at("2026-12-06T10:00:00Z");
        assert_eq!(next_try(latest, 9, at("2026-12-06T10:10:01Z")), None);
        assert!(next_try(latest, 9, at("2026-12-06T10:09:59Z")).is_some());
    }
}
