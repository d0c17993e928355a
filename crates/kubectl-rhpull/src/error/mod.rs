//! The one error type the binary shows: what failed, why, and the next step,
//! each already in the user's language, plus the exit code (1 failed, 2 bad
//! usage). Typed errors are turned into it next door: clap's usage errors
//! ([`usage`]), auth-file errors ([`authfile`]) and cluster errors
//! ([`cluster`]).

mod authfile;
mod cluster;
mod usage;

use crate::i18n::text;

/// kubectl's exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Failed = 1,
    Usage = 2,
}

#[derive(Clone, Debug)]
pub struct CliError {
    pub exit: Exit,
    pub what: String,
    pub why: Option<String>,
    pub next: Option<String>,
}

impl CliError {
    /// A failure whose texts come from the catalogue keys `<base>.what`,
    /// `<base>.why` and `<base>.next` (the last two when present).
    pub fn from_catalogue(exit: Exit, base: &str, args: &[(&str, &str)]) -> Self {
        let optional = |part: &str| {
            let key = format!("{base}.{part}");
            crate::i18n::has(&key, "en").then(|| text(&key, args))
        };
        Self {
            exit,
            what: text(&format!("{base}.what"), args),
            why: optional("why"),
            next: optional("next"),
        }
    }

    /// A failure already reported in the command's own output (a failed
    /// check prints its steps): only the exit code remains.
    pub fn silent(exit: Exit) -> Self {
        Self {
            exit,
            what: String::new(),
            why: None,
            next: None,
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.exit as u8
    }

    /// `error: what`, `  why: …`, `  next: …` as printed.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("{}{}", text("error.label", &[]), self.what)];
        if let Some(why) = &self.why {
            out.push(format!("  {}{why}", text("error.why_label", &[])));
        }
        if let Some(next) = &self.next {
            out.push(format!("  {}{next}", text("error.next_label", &[])));
        }
        out
    }

    /// The error in a machine document (a failed cluster of many).
    pub fn document(&self) -> serde_json::Value {
        serde_json::json!({"what": self.what, "why": self.why, "next": self.next})
    }
}
