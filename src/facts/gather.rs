//! The one facts script per host: every requested fact in one round trip, and its framed
//! output read back into [`Facts`].
//!
//! [`facts_script`] turns the merged requests of all steps into one POSIX sh script;
//! [`parse_facts`] reads the output. Snippets use shell built-ins where they can: each
//! process started on the host costs time on every machine of the fleet.

use std::collections::BTreeMap;

use crate::remote::NulByte;
use crate::remote::frame::{self, Boundary, FrameError};
use crate::remote::root::ROOT_FN;
use crate::remote::script::Script;

use super::{CommandOutput, FactKey, Facts, IN_SHELL, PathFact};

/// Why fact output could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    /// The framing was broken (script cut short).
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A record did not have the expected shape.
    #[error("malformed fact record {0:?}")]
    Malformed(String),
    /// The files' bytes did not add up to the sizes `stat` gave just before: one changed
    /// while it was read. Never split by a guess; read them again one by one.
    #[error("files changed while they were read: {got} bytes where their sizes add up to {total}")]
    ChangedWhileRead {
        /// Bytes `cat` printed.
        got: usize,
        /// What `stat` said they would be.
        total: usize,
    },
    /// A file could not be read on the host.
    #[error("cannot read {path} on the host: {reason}")]
    Unreadable {
        /// Path on the host.
        path: String,
        /// What the shell said.
        reason: String,
    },
}

/// Shell functions the facts script relies on. `vmup_path INDEX PATH CONTENT` notes one
/// path (resolved under the root as a chroot would, the last component not followed) and
/// reports at once what needs no process: a symlink (with `readlink`), something else, a
/// missing path, and any temporary file an interrupted vmup run left beside it
/// (`PATH.vmup-new.PID`, `PATH.vmup-old.PID`, `PATH.vmup-exp.PID` whose process is gone). Directories and files
/// are reported together by `vmup_paths_read`: one `stat` for all of them and one `cat` for
/// every file whose bytes are wanted, split by the sizes `stat` gave: two processes for any
/// number of paths, where each path cost one or two. A `cat` that fails reads each path
/// again alone (`recat`); bytes that do not add up to the sizes (a file changed between
/// `stat` and `cat`) are [`FactsError::ChangedWhileRead`], and the engine reads them again
/// one by one (`vp_each`, [`facts_script_one_by_one`]), each file's bytes framed by records
/// rather than split by sizes. `stat -c` exists in every
/// coreutils since CentOS 4, with several files; `readlink` without options likewise.
const FACT_FUNCTIONS: &str = r#"vp_all=
vmup_path() {
  vmup_under "$2" || { vmup_rec loop "$1"; return; }
  f=$R
  if [ -L "$f" ]; then vmup_rec link "$1"; readlink -- "$f"
  elif [ -d "$f" ]; then eval "vp_p_$1=\$f vp_t_$1=dir vp_c_$1=0"; vp_all="$vp_all $1"
  elif [ -f "$f" ]; then eval "vp_p_$1=\$f vp_t_$1=file vp_c_$1=\$3"; vp_all="$vp_all $1"
  elif [ -e "$f" ]; then vmup_rec other "$1"
  else vmup_rec absent "$1"; fi
  for g in "$f".vmup-new.* "$f".vmup-old.* "$f".vmup-exp.*; do
    { [ -e "$g" ] || [ -L "$g" ]; } || continue
    kill -0 "${g##*.}" 2>/dev/null && continue
    vmup_rec leftover "$1"; printf '%s' "${g#"$f"}"
  done
}
vmup_path_args() { vp_args=; for i in $1; do vp_args="$vp_args \"\$vp_p_$i\""; done; }
vmup_path_one() {
  eval "f=\$vp_p_$1 c=\$vp_c_$1"
  if [ -L "$f" ]; then vmup_rec link "$1"; readlink -- "$f"
  elif [ -d "$f" ]; then vmup_rec dir "$1" $(stat -c '%a %u %g' -- "$f")
  elif [ -f "$f" ]; then vmup_rec file "$1" $(stat -c '%a %u %g' -- "$f")
    if [ "$c" = 1 ]; then cat -- "$f" 2>/dev/null || vmup_rec unreadable "$1"; fi
  elif [ -e "$f" ]; then vmup_rec other "$1"
  else vmup_rec absent "$1"; fi
}
vmup_paths_each() { for i in $vp_all; do vmup_path_one "$i"; done; }
vmup_paths_read() {
  [ -n "$vp_all" ] || return 0
  [ -z "$vp_each" ] || { vmup_paths_each; return 0; }
  vmup_path_args "$vp_all"; eval "set -- $vp_args"
  vp_s1=$(stat -c '%a %u %g %s' -- "$@" 2>/dev/null) || { vmup_paths_each; return 0; }
  set -- $vp_s1
  vp_n=0; for i in $vp_all; do vp_n=$((vp_n+4)); done
  [ $# -eq $vp_n ] || { vmup_paths_each; return 0; }
  vp_cat=
  for i in $vp_all; do
    eval "t=\$vp_t_$i c=\$vp_c_$i"
    if [ "$t" = dir ]; then vmup_rec dir "$i" "$1" "$2" "$3"
    else vmup_rec file "$i" "$1" "$2" "$3" "$4"; [ "$c" = 1 ] && vp_cat="$vp_cat $i"; fi
    shift 4
  done
  [ -n "$vp_cat" ] || return 0
  vmup_rec contents
  vmup_path_args "$vp_cat"; eval "set -- $vp_args"
  cat -- "$@" 2>/dev/null && return 0
  vmup_rec recat; vmup_paths_each
}
vmup_cpus() { n=0; while read -r k rest; do [ "$k" = processor ] && n=$((n+1)); done < /proc/cpuinfo; echo "$n"; }
"#;

/// The host's name: the kernel's (what `uname -n` says, read from /proc without starting
/// `uname`, which stays the fallback) on a machine; a tree's own `/etc/hostname`, or
/// CentOS's `HOSTNAME=` in `/etc/sysconfig/network`, since uname would name the controller.
/// The running release likewise, from /proc (Linux has had both files since 2.0).
const TREE_HOSTNAME: &str = r#"vmup_rec hostname
vmup_kernel() { { read -r v < "/proc/sys/kernel/$1"; } 2>/dev/null && echo "$v" || uname "$2"; }
if [ -z "$VMUP_ROOT" ]; then vmup_kernel hostname -n
elif vmup_under /etc/hostname && [ -f "$R" ]; then head -n 1 -- "$R"
elif vmup_under /etc/sysconfig/network && [ -f "$R" ]; then
  while IFS='=' read -r k v; do
    [ "$k" = HOSTNAME ] && { v=${v#[\"\']}; v=${v%[\"\']}; echo "$v"; break; }
  done < "$R"
fi
vmup_rec release; [ -n "$VMUP_ROOT" ] || vmup_kernel osrelease -r
"#;

/// Builds the one facts script for a host. `root` is the local tree every path is taken
/// under (as a chroot would, see `remote::root`), empty for a real host.
pub fn facts_script(keys: &[FactKey], root: &str, boundary: &Boundary) -> Result<Vec<u8>, NulByte> {
    script_reading(keys, root, boundary, false)
}

/// [`facts_script`] reading each path alone (a `stat`, and a `cat` for a file, each): for
/// files that changed while the one `cat` read them ([`FactsError::ChangedWhileRead`]).
pub fn facts_script_one_by_one(
    keys: &[FactKey],
    root: &str,
    boundary: &Boundary,
) -> Result<Vec<u8>, NulByte> {
    script_reading(keys, root, boundary, true)
}

/// The facts script; `each` reads every path alone.
fn script_reading(
    keys: &[FactKey],
    root: &str,
    boundary: &Boundary,
    each: bool,
) -> Result<Vec<u8>, NulByte> {
    let mut s = Script::new();
    s.code("LC_ALL=C; export LC_ALL\n");
    // Paths and commands that take a root (rpm --root, dnf --installroot) read it here.
    s.code("VMUP_ROOT=").word(root.as_bytes()).newline();
    s.code(&frame::prelude(boundary));
    s.code(ROOT_FN);
    s.code(FACT_FUNCTIONS);
    s.code(if each { "vp_each=1\n" } else { "vp_each=\n" });
    // A local tree is not running: it has no CPUs or running kernel of its own (/proc and
    // uname would describe the controller), and its name is the one its files give.
    s.code("vmup_rec cpus; [ -n \"$VMUP_ROOT\" ] || vmup_cpus 2>/dev/null\n");
    s.code(TREE_HOSTNAME);
    for (i, key) in keys.iter().enumerate() {
        if let FactKey::Path { path, content } = key {
            s.code(&format!("vmup_path {i}"));
            s.arg(path.as_bytes());
            s.code(if *content { " 1\n" } else { " 0\n" });
        }
    }
    s.code("vmup_paths_read\n");
    for (i, key) in keys.iter().enumerate() {
        match key {
            FactKey::Path { .. } => {}
            FactKey::Command { script, .. } if script.starts_with(IN_SHELL.as_bytes()) => {
                s.code(&format!("vmup_rec command {i}\nvmup_fact() {{\n"));
                s.code_bytes(script);
                s.code(&format!(
                    "\n}}\nvmup_fact 2>/dev/null; vmup_rec status {i} $?\n"
                ));
            }
            FactKey::Command { script, .. } => {
                s.code(&format!("vmup_rec command {i}\n( "));
                s.code_bytes(script);
                s.code(&format!("\n) 2>/dev/null; vmup_rec status {i} $?\n"));
            }
        }
    }
    s.code(frame::EPILOGUE);
    s.finish()
}

/// Reads the framed output of [`facts_script`] for the same `keys`.
pub fn parse_facts(
    keys: &[FactKey],
    boundary: &Boundary,
    output: &[u8],
) -> Result<Facts, FactsError> {
    let records = frame::parse(boundary, output)?;
    let mut facts = Facts::default();
    let mut pending_command: Option<(String, Vec<u8>)> = None;
    // Files whose bytes come in the one `contents` record, in its order, with their sizes.
    let mut split: Vec<(String, usize)> = Vec::new();
    let mut contents: Option<Vec<u8>> = None;
    for rec in records {
        let words: Vec<&str> = rec.header.iter().map(String::as_str).collect();
        let key_at = |w: Option<&&str>| -> Result<&FactKey, FactsError> {
            w.and_then(|s| s.parse::<usize>().ok())
                .and_then(|i| keys.get(i))
                .ok_or_else(|| FactsError::Malformed(rec.header.join(" ")))
        };
        let text = || String::from_utf8_lossy(&rec.payload).trim().to_string();
        match words.first().copied() {
            Some("cpus") => facts.cpus = text().parse().ok().filter(|n| *n > 0),
            Some("hostname") => facts.hostname = Some(text()).filter(|h| !h.is_empty()),
            Some("release") => facts.kernel_release = Some(text()).filter(|r| !r.is_empty()),
            Some("command") => {
                if let FactKey::Command { name, .. } = key_at(words.get(1))? {
                    pending_command = Some((name.clone(), trim_one_newline(rec.payload.clone())));
                }
            }
            Some("contents") => contents = Some(rec.payload),
            Some("recat") => {
                // The files changed while they were read: each is read again alone.
                split.clear();
                contents = None;
            }
            Some("status") => {
                let status = words.get(2).and_then(|s| s.parse().ok()).unwrap_or(-1);
                if let Some((name, stdout)) = pending_command.take() {
                    facts
                        .commands
                        .insert(name, CommandOutput { stdout, status });
                }
            }
            Some(kind) => {
                let (path, wanted) = match key_at(words.get(1))? {
                    FactKey::Path { path, content } => (path.clone(), *content),
                    FactKey::Command { .. } => {
                        return Err(FactsError::Malformed(rec.header.join(" ")));
                    }
                };
                let num = |i: usize, radix: u32| -> Result<u32, FactsError> {
                    words
                        .get(i)
                        .and_then(|s| u32::from_str_radix(s, radix).ok())
                        .ok_or_else(|| FactsError::Malformed(rec.header.join(" ")))
                };
                let fact = match kind {
                    "leftover" => {
                        let suffix = String::from_utf8_lossy(&rec.payload);
                        facts.leftovers.push(format!("{path}{suffix}"));
                        continue;
                    }
                    "loop" => {
                        return Err(FactsError::Unreadable {
                            path,
                            reason: "too many levels of symbolic links under the root".into(),
                        });
                    }
                    "absent" => PathFact::Absent,
                    "other" => PathFact::Other,
                    "link" => PathFact::Symlink {
                        target: trim_one_newline(rec.payload),
                    },
                    "dir" => PathFact::Dir {
                        mode: num(2, 8)?,
                        uid: num(3, 10)?,
                        gid: num(4, 10)?,
                    },
                    "file" => PathFact::File {
                        mode: num(2, 8)?,
                        uid: num(3, 10)?,
                        gid: num(4, 10)?,
                        // With a size, its bytes are in the `contents` record.
                        content: match words.get(5) {
                            Some(_) if wanted => {
                                split.push((path.clone(), num(5, 10)? as usize));
                                None
                            }
                            Some(_) => None,
                            None => Some(rec.payload),
                        },
                    },
                    "unreadable" => {
                        return Err(FactsError::Unreadable {
                            path,
                            reason: "permission denied or read error".into(),
                        });
                    }
                    _ => return Err(FactsError::Malformed(rec.header.join(" "))),
                };
                facts.paths.insert(path, fact);
            }
            None => return Err(FactsError::Malformed(String::new())),
        }
    }
    if let Some(bytes) = contents {
        fill_contents(&mut facts, &split, bytes)?;
    }
    // Files gathered without content carry None, not an empty payload.
    for key in keys {
        if let FactKey::Path {
            path,
            content: false,
        } = key
            && let Some(PathFact::File { content, .. }) = facts.paths.get_mut(path)
        {
            *content = None;
        }
    }
    Ok(facts)
}

/// Splits the one `contents` record among the files it holds, by the sizes `stat` gave
/// just before `cat`. Bytes that do not add up are an error, never a guess at where one
/// file ends.
fn fill_contents(
    facts: &mut Facts,
    split: &[(String, usize)],
    bytes: Vec<u8>,
) -> Result<(), FactsError> {
    let total: usize = split.iter().map(|(_, size)| size).sum();
    if total != bytes.len() {
        return Err(FactsError::ChangedWhileRead {
            got: bytes.len(),
            total,
        });
    }
    let mut at = 0;
    for (path, size) in split {
        if let Some(PathFact::File { content, .. }) = facts.paths.get_mut(path) {
            *content = Some(bytes[at..at + size].to_vec());
        }
        at += size;
    }
    Ok(())
}

fn trim_one_newline(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

/// Merges fact requests so each path is read once, with content if any step wants it.
pub fn merge_keys(keys: impl IntoIterator<Item = FactKey>) -> Vec<FactKey> {
    let mut paths: BTreeMap<String, bool> = BTreeMap::new();
    let mut commands: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for key in keys {
        match key {
            FactKey::Path { path, content } => {
                let entry = paths.entry(path).or_insert(false);
                *entry |= content;
            }
            FactKey::Command { name, script } => {
                commands.entry(name).or_insert(script);
            }
        }
    }
    paths
        .into_iter()
        .map(|(path, content)| FactKey::Path { path, content })
        .chain(
            commands
                .into_iter()
                .map(|(name, script)| FactKey::Command { name, script }),
        )
        .collect()
}

/// Test support for every fact's tests: the facts script for `keys` under a real
/// `/bin/sh -s`, with `path` as its PATH when given (where tests put stand-ins that log),
/// parsed.
#[cfg(test)]
pub(crate) fn run_with_path(keys: &[FactKey], root: &str, path: Option<&str>) -> Facts {
    let b = Boundary::random();
    let script = facts_script(keys, root, &b).unwrap();
    parse_facts(keys, &b, &sh_with_path(&script, path)).unwrap()
}

/// Test support: what `script` prints under a real `/bin/sh -s`, with `path` as its PATH.
#[cfg(test)]
pub(crate) fn sh_with_path(script: &[u8], path: Option<&str>) -> Vec<u8> {
    use std::io::Write;
    let mut command = std::process::Command::new("/bin/sh");
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let mut child = command
        .arg("-s")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script).unwrap();
    child.wait_with_output().unwrap().stdout
}

#[cfg(test)]
mod tests;
