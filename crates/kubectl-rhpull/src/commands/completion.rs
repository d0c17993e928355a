//! `rhpull completion bash|zsh|fish|powershell`: generated from the same
//! clap definition as `--help`.

use crate::cli::CompletionArgs;
use crate::error::CliError;

pub fn run(args: &CompletionArgs) -> Result<(), CliError> {
    let mut cmd = crate::i18n::localize_command(crate::cli::command());
    let mut out = std::io::stdout();
    clap_complete::generate(args.shell, &mut cmd, "kubectl-rhpull", &mut out);
    Ok(())
}
