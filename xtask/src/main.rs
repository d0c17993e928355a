//! `cargo xtask …`: the project's own tasks.
//!
//! - `test`: installs the Debian packages the suite needs (idempotently),
//!   builds the binary, and runs every test in the workspace.
//! - `demo`: the main job end to end on the embedded test world, printed as
//!   a user would see it.
//! - `world`: the test world standing, for hands-on use (`world.rs`).
//! - `deny`: cargo-deny's checks, offline (`deny.rs`); `test` runs them.
//! - `sbom`: a CycloneDX SBOM of the binary (`sbom.rs`); `dist` writes one.
//! - `test` also checks that no file imports another in a circle
//!   (`circles.rs`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod circles;
mod demo;
mod deny;
mod dist;
mod fuzz;
mod prereqs;
mod sbom;
mod world;

use std::process::{Command, ExitCode};

/// `cargo xtask`'s command line (clap, as the plugin's).
#[derive(Debug, clap::Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "The project's own tasks",
    disable_help_subcommand = true
)]
enum Task {
    /// Install prerequisites (apt-get, only what is missing), check the
    /// supply chain and run every test.
    Test {
        /// Passed on to `cargo test` (a filter, `--nocapture`, …).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CARGO_TEST_ARGS"
        )]
        extra: Vec<String>,
    },
    /// Licences, duplicates, sources and advisories (offline) with
    /// cargo-deny (installed if missing).
    Deny,
    /// Run rhpull end to end on the embedded test world.
    Demo,
    /// Stand the test world up for hands-on use, until Ctrl-C.
    World(world::Args),
    /// Speed, API requests and memory against the emulator; writes
    /// target/bench/results.{json,md}.
    Bench {
        /// The cases to run (default: all).
        #[arg(value_name = "CASE", value_parser = clap::builder::PossibleValuesParser::new(bench::CASES))]
        cases: Vec<String>,
    },
    /// Release archive for this platform, its sha256, its SBOM and the
    /// rendered krew manifest, all under target/.
    Dist(dist::Args),
    /// CycloneDX SBOM of the binary for one target.
    Sbom(sbom::Args),
    /// Run the fuzz targets (installs cargo-fuzz).
    Fuzz(fuzz::Args),
}

fn main() -> ExitCode {
    use clap::{CommandFactory as _, Parser as _};
    let result = match Task::parse() {
        Task::Test { extra } => test(&extra),
        Task::Demo => demo::run(),
        Task::World(args) => match world::check(&args) {
            // A contradiction in the flags is a usage error (exit 2).
            Err(e) => Task::command()
                .error(clap::error::ErrorKind::ArgumentConflict, e)
                .exit(),
            Ok(()) => world::run(args),
        },
        Task::Bench { cases } => bench::run(&cases),
        Task::Dist(args) => dist::run(args),
        Task::Deny => deny::run(),
        Task::Sbom(args) => sbom::run(args),
        Task::Fuzz(args) => fuzz::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command from the workspace root, failing with its name.
pub fn cargo(args: &[&str]) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// Where cargo builds: `CARGO_TARGET_DIR`, else `target/`.
pub fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), std::path::PathBuf::from)
}

/// The Rust target this machine builds for (`rustc -vV`'s host).
pub fn host_triple() -> Result<String, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or_else(|| "rustc -vV printed no host".into())
}

pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

fn test(extra: &[String]) -> Result<(), String> {
    prereqs::ensure()?;
    deny::run()?;
    circles::check(&workspace_root())?;
    // The end-to-end tests run the built binary through real kubectl, and
    // unpack the release archive as krew would.
    cargo(&["build", "--workspace", "--bins"])?;
    let dist_dir = workspace_root().join("target/dist-test");
    let before = git_status()?;
    dist::run(dist::Args {
        debug: true,
        out: dist_dir,
        manifest_from: None,
    })?;
    // dist writes under target/ only: the working tree is as it was.
    let after = git_status()?;
    if after != before {
        return Err(format!(
            "cargo xtask dist changed the working tree:\n{after}\n(was:\n{before})"
        ));
    }
    let mut args = vec!["test", "--workspace", "--all-targets"];
    args.extend(extra.iter().map(String::as_str));
    let mut total = cargo_test(&args)?;
    // Doc tests are not part of --all-targets.
    total.add(cargo_test(&["test", "--workspace", "--doc"])?);
    // One closing line for the whole suite, whatever binary ran last.
    println!(
        "\nxtask test: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.ignored
    );
    if total.passed == 0 {
        return Err("no test ran".into());
    }
    Ok(())
}

/// `git status --porcelain` of the workspace (untracked files included).
fn git_status() -> Result<String, String> {
    let out = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git status failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Counts summed over every `test result:` line cargo prints.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }

    /// `test result: ok. 39 passed; 0 failed; 1 ignored; …`
    fn read_line(&mut self, line: &str) {
        let Some(rest) = line.split_once("test result:").map(|(_, r)| r) else {
            return;
        };
        for part in rest.split([';', '.']) {
            let mut words = part.split_whitespace();
            if let (Some(n), Some(what)) = (words.next(), words.next())
                && let Ok(n) = n.parse::<u64>()
            {
                match what {
                    "passed" => self.passed += n,
                    "failed" => self.failed += n,
                    "ignored" => self.ignored += n,
                    _ => {}
                }
            }
        }
    }
}

/// Runs `cargo test …`, passing its output through while counting results.
fn cargo_test(args: &[&str]) -> Result<Tally, String> {
    use std::io::BufRead as _;
    let mut child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(workspace_root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut tally = Tally::default();
    let stdout = child.stdout.take().expect("piped stdout");
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        tally.read_line(&line);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(tally)
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}
