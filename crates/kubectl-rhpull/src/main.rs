//! `kubectl-rhpull`: the binary. It parses the command line (clap, with every
//! human-facing text from the message catalogue), runs one command, and turns
//! results and typed errors into words, tables and exit codes. Logic lives in
//! `rhpull-core` and `rhpull-cluster`; this crate stays thin.
//!
//! Exit codes follow kubectl: 0 done, 1 failed, 2 bad usage.

use std::process::ExitCode;

rust_i18n::i18n!("locales", fallback = "en");

mod cli;
mod commands;
mod creds;
mod error;
mod i18n;
mod objects;
mod output;
mod session;

fn main() -> ExitCode {
    i18n::init_from_env();
    let command = i18n::localize_command(cli::command());
    let matches = match command.try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            // Usage errors in the user's language; help clap prints itself.
            if let Some(err) = i18n::usage_error(&e) {
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
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if !err.what.is_empty() {
                output::print_error(&err);
            }
            ExitCode::from(err.exit_code())
        }
    }
}
