//! Helpers to cut a fuzz input into the parts a target needs.

/// The first line (without its `\n`) and the rest. An input without a newline is all
/// header and an empty file.
pub fn split_header(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(nl) => (&data[..nl], &data[nl + 1..]),
        None => (data, &[]),
    }
}

/// Tab-separated fields of a header line; missing fields read as empty.
pub struct Fields<'a>(Vec<&'a [u8]>);

impl<'a> Fields<'a> {
    /// Splits `header` at tabs.
    pub fn new(header: &'a [u8]) -> Fields<'a> {
        Fields(header.split(|&b| b == b'\t').collect())
    }

    /// Field `i`, empty when absent.
    pub fn get(&self, i: usize) -> &'a [u8] {
        self.0.get(i).copied().unwrap_or_default()
    }

    /// Field `i` as text (invalid UTF-8 replaced).
    pub fn text(&self, i: usize) -> String {
        String::from_utf8_lossy(self.get(i)).into_owned()
    }

    /// Fields from `i` on.
    pub fn rest(&self, i: usize) -> &[&'a [u8]] {
        self.0.get(i..).unwrap_or_default()
    }
}

/// `bytes` without any of `drop`.
pub fn without(bytes: &[u8], drop: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .copied()
        .filter(|b| !drop.contains(b))
        .collect()
}

/// One line of a file with its own terminator, as the editors keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The line without its terminator.
    pub content: &'a [u8],
    /// `\n`, `\r\n` or empty (an unterminated last line).
    pub terminator: &'a [u8],
}

/// Splits a file into lines the way vmup's editors do (`\n` ends a line, a `\r` before it
/// belongs to the terminator), independently of their code.
pub fn chunks(bytes: &[u8]) -> Vec<Chunk<'_>> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(|chunk| {
            let cut = if chunk.ends_with(b"\r\n") {
                chunk.len() - 2
            } else if chunk.ends_with(b"\n") {
                chunk.len() - 1
            } else {
                chunk.len()
            };
            Chunk {
                content: &chunk[..cut],
                terminator: &chunk[cut..],
            }
        })
        .collect()
}

/// Whether `small`'s items appear in `big` in order (not necessarily adjacent).
pub fn is_subsequence<T: PartialEq>(small: &[T], big: &[T]) -> bool {
    let mut it = big.iter();
    small.iter().all(|s| it.any(|b| b == s))
}

/// A fuzz input's bytes consumed one decision at a time (for targets that build
/// structured values, such as framed output, from the input).
pub struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// Starts at the beginning of `data`.
    pub fn new(data: &'a [u8]) -> Cursor<'a> {
        Cursor { data }
    }

    /// Whether everything was consumed.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte, 0 when the input is used up.
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The bytes up to the next `sep` (which is consumed), or the rest.
    pub fn until(&mut self, sep: u8) -> &'a [u8] {
        match self.data.iter().position(|&b| b == sep) {
            Some(i) => {
                let (part, rest) = self.data.split_at(i);
                self.data = &rest[1..];
                part
            }
            None => std::mem::take(&mut self.data),
        }
    }
}

/// A directory for the targets that need files (known_hosts, ssh_config includes):
/// `$VMUP_FUZZ_SCRATCH` (scripts/fuzz.sh sets it inside its work directory), else one per
/// process under the system's temporary directory.
pub fn scratch_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = match std::env::var_os("VMUP_FUZZ_SCRATCH") {
            Some(dir) => std::path::PathBuf::from(dir),
            None => std::env::temp_dir().join(format!("vmup-fuzz-{}", std::process::id())),
        };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot make the scratch directory {}: {e}", dir.display());
        }
        dir
    })
}
