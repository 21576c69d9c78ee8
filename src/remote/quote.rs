//! The one shell-quoting function: every value that reaches a remote shell passes here.
//!
//! A POSIX shell word in single quotes takes every byte literally except the single quote
//! itself, which is written as `'\''` (close, escaped quote, reopen). No other form is used
//! anywhere in vmup, so there is exactly one place to audit. A NUL byte cannot be part of
//! any shell word (argv strings end at NUL), so it is refused rather than dropped.

/// A value that cannot be passed to a shell as a word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a NUL byte cannot be passed to a remote shell (in {shown:?})")]
pub struct NulByte {
    /// The offending value, lossily shown for the error message.
    pub shown: String,
}

/// Returns `value` as one single-quoted POSIX sh word that expands to exactly `value`.
pub fn quote(value: &[u8]) -> Result<Vec<u8>, NulByte> {
    if value.contains(&0) {
        return Err(NulByte {
            shown: String::from_utf8_lossy(value).into_owned(),
        });
    }
    let mut out = Vec::with_capacity(value.len() + 2);
    out.push(b'\'');
    for &byte in value {
        if byte == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(byte);
        }
    }
    out.push(b'\'');
    Ok(out)
}

/// Encodes arbitrary bytes (NUL included) as a `printf` format string that prints them back,
/// so file contents of any kind can be written by the shell's built-in `printf` (a leading
/// `-` is escaped too, so it is never taken for an option). The result
/// still has to go through [`quote`].
pub fn printf_format(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 8);
    for (i, &byte) in bytes.iter().enumerate() {
        match byte {
            // A format starting with '-' would be taken for an option by some printf builtins.
            b'-' if i == 0 => out.extend_from_slice(b"\\055"),
            0 => out.extend_from_slice(b"\\000"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'%' => out.extend_from_slice(b"%%"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::process::Command;

    fn through_sh(word: &[u8]) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        let mut script = b"printf '%s' ".to_vec();
        script.extend_from_slice(word);
        let out = Command::new("sh")
            .arg("-c")
            .arg(std::ffi::OsStr::from_bytes(&script))
            .output()
            .expect("sh runs");
        assert!(out.status.success(), "sh failed: {:?}", out);
        out.stdout
    }

    fn through_printf(bytes: &[u8]) -> Vec<u8> {
        let word = quote(&printf_format(bytes)).expect("no NUL after encoding");
        use std::os::unix::ffi::OsStrExt;
        let mut script = b"printf ".to_vec();
        script.extend_from_slice(&word);
        let out = Command::new("sh")
            .arg("-c")
            .arg(std::ffi::OsStr::from_bytes(&script))
            .output()
            .expect("sh runs");
        out.stdout
    }

    #[test]
    fn quotes_the_single_quote() {
        assert_eq!(quote(b"it's").unwrap(), b"'it'\\''s'".to_vec());
        assert_eq!(through_sh(&quote(b"it's").unwrap()), b"it's");
    }

    #[test]
    fn refuses_nul() {
        assert!(quote(b"a\0b").is_err());
    }

    #[test]
    fn shell_metacharacters_stay_literal() {
        let nasty = b"$(touch /tmp/pwned) `id` ; rm -rf / & | > < * ? ~ \\ \" \n\t#!";
        assert_eq!(through_sh(&quote(nasty).unwrap()), nasty.to_vec());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn quote_round_trips_through_real_sh(bytes in proptest::collection::vec(1u8..=255, 0..200)) {
            prop_assert_eq!(through_sh(&quote(&bytes).unwrap()), bytes);
        }

        #[test]
        fn printf_format_round_trips_every_byte(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(through_printf(&bytes), bytes);
        }
    }
}
