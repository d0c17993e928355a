//! `rhpull completion bash|zsh|fish|powershell` and the hidden
//! `generate-man DIR`: generated from the same clap definition as `--help`,
//! so they never drift apart.

use crate::cli::{CompletionArgs, GenerateManArgs};
use crate::error::{CliError, Reason};

fn not_written(path: &str, e: &std::io::Error) -> CliError {
    CliError::failed(Reason::FileNotWritable, "error.file_write")
        .with("path", path)
        .with("detail", e.to_string())
}

pub fn run(args: &CompletionArgs) -> Result<(), CliError> {
    let mut cmd = crate::i18n::localize_command(crate::cli::command());
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kubectl-rhpull", &mut script);
    crate::output::print_raw(&String::from_utf8_lossy(&script));
    Ok(())
}

/// One man page for the command and one per subcommand (`kubectl-rhpull-create.1`).
pub fn man(args: &GenerateManArgs) -> Result<(), CliError> {
    let cmd = crate::i18n::localize_command(crate::cli::command());
    let write = |name: String, cmd: clap::Command| -> Result<(), CliError> {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.name(name.clone()))
            .render(&mut buf)
            .map_err(|e| not_written(&name, &e))?;
        let path = args.dir.join(format!("{name}.1"));
        std::fs::create_dir_all(&args.dir)
            .and_then(|()| std::fs::write(&path, buf))
            .map_err(|e| not_written(&path.display().to_string(), &e))
    };
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write(format!("kubectl-rhpull-{}", sub.get_name()), sub.clone())?;
    }
    write("kubectl-rhpull".into(), cmd)
}
