//! Progress on stderr, only on a terminal (indicatif): a bar for the
//! namespaces of a fleet run, and with several clusters one line per
//! cluster saying what it is doing.

use std::io::IsTerminal as _;
use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::i18n::text;

/// One cluster's progress; draws nothing when stderr is not a terminal.
#[derive(Debug)]
pub struct Progress {
    bar: OnceLock<ProgressBar>,
    /// With several clusters: where this cluster's line goes, and its name.
    line: Option<(MultiProgress, String)>,
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
            shown: std::io::stderr().is_terminal(),
        }
    }

    /// One line of `multi` for cluster `context`.
    pub fn line(multi: &MultiProgress, context: &str) -> Self {
        let p = Self {
            bar: OnceLock::new(),
            line: Some((multi.clone(), context.to_string())),
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

    /// This cluster is done: its line says so; a lone bar goes away.
    pub fn finish(&self, message: &str) {
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
