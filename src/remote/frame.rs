//! Framing of script output, so that no file content can be mistaken for structure.
//!
//! Every record a generated script prints starts on a fresh line with a boundary token that
//! is random per run (128 bits, like a MIME boundary), followed by header words and a
//! newline; the record's payload is every byte up to the next `\n<boundary> `. A final
//! `end` record proves the script ran to completion. File contents are printed raw, so the
//! only way to confuse the parser would be a file that contains this run's random token.

/// The random token that separates records in one script's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boundary(String);

/// `prefix` and 32 random hex digits: a token no file a script prints can hold by chance,
/// for the framing boundary and for a held shell's part markers (`transport::hold`).
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // Fall back to time entropy; still unpredictable for file contents.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes.copy_from_slice(&nanos.to_le_bytes());
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

impl Boundary {
    /// Makes a fresh random boundary for one script.
    pub fn random() -> Boundary {
        Boundary(random_token("vmup"))
    }

    /// A fixed boundary, for tests and snapshots.
    pub fn fixed(token: &str) -> Boundary {
        Boundary(token.to_string())
    }

    /// The token itself, as it appears in the script.
    pub fn token(&self) -> &str {
        &self.0
    }
}

/// One record: its header words and its raw payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Words of the header line after the boundary.
    pub header: Vec<String>,
    /// The bytes between the header line and the next record.
    pub payload: Vec<u8>,
}

/// Why framed output could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The script stopped before printing its final `end` record.
    #[error("the remote script stopped before finishing (output cut short)")]
    Truncated,
}

/// Splits `output` into records; fails unless the last record is `end`.
pub fn parse(boundary: &Boundary, output: &[u8]) -> Result<Vec<Record>, FrameError> {
    match parse_partial(boundary, output) {
        (records, true) => Ok(records),
        (_, false) => Err(FrameError::Truncated),
    }
}

/// Splits `output` into records, also when the script was cut short: the records it did
/// print, and whether it reached its final `end` record. An apply cut short still says
/// which changes it completed.
pub fn parse_partial(boundary: &Boundary, output: &[u8]) -> (Vec<Record>, bool) {
    let mut marker = Vec::with_capacity(boundary.0.len() + 2);
    marker.push(b'\n');
    marker.extend_from_slice(boundary.0.as_bytes());
    marker.push(b' ');
    let starts = find_all(output, &marker);
    let mut records = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let body_start = start + marker.len();
        let end = starts.get(i + 1).copied().unwrap_or(output.len());
        let body = &output[body_start..end];
        let (header, payload) = match body.iter().position(|&b| b == b'\n') {
            Some(nl) => (&body[..nl], &body[nl + 1..]),
            None => (body, &[][..]),
        };
        let header = String::from_utf8_lossy(header)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        records.push(Record {
            header,
            payload: payload.to_vec(),
        });
    }
    let complete = records
        .last()
        .is_some_and(|last| last.header.first().map(String::as_str) == Some("end"));
    if complete {
        records.pop();
    }
    (records, complete)
}

/// Every start of `needle` in `haystack`, not overlapping (the boundary cannot overlap
/// itself: it starts with a newline and has none after it).
fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() {
        return Vec::new();
    }
    memchr::memmem::find_iter(haystack, needle).collect()
}

/// Shell code that defines `$B` and the `vmup_rec` function printing a record header.
pub fn prelude(boundary: &Boundary) -> String {
    format!(
        "B={}\nvmup_rec() {{ printf '\\n%s %s\\n' \"$B\" \"$*\"; }}\n",
        boundary.token()
    )
}

/// Shell code that prints the final `end` record.
pub const EPILOGUE: &str = "vmup_rec end\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_may_contain_anything_but_the_token() {
        let b = Boundary::fixed("vmupT");
        let out = b"\nvmupT file 1 0644\nline one\nvmupX fake\n\nvmupT absent 2\n\nvmupT end\n";
        let recs = parse(&b, out).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].header, vec!["file", "1", "0644"]);
        assert_eq!(recs[0].payload, b"line one\nvmupX fake\n".to_vec());
        assert_eq!(recs[1].payload, b"".to_vec());
    }

    #[test]
    fn missing_end_is_truncated() {
        let b = Boundary::fixed("vmupT");
        assert_eq!(parse(&b, b"\nvmupT x 1\nabc"), Err(FrameError::Truncated));
    }

    #[test]
    fn random_boundaries_differ() {
        assert_ne!(Boundary::random(), Boundary::random());
    }

    #[test]
    fn prelude_records_parse_through_real_sh() {
        let b = Boundary::random();
        let mut script = prelude(&b);
        script
            .push_str("vmup_rec file 1\nprintf 'no newline'\nvmup_rec file 2\nprintf 'x\\n\\n'\n");
        script.push_str(EPILOGUE);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .expect("sh");
        let recs = parse(&b, &out.stdout).unwrap();
        assert_eq!(recs[0].payload, b"no newline".to_vec());
        assert_eq!(recs[1].payload, b"x\n\n".to_vec());
    }
}
