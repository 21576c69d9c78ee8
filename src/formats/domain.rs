//! A guest's domain definition as its host keeps it, in whichever of the three formats:
//! the one rule for telling them apart, so every reader of a `domain_config` (the booted
//! kernel, the `domain` resource) sees the same file the same way.
//!
//! The rule: a path ending in `.xml` is a libvirt domain; a file that reads like Python
//! (imports, definitions, blocks) is an xm/xend config; anything else is read as xl and, if
//! xl's grammar refuses it, as xm (xend configs are Python, and a plain one is also valid xl,
//! so only the Python-only ones get there).

use super::domconfig::{self, Dialect, DomainConfig};
use super::libvirt::{self, LibvirtDomain, parse_libvirt};

/// Which format a domain definition is in, as [`format_of`] tells from its path and text.
///
/// Exists so callers can say which syntax they are reading (and writing) without parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainFormat {
    /// xl / libxl's `xl.cfg(5)` (an xm config that xl's grammar refuses is then read as xm).
    Xl,
    /// xm / xend's Python configs.
    Xm,
    /// A libvirt domain XML.
    Libvirt,
}

/// A parsed domain definition.
///
/// Exists so a reader gets the file in the format [`parse_domain_file`] found, with the
/// write side of that format at hand.
#[derive(Debug, Clone)]
pub enum DomainFile {
    /// An xl or xm config; [`DomainConfig::dialect`] says which it was read as.
    Xen(DomainConfig),
    /// A libvirt domain XML.
    Libvirt(LibvirtDomain),
}

/// Why a domain definition could not be read, and where.
///
/// Exists so a caller can name the file's line and column; displays as
/// `not a libvirt domain: LINE:COLUMN: message` or `cannot parse: LINE:COLUMN: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainFileError {
    /// The `.xml` file is not a libvirt domain.
    #[error("not a libvirt domain: {0}")]
    Libvirt(libvirt::ParseError),
    /// The file is neither valid xl nor valid xm (the error of the dialect tried last).
    #[error("cannot parse: {0}")]
    Xen(domconfig::ParseError),
}

impl DomainFileError {
    /// The 1-based line and column of the problem.
    ///
    /// Exists so messages can say `file:line:column`.
    pub fn position(&self) -> (usize, usize) {
        match self {
            DomainFileError::Libvirt(e) => (e.line, e.column),
            DomainFileError::Xen(e) => (e.line, e.column),
        }
    }

    /// What is wrong, without the position.
    ///
    /// Exists for messages that put the position after the file name.
    pub fn message(&self) -> &str {
        match self {
            DomainFileError::Libvirt(e) => &e.message,
            DomainFileError::Xen(e) => &e.message,
        }
    }
}

/// The format of the domain definition at `path` holding `text`: `.xml` is libvirt,
/// Python-looking text xm, anything else xl.
///
/// Exists as the one place the rule is written.
pub fn format_of(path: &str, text: &str) -> DomainFormat {
    if path.ends_with(".xml") {
        DomainFormat::Libvirt
    } else if looks_like_python(text) {
        DomainFormat::Xm
    } else {
        DomainFormat::Xl
    }
}

/// Parses the domain definition at `path` in the format [`format_of`] gives; an xl file
/// that xl's grammar refuses is read as xm.
///
/// Exists as the single entry point for reading a guest's `domain_config`.
///
/// # Errors
///
/// The libvirt parser's error for an `.xml` file; otherwise the error of the last dialect
/// tried (xm).
pub fn parse_domain_file(path: &str, text: &str) -> Result<DomainFile, DomainFileError> {
    match format_of(path, text) {
        DomainFormat::Libvirt => parse_libvirt(text)
            .map(DomainFile::Libvirt)
            .map_err(DomainFileError::Libvirt),
        DomainFormat::Xm => DomainConfig::parse(text, Dialect::Xm)
            .map(DomainFile::Xen)
            .map_err(DomainFileError::Xen),
        DomainFormat::Xl => DomainConfig::parse(text, Dialect::Xl)
            .or_else(|_| DomainConfig::parse(text, Dialect::Xm))
            .map(DomainFile::Xen)
            .map_err(DomainFileError::Xen),
    }
}

/// xend configs are Python: imports, definitions and blocks give them away.
fn looks_like_python(text: &str) -> bool {
    text.lines().map(str::trim_start).any(|l| {
        [
            "import ", "from ", "def ", "if ", "for ", "elif ", "else:", "try:",
        ]
        .iter()
        .any(|k| l.starts_with(k))
            || (l.ends_with(':') && !l.starts_with('#'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialect(path: &str, text: &str) -> Option<Dialect> {
        match parse_domain_file(path, text) {
            Ok(DomainFile::Xen(c)) => Some(c.dialect()),
            Ok(DomainFile::Libvirt(_)) => None,
            Err(e) => panic!("{path}: {e}"),
        }
    }

    #[test]
    fn the_format_comes_from_the_path_and_the_text() {
        let xl = "kernel = \"/boot/vmlinuz\"\n";
        assert_eq!(format_of("/etc/xen/NG2", xl), DomainFormat::Xl);
        assert_eq!(dialect("/etc/xen/NG2", xl), Some(Dialect::Xl));
        let python = "import os\nkernel = '/boot/vmlinuz-' + os.uname()[2]\n";
        assert_eq!(format_of("/etc/xen/NG2", python), DomainFormat::Xm);
        assert_eq!(dialect("/etc/xen/NG2", python), Some(Dialect::Xm));
        // Not Python-looking, but not xl either: read as xm.
        let computed = "kernel = '/boot/vmlinuz-' + ver\n";
        assert_eq!(format_of("/etc/xen/NG2", computed), DomainFormat::Xl);
        assert_eq!(dialect("/etc/xen/NG2", computed), Some(Dialect::Xm));
        let xml = "<domain type='kvm'><name>g</name><os><kernel>/k</kernel></os></domain>";
        assert_eq!(
            format_of("/etc/libvirt/qemu/g.xml", xml),
            DomainFormat::Libvirt
        );
        assert_eq!(dialect("/etc/libvirt/qemu/g.xml", xml), None);
        // A comment ending in a colon is not a block.
        assert_eq!(
            format_of("/etc/xen/a", "# note:\nx = 1\n"),
            DomainFormat::Xl
        );
    }

    #[test]
    fn errors_carry_the_position() {
        let e = parse_domain_file("/etc/xen/NG2", "kernel = \"/boot/x\n").unwrap_err();
        assert_eq!(e.to_string(), "cannot parse: 1:10: unterminated string");
        assert_eq!(
            (e.position(), e.message()),
            ((1, 10), "unterminated string")
        );
        let e = parse_domain_file("/x/g.xml", "<network/>").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("not a libvirt domain: 1:1: expected a <domain>")
        );
    }
}
