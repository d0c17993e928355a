//! What `create`, `link` and `unlink` report across many namespaces: the
//! summary — changed, unchanged, failed with each failure's reason — and
//! exit 1 if any namespace failed. The work itself is
//! `rhpull_cluster::fleet`'s plan and apply.

use rhpull_cluster::fleet::{self, FleetPlan, NamespaceResult};
use rhpull_cluster::{Cluster, DryRun};

use crate::driver::Cx;
use crate::error::{CliError, Reason};
use crate::i18n::text;
use crate::render::{Block, Report};

/// The results of a fleet run.
#[derive(Debug)]
pub struct FleetReport {
    pub results: Vec<NamespaceResult>,
    pub dry_run: DryRun,
}

/// Applies `plan`, `concurrency` namespaces at a time, ticking the progress
/// bar as each finishes.
pub async fn apply(
    cluster: &Cluster,
    cx: &Cx<'_>,
    plan: FleetPlan,
    dry_run: DryRun,
    concurrency: usize,
) -> FleetReport {
    cx.progress.start(plan.namespaces.len());
    let tick = |_: &NamespaceResult| cx.progress.tick();
    let results = fleet::apply(cluster, plan, dry_run, concurrency, &tick).await;
    FleetReport { results, dry_run }
}

impl FleetReport {
    fn failed(&self) -> impl Iterator<Item = &NamespaceResult> {
        self.results.iter().filter(|r| r.error.is_some())
    }
}

impl Report for FleetReport {
    /// Each namespace's result; a failed one has its `reason` beside its
    /// name, and the failure's fields under `error` (never words).
    fn document(&self) -> serde_json::Value {
        let results = self.results.iter().map(|r| {
            let mut doc = crate::render::json(r);
            if let Some(f) = r.error.as_ref().map(CliError::from) {
                let failure = f.failure().map(crate::error::Failure::document);
                doc["reason"] = serde_json::json!(f.reason());
                doc["error"] = failure.unwrap_or_default();
            }
            doc
        });
        serde_json::Value::Array(results.collect())
    }

    /// What kubectl prints for the objects written: `kind/name`, one line
    /// each, the namespace left out as `kubectl get -A -o name` leaves it
    /// (so a secret of one name in many namespaces is one line each).
    /// Namespaces that failed print nothing here: their errors go to stderr.
    fn names(&self) -> Vec<String> {
        let ok = self.results.iter().filter(|r| r.error.is_none());
        ok.flat_map(|r| {
            let secret = (r.secret.is_some())
                .then(|| r.secret_name.as_ref().map(|n| format!("secret/{n}")))
                .flatten();
            let links = r
                .links
                .iter()
                .map(|l| format!("serviceaccount/{}", l.service_account));
            secret.into_iter().chain(links)
        })
        .collect()
    }

    fn human(&self) -> Vec<Block> {
        let ok = || self.results.iter().filter(|r| r.error.is_none());
        let changed = ok().filter(|r| r.changed()).count();
        let mut blocks = vec![Block::Line(text(
            "fleet.summary",
            &[
                (
                    "namespaces",
                    &crate::i18n::count("words.n.namespaces", self.results.len()),
                ),
                ("changed", &changed.to_string()),
                ("unchanged", &(ok().count() - changed).to_string()),
                ("failed", &self.failed().count().to_string()),
                ("dry", &crate::words::dry(self.dry_run)),
            ],
        ))];
        for r in self.failed() {
            let what = (r.error.as_ref())
                .map(CliError::from)
                .and_then(|e| e.failure().map(crate::error::Failure::what));
            blocks.push(Block::Line(text(
                "fleet.failed_line",
                &[
                    ("namespace", &r.namespace),
                    ("what", &what.unwrap_or_default()),
                ],
            )));
        }
        blocks
    }

    fn changed(&self) -> bool {
        self.results.iter().any(NamespaceResult::changed)
    }

    fn verdict(&self) -> Result<(), CliError> {
        let failed = self.failed().count();
        if failed == 0 {
            return Ok(());
        }
        Err(
            CliError::failed(Reason::SomeNamespacesFailed, "fleet.some_failed")
                .with("failed", failed)
                .with("total", self.results.len()),
        )
    }
}
