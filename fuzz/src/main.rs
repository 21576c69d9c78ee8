//! `vmup-fuzz TARGET` runs one fuzz target under AFL++ (built with `cargo afl build
//! --features afl`; without AFL it reads one input from standard input).
//! `vmup-fuzz TARGET PATH...` replays files (or every file of a directory) through the same
//! checks, so a saved crash reproduces with a plain build and a backtrace.
//! `vmup-fuzz --list` prints the targets, one `name<TAB>what it checks` a line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vmup_fuzz::targets::{TARGETS, Target};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        eprintln!("usage: vmup-fuzz TARGET [PATH...] | --list");
        return ExitCode::from(2);
    };
    if name == "--list" {
        for t in TARGETS {
            println!("{}\t{}", t.name, t.checks);
        }
        return ExitCode::SUCCESS;
    }
    let Some(target) = TARGETS.iter().find(|t| t.name == name) else {
        eprintln!("unknown target {name}; `vmup-fuzz --list` names them");
        return ExitCode::from(2);
    };
    if args.len() > 1 {
        return replay(target, &args[1..]);
    }
    run(target);
    ExitCode::SUCCESS
}

#[cfg(feature = "afl")]
fn run(target: &Target) {
    let check = target.check;
    afl::fuzz!(|data: &[u8]| {
        check(data);
    });
}

#[cfg(not(feature = "afl"))]
fn run(target: &Target) {
    use std::io::Read;
    let mut data = Vec::new();
    if std::io::stdin().read_to_end(&mut data).is_ok() {
        (target.check)(&data);
    }
}

/// Runs every file named (directories: every file in them, sorted) through the check.
fn replay(target: &Target, paths: &[String]) -> ExitCode {
    let mut files: Vec<PathBuf> = Vec::new();
    for p in paths {
        let path = Path::new(p);
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_file())
                    .collect(),
                Err(e) => {
                    eprintln!("{p}: {e}");
                    return ExitCode::from(2);
                }
            };
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.to_path_buf());
        }
    }
    let mut failed = 0;
    for file in &files {
        let data = match std::fs::read(file) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                return ExitCode::from(2);
            }
        };
        let check = target.check;
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            eprintln!("FAILED: {} {}", target.name, file.display());
            failed += 1;
        }
    }
    println!("{}: {} inputs, {failed} failed", target.name, files.len());
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
