//! clap's usage errors in the user's language (exit 2).

use super::{CliError, Exit};

impl CliError {
    /// A clap usage error in the user's language (clap's own words are
    /// English); `None` for help and version output, which clap prints.
    pub fn from_clap(e: &clap::Error) -> Option<Self> {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let ctx = |kind: ContextKind| match e.get(kind) {
            Some(ContextValue::String(s)) => s.clone(),
            Some(ContextValue::Strings(v)) => v.join(", "),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let (base, args): (&str, Vec<(&str, String)>) = match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => return None,
            ErrorKind::UnknownArgument => (
                "error.usage.unknown_argument",
                vec![("arg", ctx(ContextKind::InvalidArg))],
            ),
            ErrorKind::InvalidSubcommand => (
                "error.usage.unknown_command",
                vec![("command", ctx(ContextKind::InvalidSubcommand))],
            ),
            ErrorKind::MissingRequiredArgument | ErrorKind::MissingSubcommand => (
                "error.usage.missing",
                vec![("args", ctx(ContextKind::InvalidArg))],
            ),
            ErrorKind::InvalidValue => (
                "error.usage.invalid_value",
                vec![
                    ("value", ctx(ContextKind::InvalidValue)),
                    ("arg", ctx(ContextKind::InvalidArg)),
                    ("valid", ctx(ContextKind::ValidValue)),
                ],
            ),
            ErrorKind::ValueValidation => {
                let reason = std::error::Error::source(e)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                (
                    "error.usage.bad_value",
                    vec![
                        ("value", ctx(ContextKind::InvalidValue)),
                        ("arg", ctx(ContextKind::InvalidArg)),
                        ("reason", reason),
                    ],
                )
            }
            ErrorKind::ArgumentConflict => (
                "error.usage.conflict",
                vec![
                    ("arg", ctx(ContextKind::InvalidArg)),
                    ("other", ctx(ContextKind::PriorArg)),
                ],
            ),
            _ => (
                "error.usage.other",
                vec![("detail", e.kind().as_str().unwrap_or("usage").to_string())],
            ),
        };
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Some(Self::from_catalogue(Exit::Usage, base, &args))
    }
}
