//! Read–modify–conditional-write with bounded retries on 409 Conflict: every
//! attempt starts from a fresh read, so a concurrent writer's change (an
//! OpenShift controller adding its dockercfg secret, say) is never lost.

use std::future::Future;
use std::time::Duration;

use crate::error::ClusterError;

pub const MAX_ATTEMPTS: u32 = 6;

/// Runs `attempt` until it does not end in a conflict, at most
/// [`MAX_ATTEMPTS`] times, backing off 20 ms, 40 ms, 80 ms…
pub async fn on_conflict<T, F, Fut>(mut attempt: F) -> Result<T, ClusterError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClusterError>>,
{
    let mut n = 0;
    loop {
        n += 1;
        match attempt().await {
            Err(e) if e.is_conflict() && n < MAX_ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(20 << n.min(6))).await;
            }
            Err(ClusterError::Conflict {
                kind,
                namespace,
                name,
                ..
            }) => {
                return Err(ClusterError::Conflict {
                    kind,
                    namespace,
                    name,
                    attempts: n,
                });
            }
            other => return other,
        }
    }
}

/// Writes a plan made from an earlier read; on a conflict, `again` plans
/// anew from a fresh read and that is written — at most [`MAX_ATTEMPTS`]
/// writes in all, as [`on_conflict`].
pub async fn planned<P, T>(
    first: P,
    again: impl AsyncFn() -> Result<P, ClusterError>,
    write: impl AsyncFn(P) -> Result<T, ClusterError>,
) -> Result<T, ClusterError> {
    let first = &std::cell::Cell::new(Some(first));
    let (again, write) = (&again, &write);
    on_conflict(move || async move {
        let plan = match first.take() {
            Some(p) => p,
            None => again().await?,
        };
        write(plan).await
    })
    .await
}
