//! clap's usage errors as failures (exit 2), in the user's language: the
//! command that was being used, and for a typo the closest command or flag,
//! as clap itself suggests it.

use serde_json::json;

use super::{CliError, Reason};

impl CliError {
    /// A clap usage error; `None` for help and version output, which clap
    /// prints. `command` is the command line's command (`kubectl rhpull
    /// create`), for the `--help` to suggest.
    pub fn from_clap(e: &clap::Error, command: &str) -> Option<Self> {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let ctx = |kind: ContextKind| match e.get(kind) {
            Some(ContextValue::String(s)) => s.clone(),
            Some(ContextValue::Strings(v)) => v.join(", "),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let suggested = |kind: ContextKind| match e.get(kind) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            // clap lists its suggestions from the least to the most alike.
            Some(ContextValue::Strings(v)) => v.last().cloned(),
            _ => None,
        };
        let err = match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => return None,
            ErrorKind::UnknownArgument => {
                let arg = ctx(ContextKind::InvalidArg);
                match suggested(ContextKind::SuggestedArg) {
                    Some(s) => Self::usage(
                        Reason::UnknownArgument,
                        "error.usage.unknown_argument_closest",
                    )
                    .with("arg", arg)
                    .with("closest", s),
                    None => Self::usage(Reason::UnknownArgument, "error.usage.unknown_argument")
                        .with("arg", arg),
                }
            }
            ErrorKind::InvalidSubcommand => {
                let given = ctx(ContextKind::InvalidSubcommand);
                match suggested(ContextKind::SuggestedSubcommand) {
                    Some(s) => Self::usage(
                        Reason::UnknownCommand,
                        "error.usage.unknown_command_closest",
                    )
                    .with("given", given)
                    .with("closest", s),
                    None => Self::usage(Reason::UnknownCommand, "error.usage.unknown_command")
                        .with("given", given),
                }
            }
            ErrorKind::MissingRequiredArgument | ErrorKind::MissingSubcommand => {
                Self::usage(Reason::MissingArgument, "error.usage.missing")
                    .with("args", ctx(ContextKind::InvalidArg))
            }
            ErrorKind::InvalidValue => {
                Self::usage(Reason::InvalidValue, "error.usage.invalid_value")
                    .with("value", ctx(ContextKind::InvalidValue))
                    .with("arg", ctx(ContextKind::InvalidArg))
                    .with("valid", ctx(ContextKind::ValidValue))
            }
            ErrorKind::ValueValidation => {
                let detail = std::error::Error::source(e)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                Self::usage(Reason::InvalidValue, "error.usage.bad_value")
                    .with("value", ctx(ContextKind::InvalidValue))
                    .with("arg", ctx(ContextKind::InvalidArg))
                    .with("detail", detail)
            }
            ErrorKind::ArgumentConflict => {
                Self::usage(Reason::ConflictingArguments, "error.usage.conflict")
                    .with("arg", ctx(ContextKind::InvalidArg))
                    .with("other", ctx(ContextKind::PriorArg))
            }
            _ => Self::usage(Reason::UsageError, "error.usage.other")
                .with("detail", e.kind().as_str().unwrap_or("usage")),
        };
        Some(err.with("command", json!(command)))
    }
}

static COMMAND: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Remembers the command being run, for failures whose next step repeats
/// it (`main` calls this once).
pub fn set_command(command: String) {
    let _ = COMMAND.set(command);
}

/// The command being run (`kubectl rhpull login`).
pub fn command() -> String {
    COMMAND
        .get()
        .cloned()
        .unwrap_or_else(|| "kubectl rhpull".into())
}

/// The command a command line names (`kubectl rhpull global set`): the
/// subcommands among `args`, followed down `root`'s tree as far as they go.
pub fn command_of(root: &clap::Command, args: &[String]) -> String {
    let mut at = root;
    let mut words = vec!["kubectl rhpull".to_string()];
    for arg in args.iter().filter(|a| !a.starts_with('-')) {
        let Some(sub) = at
            .get_subcommands()
            .find(|s| s.get_name() == arg || s.get_all_aliases().any(|a| a == arg))
        else {
            continue;
        };
        words.push(sub.get_name().to_string());
        at = sub;
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> CliError {
        let cmd = crate::cli::command();
        let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let e = cmd
            .clone()
            .try_get_matches_from(std::iter::once("kubectl-rhpull").chain(args.iter().copied()))
            .unwrap_err();
        CliError::from_clap(&e, &command_of(&cmd, &argv)).unwrap()
    }

    #[test]
    fn a_typo_gets_the_closest_command_or_flag() {
        let e = parse(&["crate"]);
        let f = e.failure().unwrap();
        assert_eq!(f.reason, Reason::UnknownCommand);
        assert_eq!(f.field("closest").unwrap(), "create");
        assert_eq!(f.field("command").unwrap(), "kubectl rhpull");
        let e = parse(&["create", "--from-podmn"]);
        let f = e.failure().unwrap();
        assert_eq!(f.reason, Reason::UnknownArgument);
        assert_eq!(f.field("closest").unwrap(), "--from-podman");
        assert_eq!(f.field("command").unwrap(), "kubectl rhpull create");
    }

    #[test]
    fn the_command_is_followed_down_the_tree() {
        let cmd = crate::cli::command();
        let args: Vec<String> = ["-n", "x", "global", "set", "quay.io", "--yes"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(command_of(&cmd, &args), "kubectl rhpull global set");
        let alias: Vec<String> = vec!["doctor".into()];
        assert_eq!(command_of(&cmd, &alias), "kubectl rhpull check");
    }
}
