//! An initrd image opened on the host: whether it exists, when it was written, its checksum
//! and the kernel modules inside it.
//!
//! The seed's custom initrd exists to carry the Xen block and network drivers
//! (`mkinitrd --preload xenblk --preload xennet`): a guest whose ramdisk lacks them comes up
//! without its disk. The `initrd` step reads this fact to know whether a build is needed, the
//! same listing code proves a freshly built image before it replaces the old one
//! ([`INITRD_FN`]), and `vmup doctor` reads it to check the ramdisk a guest boots with.
//!
//! Opening an image, in order: `lsinitrd` (dracut) or `lsinitramfs` (initramfs-tools) when the
//! host has them; else `cpio -t` through the decompressor the magic bytes name (gzip, xz,
//! lzma, zstd, lz4, bzip2, or none), archive after archive, so an uncompressed early-microcode
//! cpio prepended to the compressed main archive is read past its `TRAILER!!!` and padding.

use std::collections::{BTreeMap, BTreeSet};

use crate::remote::script::Script;

use super::{CommandOutput, Fact, FactError};

/// File name endings of kernel modules, compressed or not, as initrd builders store them.
pub const MODULE_SUFFIXES: &[&str] = &[".ko", ".ko.xz", ".ko.zst", ".ko.gz"];

/// Shell functions that list an initrd image: `vmup_initrd_ls IMAGE` prints `via TOOL`, then
/// every entry of the image one per line, as the tool shows it (`lsinitrd` in `ls -l` form,
/// the others as paths), and exits non-zero when the image cannot be read.
///
/// The `cpio` fallback walks the image archive by archive: at each 512-byte boundary it reads
/// six bytes of magic; an uncompressed cpio (`070701`, `070702`) is listed by `cpio -t` from
/// that offset on the file itself (stdin seekable, so `wc -c` then says where cpio stopped:
/// GNU cpio reads whole 512-byte blocks, busybox's stops right after the trailer, so the next
/// archive is at the first boundary from there), zero blocks are padding, and the first
/// compressed archive is piped whole through its decompressor into `cpio -t`. `--quiet`
/// (GNU cpio's since before CentOS 4; busybox takes it too) keeps GNU's "N blocks" line out
/// of the listing, which is then the same whichever cpio made it.
pub const INITRD_FN: &str = r#"vmup_initrd_ls() {
  if command -v lsinitrd >/dev/null 2>&1; then echo 'via lsinitrd'; lsinitrd -- "$1"; return; fi
  if command -v lsinitramfs >/dev/null 2>&1; then echo 'via lsinitramfs'; lsinitramfs "$1"; return; fi
  echo 'via cpio'; vmup_initrd_cpio "$1"
}
vmup_initrd_cpio() {
  vi_size=$(wc -c < "$1") || return 1
  vi_off=0
  while [ "$vi_off" -lt "$vi_size" ]; do
    vi_m=$(tail -c +$((vi_off + 1)) -- "$1" 2>/dev/null | od -A n -t x1 -N 6 | tr -d ' \n')
    case $vi_m in
      30373037303[12])
        { vi_left=$( { dd bs=512 skip=$((vi_off / 512)) count=0 2>/dev/null; cpio -t --quiet >&3 || exit 1; wc -c; } < "$1"); } 3>&1 || return 1
        vi_off=$(( (vi_size - vi_left + 511) / 512 * 512 ))
        continue ;;
      000000000000) vi_off=$((vi_off + 512)); continue ;;
      1f8b*) vi_z='gzip -dc' ;;
      fd377a585a00) vi_z='xz -dc' ;;
      5d0000*) vi_z='xz -dc --format=lzma' ;;
      28b52ffd*) vi_z='zstd -dc' ;;
      04224d18*|02214c18*) vi_z='lz4 -dc' ;;
      425a68*) vi_z='bzip2 -dc' ;;
      *) echo "vmup: unknown initrd format at offset $vi_off (magic bytes $vi_m)"; return 1 ;;
    esac
    command -v "${vi_z%% *}" >/dev/null 2>&1 || { echo "vmup: ${vi_z%% *} is needed to read this initrd and is not installed"; return 1; }
    tail -c +$((vi_off + 1)) -- "$1" | $vi_z | cpio -t --quiet
    return
  done
}
"#;

/// An initrd image to open, and optionally the kernel image it must not be older than.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitrdImage {
    /// The image's absolute path on the host (under `$VMUP_ROOT` on a local tree). A
    /// symbolic link is followed (a stable `/boot` name is opened as what it names).
    pub path: String,
    /// The kernel image whose modification time is read too (`/boot/vmlinuz-RELEASE`).
    pub kernel: Option<String>,
}

impl InitrdImage {
    /// The image at `path`, with no kernel to compare it with.
    pub fn new(path: &str) -> InitrdImage {
        InitrdImage {
            path: path.to_string(),
            kernel: None,
        }
    }

    /// The image at `path` and the kernel image at `kernel`, whose mtimes are compared.
    pub fn with_kernel(path: &str, kernel: &str) -> InitrdImage {
        InitrdImage {
            path: path.to_string(),
            kernel: Some(kernel.to_string()),
        }
    }
}

/// What the facts saw at an initrd image's path and, when asked, at its kernel's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitrdFacts {
    /// The image.
    pub image: ImageState,
    /// The kernel image's modification time (seconds since the epoch): `None` when no kernel
    /// was asked for, `Some(None)` when it does not exist.
    pub kernel_mtime: Option<Option<i64>>,
}

/// What is at an initrd image's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageState {
    /// Nothing (or a symbolic link to nothing).
    Absent,
    /// Something that is not a regular file (a directory, a device): never replaced.
    NotAFile,
    /// A regular file, opened.
    Present(InitrdContents),
}

/// An opened initrd image: enough to tell whether it holds a kernel's drivers, and to
/// notice that it changed since it was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitrdContents {
    /// Names of the kernel modules inside, as the kernel names them: the file name without
    /// its `.ko`, `.ko.xz`, `.ko.zst` or `.ko.gz`, `-` written `_` (modprobe takes the two as
    /// one: `xen-blkfront.ko` is `xen_blkfront`). Any directory counts: dracut keeps them
    /// under `lib/modules/RELEASE/`, Red Hat's old mkinitrd in `/lib`.
    pub modules: BTreeSet<String>,
    /// The modules found under `lib/modules/RELEASE/`, by RELEASE: which kernel an image
    /// was built for (dracut, initramfs-tools).
    pub by_release: BTreeMap<String, BTreeSet<String>>,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// `cksum` of the bytes (`CRC SIZE`): what a replacement compares with, so an image
    /// rewritten since the facts were gathered is never overwritten.
    pub checksum: String,
    /// Which tool listed it: `lsinitrd`, `lsinitramfs` or `cpio`.
    pub lister: String,
    /// Number of lines of the listing: a listing of nothing shows as 0.
    pub entries: usize,
}

impl InitrdContents {
    /// Whether the image holds the module `name` (`-` and `_` alike), under any directory.
    pub fn has_module(&self, name: &str) -> bool {
        self.modules.contains(&module_name(name))
    }

    /// Whether kernel `release` booted with this image finds the module `name` in it: under
    /// `lib/modules/RELEASE/` when the image keeps modules by release (dracut,
    /// initramfs-tools; a module under another release's directory is never loaded), or
    /// anywhere when it keeps none that way (Red Hat's old mkinitrd puts them in `/lib`).
    pub fn has_module_for(&self, release: &str, name: &str) -> bool {
        match self.by_release.get(release) {
            Some(modules) => modules.contains(&module_name(name)),
            None => self.by_release.is_empty() && self.has_module(name),
        }
    }
}

/// A module's name as the kernel holds it: `-` read as `_`.
pub fn module_name(name: &str) -> String {
    name.replace('-', "_")
}

/// The module a listing line names, if it names one: the last path component minus a module
/// suffix, normalised by [`module_name`]. `ls -l` lines (lsinitrd) and plain paths alike; a
/// symbolic link line (`a -> b`) names its own path.
pub fn module_of_line(line: &str) -> Option<String> {
    let path = line.split(" -> ").next().unwrap_or(line).trim_end();
    let base = path.rsplit(['/', ' ']).next().unwrap_or(path);
    MODULE_SUFFIXES
        .iter()
        .find_map(|suffix| base.strip_suffix(suffix))
        .filter(|stem| !stem.is_empty())
        .map(module_name)
}

/// The kernel release a module line sits under (`.../lib/modules/RELEASE/...`), if any.
fn release_of_line(line: &str) -> Option<&str> {
    let (_, rest) = line.split_once("lib/modules/")?;
    let (release, _) = rest.split_once('/')?;
    (!release.is_empty()).then_some(release)
}

/// Reads a listing (the lines after `via TOOL`) into the modules it names.
pub fn parse_listing(lines: &[&str]) -> (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>) {
    let mut modules = BTreeSet::new();
    let mut by_release: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in lines {
        if let Some(module) = module_of_line(line) {
            if let Some(release) = release_of_line(line) {
                by_release
                    .entry(release.to_string())
                    .or_default()
                    .insert(module.clone());
            }
            modules.insert(module);
        }
    }
    (modules, by_release)
}

impl Fact for InitrdImage {
    type Value = InitrdFacts;

    fn name(&self) -> String {
        match &self.kernel {
            Some(kernel) => format!("initrd {} (kernel {kernel})", self.path),
            None => format!("initrd {}", self.path),
        }
    }

    fn script(&self, s: &mut Script) {
        s.code(INITRD_FN);
        if let Some(kernel) = &self.kernel {
            s.code("vmup_under");
            s.arg(kernel.as_bytes());
            s.code(
                " || { echo 'vmup: too many levels of symbolic links under the root'; exit 2; }\n\
                 if [ -f \"$R\" ]; then echo \"kernel $(stat -L -c %Y -- \"$R\")\"; else echo 'kernel absent'; fi\n",
            );
        }
        s.code("vmup_under");
        s.arg(self.path.as_bytes());
        s.code(
            " || { echo 'vmup: too many levels of symbolic links under the root'; exit 2; }\n\
             i=$R\n\
             if [ ! -e \"$i\" ]; then echo 'image absent'; exit 0; fi\n\
             [ -f \"$i\" ] || { echo 'image other'; exit 0; }\n\
             echo 'image file'\n\
             echo \"mtime $(stat -L -c %Y -- \"$i\")\"\n\
             echo \"sum $(cksum < \"$i\")\"\n\
             vmup_initrd_ls \"$i\" 2>&1",
        );
    }

    /// A listing that failed is an error (an image that cannot be read is not an empty one);
    /// so is a listing with no entry at all.
    fn parse(&self, output: &CommandOutput) -> Result<InitrdFacts, FactError> {
        if output.status != 0 {
            return Err(FactError::failed(&self.name(), output));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let malformed = |why: String| FactError::Malformed {
            fact: self.name(),
            why,
        };
        let mut lines = text.lines();
        let kernel_mtime = match &self.kernel {
            None => None,
            Some(_) => Some(match lines.next() {
                Some("kernel absent") => None,
                Some(line) => Some(
                    line.strip_prefix("kernel ")
                        .and_then(|t| t.trim().parse().ok())
                        .ok_or_else(|| malformed(format!("{line:?} is not a kernel mtime")))?,
                ),
                None => return Err(malformed("no output".into())),
            }),
        };
        let image = match lines.next() {
            Some("image absent") => ImageState::Absent,
            Some("image other") => ImageState::NotAFile,
            Some("image file") => {
                let mut field = |name: &str| -> Result<String, FactError> {
                    let line = lines.next().unwrap_or_default();
                    line.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix(' '))
                        .map(|v| v.trim().to_string())
                        .ok_or_else(|| malformed(format!("expected `{name} ...`, got {line:?}")))
                };
                let mtime = field("mtime")?;
                let mtime = mtime
                    .parse()
                    .map_err(|_| malformed(format!("mtime {mtime:?} is not a number")))?;
                let checksum = field("sum")?;
                let lister = field("via")?;
                let listing: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
                if listing.is_empty() {
                    return Err(malformed(format!(
                        "{lister} listed nothing in {}: the image is empty or unreadable",
                        self.path
                    )));
                }
                let (modules, by_release) = parse_listing(&listing);
                ImageState::Present(InitrdContents {
                    modules,
                    by_release,
                    mtime,
                    checksum,
                    lister,
                    entries: listing.len(),
                })
            }
            other => return Err(malformed(format!("unexpected first line {other:?}"))),
        };
        Ok(InitrdFacts {
            image,
            kernel_mtime,
        })
    }
}

/// The builders of initrd images a machine has on its `PATH` (`/sbin` and `/usr/sbin`
/// added, where CentOS keeps mkinitrd): `dracut`, Red Hat's `mkinitrd`. On a local tree these
/// are the controller's, which is what builds an image there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitrdTools;

impl Fact for InitrdTools {
    type Value = BTreeSet<String>;

    fn name(&self) -> String {
        "initrd tools".into()
    }

    fn script(&self, s: &mut Script) {
        s.code(
            "PATH=$PATH:/usr/sbin:/sbin\n\
             for t in dracut mkinitrd; do command -v \"$t\" >/dev/null 2>&1 && echo \"$t\"; done; :",
        );
    }

    fn parse(&self, output: &CommandOutput) -> Result<BTreeSet<String>, FactError> {
        if output.status != 0 {
            return Err(FactError::failed(&self.name(), output));
        }
        Ok(String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| matches!(*l, "dracut" | "mkinitrd"))
            .map(str::to_string)
            .collect())
    }
}

/// What a kernel's module directory says about some driver names: the aliases they are
/// (`xenblk` is `xen_blkfront` on a modern kernel), which of them and their targets are
/// modules (`modules.dep`) or compiled in (`modules.builtin`). Read with grep, only the lines
/// about the names asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelModules {
    /// The kernel release: `/lib/modules/RELEASE`.
    pub release: String,
    /// Driver names as a runbook gives them (letters, digits, `_`, `-`; validated by the
    /// resource, since they become part of a grep pattern).
    pub drivers: Vec<String>,
}

/// The module directory of a kernel, as far as some driver names go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModulesInfo {
    /// `/lib/modules/RELEASE` is a directory.
    pub exists: bool,
    /// It has a `modules.dep` (depmod was run): without one no tool can resolve a module.
    pub has_dep: bool,
    /// Alias -> the modules it names, both as [`module_name`] gives them.
    pub aliases: BTreeMap<String, BTreeSet<String>>,
    /// Names among the drivers and alias targets that are module files.
    pub modules: BTreeSet<String>,
    /// Names among them that are compiled into the kernel.
    pub builtin: BTreeSet<String>,
}

/// What a driver name is for one kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Driver {
    /// Compiled in (the module name): no initrd needs to carry it.
    Builtin(String),
    /// These modules (the name itself, or what it is an alias of): an image holds the
    /// driver when it holds one of them.
    Module(BTreeSet<String>),
    /// Neither a module nor an alias of one for this kernel.
    Unknown,
}

impl ModulesInfo {
    /// What `driver` is for this kernel.
    pub fn resolve(&self, driver: &str) -> Driver {
        let name = module_name(driver);
        let mut names: BTreeSet<String> = self.aliases.get(&name).cloned().unwrap_or_default();
        names.insert(name);
        if let Some(b) = names.iter().find(|n| self.builtin.contains(*n)) {
            return Driver::Builtin(b.clone());
        }
        let found: BTreeSet<String> = names
            .into_iter()
            .filter(|n| self.modules.contains(n))
            .collect();
        if found.is_empty() {
            Driver::Unknown
        } else {
            Driver::Module(found)
        }
    }
}

/// An extended regular expression matching any of `names` with `-` and `_` alike: names are
/// letters, digits, `_` and `-` only (the resource validates them), so nothing else needs
/// escaping.
pub fn names_pattern(names: &BTreeSet<String>) -> String {
    let alts: Vec<String> = names
        .iter()
        .map(|n| module_name(n).replace('_', "[-_]"))
        .collect();
    format!("({})", alts.join("|"))
}

impl Fact for KernelModules {
    type Value = ModulesInfo;

    fn name(&self) -> String {
        format!("kernel modules {} {}", self.release, self.drivers.join(" "))
    }

    fn script(&self, s: &mut Script) {
        let names: BTreeSet<String> = self.drivers.iter().cloned().collect();
        s.code("vmup_under");
        s.arg(format!("/lib/modules/{}", self.release).as_bytes());
        s.code(
            " || { echo 'vmup: too many levels of symbolic links under the root'; exit 2; }\n\
             d=$R\n\
             [ -d \"$d\" ] || { echo nodir; exit 0; }\n\
             echo dir\n\
             [ -f \"$d/modules.dep\" ] && echo has-dep\n\
             a=\n[ -f \"$d/modules.alias\" ] && a=$(grep -E",
        );
        s.arg(format!("^alias {} ", names_pattern(&names)).as_bytes());
        s.code(
            " \"$d/modules.alias\")\n\
             [ -n \"$a\" ] && printf '%s\\n' \"$a\"\n\
             n=$( { for w in",
        );
        for d in &self.drivers {
            s.arg(d.as_bytes());
        }
        s.code(
            "; do echo \"$w\"; done; [ -n \"$a\" ] && printf '%s\\n' \"$a\" | sed 's/^alias [^ ]* //'; } | tr - _ | sed 's/_/[-_]/g' | tr '\\n' '|')\n\
             n=\"(${n%|})\"\n\
             [ -f \"$d/modules.dep\" ] && grep -E \"(^|/)$n\\.ko(\\.xz|\\.zst|\\.gz)?:\" \"$d/modules.dep\" | sed 's/:.*//; s/^/dep /'\n\
             [ -f \"$d/modules.builtin\" ] && grep -E \"(^|/)$n\\.ko\\$\" \"$d/modules.builtin\" | sed 's/^/builtin /'\n:",
        );
    }

    fn parse(&self, output: &CommandOutput) -> Result<ModulesInfo, FactError> {
        if output.status != 0 {
            return Err(FactError::failed(&self.name(), output));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let mut info = ModulesInfo::default();
        for line in text.lines() {
            let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
            match kind {
                "dir" => info.exists = true,
                "nodir" => info.exists = false,
                "has-dep" => info.has_dep = true,
                "alias" => {
                    if let Some((alias, target)) = rest.split_once(' ') {
                        info.aliases
                            .entry(module_name(alias))
                            .or_default()
                            .insert(module_name(target.trim()));
                    }
                }
                "dep" | "builtin" => {
                    let set = if kind == "dep" {
                        &mut info.modules
                    } else {
                        &mut info.builtin
                    };
                    set.extend(module_of_line(rest));
                }
                _ => {}
            }
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests;
