//! Step 5 of every command: one renderer for what a command reports — words
//! and tables for a person, or a JSON or YAML document, or `kind/name`
//! lines for scripts. With a machine format, stdout holds that document
//! alone: plans, progress and warnings go to stderr (`output`). Machine
//! output never changes with the locale.

use serde_json::Value;

use crate::error::CliError;
use crate::output;

/// `-o`: what stdout holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
    Name,
}

/// A piece of the words a person reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Line(String),
    Blank,
    /// A kubectl-style table: headers (upper-cased when printed) and rows.
    Table {
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// What a command found or did, ready to be shown either way.
pub trait Report {
    /// The `-o json|yaml` document.
    fn document(&self) -> Value;
    /// The `-o name` lines (`secret/NAME`).
    fn names(&self) -> Vec<String> {
        Vec::new()
    }
    /// The words for a person, in the user's language.
    fn human(&self) -> Vec<Block>;
    /// True when something was (or, in a dry run, would be) changed.
    fn changed(&self) -> bool {
        false
    }
    /// What a read found, in a few words, for the line a context gets in
    /// a many-context summary (`3 pull secrets, 1 image-puller grant`).
    fn found(&self) -> Option<String> {
        None
    }
    /// The exit status once shown: a failed check or a failed namespace
    /// makes it 1; what failed is already in the report.
    fn verdict(&self) -> Result<(), CliError> {
        Ok(())
    }
}

/// Prints `report` in `format`, then returns its verdict.
pub fn print(report: &dyn Report, format: Format) -> Result<(), CliError> {
    match format {
        Format::Json => output::print_json(&report.document()),
        Format::Yaml => output::print_yaml(&report.document()),
        Format::Name => report.names().iter().for_each(|n| output::print_line(n)),
        Format::Table => print_blocks(&report.human()),
    }
    report.verdict()
}

pub fn print_blocks(blocks: &[Block]) {
    for b in blocks {
        match b {
            Block::Line(l) => output::print_line(l),
            Block::Blank => output::print_line(""),
            Block::Table { headers, rows } => output::print_table(headers, rows),
        }
    }
}

/// A value as a machine document.
pub fn json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// `items` joined with `, `, or `-` when there are none.
pub fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

/// `text` padded with spaces to `width` columns as a terminal shows them
/// (a CJK character takes two), for hand-aligned lines.
pub fn pad(text: &str, width: usize) -> String {
    let shown = unicode_width::UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(shown)))
}

/// The Table block of `headers` (catalogue keys) and `rows`.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> Block {
    Block::Table {
        headers: headers.iter().map(|k| crate::i18n::text(k, &[])).collect(),
        rows,
    }
}

/// A document with Kubernetes objects as kubectl prints them: the object
/// itself when there is one, else a `List`.
pub fn object_list(objects: &[Value]) -> Value {
    match objects {
        [one] => one.clone(),
        many => serde_json::json!({"apiVersion": "v1", "kind": "List", "items": many}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_counts_columns_not_characters() {
        assert_eq!(pad("DNS", 6), "DNS   ");
        assert_eq!(pad("凭证", 6), "凭证  ");
        assert_eq!(pad("toolong", 3), "toolong");
    }
}
