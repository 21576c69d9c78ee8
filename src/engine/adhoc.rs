//! `vmup run`: one ad-hoc command or script on every selected machine, the seed's "Massive
//! deploying" for-loops over ssh, with the fleet runner's forks, batches, failure budget,
//! timeouts and retry file.
//!
//! What is sent is one script per host, as for every phase: the command, wrapped so that it
//! cannot read the rest of the script from standard input (`sh -s` reads the script from
//! there; the command gets /dev/null). A command given as several words is run as a command
//! and its arguments, each word quoted by the one quoting function; one word, or a script
//! file, is shell code, passed as a single quoted value to `sh -c`.

use serde::Serialize;

use crate::remote::quote::quote;

use super::prepare::Job;
use super::report::{HostDetail, HostReport, Phase, Status};
use super::work::{HostCtx, HostWork};

/// What to run on each host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdHoc {
    /// A command and its arguments, run without a shell interpreting them.
    Argv(Vec<String>),
    /// Shell code: one command-line word, or a script file's contents.
    Shell(Vec<u8>),
}

/// Why an ad-hoc command cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdHocError {
    /// Nothing to run.
    #[error(
        "no command given: put it after `--` (vmup run PATTERN -- COMMAND) or give --script FILE"
    )]
    Empty,
    /// A NUL byte cannot be passed through a shell.
    #[error("the command holds a NUL byte, which no shell can pass on")]
    Nul,
}

impl AdHoc {
    /// From the words after `--`: one word is shell code, several a command and its
    /// arguments.
    pub fn from_words(words: &[String]) -> Result<AdHoc, AdHocError> {
        match words {
            [] => Err(AdHocError::Empty),
            [one] if one.trim().is_empty() => Err(AdHocError::Empty),
            [one] => Ok(AdHoc::Shell(one.as_bytes().to_vec())),
            many => Ok(AdHoc::Argv(many.to_vec())),
        }
    }

    /// The script sent to `sh -s`: the command on one logical line that the shell reads
    /// whole before running it, with standard input from /dev/null.
    pub fn script(&self) -> Result<Vec<u8>, AdHocError> {
        let mut script = b"exec ".to_vec();
        match self {
            AdHoc::Argv(words) => {
                for (i, word) in words.iter().enumerate() {
                    if i > 0 {
                        script.push(b' ');
                    }
                    script.extend(quote(word.as_bytes()).map_err(|_| AdHocError::Nul)?);
                }
            }
            AdHoc::Shell(code) => {
                if code.iter().all(u8::is_ascii_whitespace) {
                    return Err(AdHocError::Empty);
                }
                script.extend_from_slice(b"sh -c ");
                script.extend(quote(code).map_err(|_| AdHocError::Nul)?);
                script.extend_from_slice(b" vmup-run");
            }
        }
        script.extend_from_slice(b" </dev/null\n");
        Ok(script)
    }
}

/// How the command ended on one host: flattened into its JSON line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CommandRun {
    /// The exit status; `None` when the command was killed by a signal.
    pub exit_status: Option<i32>,
    /// Everything it printed on standard output (lossily decoded).
    pub stdout: String,
    /// Everything it printed on standard error (lossily decoded).
    pub stderr: String,
}

/// `vmup run` on every selected machine: the one script, its output and exit status.
#[derive(Debug, Clone)]
pub struct AdHocWork {
    /// The script [`AdHoc::script`] made, the same for every host.
    pub script: Vec<u8>,
}

impl HostWork for AdHocWork {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        let host = &job.host.name;
        if job.host.transport.is_tree() {
            let mut report = ctx.report(host, Phase::Apply, Status::Failed);
            report.error = Some(format!(
                "{host} is a local tree (files only): the command would run on the controller, not on {host}, so it is refused"
            ));
            return report;
        }
        if ctx.cancelled() {
            let mut report = ctx.report(host, Phase::Apply, Status::Skipped);
            report.error = Some("not started: the run was interrupted".to_string());
            return report;
        }
        ctx.phase(host, Phase::Apply);
        match ctx.remote(job, &self.script) {
            Ok(out) => {
                let status = if out.status == Some(0) {
                    Status::Ok
                } else {
                    Status::Failed
                };
                let mut report = ctx.report(host, Phase::Apply, status);
                if status == Status::Failed {
                    report.error = Some(match out.status {
                        Some(code) => format!("the command exited with status {code}"),
                        None => "the command was killed by a signal".to_string(),
                    });
                }
                report.detail = Some(HostDetail::Command(Box::new(CommandRun {
                    exit_status: out.status,
                    stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                })));
                report
            }
            Err(e) => {
                let mut report = ctx.report(host, Phase::Apply, e.status());
                report.error = Some(e.to_string());
                report
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn several_words_are_quoted_one_word_is_shell_code() {
        let argv = AdHoc::from_words(&words(&["rpm", "-q", "kernel; rm -rf /"])).unwrap();
        assert_eq!(
            String::from_utf8(argv.script().unwrap()).unwrap(),
            "exec 'rpm' '-q' 'kernel; rm -rf /' </dev/null\n"
        );
        let shell = AdHoc::from_words(&words(&["rpm -q kernel | head -1"])).unwrap();
        assert_eq!(
            String::from_utf8(shell.script().unwrap()).unwrap(),
            "exec sh -c 'rpm -q kernel | head -1' vmup-run </dev/null\n"
        );
    }

    #[test]
    fn nothing_to_run_is_refused() {
        assert_eq!(AdHoc::from_words(&[]), Err(AdHocError::Empty));
        assert_eq!(AdHoc::from_words(&words(&["  "])), Err(AdHocError::Empty));
        assert_eq!(
            AdHoc::Shell(b"\n\n".to_vec()).script(),
            Err(AdHocError::Empty)
        );
        assert_eq!(
            AdHoc::Argv(words(&["echo", "a\0b"])).script(),
            Err(AdHocError::Nul)
        );
    }

    /// The script runs under a real `sh -s`, fed on standard input as the transports do:
    /// the command cannot read the rest of the script, and what it prints and its status
    /// come back as they are.
    #[test]
    fn the_command_does_not_eat_the_script_and_keeps_its_status() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let run = |adhoc: AdHoc| {
            let mut script = adhoc.script().unwrap();
            // Anything after the command must never run: `exec` replaced the shell.
            script.extend_from_slice(b"echo NOT-REACHED\n");
            let mut child = Command::new("sh")
                .arg("-s")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(&script).unwrap();
            let out = child.wait_with_output().unwrap();
            (
                out.status.code(),
                String::from_utf8(out.stdout).unwrap(),
                String::from_utf8(out.stderr).unwrap(),
            )
        };
        let (code, out, _) = run(AdHoc::Argv(words(&["cat"])));
        assert_eq!((code, out.as_str()), (Some(0), ""), "cat read /dev/null");
        let (code, out, err) = run(AdHoc::Shell(
            b"echo \"$0 it's\"; echo oops >&2\nexit 3\n".to_vec(),
        ));
        assert_eq!(code, Some(3));
        assert_eq!(out, "vmup-run it's\n");
        assert_eq!(err, "oops\n");
        let (code, _, err) = run(AdHoc::Argv(words(&["no-such-command-vmup"])));
        assert_eq!(code, Some(127), "{err}");
    }
}
