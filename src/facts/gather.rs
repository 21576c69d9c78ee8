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
/// are reported together by `vmup_paths_read`: one `stat` for all of them, one `cat` for
/// every file whose bytes are wanted (split by the sizes `stat` gave), and one more `stat`
/// that must print the same, else each is read again alone (`recat`): three processes for
/// any number of paths, where each path cost one or two. `stat -c` exists in every
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
  if cat -- "$@" 2>/dev/null; then
    vmup_path_args "$vp_all"; eval "set -- $vp_args"
    vp_s2=$(stat -c '%a %u %g %s' -- "$@" 2>/dev/null) && [ "$vp_s1" = "$vp_s2" ] && return 0
  fi
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
    let mut s = Script::new();
    s.code("LC_ALL=C; export LC_ALL\n");
    // Paths and commands that take a root (rpm --root, dnf --installroot) read it here.
    s.code("VMUP_ROOT=").word(root.as_bytes()).newline();
    s.code(&frame::prelude(boundary));
    s.code(ROOT_FN);
    s.code(FACT_FUNCTIONS);
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
/// before and after `cat` (the script compared both). Bytes that do not add up are an
/// error, never a guess at where one file ends.
fn fill_contents(
    facts: &mut Facts,
    split: &[(String, usize)],
    bytes: Vec<u8>,
) -> Result<(), FactsError> {
    let total: usize = split.iter().map(|(_, size)| size).sum();
    if total != bytes.len() {
        return Err(FactsError::Malformed(format!(
            "the files' contents are {} bytes, their sizes add up to {total}",
            bytes.len()
        )));
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
    use std::io::Write;
    let b = Boundary::random();
    let script = facts_script(keys, root, &b).unwrap();
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
    child.stdin.take().unwrap().write_all(&script).unwrap();
    let out = child.wait_with_output().unwrap();
    parse_facts(keys, &b, &out.stdout).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn run(keys: &[FactKey], root: &str) -> Facts {
        run_with_path(keys, root, None)
    }

    #[test]
    fn gathers_every_kind_of_path_under_a_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/inittab"),
            b"id:3:initdefault:\nno newline",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("tls")).unwrap();
        symlink("vmlinuz-2.6.9-55.ELxenU", dir.path().join("vmlinuz")).unwrap();
        let keys = merge_keys(vec![
            FactKey::Path {
                path: "/etc/inittab".into(),
                content: false,
            },
            FactKey::Path {
                path: "/etc/inittab".into(),
                content: true,
            },
            FactKey::Path {
                path: "/tls".into(),
                content: false,
            },
            FactKey::Path {
                path: "/vmlinuz".into(),
                content: false,
            },
            FactKey::Path {
                path: "/missing".into(),
                content: true,
            },
            FactKey::Command {
                name: "echo".into(),
                script: b"printf 'a\\nb'; exit 3".to_vec(),
            },
        ]);
        let facts = run(&keys, root);
        match &facts.paths["/etc/inittab"] {
            PathFact::File { content, .. } => {
                assert_eq!(
                    content.as_deref(),
                    Some(&b"id:3:initdefault:\nno newline"[..])
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(facts.paths["/tls"], PathFact::Dir { .. }));
        assert_eq!(
            facts.paths["/vmlinuz"],
            PathFact::Symlink {
                target: b"vmlinuz-2.6.9-55.ELxenU".to_vec()
            }
        );
        assert_eq!(facts.paths["/missing"], PathFact::Absent);
        assert_eq!(
            facts.commands["echo"],
            CommandOutput {
                stdout: b"a\nb".to_vec(),
                status: 3
            }
        );
        assert_eq!(
            facts.cpus, None,
            "a tree has no CPUs: /proc is the controller's"
        );
        assert_eq!(facts.kernel_release, None, "a tree is not running");
        assert_eq!(facts.hostname, None, "uname -n would name the controller");
    }

    #[test]
    fn every_scratch_file_of_a_dead_apply_is_a_leftover_and_a_live_ones_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let etc = dir.path().join("etc");
        std::fs::create_dir(&etc).unwrap();
        std::fs::write(etc.join("f"), b"x\n").unwrap();
        // PID 2^22 + 1 is above Linux's pid_max: no process has it.
        for suffix in ["new", "old", "exp"] {
            std::fs::write(etc.join(format!("f.vmup-{suffix}.4194305")), b"").unwrap();
        }
        std::fs::write(etc.join(format!("f.vmup-exp.{}", std::process::id())), b"").unwrap();
        let facts = run(
            &[FactKey::Path {
                path: "/etc/f".into(),
                content: false,
            }],
            dir.path().to_str().unwrap(),
        );
        let mut found = facts.leftovers.clone();
        found.sort();
        assert_eq!(
            found,
            [
                "/etc/f.vmup-exp.4194305",
                "/etc/f.vmup-new.4194305",
                "/etc/f.vmup-old.4194305"
            ]
        );
    }

    #[test]
    fn a_tree_is_named_by_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc/sysconfig")).unwrap();
        std::fs::write(
            dir.path().join("etc/sysconfig/network"),
            "NETWORKING=yes\nHOSTNAME=\"ng2.grid.monash.edu.au\"\n",
        )
        .unwrap();
        let root = dir.path().to_str().unwrap();
        let gathered = |root: &str| run(&[], root);
        assert_eq!(
            gathered(root).hostname.as_deref(),
            Some("ng2.grid.monash.edu.au")
        );
        std::fs::write(dir.path().join("etc/hostname"), "ng3\n").unwrap();
        assert_eq!(gathered(root).hostname.as_deref(), Some("ng3"));
        // A running machine counts its CPUs and names itself.
        let me = gathered("");
        assert!(me.cpus.unwrap_or(0) >= 1);
        assert!(me.hostname.is_some());
    }

    /// A fact that says it runs in the script's own shell does (what it sets, the next
    /// fact sees), and its `return` status is its status without ending the script; one
    /// that does not still has a subshell, where `exit` ends only itself.
    #[test]
    fn in_shell_facts_run_as_functions_and_others_in_subshells() {
        struct Sets(bool);
        impl crate::facts::Fact for Sets {
            type Value = ();
            fn name(&self) -> String {
                format!("sets {}", self.0)
            }
            fn script(&self, s: &mut Script) {
                s.code("vmup_seen=here; echo set; return 3");
            }
            fn parse(&self, _: &CommandOutput) -> Result<(), crate::facts::FactError> {
                Ok(())
            }
            fn in_shell(&self) -> bool {
                self.0
            }
        }
        let reads = |name: &str| FactKey::Command {
            name: name.into(),
            script: b"echo \"seen ${vmup_seen:-nothing}\"; exit 4".to_vec(),
        };
        use crate::facts::Fact;
        for (in_shell, seen) in [(true, "seen here"), (false, "seen nothing")] {
            let mut keys = vec![Sets(in_shell).key(), reads("z")];
            if !in_shell {
                // `return` outside a function is an error in a subshell: use exit there.
                keys[0] = FactKey::Command {
                    name: "sets false".into(),
                    script: b"vmup_seen=here; echo set; exit 3".to_vec(),
                };
            }
            let facts = run(&keys, "");
            let set = &facts.commands[&format!("sets {in_shell}")];
            assert_eq!((set.stdout.as_slice(), set.status), (&b"set"[..], 3));
            let z = &facts.commands["z"];
            assert_eq!((z.stdout.as_slice(), z.status), (seen.as_bytes(), 4));
        }
    }

    /// Twenty files and directories cost one `stat`, one `cat` and one `stat` to confirm,
    /// whatever their number: shims in front of the real tools log every start.
    #[test]
    fn many_paths_are_read_by_three_processes() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("t");
        let shims = dir.path().join("shims");
        std::fs::create_dir_all(tree.join("etc/d")).unwrap();
        std::fs::create_dir_all(&shims).unwrap();
        let log = dir.path().join("log");
        for tool in ["stat", "cat", "readlink"] {
            let real = ["/usr/bin", "/bin"]
                .iter()
                .map(|d| std::path::Path::new(d).join(tool))
                .find(|p| p.exists())
                .unwrap();
            let shim = shims.join(tool);
            std::fs::write(
                &shim,
                format!(
                    "#!/bin/sh\necho {tool} >> '{}'\nexec {} \"$@\"\n",
                    log.display(),
                    real.display()
                ),
            )
            .unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut keys = Vec::new();
        for n in 0..20 {
            // Sizes differ, one file is empty and one has no final newline.
            let body = "x\n".repeat(n) + if n == 7 { "tail" } else { "" };
            std::fs::write(tree.join(format!("etc/f{n}")), &body).unwrap();
            keys.push(FactKey::Path {
                path: format!("/etc/f{n}"),
                content: n % 3 != 0,
            });
        }
        keys.push(FactKey::Path {
            path: "/etc/d".into(),
            content: false,
        });
        let path = format!("{}:/usr/bin:/bin", shims.display());
        let facts = run_with_path(&keys, tree.to_str().unwrap(), Some(&path));
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "stat\ncat\nstat\n");
        for n in 0..20 {
            let body = "x\n".repeat(n) + if n == 7 { "tail" } else { "" };
            let want = (n % 3 != 0).then(|| body.into_bytes());
            match &facts.paths[&format!("/etc/f{n}")] {
                PathFact::File { mode, content, .. } => {
                    assert_eq!((*mode, content), (0o644, &want), "f{n}")
                }
                other => panic!("f{n}: {other:?}"),
            }
        }
        assert!(matches!(facts.paths["/etc/d"], PathFact::Dir { .. }));
    }

    /// A file changed between the `stat` and the `cat` (the second `stat` differs): the
    /// script says `recat` and reads each file alone; the split contents are dropped.
    #[test]
    fn contents_read_again_after_recat_replace_the_split() {
        let keys = vec![
            FactKey::Path {
                path: "/a".into(),
                content: true,
            },
            FactKey::Path {
                path: "/b".into(),
                content: true,
            },
        ];
        let b = Boundary::fixed("vmupB");
        let out = b"\nvmupB cpus\n\nvmupB file 0 644 0 0 2\n\nvmupB file 1 644 0 0 1\n\nvmupB contents\nabX\nvmupB recat\n\nvmupB file 0 644 0 0\nabc\nvmupB file 1 600 0 0\nZ\nvmupB end\n";
        let facts = parse_facts(&keys, &b, out).unwrap();
        assert_eq!(facts.paths["/a"], PathFact::root_file(b"abc"));
        assert!(
            matches!(&facts.paths["/b"], PathFact::File { mode: 0o600, content: Some(c), .. } if c == b"Z")
        );
        // Without the recat, sizes that do not add up are an error, not a guess.
        let bad = b"\nvmupB file 0 644 0 0 2\n\nvmupB file 1 644 0 0 1\n\nvmupB contents\nabXY\nvmupB end\n";
        assert!(matches!(
            parse_facts(&keys, &b, bad),
            Err(FactsError::Malformed(_))
        ));
    }

    #[test]
    fn content_that_looks_like_framing_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let body = b"\nvmup0000 end\n\nvmup_rec absent 0\n".to_vec();
        std::fs::write(dir.path().join("f"), &body).unwrap();
        let keys = vec![FactKey::Path {
            path: "/f".into(),
            content: true,
        }];
        let facts = run(&keys, dir.path().to_str().unwrap());
        assert!(
            matches!(&facts.paths["/f"], PathFact::File { content: Some(c), .. } if *c == body)
        );
    }
}
