//! Script output framing (`remote::frame::parse`): no panic on any output, header words
//! are non-empty and space-free; and records written the way the generated scripts write
//! them (`printf '\n%s %s\n' "$B" "$*"` then the raw payload, `end` last) read back
//! exactly, whatever the payloads hold, unless a payload contains the boundary marker
//! (`\n` + token + space; also at the very start of the payload).
//!
//! Input: the boundary token on the first line (spaces dropped; empty: `vmupT`), then
//! output for the plain parse; the same bytes are also cut at `\x1e` into records (first
//! line: header words, rest: payload) for the round trip.

use vmup::remote::frame::{Boundary, Record, parse};

use crate::input::{split_header, without};

pub const CHECKS: &str = "no panic; header words clean; records written as the scripts \
                          write them read back exactly";

/// Header words as a script would print them: printable ASCII, no spaces.
fn words(line: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(line)
        .split(|c: char| c == ' ' || !c.is_ascii_graphic())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// What the scripts print for `records` and the final `end`.
pub fn encode(token: &str, records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records.iter().chain([&Record {
        header: vec!["end".into()],
        payload: Vec::new(),
    }]) {
        out.extend_from_slice(format!("\n{token} {}\n", r.header.join(" ")).as_bytes());
        out.extend_from_slice(&r.payload);
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn check(data: &[u8]) {
    let (header, body) = split_header(data);
    let token = String::from_utf8_lossy(&without(header, b" \r")).into_owned();
    let token = if token.is_empty() {
        "vmupT".into()
    } else {
        token
    };
    let boundary = Boundary::fixed(&token);

    if let Ok(records) = parse(&boundary, body) {
        for r in &records {
            assert!(
                r.header.iter().all(|w| !w.is_empty() && !w.contains(' ')),
                "bad header words {:?}",
                r.header
            );
        }
    }

    let records: Vec<Record> = body
        .split(|&b| b == 0x1e)
        .map(|part| {
            let (line, payload) = split_header(part);
            Record {
                header: words(line),
                payload: payload.to_vec(),
            }
        })
        .collect();
    let marker = [b"\n", token.as_bytes(), b" "].concat();
    // A payload holding the marker, also right at its start (after the header line's
    // newline), would be taken for a record: the random token makes that impossible in
    // practice, and it is not what this checks.
    if records
        .iter()
        .any(|r| contains(&[b"\n", r.payload.as_slice()].concat(), &marker))
    {
        return;
    }
    let output = encode(&token, &records);
    match parse(&boundary, &output) {
        Ok(read) => assert_eq!(read, records, "records do not read back"),
        Err(e) => panic!("complete output refused: {e}"),
    }
}
