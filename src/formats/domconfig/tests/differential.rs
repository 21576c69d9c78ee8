//! The differential test: Xen's own `xl` (4.17, Debian's `xen-utils-4.17`) reads every
//! config, and vmup must read the same kernel, ramdisk and kernel command line from it,
//! before and after each of its edits (a new kernel with quotes, backslashes and
//! non-ASCII in it, a new ramdisk, console tokens added where xl reads them, tokens
//! removed). The configs: the xl tests' valid configs, the seed's and the test fleet's,
//! hand-written ones for `cmdline=` (which makes xl ignore `root=` and `extra=`, and say
//! so), `root=` with `extra=`, and `+=`, and a few hundred generated from those pieces.
//!
//! `xl -N create CFG` is a dry run that prints the parsed config as JSON, but it opens the
//! hypervisor first; `tests/xl-shim/xlshim.c`, built here once per test binary with `cc`
//! and preloaded, stands in for the few libxenctrl and libxenstore calls it makes. Both
//! `xl` and `cc` are required (scripts/install-deps.sh installs them): the test fails
//! without them rather than skipping.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::edit::G01;
use super::xl::XL_NG2;
use super::xm::NG2_XM;
use super::*;
use crate::formats::cmdline::{Token, appended, removed, words};

/// xl itself; `/usr/sbin/xl` is a wrapper that looks for a running hypervisor first.
const XL: &str = "/usr/lib/xen-4.17/bin/xl";

/// The shim, compiled once per test binary beside it.
fn shim() -> &'static Path {
    static SHIM: OnceLock<PathBuf> = OnceLock::new();
    SHIM.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xl-shim/xlshim.c");
        let exe = std::env::current_exe().expect("the test binary's path");
        let dir = exe.parent().expect("the test binary's directory");
        let out = dir.join("xlshim.so");
        let tmp = dir.join(format!("xlshim.so.{}", std::process::id()));
        let built = Command::new("cc")
            .args(["-shared", "-fPIC", "-Wall", "-Werror", "-o"])
            .arg(&tmp)
            .arg(&src)
            .output()
            .expect(
                "cc runs (the xl differential test builds its shim with it: apt-get install gcc)",
            );
        assert!(
            built.status.success(),
            "cc could not build {}: {}",
            src.display(),
            String::from_utf8_lossy(&built.stderr)
        );
        std::fs::rename(&tmp, &out).expect("the shim moves into place");
        out
    })
}

/// What xl read from a config.
#[derive(Debug, PartialEq, Eq)]
struct XlRead {
    kernel: Option<String>,
    ramdisk: Option<String>,
    cmdline: Option<String>,
    /// xl printed "ignoring root= and extra= in favour of cmdline=".
    ignored_root_extra: bool,
}

/// xl's reading of `cfg`, or what it printed when it refused it.
fn xl_reads(cfg: &str) -> Result<XlRead, String> {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::io::Write::write_all(&mut file, cfg.as_bytes()).expect("writable");
    let out = Command::new(XL)
        .args(["-N", "create"])
        .arg(file.path())
        .env("LD_PRELOAD", shim())
        .output()
        .expect("xl runs (apt-get install xen-utils-4.17; see scripts/install-deps.sh)");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(stderr);
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("xl printed no JSON ({e}): {stderr}"))?;
    let field = |name: &str| json["b_info"][name].as_str().map(str::to_string);
    Ok(XlRead {
        kernel: field("kernel"),
        ramdisk: field("ramdisk"),
        cmdline: field("cmdline"),
        ignored_root_extra: stderr.contains("ignoring root= and extra= in favour of cmdline="),
    })
}

/// vmup's reading of `cfg`, in xl's terms.
fn vmup_reads(cfg: &str) -> Result<XlRead, String> {
    let c = DomainConfig::parse(cfg, Dialect::Xl).map_err(|e| format!("vmup cannot parse: {e}"))?;
    let owned = |v: Option<Result<&str, Unreadable>>| -> Result<Option<String>, String> {
        v.map(|r| r.map(str::to_string).map_err(|e| e.to_string()))
            .transpose()
    };
    Ok(XlRead {
        kernel: owned(c.kernel())?,
        ramdisk: owned(c.ramdisk())?,
        cmdline: c.cmdline().transpose().map_err(|e| e.to_string())?,
        ignored_root_extra: c.cmdline_setting() == "cmdline"
            && (c.get("root").is_some() || c.get("extra").is_some()),
    })
}

/// Both readings of `cfg`, which xl must accept; `Err` says how they differ.
fn agree(label: &str, cfg: &str) -> Result<XlRead, String> {
    let theirs = xl_reads(cfg).map_err(|e| format!("{label}: xl refused it: {e}\n{cfg}"))?;
    let ours = vmup_reads(cfg).map_err(|e| format!("{label}: {e}\n{cfg}"))?;
    if ours != theirs {
        return Err(format!(
            "{label}:\n  xl:   {theirs:?}\n  vmup: {ours:?}\n{cfg}"
        ));
    }
    Ok(theirs)
}

/// A kernel path with everything quoting has to get right.
const ODD_KERNEL: &str = "/boot/it's \"v\" \\ é\tz";

/// The edits vmup makes, each checked against xl's reading of the result; returns how many
/// were made and how many vmup refused.
fn edits_agree(label: &str, cfg: &str) -> Result<(usize, usize), String> {
    let c = DomainConfig::parse(cfg, Dialect::Xl).map_err(|e| format!("{label}: {e}"))?;
    let line = c
        .cmdline()
        .transpose()
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let target = c.cmdline_setting();
    let current = c.get_str(target).and_then(Result::ok).unwrap_or_default();
    let console = ["xencons=ttyS", "console=ttyS0"];
    let missing: Vec<&str> = console
        .into_iter()
        .filter(|t| !words(&line).contains(t))
        .collect();
    let unwanted = [Token::parse("quiet"), Token::parse("console=")];
    let cases: [(&str, &str, String); 5] = [
        (
            "kernel",
            "kernel",
            "/boot/vmlinuz-2.6.9-67.0.1.ELxenU".into(),
        ),
        ("odd kernel", "kernel", ODD_KERNEL.into()),
        (
            "ramdisk",
            "ramdisk",
            "/boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img".into(),
        ),
        ("console tokens", target, appended(current, &missing)),
        ("removed tokens", target, removed(current, &unwanted, &[]).0),
    ];
    let (mut made, mut refused) = (0, 0);
    for (what, name, value) in cases {
        let edited = match c.with_str(name, &value) {
            Ok(e) => e,
            Err(e) if e.message.contains("built with `+=`") => {
                refused += 1;
                continue;
            }
            Err(e) => return Err(format!("{label}, {what}: vmup refused: {e}\n{cfg}")),
        };
        made += 1;
        let read = agree(&format!("{label} after {what}"), &edited)?;
        let on_line: Vec<String> = read
            .cmdline
            .as_deref()
            .map(|l| words(l).into_iter().map(str::to_string).collect())
            .unwrap_or_default();
        let holds = match what {
            "kernel" | "odd kernel" => read.kernel.as_deref() == Some(value.as_str()),
            "ramdisk" => read.ramdisk.as_deref() == Some(value.as_str()),
            "console tokens" => console.iter().all(|t| on_line.iter().any(|w| w == t)),
            _ => !on_line
                .iter()
                .any(|w| unwanted.iter().any(|t| t.matches(w)) && !root_has(&c, w)),
        };
        if !holds {
            return Err(format!("{label}, {what}: xl reads {read:?}\n{edited}"));
        }
    }
    Ok((made, refused))
}

/// Whether `word` comes from `root=` (which vmup does not edit).
fn root_has(c: &DomainConfig, word: &str) -> bool {
    c.get_str("root")
        .and_then(Result::ok)
        .is_some_and(|r| words(&format!("root={r}")).contains(&word))
}

/// Deterministic xorshift64* so every run reads the same generated configs.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        usize::try_from(self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64).unwrap_or(0)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// `v` as an xl string, in one of the two quote styles.
fn quoted(rng: &mut Rng, v: &str) -> String {
    if rng.below(2) == 0 {
        quote_xl_string(v)
    } else {
        format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// A config made of the pieces the seed's and real configs use, in varying order.
fn generated(rng: &mut Rng, n: usize) -> String {
    const KERNELS: &[&str] = &[
        "/boot/vmlinuz-2.6.9-ELxenU",
        "/boot/vmlinuz-6.1.0-13-amd64",
        "/boot/it's a \"kernel\"",
        "/boot/back\\slash é",
    ];
    const ROOTS: &[&str] = &[
        "/dev/sda1 ro",
        "/dev/xvda1",
        "",
        "root=/dev/sda1",
        "UUID=0a1b ro",
    ];
    const EXTRAS: &[&str] = &[
        "3",
        "",
        "console=hvc0 quiet",
        "xencons=tty",
        "quiet  console=tty0\tnoapic",
        "init=\"/sbin/my init\" 3",
        "console=ttyS0 xencons=ttyS",
    ];
    const APPENDS: &[&str] = &[" quiet", " console=ttyS0", "", "single"];
    const CMDLINES: &[&str] = &[
        "root=/dev/xvda1 ro console=hvc0",
        "",
        "quiet",
        "xencons=ttyS",
    ];
    let mut free = vec![format!("name = \"d{n}\"")];
    for _ in 0..=rng.below(2) {
        let k = rng.pick(KERNELS);
        free.push(format!("kernel = {}", quoted(rng, k)));
    }
    if rng.below(2) == 0 {
        free.push(format!(
            "ramdisk = {}",
            quoted(rng, "/boot/initrd-2.6.9-ELxenU-xendrv.img")
        ));
    }
    if rng.below(2) == 0 {
        let r = rng.pick(ROOTS);
        free.push(format!("root = {}", quoted(rng, r)));
    }
    if rng.below(4) == 0 {
        let c = rng.pick(CMDLINES);
        free.push(format!("cmdline = {}", quoted(rng, c)));
    }
    free.push("memory = 512; vcpus = 1".into());
    free.push("vif = [ 'mac=00:16:3e:00:00:01, bridge=xenbr0' ]".into());
    free.push("# a comment".into());
    free.push(String::new());
    // Order the free lines at random; the extra chain keeps its own order.
    let mut lines = Vec::new();
    while !free.is_empty() {
        let i = rng.below(free.len());
        lines.push(free.remove(i));
    }
    let mut extra = Vec::new();
    match rng.below(4) {
        0 => {}
        1 => {
            let e = rng.pick(EXTRAS);
            extra.push(format!("extra = {}", quoted(rng, e)));
        }
        2 => {
            let (e, a) = (rng.pick(EXTRAS), rng.pick(APPENDS));
            extra.push(format!("extra = {}", quoted(rng, e)));
            extra.push(format!("extra += {}", quoted(rng, a)));
        }
        _ => {
            let a = rng.pick(APPENDS);
            extra.push(format!("extra += {}", quoted(rng, a)));
        }
    }
    for e in extra {
        let at = rng.below(lines.len() + 1);
        lines.insert(
            at.max(
                lines
                    .iter()
                    .rposition(|l| l.starts_with("extra"))
                    .map_or(0, |p| p + 1),
            ),
            e,
        );
    }
    let mut out = lines.join("\n");
    // A comment may end vmup's files without a newline, but not xl's (a deliberate
    // difference, see the module doc of `domconfig`): the generator keeps to what xl reads.
    if rng.below(4) != 0 || lines.last().is_some_and(|l| l.starts_with('#')) {
        out.push('\n');
    }
    out
}

/// The hand-picked configs: the tests', the seed's, and each rule of xl's command line.
fn chosen() -> Vec<(&'static str, String)> {
    let seed = "# the seed's NG2 after the update\nname = \"NG2\"\n\
                kernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\n\
                ramdisk = \"/boot/initrd-2.6.9-ELxenU-xendrv.img\"\n\
                root = \"/dev/sda1 ro\"\nextra = \"xencons=ttyS console=ttyS0\"\n";
    let grammar = "# every grammar element xl accepts\nname = \"ng2\"   # trailing comment\n\
                   kernel = '/boot/vmlinuz-2.6.32 its'\nmemory = 512; vcpus = 0x2 ; maxmem=010\n\
                   escapes = \"q\\\" s\\' b\\\\ n\\n t\\t r\\r a\\a b\\b f\\f v\\v\"\n\
                   single = 'it\\'s \"fine\"'\n\
                   disk = [ 'phy:/dev/vg/ng2,xvda1,w', # first disk\n  # a comment in the list\n\n\
                   \x20 'file:/srv/ng2-swap.img,xvda2,w',\n       ]\nempty = []\n\
                   extra = \"console=hvc0\"\nextra += \" xencons=tty\"\n\
                   disk += [ 'phy:/dev/vg/ng2-data,xvdb,w' ]\nlast = \"no newline at end\"";
    vec![
        ("xl tests: ng2", XL_NG2.to_string()),
        ("xl tests: every grammar element", grammar.to_string()),
        ("xm tests: NG2, also valid xl", NG2_XM.to_string()),
        ("edit tests: G01", G01.to_string()),
        ("the seed's NG2", seed.to_string()),
        (
            "cmdline wins over root and extra",
            "name = \"c\"\nkernel = \"/k\"\nroot = \"/dev/xvda1\"\nextra = \"3\"\ncmdline = \"quiet\"\n".into(),
        ),
        ("cmdline alone", "name = \"c\"\nkernel = \"/k\"\ncmdline = \"ro\"\n".into()),
        ("empty cmdline", "name = \"c\"\nkernel = \"/k\"\ncmdline = \"\"\nextra = \"x\"\n".into()),
        ("root and extra", "name = \"r\"\nkernel = \"/k\"\nroot = \"/dev/sda1 ro\"\nextra = \"3\"\n".into()),
        ("root alone", "name = \"r\"\nkernel = \"/k\"\nroot = \"root=/dev/sda1\"\n".into()),
        ("empty root and extra", "name = \"r\"\nkernel = \"/k\"\nroot = ''\nextra = ''\n".into()),
        ("no command line", "name = \"n\"\nkernel = \"/k\"\n".into()),
        (
            "+= chain",
            "name = \"p\"\nkernel = \"/k\"\nextra = 'console=hvc0'\nextra += ' quiet'\nextra += ' 3'\n".into(),
        ),
        ("+= first", "name = \"p\"\nkernel = \"/k\"\nextra += \"quiet\"\n".into()),
        ("kernel twice", "name = \"k\"\nkernel = '/boot/a'\nramdisk = '/i'\nkernel = '/boot/b'\n".into()),
    ]
}

#[test]
fn xl_reads_what_vmup_reads_before_and_after_its_edits() {
    let mut configs = chosen()
        .into_iter()
        .map(|(label, cfg)| (label.to_string(), cfg))
        .collect::<Vec<_>>();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for n in 0..200 {
        configs.push((format!("generated #{n}"), generated(&mut rng, n)));
    }
    // Two workers: the machine has two cores and xl costs a few ms a run.
    let results: Vec<Result<(usize, usize), String>> = std::thread::scope(|s| {
        let halves: Vec<_> = configs
            .chunks(configs.len().div_ceil(2))
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(label, cfg)| {
                            agree(label, cfg)?;
                            edits_agree(label, cfg)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves
            .into_iter()
            .flat_map(|h| h.join().expect("a worker finished"))
            .collect()
    });
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    let made: usize = results.iter().flatten().map(|(m, _)| m).sum();
    let refused: usize = results.iter().flatten().map(|(_, r)| r).sum();
    assert!(
        made > 4 * configs.len() && refused > 0,
        "{made} edits made, {refused} refused: the cases do not cover what they should"
    );
}

#[test]
fn xl_and_vmup_both_refuse_a_kernel_list() {
    let cfg = "name = \"l\"\nkernel = [ '/boot/a' ]\n";
    let xl_error = xl_reads(cfg).expect_err("xl refuses a list");
    assert!(
        xl_error.contains("is a list but should be a single value"),
        "{xl_error}"
    );
    let c = DomainConfig::parse(cfg, Dialect::Xl).unwrap();
    assert!(matches!(c.kernel(), Some(Err(_))));
    assert!(c.with_str("kernel", "/boot/b").is_err());
}
