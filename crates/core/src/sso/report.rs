//! The report of one check: its steps in order, each passed (with the facts
//! it found), failed (with a named [`Cause`]) or skipped; and the recorder
//! the flow fills it in with, one step at a time.

use std::time::Instant;

use super::Cause;
use super::options::Grant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Credentials,
    Dns,
    Connect,
    Proxy,
    Tls,
    Challenge,
    Token,
    Registry,
    Image,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

/// Facts a passed step reports (addresses, schemes: data, not prose).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Detail {
    Credential {
        username: String,
    },
    NoCredential,
    Addresses {
        addresses: Vec<String>,
    },
    Connected {
        address: String,
        via_proxy: Option<String>,
    },
    Tunnel {
        proxy: String,
    },
    Tls {
        version: String,
    },
    Anonymous,
    BearerChallenge {
        realm: String,
        service: Option<String>,
    },
    BasicChallenge,
    Token {
        grant: Grant,
        expires_in: Option<u64>,
    },
    BasicAuth,
    Registry {
        status: u16,
    },
    Manifest {
        digest: Option<String>,
        media_type: Option<String>,
    },
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct StepReport {
    pub step: Step,
    pub status: Status,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

/// Every step of one check, in order.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckReport {
    pub registry: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub steps: Vec<StepReport>,
    pub passed: bool,
}

impl CheckReport {
    /// The step that failed, if one did.
    pub fn failure(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.status == Status::Failed)
    }

    /// The cause of the failed step, if one failed.
    pub fn cause(&self) -> Option<&Cause> {
        self.failure().and_then(|s| s.cause.as_ref())
    }
}

/// A step failed and was recorded: the flow stops there.
#[derive(Debug)]
pub(crate) struct Stop;

/// Records steps as the flow runs them, each timed from the one before.
pub(crate) struct Recorder {
    steps: Vec<StepReport>,
    planned: Vec<Step>,
    started: Instant,
}

impl Recorder {
    /// `planned`: every step this check would run, in order, so that the
    /// ones never reached are reported as skipped.
    pub(crate) fn new(planned: Vec<Step>) -> Self {
        Self {
            steps: Vec::new(),
            planned,
            started: Instant::now(),
        }
    }

    fn elapsed_ms(&mut self) -> u64 {
        let ms = self.started.elapsed().as_millis();
        self.started = Instant::now();
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    /// Records `step` as passed with its detail, or failed with its cause
    /// (then [`Stop`] ends the flow).
    pub(crate) fn record<T>(
        &mut self,
        step: Step,
        result: Result<(T, Detail), Cause>,
    ) -> Result<T, Stop> {
        let elapsed_ms = self.elapsed_ms();
        let (status, value, detail, cause) = match result {
            Ok((value, detail)) => (Status::Passed, Some(value), Some(detail), None),
            Err(cause) => (Status::Failed, None, None, Some(cause)),
        };
        self.steps.push(StepReport {
            step,
            status,
            elapsed_ms,
            detail,
            cause,
        });
        value.ok_or(Stop)
    }

    /// The report: steps not reached are skipped; it passed when nothing
    /// failed and something passed.
    pub(crate) fn finish(mut self, registry: String, image: Option<String>) -> CheckReport {
        for step in std::mem::take(&mut self.planned) {
            if !self.steps.iter().any(|s| s.step == step) {
                self.steps.push(StepReport {
                    step,
                    status: Status::Skipped,
                    elapsed_ms: 0,
                    detail: None,
                    cause: None,
                });
            }
        }
        let passed = self.steps.iter().all(|s| s.status != Status::Failed)
            && self.steps.iter().any(|s| s.status == Status::Passed);
        CheckReport {
            registry,
            image,
            steps: self.steps,
            passed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_step_stops_and_the_rest_are_skipped() {
        let mut rec = Recorder::new(vec![Step::Credentials, Step::Dns, Step::Connect]);
        let ok = rec.record(Step::Credentials, Ok((7, Detail::NoCredential)));
        assert_eq!(ok.unwrap(), 7);
        let failed = rec.record::<()>(
            Step::Dns,
            Err(Cause::DnsFailure {
                host: "nowhere".into(),
            }),
        );
        assert!(failed.is_err());
        let report = rec.finish("r".into(), None);
        assert!(!report.passed);
        assert_eq!(report.failure().map(|s| s.step), Some(Step::Dns));
        assert_eq!(report.steps[2].status, Status::Skipped);
        assert!(matches!(report.cause(), Some(Cause::DnsFailure { .. })));
    }
}
