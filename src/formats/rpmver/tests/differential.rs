//! The differential test: thousands of generated version and EVR pairs, ordered by
//! [`vercmp`] and [`Evr`] and by the system's rpm library (through its Python binding),
//! must agree.

use super::*;
use crate::formats::rpmver::evr::parse_epoch;
use std::io::Write;
use std::process::Command;
use std::time::Instant;

/// Deterministic xorshift64* so the differential test sees the same pairs every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

/// A random version-ish string built from pieces that exercise every rule: digit
/// runs (with leading zeros), letter runs, separators, `~`, `^`, empty segments and
/// non-ASCII separators.
fn random_version(rng: &mut Rng, allow_dash: bool) -> String {
    const PIECES: &[&str] = &[
        "0",
        "1",
        "2",
        "9",
        "10",
        "01",
        "007",
        "000",
        "99",
        "100",
        "12345678901234567890",
        "a",
        "b",
        "z",
        "A",
        "Z",
        "rc",
        "git",
        "el",
        "fc",
        "p",
        "aa",
        "ELsmp",
        ".",
        ".",
        ".",
        "..",
        "_",
        "+",
        "~",
        "~",
        "^",
        "^",
        "é",
    ];
    let len = rng.below(7);
    let mut s = String::new();
    for _ in 0..len {
        let piece = if allow_dash && rng.below(12) == 0 {
            "-"
        } else {
            rng.pick(PIECES)
        };
        s.push_str(piece);
    }
    s
}

/// Mutates a string slightly so that many pairs are close to each other (equal
/// prefixes are where the interesting rules kick in).
fn near(rng: &mut Rng, s: &str) -> String {
    let mut t = s.to_string();
    match rng.below(6) {
        0 => t,
        1 => {
            t.push_str(rng.pick(&["~", "^", ".", "1", "a", "~rc1", "^git1", "0"]));
            t
        }
        2 => {
            let mut chars: Vec<char> = t.chars().collect();
            if !chars.is_empty() {
                let i = rng.below(chars.len());
                chars[i] = rng
                    .pick(&["0", "1", ".", "_", "a", "~", "^"])
                    .chars()
                    .next()
                    .unwrap_or('0');
            }
            chars.into_iter().collect()
        }
        3 => {
            t.insert_str(0, rng.pick(&["0", ".", "~", "^", "a"]));
            t
        }
        _ => random_version(rng, false),
    }
}

/// A random `[E:]V[-R]` as (epoch part with its colon, version, release part with
/// its dash), so pairs can share some components and differ in others.
fn random_evr(rng: &mut Rng) -> (String, String, String) {
    let epoch = if rng.below(3) == 0 {
        format!("{}:", rng.pick(&["0", "1", "2", "00", "01", "10", ""]))
    } else {
        String::new()
    };
    // rpm refuses an empty version, so make sure there is one.
    let mut v = random_version(rng, true);
    if v.is_empty() || v.starts_with('-') {
        v.insert(0, '1');
    }
    if v.ends_with('-') {
        v.push('1');
    }
    (epoch, v, random_release(rng))
}

fn random_release(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => String::new(),
        // Releases that sort differently from "no release" than from "".
        1 => format!(
            "-{}",
            rng.pick(&["~", "~1", "^", "^1", ".", "_", "~~", "1"])
        ),
        _ => {
            let mut r = random_version(rng, false);
            if r.is_empty() {
                r.push('1');
            }
            format!("-{r}")
        }
    }
}

/// Runs the pairs through the system's rpm library in one Python process and returns
/// its answers, one line per pair.
fn ask_rpm(pairs_file: &std::path::Path) -> Vec<String> {
    const PY: &str = r#"
import sys
try:
    import rpm
except ImportError:
    sys.stderr.write("python3-rpm is not installed\n")
    sys.exit(3)

def show(v):
    e = v.e if v.e is not None else ""
    r = v.r if v.r is not None else ""
    return "%s|%s|%s" % (e, v.v, r)

def compare(kind, a, b):
    if kind == "V":
        # The strings go in the release field: a release of "" is legal there and
        # releases are compared with plain rpmvercmp(), so this is rpmvercmp(a, b).
        return str(rpm.labelCompare(("0", "1", a), ("0", "1", b)))
    va, vb = rpm.ver(a), rpm.ver(b)
    rc = rpm.labelCompare((va.e, va.v, va.r), (vb.e, vb.v, vb.r))
    return "%d %s %s" % (rc, show(va), show(vb))

out = []
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        kind, a, b = line.rstrip("\n").split("\t")
        try:
            out.append(compare(kind, a, b))
        except Exception as e:
            sys.stderr.write("rpm failed on %r: %s\n" % (line, e))
            sys.exit(4)
sys.stdout.write("\n".join(out) + "\n")
"#;
    let python = "/usr/bin/python3";
    let output = Command::new(python)
        .arg("-c")
        .arg(PY)
        .arg(pairs_file)
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) => panic!(
            "cannot run {python} ({e}); the differential test needs Debian's python3 \
                 with the rpm bindings: apt-get install rpm python3-rpm"
        ),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code() != Some(3),
        "{python} cannot `import rpm`: {stderr}\nThe differential test needs rpm's Python \
             bindings: apt-get install rpm python3-rpm"
    );
    assert!(
        output.status.success(),
        "{python} running rpm failed ({}): {stderr}",
        output.status
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn differential_against_system_rpm() {
    let mut rng = Rng(0x5eed_1e55_c0ff_ee42);
    let mut lines = Vec::new();
    // rpmvercmp.at's own strings seed part of the corpus.
    let seeds: Vec<&str> = RPMVERCMP_AT.iter().flat_map(|c| [c.0, c.1]).collect();
    for i in 0..5000 {
        let a = if i % 5 == 0 {
            seeds
                .get(rng.below(seeds.len()))
                .copied()
                .unwrap_or("")
                .to_string()
        } else {
            random_version(&mut rng, true)
        };
        let b = if rng.below(3) == 0 {
            random_version(&mut rng, true)
        } else {
            near(&mut rng, &a)
        };
        lines.push(("V", a, b));
    }
    for _ in 0..2000 {
        let (e, v, r) = random_evr(&mut rng);
        let b = match rng.below(4) {
            0 => {
                let (e2, v2, r2) = random_evr(&mut rng);
                format!("{e2}{v2}{r2}")
            }
            // Same epoch and version, another release (or none).
            1 => format!("{e}{v}{}", random_release(&mut rng)),
            // Same version and release, another epoch.
            2 => format!("{}:{v}{r}", rng.pick(&["0", "1", "01", ""])),
            _ => format!("{e}{v}{}{r}", rng.pick(&["", "~1", "^1", ".1", "_", "a"])),
        };
        lines.push(("E", format!("{e}{v}{r}"), b));
    }

    let path = std::env::temp_dir().join(format!("rpmver-differential-{}.tsv", std::process::id()));
    {
        let mut f = std::fs::File::create(&path).expect("create temp file");
        for (kind, a, b) in &lines {
            writeln!(f, "{kind}\t{a}\t{b}").expect("write temp file");
        }
    }
    let started = Instant::now();
    let answers = ask_rpm(&path);
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        answers.len(),
        lines.len(),
        "rpm answered a different number of lines"
    );

    let mut failures = Vec::new();
    for ((kind, a, b), answer) in lines.iter().zip(&answers) {
        if *kind == "V" {
            let got = ord_to_i32(vercmp(a, b)).to_string();
            if &got != answer {
                failures.push(format!("vercmp({a:?}, {b:?}) = {got}, rpm says {answer}"));
            }
        } else {
            let (ea, eb) = (Evr::parse(a), Evr::parse(b));
            let show = |e: &Evr| {
                // rpm keeps the epoch text; compare it numerically via our u64.
                format!("{}|{}|{}", e.epoch, e.version, e.release)
            };
            let mut parts = answer.split(' ');
            let rc = parts.next().unwrap_or("");
            let rpm_a = parts.next().unwrap_or("");
            let rpm_b = parts.next().unwrap_or("");
            let got = ord_to_i32(ea.cmp(&eb)).to_string();
            if got != rc {
                failures.push(format!("Evr {a:?} vs {b:?}: ours {got}, rpm {rc}"));
            }
            for (ours, theirs, s) in [(&ea, rpm_a, a), (&eb, rpm_b, b)] {
                let normalised = normalise_rpm_parse(theirs);
                if show(ours) != normalised {
                    failures.push(format!(
                        "Evr::parse({s:?}) = {}, rpm.ver says {theirs}",
                        show(ours)
                    ));
                }
            }
        }
    }
    eprintln!(
        "differential_against_system_rpm: {} pairs checked by one rpm process in {:?}",
        lines.len(),
        elapsed
    );
    assert!(
        failures.is_empty(),
        "{} disagreements with rpm, first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// rpm reports the epoch as text ("", "0", "007"); turn it into our numeric form.
fn normalise_rpm_parse(s: &str) -> String {
    let mut it = s.splitn(2, '|');
    let epoch = it.next().unwrap_or("");
    let rest = it.next().unwrap_or("");
    format!("{}|{}", parse_epoch(epoch), rest)
}
