//! Progress on stderr, only on a terminal (indicatif): a bar for the
//! namespaces of a fleet run, with several clusters one line per cluster
//! saying what it is doing, and lines for the parts of a job that move on
//! their own (a pool of a rollout: `worker 3/5 updated`).

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::sync::{Mutex, OnceLock};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::i18n::text;

/// One cluster's progress; draws nothing when stderr is not a terminal.
#[derive(Debug)]
pub struct Progress {
    bar: OnceLock<ProgressBar>,
    /// With several clusters: where this cluster's line goes, and its name.
    line: Option<(MultiProgress, String)>,
    /// Lines of the parts, by name, and where they are drawn.
    items: Mutex<(Option<MultiProgress>, BTreeMap<String, ProgressBar>)>,
    shown: bool,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Progress {
    /// For a command on one cluster: a bar appears when a fleet starts.
    pub fn single() -> Self {
        Self {
            bar: OnceLock::new(),
            line: None,
            items: Mutex::default(),
            shown: std::io::stderr().is_terminal(),
        }
    }

    /// One line of `multi` for cluster `context`.
    pub fn line(multi: &MultiProgress, context: &str) -> Self {
        let p = Self {
            bar: OnceLock::new(),
            line: Some((multi.clone(), context.to_string())),
            items: Mutex::new((Some(multi.clone()), BTreeMap::new())),
            shown: std::io::stderr().is_terminal(),
        };
        p.status(&text("progress.connecting", &[]));
        p
    }

    fn bar(&self) -> Option<&ProgressBar> {
        if !self.shown {
            return None;
        }
        Some(self.bar.get_or_init(|| match &self.line {
            Some((multi, context)) => {
                let bar = multi.add(ProgressBar::new(0));
                bar.set_style(style("{prefix:20} {msg}"));
                bar.set_prefix(context.clone());
                bar
            }
            None => ProgressBar::new(0),
        }))
    }

    /// What the cluster is doing now (several clusters only).
    pub fn status(&self, message: &str) {
        if self.line.is_some()
            && let Some(b) = self.bar()
        {
            b.set_message(message.to_string());
        }
    }

    /// A fleet of `len` namespaces starts.
    pub fn start(&self, len: usize) {
        if len < 2 {
            return;
        }
        if let Some(b) = self.bar() {
            let template = if self.line.is_some() {
                "{prefix:20} {bar:30} {pos}/{len} {msg}"
            } else {
                "{bar:40} {pos}/{len} {msg}"
            };
            b.set_style(style(template));
            b.set_length(len as u64);
            b.set_message(text("fleet.progress", &[]));
        }
    }

    /// One namespace is done.
    pub fn tick(&self) {
        if let Some(b) = self.bar.get() {
            b.inc(1);
        }
    }

    /// One line per part, kept up to date: `item("worker", "worker 3/5
    /// updated")`. With several clusters the line names the cluster too.
    pub fn item(&self, name: &str, message: &str) {
        if !self.shown {
            return;
        }
        let mut guard = self
            .items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (multi, bars) = &mut *guard;
        let multi = multi.get_or_insert_with(MultiProgress::new);
        let bar = bars.entry(name.to_string()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(0));
            match &self.line {
                Some((_, context)) => {
                    bar.set_style(style("{prefix:20} {msg}"));
                    bar.set_prefix(context.clone());
                }
                None => bar.set_style(style("{msg}")),
            }
            bar
        });
        bar.set_message(message.to_string());
    }

    /// This cluster is done: its line says so; a lone bar goes away.
    pub fn finish(&self, message: &str) {
        let items = self
            .items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for bar in items.1.values() {
            bar.finish_and_clear();
        }
        drop(items);
        if let Some(b) = self.bar.get() {
            match &self.line {
                Some(_) => {
                    b.set_style(style("{prefix:20} {msg}"));
                    b.finish_with_message(message.to_string());
                }
                None => b.finish_and_clear(),
            }
        }
    }
}
