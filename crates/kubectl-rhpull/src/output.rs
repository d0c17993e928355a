//! Everything the binary writes to a terminal goes through here: tables
//! (comfy-table), JSON for scripts, and errors. Colour only on a TTY and
//! never with `NO_COLOR`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal as _;

use comfy_table::{Table, presets::NOTHING};

use crate::error::CliError;
use crate::i18n::text;

/// Prints a value as indented JSON on stdout (machine output: never
/// localised), written as it is serialised: a document of 10,000
/// namespaces is never held as one string.
pub fn print_json<T: serde::Serialize>(value: &T) {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        eprintln!("{e}");
    }
}

/// Prints a value as YAML on stdout (machine output: never localised).
pub fn print_yaml<T: serde::Serialize>(value: &T) {
    match serde_saphyr::to_string(value) {
        Ok(s) => print!("{s}"),
        Err(e) => eprintln!("{e}"),
    }
}

/// A kubectl-style table: upper-case headers, no borders.
pub fn print_table(headers: &[String], rows: &[Vec<String>]) {
    let mut table = Table::new();
    table.load_preset(NOTHING);
    // kubectl's headers are upper case; Chinese has no case, and a Latin
    // word inside Chinese stays as it is written (`拉取 Secret`).
    table.set_header(headers.iter().map(|h| {
        if h.is_ascii() {
            h.to_uppercase()
        } else {
            h.clone()
        }
    }));
    for row in rows {
        table.add_row(row);
    }
    // comfy-table pads the first column with one space; kubectl does not.
    for line in table.to_string().lines() {
        println!("{}", line.strip_prefix(' ').unwrap_or(line).trim_end());
    }
}

/// Text printed as it is (a file's content the user asked for).
pub fn print_raw(text: &str) {
    print!("{text}");
}

/// A line for a person that is not the command's result (a plan, a note
/// on how it ran): on stderr, so stdout keeps only the result.
pub fn note(message: &str) {
    eprintln!("{message}");
}

pub fn print_line(line: &str) {
    println!("{line}");
}

/// `warning: …` on stderr.
pub fn warn(message: &str) {
    let label = text("warn.label", &[]);
    if colour() {
        eprintln!("\x1b[33m{label}\x1b[0m{message}");
    } else {
        eprintln!("{label}{message}");
    }
}

/// A `-v` trace line on stderr (request lines carry no headers or bodies).
pub fn trace(line: String) {
    eprintln!("I {line}");
}

/// True when stdout is a terminal that accepts colour.
pub fn stdout_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// True when stderr is a terminal that accepts colour.
pub fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `error: what` / `  why` / `  next: command`, on stderr; nothing for a
/// failure the command's output already reported.
pub fn print_error(err: &CliError) {
    let Some(f) = err.failure() else {
        return;
    };
    let label = text("error.label", &[]);
    if colour() {
        eprintln!("\x1b[31m{label}\x1b[0m{}", f.what());
    } else {
        eprintln!("{label}{}", f.what());
    }
    if let Some(why) = f.why() {
        eprintln!("  {}{why}", text("error.why_label", &[]));
    }
    if let Some(next) = f.next() {
        eprintln!("  {}{next}", text("error.next_label", &[]));
    }
}
