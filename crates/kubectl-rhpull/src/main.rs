//! `kubectl-rhpull`: the binary. It parses the command line (clap, with every
//! human-facing text from the message catalogue), runs one command on one
//! tokio runtime, and turns results and typed errors into words, tables and
//! exit codes. Logic lives in `rhpull-core` and `rhpull-cluster`; this crate
//! stays thin.
//!
//! - [`cli`]: the flags; [`commands`]: one module per command, each
//!   resolving its options and running through [`driver`] (cluster
//!   commands) or on its own (local ones); [`render`]: every report, in
//!   every output format.
//! - [`connection`]: which kubeconfig and contexts; [`creds`] and
//!   [`prompt`]: credentials from flags, files and the terminal;
//!   [`registry_check`]: the token flow's options.
//! - [`error`], [`i18n`], [`output`], [`progress`], [`words`], [`objects`]:
//!   words, the catalogue, and what reaches the terminal.
//!
//! Exit codes follow kubectl: 0 done, 1 failed, 2 bad usage.
// What ships never panics on a missing value: an invariant is stated
// with `expect` and an `#[allow]` that says why, where there is one.
#![warn(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

rust_i18n::i18n!("locales", fallback = "en");

mod cli;
mod commands;
mod connection;
mod creds;
mod driver;
mod error;
mod i18n;
mod objects;
mod output;
mod progress;
mod prompt;
mod registry_check;
mod render;
mod words;

use error::{CliError, Reason};

fn main() -> ExitCode {
    i18n::init_from_env();
    let command = i18n::localize_command(cli::command());
    let argv: Vec<String> = std::env::args().skip(1).collect();
    error::set_command(error::command_of(&command, &argv));
    let matches =
        match command.try_get_matches_from(cli::join_wait_values(std::env::args_os().collect())) {
            Ok(m) => m,
            Err(e) => {
                // Usage errors in the user's language; help clap prints itself.
                if let Some(err) = CliError::from_clap(&e, &error::command()) {
                    output::print_error(&err);
                    return ExitCode::from(err.exit_code());
                }
                let _ = e.print();
                return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
            }
        };
    let cli = match cli::Cli::from_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    // One thread: the plugin waits on the network, never on its own CPU, and
    // many clusters' connections interleave on it without handing wake-ups
    // between threads (the bench: ten clusters at once went from 0.25 to
    // 0.19 s, and less CPU, against a two-worker runtime).
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            CliError::failed(Reason::RuntimeFailed, "error.runtime").with("detail", e.to_string())
        })
        .and_then(|rt| rt.block_on(commands::run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::print_error(&err);
            ExitCode::from(err.exit_code())
        }
    }
}
