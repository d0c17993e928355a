//! Asking the person at the terminal (dialoguer) — only on a terminal.
//! Without one nothing waits for input: a missing value is a usage error
//! naming the flag that gives it.

use std::io::{IsTerminal as _, Read as _};

use secrecy::SecretString;

use crate::cli::SecretArgs;
use crate::error::{CliError, Reason};
use crate::i18n::text;
use crate::output;

pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn prompt_failed(e: dialoguer::Error) -> CliError {
    CliError::failed(Reason::PromptFailed, "error.prompt").with("detail", e.to_string())
}

/// Reads the secret for a login: `--password` (with a warning),
/// `--password-stdin` (one trailing newline dropped, as docker does),
/// `RHPULL_PASSWORD`, or a hidden prompt on a TTY.
pub fn secret(args: &SecretArgs, registry: &str) -> Result<SecretString, CliError> {
    if let Some(p) = &args.password {
        output::warn(&text("warn.password_in_argv", &[]));
        return Ok(SecretString::from(p.clone()));
    }
    if args.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            CliError::failed(Reason::StdinUnreadable, "error.stdin").with("detail", e.to_string())
        })?;
        // Nothing at all on standard input is a missing value, not a
        // refused one: `</dev/null`, or a variable that was never set.
        if s.is_empty() {
            return Err(
                CliError::usage(Reason::MissingArgument, "error.empty_stdin")
                    .with("command", crate::error::command()),
            );
        }
        let s = s
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&s);
        return Ok(SecretString::from(s.to_string()));
    }
    if let Ok(p) = std::env::var("RHPULL_PASSWORD") {
        return Ok(SecretString::from(p));
    }
    if interactive() {
        let p = dialoguer::Password::new()
            .with_prompt(text("prompt.password", &[("registry", registry)]))
            .allow_empty_password(true)
            .interact()
            .map_err(prompt_failed)?;
        return Ok(SecretString::from(p));
    }
    Err(CliError::usage(
        Reason::MissingArgument,
        "error.missing_password",
    ))
}

/// The username: `--username`, else a prompt on a TTY, else a usage error.
pub fn username(args: &SecretArgs, registry: &str) -> Result<String, CliError> {
    if let Some(u) = &args.username {
        return Ok(u.clone());
    }
    if interactive() {
        return dialoguer::Input::<String>::new()
            .with_prompt(text("prompt.username", &[("registry", registry)]))
            .interact_text()
            .map_err(prompt_failed);
    }
    Err(CliError::usage(
        Reason::MissingArgument,
        "error.missing_username",
    ))
}

/// Asks "proceed?" on a TTY; `--yes` skips; without a TTY it is a usage
/// error naming `--yes`, never a wait for input.
pub fn confirm(question: &str, yes: bool) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    if !interactive() {
        return Err(CliError::usage(
            Reason::ConfirmationNeeded,
            "error.needs_yes",
        ));
    }
    let ok = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(prompt_failed)?;
    if ok {
        Ok(())
    } else {
        Err(CliError::failed(Reason::Declined, "error.declined"))
    }
}

/// One of `items`, chosen on a TTY; without one, `refused` (a usage
/// error listing them).
pub fn choose(prompt: &str, items: &[String], refused: CliError) -> Result<String, CliError> {
    if !interactive() {
        return Err(refused);
    }
    let i = dialoguer::Select::new()
        .with_prompt(prompt)
        .items(items)
        .default(0)
        .interact()
        .map_err(prompt_failed)?;
    Ok(items[i].clone())
}
