//! `cargo xtask fuzz [--runs N] [--json] [--record] [--target NAME]...`:
//! builds the fuzz targets in `fuzz/` with cargo fuzz (libFuzzer) on the
//! stable toolchain and runs each, coverage-guided, for N executions.
//!
//! Each target starts from its working corpus (`fuzz/corpus/<target>`, kept
//! between runs, not in git), its seeds (`fuzz/seeds/<target>`) and its
//! regression cases (`fuzz/regressions/<target>`, every input that once
//! crashed it, replayed first). A crash stops that target; its input is
//! written to `fuzz/artifacts/<target>/` and the command fails.
//!
//! Without `--runs` it is the smoke `cargo xtask test` runs: an unoptimized
//! build (quicker to compile) and [`SMOKE_RUNS`] runs of each target. With
//! `--runs` the targets are optimized, for campaigns.
//!
//! `--record` writes the outcome into `docs/fuzz-campaign.json`, one object
//! per target with the commit it ran on, replacing that target's previous
//! object and keeping the others.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{Result, cargo, root, run, step};

/// Every fuzz target, in the order they run.
pub const TARGETS: &[&str] = &[
    "parse_jws",
    "device_frame",
    "verification_form",
    "store_records",
    "bank_request",
    "decode_frames",
    "verify_alert",
    "transcript",
    "rotate_keys",
    "tls_server",
];

/// Executions per target when `--runs` is not given: a smoke that shows
/// each target builds, starts from its seeds and replays its regressions.
pub const SMOKE_RUNS: u64 = 10_000;

/// How the targets are compiled.
#[derive(Clone, Copy)]
enum Profile {
    /// Optimized: for campaigns, where executions per second count.
    Release,
    /// Unoptimized: for the test command's smoke, where the build is most of
    /// the time (it compiled in about half the time of the optimized build
    /// here, and 10,000 runs of every target still take seconds).
    Dev,
}

impl Profile {
    /// cargo's output folder for the profile.
    fn folder(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Dev => "debug",
        }
    }
}

/// The sanitizer the targets are built with. None: the code under test is
/// safe Rust (`unsafe_code` is forbidden in the workspace), so
/// AddressSanitizer would mostly check the standard library, at half the
/// speed; panics, overflow checks (debug assertions stay on) and stack
/// overflows still crash a target.
const SANITIZER: &str = "none";

/// How one target's run ended.
struct Outcome {
    target: &'static str,
    runs: u64,
    crashes: u64,
    seconds: f64,
    /// The crashing input, when there was one.
    artifact: Option<String>,
}

impl Outcome {
    fn exec_per_s(&self) -> u64 {
        if self.seconds > 0.0 {
            (self.runs as f64 / self.seconds) as u64
        } else {
            0
        }
    }
}

/// `cargo xtask fuzz ...`.
pub fn command(args: &[String]) -> Result {
    let mut runs = None;
    let mut json = false;
    let mut record = false;
    let mut only: Vec<&'static str> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--record" => record = true,
            "--runs" => {
                let value = args.next().ok_or("--runs needs a number")?;
                runs = Some(
                    value
                        .replace(['_', ','], "")
                        .parse()
                        .map_err(|_| format!("--runs {value}: not a number"))?,
                );
            }
            "--target" => {
                let name = args.next().ok_or("--target needs a name")?;
                let known = TARGETS
                    .iter()
                    .find(|t| **t == name.as_str())
                    .ok_or(format!(
                        "no fuzz target {name}; there are: {}",
                        TARGETS.join(" ")
                    ))?;
                only.push(known);
            }
            other => return Err(format!("cargo xtask fuzz: unknown argument {other}")),
        }
    }
    let targets = if only.is_empty() {
        TARGETS.to_vec()
    } else {
        only
    };
    // Without --runs this is the test command's smoke, built the same way.
    let outcomes = match runs {
        Some(runs) => campaign(&targets, runs, Profile::Release)?,
        None => campaign(&targets, SMOKE_RUNS, Profile::Dev)?,
    };
    let commit = commit();
    if json {
        println!("{}", to_json(&outcomes, &commit));
    } else {
        println!(
            "{:<18} {:>12} {:>8} {:>10} {:>10}",
            "target", "runs", "crashes", "seconds", "exec/s"
        );
        for o in &outcomes {
            println!(
                "{:<18} {:>12} {:>8} {:>10.1} {:>10}",
                o.target,
                o.runs,
                o.crashes,
                o.seconds,
                o.exec_per_s()
            );
        }
        println!("commit {commit}");
    }
    if record {
        write_record(&outcomes, &commit)?;
    }
    let crashed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.crashes > 0)
        .map(|o| {
            format!(
                "{} (input: {})",
                o.target,
                o.artifact.as_deref().unwrap_or("see its log")
            )
        })
        .collect();
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found crashes in {}; fix them and keep each input under \
             fuzz/regressions/<target>/",
            crashed.join(", ")
        ))
    }
}

/// The test command's step: every target for a few runs (see
/// [`SMOKE_RUNS`]).
pub fn smoke() -> Result {
    let outcomes = campaign(TARGETS, SMOKE_RUNS, Profile::Dev)?;
    match outcomes.iter().find(|o| o.crashes > 0) {
        Some(o) => Err(format!(
            "fuzz target {} crashed (input: {})",
            o.target,
            o.artifact.as_deref().unwrap_or("see its log")
        )),
        None => Ok(()),
    }
}

/// Installs cargo-fuzz if missing, builds every target once, then runs the
/// given ones one after another (one process at a time: the machine is
/// shared).
fn campaign(targets: &[&'static str], runs: u64, profile: Profile) -> Result<Vec<Outcome>> {
    ensure_cargo_fuzz()?;
    step(&format!(
        "build the fuzz targets (cargo fuzz, {}, sanitizer {SANITIZER})",
        profile.folder()
    ));
    let started = Instant::now();
    let mut build = Command::new(cargo());
    build
        .args(["fuzz", "build", "--sanitizer", SANITIZER])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", fuzz_target_dir());
    if let Profile::Dev = profile {
        build.arg("--dev");
    }
    run(&mut build)?;
    eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());
    let mut outcomes = Vec::new();
    for target in targets {
        step(&format!("fuzz {target}: {runs} runs"));
        let outcome = run_target(target, runs, profile)?;
        eprintln!(
            "{target}: {} runs, {} crashes, {:.1} s ({} exec/s)",
            outcome.runs,
            outcome.crashes,
            outcome.seconds,
            outcome.exec_per_s()
        );
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// cargo-fuzz, from crates.io, once.
fn ensure_cargo_fuzz() -> Result {
    let present = Command::new(cargo())
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        eprintln!("cargo-fuzz: present");
        return Ok(());
    }
    step("installing cargo-fuzz");
    run(Command::new(cargo()).args(["install", "cargo-fuzz", "--locked"]))
}

fn host_triple() -> Result<String> {
    let output = Command::new(env_rustc())
        .arg("-vV")
        .output()
        .map_err(|e| format!("could not run rustc -vV: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| "rustc -vV named no host".into())
}

fn env_rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())
}

/// Where the fuzz targets are built: `fuzz/target`, or beside a shared
/// `CARGO_TARGET_DIR` (its `fuzz` folder) when one is set, so that CI's
/// shared folder keeps them between runs. Set explicitly for the build,
/// because cargo fuzz would otherwise follow `CARGO_TARGET_DIR` itself and
/// the binaries would not be where [`run_target`] starts them.
fn fuzz_target_dir() -> std::path::PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        Some(shared) => root().join(shared).join("fuzz"),
        None => root().join("fuzz").join("target"),
    }
}

/// Runs one target's binary directly (cargo fuzz built it), its output in
/// `<fuzz target dir>/logs/<target>.log`.
fn run_target(target: &'static str, runs: u64, profile: Profile) -> Result<Outcome> {
    let fuzz = root().join("fuzz");
    let binary = fuzz_target_dir()
        .join(host_triple()?)
        .join(profile.folder())
        .join(target);
    let corpus = fuzz.join("corpus").join(target);
    let artifacts = fuzz.join("artifacts").join(target);
    let logs = fuzz_target_dir().join("logs");
    for dir in [&corpus, &artifacts, &logs] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let log_path = logs.join(format!("{target}.log"));
    let log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut cmd = Command::new(&binary);
    cmd.arg(format!("-runs={runs}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1")
        // A single input taking this long is a hang worth reporting.
        .arg("-timeout=30")
        .arg(&corpus);
    for extra in ["seeds", "regressions"] {
        let dir = fuzz.join(extra).join(target);
        if dir.is_dir() {
            cmd.arg(dir);
        }
    }
    let started = Instant::now();
    let status = cmd
        .current_dir(&fuzz)
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
    let seconds = (started.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let executed = final_runs(&text).ok_or_else(|| {
        format!(
            "{target} ended ({status}) without saying how many runs it made; see {}",
            log_path.display()
        )
    })?;
    let artifact = text.lines().find_map(|l| {
        l.split_once("Test unit written to ")
            .map(|(_, p)| p.trim().to_owned())
    });
    Ok(Outcome {
        target,
        runs: executed,
        crashes: u64::from(!status.success()),
        seconds,
        artifact,
    })
}

/// The executions libFuzzer counted: its final statistics, else its last
/// status line.
fn final_runs(log: &str) -> Option<u64> {
    let stat = log.lines().rev().find_map(|l| {
        l.strip_prefix("stat::number_of_executed_units:")
            .and_then(|n| n.trim().parse().ok())
    });
    stat.or_else(|| {
        log.lines().rev().find_map(|l| {
            l.strip_prefix('#')
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
    })
}

/// The commit the targets were built from; `-dirty` when the fuzzed code
/// differs from it in the working tree.
fn commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let head = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let changed = git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        "crates",
        "fuzz",
    ])
    .is_some_and(|s| !s.is_empty());
    if changed {
        format!("{head}-dirty")
    } else {
        head
    }
}

fn object(o: &Outcome, commit: &str) -> String {
    format!(
        "{{\"target\": \"{}\", \"runs\": {}, \"crashes\": {}, \"seconds\": {:.1}, \
         \"exec_per_s\": {}, \"commit\": \"{}\", \"sanitizer\": \"{SANITIZER}\"}}",
        o.target,
        o.runs,
        o.crashes,
        o.seconds,
        o.exec_per_s(),
        commit
    )
}

fn to_json(outcomes: &[Outcome], commit: &str) -> String {
    let lines: Vec<String> = outcomes
        .iter()
        .map(|o| format!("  {}", object(o, commit)))
        .collect();
    format!("[\n{}\n]", lines.join(",\n"))
}

/// Merges the outcomes into `docs/fuzz-campaign.json`: one object per line,
/// in [`TARGETS`] order, this run's replacing a target's older one.
fn write_record(outcomes: &[Outcome], commit: &str) -> Result {
    let path: PathBuf = root().join("docs").join("fuzz-campaign.json");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let line_of = |target: &str| -> Option<String> {
        if let Some(o) = outcomes.iter().find(|o| o.target == target) {
            return Some(object(o, commit));
        }
        let key = format!("{{\"target\": \"{target}\",");
        old.lines()
            .map(|l| l.trim().trim_end_matches(','))
            .find(|l| l.starts_with(&key))
            .map(str::to_owned)
    };
    let lines: Vec<String> = TARGETS
        .iter()
        .filter_map(|t| line_of(t))
        .map(|l| format!("  {l}"))
        .collect();
    let text = format!("[\n{}\n]\n", lines.join(",\n"));
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("recorded in {}", display(&path));
    Ok(())
}

fn display(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}
