//! A script run in a shell that stays open for the next one ([`super::Transport::run_held`]):
//! how the part is wrapped so that its end, its status and its standard error can be told
//! apart from what the next part prints, on a stream that does not end.
//!
//! The part runs as `{ eval 'SCRIPT'\n} </dev/null`: the shell reads the whole group before it runs
//! any of it, so nothing the script starts can read the next part from the shell's standard
//! input, and a command that reads standard input sees its end at once instead of waiting for
//! a part that never comes. Then the shell prints a marker line with the group's status on
//! standard output and another on standard error, and waits for more input. Both markers
//! carry a random token, so no file a script prints can end a part early.

use crate::remote::frame::random_token;
use crate::remote::quote::{NulByte, quote};

/// The markers of one part.
pub struct PartEnd {
    token: String,
}

/// Where a part ended in the streams read so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// Length of the part's own standard output (the marker line and the newline before
    /// it are not the script's).
    pub stdout_len: usize,
    /// The status of the part, as `sh` would have exited with after it.
    pub status: i32,
}

impl PartEnd {
    /// Markers with a fresh random token.
    pub fn random() -> PartEnd {
        PartEnd {
            token: random_token("vmupend"),
        }
    }

    /// `script` as a part that leaves the shell reading its standard input after it. The
    /// script is one quoted word given to `eval`: a script that leaves a construct open (a
    /// quote, a brace, a here-document: a generator's bug) is then a syntax error at the
    /// word's end instead of a shell waiting forever for the rest of it.
    pub fn wrap(&self, script: &[u8]) -> Result<Vec<u8>, NulByte> {
        let quoted = quote(script)?;
        let mut part = Vec::with_capacity(quoted.len() + 2 * self.token.len() + 64);
        part.extend_from_slice(b"{ eval ");
        part.extend_from_slice(&quoted);
        part.extend_from_slice(b"\n} </dev/null\n");
        let token = &self.token;
        part.extend_from_slice(
            format!("printf '\\n%s %s\\n' {token} \"$?\"; printf '\\n%s\\n' {token} >&2\n")
                .as_bytes(),
        );
        Ok(part)
    }

    /// The end of the part in `stdout`, once its marker line is complete. `from` is where
    /// the previous search stopped looking (the stream's length then), so a stream read in
    /// many pieces is searched about once.
    pub fn stdout_end(&self, stdout: &[u8], from: usize) -> Option<Ended> {
        // The marker may have arrived before `from` with its status line still incomplete:
        // room for the longest status too.
        let start = from.saturating_sub(self.token.len() + 2 + 12);
        let mut needle = Vec::with_capacity(self.token.len() + 2);
        needle.push(b'\n');
        needle.extend_from_slice(self.token.as_bytes());
        needle.push(b' ');
        let at = start + memchr::memmem::find(&stdout[start..], &needle)?;
        let rest = &stdout[at + needle.len()..];
        let line = &rest[..memchr::memchr(b'\n', rest)?];
        let status = std::str::from_utf8(line).ok()?.parse().ok()?;
        Some(Ended {
            stdout_len: at,
            status,
        })
    }

    /// The length of the part's own standard error, once its marker arrived (see
    /// [`PartEnd::stdout_end`] for `from`).
    pub fn stderr_end(&self, stderr: &[u8], from: usize) -> Option<usize> {
        let start = from.saturating_sub(self.token.len() + 2);
        let mut needle = Vec::with_capacity(self.token.len() + 2);
        needle.push(b'\n');
        needle.extend_from_slice(self.token.as_bytes());
        needle.push(b'\n');
        memchr::memmem::find(&stderr[start..], &needle).map(|at| start + at)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};

    use super::*;

    /// Feeds `part` to a running `sh -s` and reads both streams up to the markers, then
    /// sends `next` as the last script: what a held shell does over ssh.
    fn two_parts(part: &[u8], next: &[u8]) -> (Vec<u8>, Vec<u8>, Ended, Vec<u8>) {
        let end = PartEnd::random();
        let mut sh = Command::new("/bin/sh")
            .arg("-s")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh");
        let mut stdin = sh.stdin.take().expect("stdin");
        stdin
            .write_all(&end.wrap(part).expect("no NUL"))
            .expect("write");
        stdin.flush().expect("flush");
        let mut out = BufReader::new(sh.stdout.take().expect("stdout"));
        let mut err = BufReader::new(sh.stderr.take().expect("stderr"));
        let mut stdout = Vec::new();
        let ended = loop {
            let from = stdout.len();
            let n = out.read_until(b'\n', &mut stdout).expect("read");
            assert!(n > 0, "the shell ended before the marker");
            if let Some(ended) = end.stdout_end(&stdout, from) {
                break ended;
            }
        };
        let mut stderr = Vec::new();
        let err_len = loop {
            let from = stderr.len();
            let n = err.read_until(b'\n', &mut stderr).expect("read");
            assert!(n > 0, "the shell ended before the stderr marker");
            if let Some(len) = end.stderr_end(&stderr, from) {
                break len;
            }
        };
        stdout.truncate(ended.stdout_len);
        stderr.truncate(err_len);
        stdin.write_all(next).expect("write");
        drop(stdin);
        let mut rest = Vec::new();
        out.read_to_end(&mut rest).expect("read");
        sh.wait().expect("wait");
        (stdout, stderr, ended, rest)
    }

    #[test]
    fn a_part_ends_with_its_status_and_the_shell_runs_the_next_one() {
        let (stdout, stderr, ended, rest) = two_parts(
            b"kept=yes; printf 'no newline'; echo oops >&2; false",
            b"echo \"next sees kept=$kept\"\n",
        );
        assert_eq!(stdout, b"no newline");
        assert_eq!(stderr, b"oops\n");
        assert_eq!(ended.status, 1);
        assert_eq!(rest, b"next sees kept=yes\n");
    }

    #[test]
    fn nothing_in_a_part_reads_the_next_one_or_waits_for_it() {
        // `cat` would otherwise wait for input that only comes after the part has ended,
        // or swallow the next part.
        let (stdout, _, ended, rest) = two_parts(b"cat; echo after", b"echo second\n");
        assert_eq!(stdout, b"after\n");
        assert_eq!(ended.status, 0);
        assert_eq!(rest, b"second\n");
    }

    #[test]
    fn a_part_left_open_ends_the_shell_instead_of_waiting_for_the_rest() {
        let end = PartEnd::random();
        let mut sh = Command::new("/bin/sh")
            .arg("-s")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh");
        let mut stdin = sh.stdin.take().expect("stdin");
        let part = end.wrap(b"echo \"it's open\n").expect("no NUL");
        stdin.write_all(&part).expect("write");
        stdin.flush().expect("flush");
        // Standard input stays open, as it does on a held channel.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = sh.try_wait().expect("wait") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = sh.kill();
                panic!("the shell waits for the rest of the part");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(!status.success());
        let mut stderr = String::new();
        sh.stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut stderr)
            .expect("read");
        assert!(stderr.contains("Syntax error"), "{stderr}");
        drop(stdin);
    }

    #[test]
    fn a_nul_byte_cannot_be_held() {
        assert!(PartEnd::random().wrap(b"echo a\0b").is_err());
    }

    #[test]
    fn output_that_looks_like_a_marker_without_the_token_is_the_scripts() {
        let end = PartEnd::random();
        let out = b"a\nvmupend0123 0\nb\n";
        assert_eq!(end.stdout_end(out, 0), None);
        let mut out = out.to_vec();
        out.extend_from_slice(format!("\n{} 7", end.token).as_bytes());
        // The status line is not complete yet.
        assert_eq!(end.stdout_end(&out, 0), None);
        let incomplete = out.len();
        out.push(b'\n');
        assert_eq!(
            end.stdout_end(&out, incomplete),
            Some(Ended {
                stdout_len: 18,
                status: 7
            })
        );
    }
}
