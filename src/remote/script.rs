//! Builds generated POSIX sh scripts as bytes, with every interpolated value quoted.
//!
//! Scripts are assembled from fixed fragments (written by vmup, never from user input) and
//! values (paths, contents, patterns from the runbook or from facts), which can only be added
//! through [`Script::word`] and friends and therefore always pass through [`quote`]. The
//! first quoting error is kept and returned by [`Script::finish`], so builders stay linear.

use super::quote::{NulByte, printf_format, quote};

/// A script under construction.
#[derive(Debug, Default)]
pub struct Script {
    bytes: Vec<u8>,
    error: Option<NulByte>,
}

impl Script {
    /// Starts an empty script.
    pub fn new() -> Script {
        Script::default()
    }

    /// Appends a fixed fragment of shell code written by vmup itself.
    pub fn code(&mut self, fragment: &str) -> &mut Script {
        self.bytes.extend_from_slice(fragment.as_bytes());
        self
    }

    /// Appends shell code that vmup built earlier with another [`Script`] (already quoted).
    pub fn code_bytes(&mut self, fragment: &[u8]) -> &mut Script {
        self.bytes.extend_from_slice(fragment);
        self
    }

    /// Appends a script built separately, keeping its first quoting error.
    pub fn append(&mut self, other: Script) -> &mut Script {
        self.bytes.extend_from_slice(&other.bytes);
        if self.error.is_none() {
            self.error = other.error;
        }
        self
    }

    /// Appends a value as one quoted shell word.
    pub fn word(&mut self, value: &[u8]) -> &mut Script {
        match quote(value) {
            Ok(quoted) => self.bytes.extend_from_slice(&quoted),
            Err(err) => {
                if self.error.is_none() {
                    self.error = Some(err);
                }
            }
        }
        self
    }

    /// Appends a space and then a value as one quoted shell word.
    pub fn arg(&mut self, value: &[u8]) -> &mut Script {
        self.bytes.push(b' ');
        self.word(value)
    }

    /// Appends ` printf FORMAT` that prints `content` back exactly, NUL bytes included.
    pub fn printf_bytes(&mut self, content: &[u8]) -> &mut Script {
        self.code(" printf");
        self.arg(&printf_format(content))
    }

    /// Ends the current line.
    pub fn newline(&mut self) -> &mut Script {
        self.bytes.push(b'\n');
        self
    }

    /// Returns the finished script, or the first value that could not be quoted.
    pub fn finish(self) -> Result<Vec<u8>, NulByte> {
        match self.error {
            Some(err) => Err(err),
            None => Ok(self.bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_code_is_not() {
        let mut s = Script::new();
        s.code("cat").arg(b"/etc/it's").newline();
        assert_eq!(s.finish().unwrap(), b"cat '/etc/it'\\''s'\n".to_vec());
    }

    #[test]
    fn first_nul_error_is_reported() {
        let mut s = Script::new();
        s.code("cat").arg(b"a\0").arg(b"ok");
        assert!(s.finish().is_err());
    }
}
