//! A package's epoch, version and release: parsed like rpm's `parseEVR()` and ordered
//! like its `rpmverCmp()`, using [`vercmp`] for the version and release parts.

use std::cmp::Ordering;
use std::fmt;

use super::vercmp;

/// A package's epoch, version and release, ordered like rpm orders installed packages.
///
/// Exists so vmup can tell which of several kernel packages is newest (and whether an
/// update is newer than what a guest boots) with rpm's rules, not string or semver rules.
///
/// Ordering follows rpm's `rpmverCmp()` (the same rules as the Python binding's
/// `rpm.labelCompare`): the epoch numerically, then [`vercmp`] on the versions, then the
/// releases, where an absent release sorts before any present one.
///
/// Equality is rpm equivalence, consistent with [`Ord`]: `1.0-1` equals `1_0-1` and
/// `0:1.0` equals `1.0`. Compare the fields directly for textual identity.
#[derive(Debug, Clone)]
pub struct Evr {
    /// The epoch; a missing (or empty) epoch is 0. An epoch too large for `u64` is
    /// clamped to `u64::MAX` (rpm itself would compare such epochs as digit strings).
    pub epoch: u64,
    /// The version, the part between the epoch's `:` and the last `-`.
    pub version: String,
    /// The release, the part after the last `-`; empty when there is none. An empty
    /// release is treated as an absent one (rpm distinguishes `1.0-` from `1.0`; this
    /// type cannot, and both are rare).
    pub release: String,
}

impl Evr {
    /// Splits `[E:]V[-R]` the way rpm's `parseEVR()` does.
    ///
    /// Exists because EVR strings come from `rpm -q --qf`, file names and repository
    /// metadata as one string. The epoch is only recognised as a run of ASCII digits
    /// immediately followed by `:` at the very start (so `a:1` is a version containing
    /// a colon), and the release is whatever follows the *last* `-`. Never fails.
    pub fn parse(s: &str) -> Evr {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let rest = &s[digits..];
        // Index (into `s`) of the last '-' after the epoch digits.
        let dash = rest.rfind('-').map(|i| digits + i);

        let (epoch, version_start) = if rest.starts_with(':') {
            (parse_epoch(&s[..digits]), digits + 1)
        } else {
            (0, 0)
        };
        let (version, release) = match dash {
            Some(d) => (&s[version_start..d], &s[d + 1..]),
            None => (&s[version_start..], ""),
        };
        Evr {
            epoch,
            version: version.to_string(),
            release: release.to_string(),
        }
    }
}

/// Digits to a number, clamping on overflow; an empty epoch (`:1.0`) is 0 as in rpm.
pub(super) fn parse_epoch(digits: &str) -> u64 {
    digits.bytes().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    })
}

impl Ord for Evr {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| vercmp(&self.version, &other.version))
            .then_with(
                || match (self.release.is_empty(), other.release.is_empty()) {
                    (true, true) => Ordering::Equal,
                    (false, true) => Ordering::Greater,
                    (true, false) => Ordering::Less,
                    (false, false) => vercmp(&self.release, &other.release),
                },
            )
    }
}

impl PartialOrd for Evr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Evr {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Evr {}

impl fmt::Display for Evr {
    /// `[E:]V[-R]`, with the epoch shown only when it is not 0.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.version)?;
        if !self.release.is_empty() {
            write!(f, "-{}", self.release)?;
        }
        Ok(())
    }
}
