//! Fact framing (`facts::parse_facts`): no panic on any framed output; and output written
//! the way the facts script writes it (records from `vmup_path`, `vmup_cpus`, `uname`, a
//! command and its status) reads back as exactly the facts it describes, whatever the
//! file contents, link targets and command output hold.
//!
//! Input: raw output for the plain parse (boundary `vmupT`, fixed keys); the same bytes
//! also drive the round trip: a byte picks each choice (CPU count, each path's kind, mode,
//! owner, leftovers, the exit status) and `\x1e` ends each piece of content.

use vmup::facts::{CommandOutput, FactKey, Facts, PathFact, parse_facts};
use vmup::remote::frame::{Boundary, Record};

use crate::input::Cursor;
use crate::targets::frame::encode;

pub const CHECKS: &str = "no panic; output written as the facts script writes it reads \
                          back as the facts it describes";

const TOKEN: &str = "vmupT";

fn keys() -> Vec<FactKey> {
    let path = |p: &str, content: bool| FactKey::Path {
        path: p.into(),
        content,
    };
    vec![
        path("/etc/inittab", true),
        path("/etc/securetty", false),
        path("/boot/vmlinuz", false),
        FactKey::Command {
            name: "rpmqa".into(),
            script: b"rpm -qa".to_vec(),
        },
        path("/etc/yum.conf", true),
    ]
}

/// A host or file name piece from fuzz bytes: letters, digits, `.`, `-`.
fn name(bytes: &[u8]) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789.-";
    bytes
        .iter()
        .map(|b| CHARS[usize::from(*b) % CHARS.len()] as char)
        .collect()
}

fn record(header: String, payload: Vec<u8>) -> Record {
    Record {
        header: header.split(' ').map(str::to_string).collect(),
        payload,
    }
}

fn strip_newline(bytes: &[u8]) -> Vec<u8> {
    bytes.strip_suffix(b"\n").unwrap_or(bytes).to_vec()
}

/// Records and the facts they stand for, built from the input.
fn generate(c: &mut Cursor<'_>, keys: &[FactKey]) -> (Vec<Record>, Facts) {
    let mut records = Vec::new();
    let mut facts = Facts::default();
    let cpus = c.byte();
    records.push(record("cpus".into(), format!("{cpus}\n").into_bytes()));
    facts.cpus = Some(u32::from(cpus)).filter(|&n| n > 0);
    let hostname = name(c.until(0x1e));
    records.push(record(
        "hostname".into(),
        format!("{hostname}\n").into_bytes(),
    ));
    facts.hostname = Some(hostname).filter(|h| !h.is_empty());
    let release = name(c.until(0x1e));
    records.push(record(
        "release".into(),
        format!("{release}\n").into_bytes(),
    ));
    facts.kernel_release = Some(release).filter(|r| !r.is_empty());

    for (i, key) in keys.iter().enumerate() {
        match key {
            FactKey::Command { name, .. } => {
                let stdout = c.until(0x1e);
                let status = i32::from(c.byte());
                records.push(record(format!("command {i}"), stdout.to_vec()));
                records.push(record(format!("status {i} {status}"), Vec::new()));
                facts.commands.insert(
                    name.clone(),
                    CommandOutput {
                        stdout: strip_newline(stdout),
                        status,
                    },
                );
            }
            FactKey::Path { path, content } => {
                let choice = c.byte();
                let (mode, uid, gid) = (
                    u32::from(c.byte()) * 8 + 0o600,
                    u32::from(c.byte()),
                    u32::from(c.byte()) * 1000,
                );
                let owner = format!("{mode:o} {uid} {gid}");
                let fact = match choice % 5 {
                    0 => {
                        records.push(record(format!("absent {i}"), Vec::new()));
                        PathFact::Absent
                    }
                    1 => {
                        records.push(record(format!("other {i}"), Vec::new()));
                        PathFact::Other
                    }
                    2 => {
                        records.push(record(format!("dir {i} {owner}"), Vec::new()));
                        PathFact::Dir { mode, uid, gid }
                    }
                    3 => {
                        let bytes = if *content { c.until(0x1e) } else { &[] };
                        records.push(record(format!("file {i} {owner}"), bytes.to_vec()));
                        PathFact::File {
                            mode,
                            uid,
                            gid,
                            content: content.then(|| bytes.to_vec()),
                        }
                    }
                    _ => {
                        let target = c.until(0x1e);
                        records.push(record(format!("link {i}"), [target, b"\n"].concat()));
                        PathFact::Symlink {
                            target: target.to_vec(),
                        }
                    }
                };
                facts.paths.insert(path.clone(), fact);
                if choice >= 128 {
                    let suffix = format!(".vmup-new.{}", name(c.until(0x1e)));
                    records.push(record(format!("leftover {i}"), suffix.clone().into_bytes()));
                    facts.leftovers.push(format!("{path}{suffix}"));
                }
            }
        }
    }
    (records, facts)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn check(data: &[u8]) {
    let keys = keys();
    let boundary = Boundary::fixed(TOKEN);
    let _ = parse_facts(&keys, &boundary, data);

    let (records, expected) = generate(&mut Cursor::new(data), &keys);
    let marker = format!("\n{TOKEN} ");
    if records
        .iter()
        .any(|r| contains(&[b"\n", r.payload.as_slice()].concat(), marker.as_bytes()))
    {
        return;
    }
    let output = encode(TOKEN, &records);
    match parse_facts(&keys, &boundary, &output) {
        Ok(facts) => assert_eq!(facts, expected, "facts do not read back"),
        Err(e) => panic!("facts output refused: {e}"),
    }
}
