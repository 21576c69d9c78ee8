//! The host-side half of a recreate: one POSIX sh script that stops the domain (when it is
//! running) with the toolstack the config belongs to, waits for it to be gone, destroys it
//! only when forced, and starts it again from its config. Pure: the script is built here,
//! its output read back here.
//!
//! The wait is a `list`/`domstate` loop in sh rather than `xl shutdown -w` or coreutils
//! `timeout`, which Xen 3's xm and CentOS 4/5's coreutils do not have; the domain name and
//! config path go through the one quoting function, after `--` where the tool reads
//! options (the inventory refuses a domain name starting with `-` as well).

use crate::facts::booted::DomainKind;
use crate::remote::quote::NulByte;
use crate::remote::script::Script;

/// The command-line tool that starts and stops the guest's domain on its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Toolstack {
    /// `xl` (Xen 4.1 and later).
    Xl,
    /// `xm` (Xen 3, xend).
    Xm,
    /// `virsh` (libvirt).
    Virsh,
}

impl Toolstack {
    /// The tool that manages a domain whose config is of `kind`.
    pub fn of(kind: &DomainKind) -> Toolstack {
        match kind {
            DomainKind::Xl => Toolstack::Xl,
            DomainKind::Xm => Toolstack::Xm,
            DomainKind::Libvirt { .. } => Toolstack::Virsh,
        }
    }

    /// The tool's name as run on the host.
    pub fn command(self) -> &'static str {
        match self {
            Toolstack::Xl => "xl",
            Toolstack::Xm => "xm",
            Toolstack::Virsh => "virsh",
        }
    }
}

/// The tool's four commands, as sh reading the domain from `$d` and its config from `$c`.
struct Commands {
    running: String,
    stop: String,
    kill: String,
    start: String,
}

fn commands(tool: Toolstack) -> Commands {
    match tool {
        Toolstack::Xl | Toolstack::Xm => {
            let t = tool.command();
            Commands {
                running: format!("{t} list -- \"$d\" >/dev/null 2>&1"),
                stop: format!("{t} shutdown -- \"$d\""),
                kill: format!("{t} destroy -- \"$d\""),
                start: format!("{t} create -- \"$c\""),
            }
        }
        Toolstack::Virsh => Commands {
            running: "[ \"$(virsh domstate --domain \"$d\" 2>/dev/null)\" != 'shut off' ] && virsh domstate --domain \"$d\" >/dev/null 2>&1".to_string(),
            stop: "virsh shutdown --domain \"$d\"".to_string(),
            kill: "virsh destroy --domain \"$d\"".to_string(),
            start: "virsh start --domain \"$d\"".to_string(),
        },
    }
}

/// One domain a host runs, as its stop and start scripts name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// The tool its config belongs to.
    pub tool: Toolstack,
    /// Its name on the host.
    pub name: String,
    /// Its config file on the host.
    pub config: String,
}

/// How stopping every domain of a host before its reboot went, per domain (same order).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stopped {
    /// It was running before.
    pub was_running: bool,
    /// It did not shut down in time (and, unforced, was left running).
    pub stuck: bool,
    /// It did not shut down in time and was destroyed (`--force`).
    pub destroyed: bool,
    /// It had been stopped, and was started again because another domain would not stop.
    pub restarted: bool,
}

/// The script that stops every domain in `domains` (those running), waits up to
/// `timeout_secs` for all of them, destroys the ones still running only with `force`, and
/// otherwise starts the stopped ones again and exits [`EXIT_SHUTDOWN_TIMEOUT`]: a host
/// whose guests cannot all be stopped is not rebooted, and loses none of them.
pub fn stop_all_script(
    domains: &[Domain],
    timeout_secs: u64,
    force: bool,
) -> Result<Vec<u8>, NulByte> {
    let mut s = Script::new();
    s.code(
        "up() { case $1 in
",
    );
    for (i, d) in domains.iter().enumerate() {
        let c = commands(d.tool);
        s.code(&format!(
            "  {i}) d=$d{i}; {} ;;
",
            c.running
        ));
    }
    s.code(
        "esac; }
",
    );
    for (i, d) in domains.iter().enumerate() {
        s.code(&format!("d{i}=")).word(d.name.as_bytes()).newline();
        s.code(&format!("c{i}="))
            .word(d.config.as_bytes())
            .newline();
    }
    for (i, d) in domains.iter().enumerate() {
        let c = commands(d.tool);
        s.code(&format!(
            "w{i}=0; if up {i}; then w{i}=1; echo 'was-running {i}'; d=$d{i}; {} >&2 || {{ echo \"vmup: cannot shut down $d\" >&2; exit 3; }}; fi\n",
            c.stop
        ));
    }
    s.code(
        "n=0
while :; do
  left=0
",
    );
    for i in 0..domains.len() {
        s.code(&format!(
            "  [ $w{i} = 1 ] && up {i} && left=1
"
        ));
    }
    s.code(&format!(
        "  [ $left = 0 ] && break
  [ $n -ge {timeout_secs} ] && break
  sleep 1; n=$((n+1))
done
stuck=0
"
    ));
    for (i, d) in domains.iter().enumerate() {
        let c = commands(d.tool);
        if force {
            s.code(&format!(
                "if [ $w{i} = 1 ] && up {i}; then d=$d{i}; {} >&2 || exit 3; echo 'destroyed {i}'; fi\n",
                c.kill
            ));
        } else {
            s.code(&format!(
                "if [ $w{i} = 1 ] && up {i}; then stuck=1; echo 'stuck {i}'; fi\n"
            ));
        }
    }
    s.code(
        "if [ $stuck = 1 ]; then
",
    );
    for (i, d) in domains.iter().enumerate() {
        let c = commands(d.tool);
        s.code(&format!(
            "  if [ $w{i} = 1 ] && ! up {i}; then d=$d{i}; c=$c{i}; {} >&2 && echo 'restarted {i}'; fi\n",
            c.start
        ));
    }
    s.code(&format!(
        "  echo \"vmup: not every domain shut down within {timeout_secs}s\" >&2; exit {EXIT_SHUTDOWN_TIMEOUT}\nfi\necho all-stopped\n"
    ));
    s.finish()
}

/// Reads what [`stop_all_script`] printed for `count` domains. Pure.
pub fn parse_stopped(stdout: &str, count: usize) -> Vec<Stopped> {
    let mut out = vec![Stopped::default(); count];
    for line in stdout.lines() {
        let Some((what, i)) = line.split_once(' ') else {
            continue;
        };
        let Some(d) = i.trim().parse::<usize>().ok().and_then(|i| out.get_mut(i)) else {
            continue;
        };
        match what {
            "was-running" => d.was_running = true,
            "stuck" => d.stuck = true,
            "destroyed" => d.destroyed = true,
            "restarted" => d.restarted = true,
            _ => {}
        }
    }
    out
}

/// The script that starts `domains` from their configs, in order; a domain that will not
/// start is reported (`failed I`) and the others are still started.
pub fn start_all_script(domains: &[Domain]) -> Result<Vec<u8>, NulByte> {
    let mut s = Script::new();
    for (i, d) in domains.iter().enumerate() {
        let c = commands(d.tool);
        s.code("d=").word(d.name.as_bytes()).newline();
        s.code("c=").word(d.config.as_bytes()).newline();
        s.code(&format!(
            "if {} >&2; then echo 'started {i}'; else echo 'failed {i}'; fi\n",
            c.start
        ));
    }
    s.finish()
}

/// What the host did, read from the script's output.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cycled {
    /// The domain was running before.
    pub was_running: bool,
    /// Seconds it took to shut down, when it was running and shut down by itself.
    pub shutdown_secs: Option<u64>,
    /// It did not shut down in time and was destroyed (`--force` only).
    pub destroyed: bool,
    /// It was started again.
    pub started: bool,
}

/// The exit status the script uses when the domain did not shut down in time.
pub const EXIT_SHUTDOWN_TIMEOUT: i32 = 4;

/// The script that cycles `domain` (config `config`) with `tool`: shut down and wait up to
/// `timeout_secs`, destroy only with `force`, start from the config.
pub fn cycle_script(
    tool: Toolstack,
    domain: &str,
    config: &str,
    timeout_secs: u64,
    force: bool,
) -> Result<Vec<u8>, NulByte> {
    let mut s = Script::new();
    s.code("d=").word(domain.as_bytes()).newline();
    s.code("c=").word(config.as_bytes()).newline();
    let Commands {
        running,
        stop,
        kill,
        start,
    } = commands(tool);
    let t = tool.command();
    s.code(&format!(
        "if {running}; then\n\
         \x20 echo 'was-running yes'\n\
         \x20 {stop} >&2 || {{ echo \"vmup: {t} shutdown $d failed\" >&2; exit 3; }}\n\
         \x20 n=0; k=0\n\
         \x20 while {running}; do\n\
         \x20   if [ $n -ge {timeout_secs} ]; then\n\
         \x20     if [ {force} = 1 ]; then {kill} >&2 || exit 3; echo destroyed; k=1; break; fi\n\
         \x20     echo \"vmup: $d did not shut down within {timeout_secs}s\" >&2; exit {EXIT_SHUTDOWN_TIMEOUT}\n\
         \x20   fi\n\
         \x20   sleep 1; n=$((n+1))\n\
         \x20 done\n\
         \x20 [ $k = 1 ] || echo \"stopped $n\"\n\
         else\n\
         \x20 echo 'was-running no'\n\
         fi\n\
         {start} >&2 || {{ echo \"vmup: {t} could not start $d from $c\" >&2; exit 5; }}\n\
         echo started\n",
        force = u8::from(force),
    ));
    s.finish()
}

/// Reads what [`cycle_script`] printed. Pure.
pub fn parse_cycled(stdout: &str) -> Cycled {
    let mut out = Cycled::default();
    for line in stdout.lines() {
        match line.split_once(' ').unwrap_or((line, "")) {
            ("was-running", v) => out.was_running = v == "yes",
            ("stopped", n) => out.shutdown_secs = n.trim().parse().ok(),
            ("destroyed", _) => out.destroyed = true,
            ("started", _) => out.started = true,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A fake `xl` on PATH that keeps one domain's state in a file and logs its calls.
    fn fake_xl(dir: &std::path::Path, shuts_down: bool) {
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> {log}\ncase $1 in\n  list) [ -e {state} ] ;;\n  shutdown) {stop} ;;\n  destroy) rm -f {state} ;;\n  create) : > {state} ;;\nesac\n",
            log = dir.join("calls").display(),
            state = dir.join("running").display(),
            stop = if shuts_down {
                format!("rm -f {}", dir.join("running").display())
            } else {
                ":".to_string()
            },
        );
        let xl = dir.join("xl");
        std::fs::write(&xl, script).unwrap();
        Command::new("chmod").arg("+x").arg(&xl).status().unwrap();
    }

    /// Runs `script` with the fake tools of `dir` first on PATH, under each of dash, busybox
    /// sh, bash --posix and mksh (busybox's applets as the base tools), each from the same
    /// state of the fake domains: all must agree on the exit status, the output and the
    /// state they leave (the calls log included).
    fn run(dir: &std::path::Path, script: &[u8]) -> (i32, String, String) {
        use crate::remote::test_shells::{restore, run_each, state};
        let start = state(dir, &["xl"]);
        let mut ends = Vec::new();
        let mut first = true;
        let runs = run_each(script, dir, || {
            if !first {
                ends.push(state(dir, &["xl"]));
                restore(dir, &start, &["xl"]);
            }
            first = false;
        });
        ends.push(state(dir, &["xl"]));
        for (r, end) in runs.iter().zip(&ends).skip(1) {
            assert_eq!(
                (r.code, &r.stdout, end),
                (runs[0].code, &runs[0].stdout, &ends[0]),
                "{} differs from {}: {}",
                r.shell,
                runs[0].shell,
                r.stderr
            );
        }
        (runs[0].code, runs[0].stdout.clone(), runs[0].stderr.clone())
    }

    #[test]
    fn a_running_domain_is_shut_down_then_created_from_its_config() {
        let dir = tempfile::tempdir().unwrap();
        fake_xl(dir.path(), true);
        std::fs::write(dir.path().join("running"), "").unwrap();
        let script = cycle_script(Toolstack::Xl, "G01", "/etc/xen/G01", 5, false).unwrap();
        let (code, out, err) = run(dir.path(), &script);
        assert_eq!(code, 0, "{err}");
        let cycled = parse_cycled(&out);
        assert_eq!(
            cycled,
            Cycled {
                was_running: true,
                shutdown_secs: Some(0),
                destroyed: false,
                started: true
            }
        );
        let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
        assert_eq!(
            calls,
            "list -- G01\nshutdown -- G01\nlist -- G01\ncreate -- /etc/xen/G01\n"
        );
    }

    #[test]
    fn a_domain_that_will_not_stop_is_destroyed_only_when_forced() {
        let dir = tempfile::tempdir().unwrap();
        fake_xl(dir.path(), false);
        std::fs::write(dir.path().join("running"), "").unwrap();
        let script = cycle_script(Toolstack::Xl, "G01", "/etc/xen/G01", 1, false).unwrap();
        let (code, out, err) = run(dir.path(), &script);
        assert_eq!(code, EXIT_SHUTDOWN_TIMEOUT, "{out}");
        assert!(err.contains("G01 did not shut down within 1s"), "{err}");
        let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
        assert!(
            !calls.contains("destroy") && !calls.contains("create"),
            "{calls}"
        );

        let script = cycle_script(Toolstack::Xl, "G01", "/etc/xen/G01", 1, true).unwrap();
        let (code, out, err) = run(dir.path(), &script);
        assert_eq!(code, 0, "{err}");
        let cycled = parse_cycled(&out);
        assert!(
            cycled.destroyed && cycled.started && cycled.shutdown_secs.is_none(),
            "{cycled:?}"
        );
    }

    #[test]
    fn a_stopped_domain_is_only_created_and_values_are_quoted() {
        let dir = tempfile::tempdir().unwrap();
        fake_xl(dir.path(), true);
        let script = cycle_script(Toolstack::Xl, "G 01'$(x)", "/etc/xen/a b", 5, false).unwrap();
        let (code, out, err) = run(dir.path(), &script);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            parse_cycled(&out),
            Cycled {
                started: true,
                ..Cycled::default()
            }
        );
        let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
        assert_eq!(calls, "list -- G 01'$(x)\ncreate -- /etc/xen/a b\n");
    }

    /// A fake `xl` for several domains: `DIR/run.NAME` while running, `DIR/stuck.NAME`
    /// makes it ignore `shutdown`.
    fn fake_fleet_xl(dir: &std::path::Path) {
        let d = dir.display();
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> {d}/calls\ncase $1 in\n  list) [ -e {d}/run.$3 ] ;;\n  shutdown) [ -e {d}/stuck.$3 ] || rm -f {d}/run.$3 ;;\n  destroy) rm -f {d}/run.$3 ;;\n  create) : > {d}/run.${{3##*/}} ;;\nesac\n"
        );
        std::fs::write(dir.join("xl"), script).unwrap();
        Command::new("chmod")
            .arg("+x")
            .arg(dir.join("xl"))
            .status()
            .unwrap();
    }

    fn domains(names: &[&str]) -> Vec<Domain> {
        names
            .iter()
            .map(|n| Domain {
                tool: Toolstack::Xl,
                name: n.to_string(),
                config: format!("/etc/xen/{n}"),
            })
            .collect()
    }

    #[test]
    fn every_running_domain_stops_before_a_reboot_and_a_stuck_one_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        fake_fleet_xl(dir.path());
        for n in ["A", "B"] {
            std::fs::write(dir.path().join(format!("run.{n}")), "").unwrap();
        }
        let all = domains(&["A", "B", "C"]);
        let (code, out, err) = run(dir.path(), &stop_all_script(&all, 2, false).unwrap());
        assert_eq!(code, 0, "{err}");
        assert!(out.ends_with("all-stopped\n"), "{out}");
        let s = parse_stopped(&out, 3);
        assert_eq!(
            s.iter().map(|d| d.was_running).collect::<Vec<_>>(),
            [true, true, false]
        );

        // B will not stop: A is started again and the script says no.
        for n in ["A", "B"] {
            std::fs::write(dir.path().join(format!("run.{n}")), "").unwrap();
        }
        std::fs::write(dir.path().join("stuck.B"), "").unwrap();
        let (code, out, err) = run(dir.path(), &stop_all_script(&all, 1, false).unwrap());
        assert_eq!(code, EXIT_SHUTDOWN_TIMEOUT, "{out}{err}");
        let s = parse_stopped(&out, 3);
        assert!(s[0].restarted && s[1].stuck && !s[1].destroyed, "{s:?}");
        assert!(dir.path().join("run.A").exists() && dir.path().join("run.B").exists());

        // Forced: B is destroyed, nothing is restarted.
        let (code, out, _) = run(dir.path(), &stop_all_script(&all, 1, true).unwrap());
        assert_eq!(code, 0, "{out}");
        let s = parse_stopped(&out, 3);
        assert!(s[1].destroyed && !s[0].restarted, "{s:?}");

        let (code, out, _) = run(dir.path(), &start_all_script(&all).unwrap());
        assert_eq!(code, 0);
        assert_eq!(out, "started 0\nstarted 1\nstarted 2\n");
        assert!(dir.path().join("run.C").exists());
    }
}
