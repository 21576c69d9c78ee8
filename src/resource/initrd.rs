//! `initrd`: an initrd image for a kernel that holds the named drivers, built with dracut or
//! Red Hat's mkinitrd and proven before it replaces the old one.
//!
//! The seed's "Creating a custom initrd": `mkinitrd --preload xenblk --preload xennet
//! --omit-scsi-modules /boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img 2.6.9-67.0.1.ELxenU`, on the
//! dom0 that holds the guests' kernels. Nothing is built when the image exists, is not older
//! than the kernel image and holds every driver. Otherwise the image is built into
//! `PATH.vmup-new.PID` beside it, listed with the same code as the fact
//! ([`INITRD_FN`]) and only renamed over the old one when every driver is in it: dracut exits 0
//! when a module it was asked to add does not exist, and leaves the whole list out. The rename
//! is compare-and-swap guarded by the old image's checksum as the facts saw it (before the
//! build, before and after the rename, through a hard link to the old inode, as
//! `remote::apply` replaces files), and the temporary files are removed whatever happens.
//!
//! A driver is looked up in the kernel's `modules.alias`, `modules.dep` and `modules.builtin`:
//! `xenblk` is `xen_blkfront` on a modern kernel, and a driver compiled into the kernel needs
//! no place in the image. `omit_scsi` (default true) is mkinitrd's `--omit-scsi-modules`
//! (the dom0's own SCSI adapters stay out); dracut's equivalent is `--no-hostonly`, a generic
//! image with none of the building machine's drivers singled out, while `omit_scsi = false`
//! gives dracut `--hostonly`. On a local tree the controller's dracut builds the image from the
//! tree's modules (`--kmoddir`); mkinitrd cannot, and is refused there.
//!
//! A kernel that an earlier step of the same run installs (a `packages` transaction whose
//! preview names a kernel package providing the release) is not there when the facts are
//! read: the build is then planned after that step, and the drivers are looked up in its
//! `/lib/modules/RELEASE` by the apply script itself, once the package is in, with the same
//! rules; the proof and the compare-and-swap are the same. So one run updates the kernel and
//! builds its image, as the seed does by hand.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::guards::LocalTree;
use crate::facts::initrd::{
    Driver, INITRD_FN, ImageState, InitrdImage, InitrdTools, KernelModules, MODULE_SUFFIXES,
    names_pattern,
};
use crate::facts::{Fact, FactKey, PathFact};
use crate::formats::rpmqa::ReleaseShape;
use crate::remote::Action;
use crate::remote::script::Script;

use super::spec::{self, SpecError};
use super::{FromSpec, HostView, PlanError, Planned, Resource, Scope, StepPlan, stat_fact};

/// The `initrd = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitrdSpec {
    /// The kernel release, as `/boot/vmlinuz-RELEASE` and `/lib/modules/RELEASE` name it.
    pub kernel: Spanned<String>,
    /// The image to build, e.g. `/boot/initrd-RELEASE-xendrv.img`.
    pub path: Spanned<String>,
    /// Drivers the image must hold (module names or aliases: `xenblk`, `virtio_blk`).
    pub drivers: Spanned<Vec<String>>,
    /// Leave the building machine's SCSI drivers out (default true).
    pub omit_scsi: Option<bool>,
    /// `auto` (default: dracut when the machine has it, else mkinitrd), `dracut` or
    /// `mkinitrd`.
    pub tool: Option<Spanned<String>>,
}

/// Which builder a step asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Auto,
    Dracut,
    Mkinitrd,
}

/// How the apply script proves the drivers are in the new image.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Proofs {
    /// Per driver, the grep pattern the plan resolved from the kernel's module files.
    Known(Vec<(String, String)>),
    /// The kernel is installed by an earlier step of the run: each driver is resolved by
    /// the script in `/lib/modules/RELEASE` once it exists (`dracut`: only modules under
    /// that release count).
    AtApply { in_release: bool },
}

/// A validated `initrd` step.
#[derive(Debug, Clone)]
pub struct InitrdResource {
    release: String,
    path: String,
    drivers: Vec<String>,
    omit_scsi: bool,
    tool: Tool,
    image: InitrdImage,
    modules: KernelModules,
}

/// Letters, digits and `extra`, not starting with `-` (never read as an option).
fn plain(value: &str, extra: &str) -> bool {
    !value.is_empty()
        && !value.starts_with('-')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

impl FromSpec for InitrdResource {
    type Spec = InitrdSpec;

    fn from_spec(spec: &InitrdSpec) -> Result<InitrdResource, SpecError> {
        let release = spec.kernel.get_ref();
        if !plain(release, "._+-") || release.starts_with('.') {
            return Err(SpecError::at(
                spec.kernel.span(),
                format!("`kernel` must be a kernel release such as \"2.6.9-67.0.1.ELxenU\", got {release:?}"),
            ));
        }
        let path = spec::path("path", &spec.path)?;
        let drivers = spec.drivers.get_ref();
        if drivers.is_empty() {
            return Err(SpecError::at(
                spec.drivers.span(),
                "`drivers` names the modules the image must hold, e.g. [\"xenblk\", \"xennet\"]",
            ));
        }
        if let Some(bad) = drivers.iter().find(|d| !plain(d, "_-")) {
            return Err(SpecError::at(
                spec.drivers.span(),
                format!("{bad:?} is not a module name (letters, digits, `_`, `-`)"),
            ));
        }
        let tool = match spec.tool.as_ref().map(|t| (t.get_ref().as_str(), t.span())) {
            None | Some(("auto", _)) => Tool::Auto,
            Some(("dracut", _)) => Tool::Dracut,
            Some(("mkinitrd", _)) => Tool::Mkinitrd,
            Some((other, span)) => {
                return Err(SpecError::at(
                    span,
                    format!("`tool` is \"auto\", \"dracut\" or \"mkinitrd\", got {other:?}"),
                ));
            }
        };
        Ok(InitrdResource {
            release: release.clone(),
            image: InitrdImage::with_kernel(&path, &format!("/boot/vmlinuz-{release}")),
            modules: KernelModules {
                release: release.clone(),
                drivers: drivers.clone(),
            },
            path,
            drivers: drivers.clone(),
            omit_scsi: spec.omit_scsi.unwrap_or(true),
            tool,
        })
    }
}

/// The builder chosen for a host, with what it needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builder {
    Dracut,
    Mkinitrd,
}

impl Builder {
    fn name(self) -> &'static str {
        match self {
            Builder::Dracut => "dracut",
            Builder::Mkinitrd => "mkinitrd",
        }
    }
}

impl InitrdResource {
    fn kernel_path(&self) -> String {
        format!("/boot/vmlinuz-{}", self.release)
    }

    /// The earlier step of this run whose transaction installs a kernel package providing
    /// this release, whichever way its distribution spells releases.
    fn installed_by(&self, view: &HostView<'_>) -> Option<String> {
        view.pending_packages().iter().find_map(|(step, tx)| {
            let package = tx.package()?;
            let provides = tx.action != crate::formats::dnftx::TxAction::Remove
                && package.name.starts_with("kernel")
                && ReleaseShape::ALL
                    .iter()
                    .any(|shape| shape.release(&package) == self.release);
            provides.then(|| step.clone())
        })
    }

    /// The mode the new image gets: the old one's, or 0600.
    fn target_mode(&self, view: &HostView<'_>) -> Result<u32, PlanError> {
        match view.path(&self.path)? {
            PathFact::Symlink { .. } => Err(PlanError::Refused(format!(
                "{} is a symbolic link: give the image's own path (a stable name is a `symlink` step)",
                self.path
            ))),
            PathFact::File { mode, .. } => Ok(*mode),
            PathFact::Absent => Ok(0o600),
            _ => Err(not_a_file(&self.path)),
        }
    }

    /// The build of an image for a kernel that `step` installs in this run: its drivers
    /// are resolved and proven by the apply script once the kernel is in.
    fn plan_after_install(
        &self,
        view: &HostView<'_>,
        image: &ImageState,
        step: &str,
    ) -> Result<StepPlan, PlanError> {
        let mode = self.target_mode(view)?;
        let builder = self.builder(view)?;
        let checksum = match image {
            ImageState::NotAFile => return Err(not_a_file(&self.path)),
            ImageState::Absent => None,
            ImageState::Present(c) => Some(c.checksum.as_str()),
        };
        let proofs = Proofs::AtApply {
            in_release: builder == Builder::Dracut,
        };
        let script = self.script(builder, &proofs, checksum, mode)?;
        let drivers = self.drivers.join(", ");
        Ok(StepPlan {
            changes: vec![Planned {
                summary: format!(
                    "build {} with {} (drivers: {drivers}; reason: kernel {} is installed by {step} first)",
                    self.path,
                    builder.name(),
                    self.release
                ),
                action: Action::Run { script },
                detail: Some(format!(
                    "{}\nthen listed: renamed over {} only if it holds {drivers}, each looked up in /lib/modules/{} once {step} has installed it",
                    self.shown_command(builder),
                    self.path,
                    self.release
                )),
            }],
            ..StepPlan::default()
        })
    }

    /// The builder this host will use, or why there is none.
    fn builder(&self, view: &HostView<'_>) -> Result<Builder, PlanError> {
        let tools = view.get(&InitrdTools)?;
        let has = |b: Builder| tools.contains(b.name());
        let chosen = match self.tool {
            Tool::Auto if has(Builder::Dracut) => Builder::Dracut,
            Tool::Auto if has(Builder::Mkinitrd) => Builder::Mkinitrd,
            Tool::Auto => {
                return Err(PlanError::Refused(format!(
                    "neither dracut nor mkinitrd is installed on this machine, so {} cannot be built: install dracut (Debian: dracut-core) or mkinitrd",
                    self.path
                )));
            }
            Tool::Dracut => Builder::Dracut,
            Tool::Mkinitrd => Builder::Mkinitrd,
        };
        if !has(chosen) {
            return Err(PlanError::Refused(format!(
                "{0} is not installed on this machine (tool = \"{0}\"): install it, or set tool = \"auto\"",
                chosen.name()
            )));
        }
        if chosen == Builder::Mkinitrd && view.get(&LocalTree)? {
            return Err(PlanError::Refused(
                "mkinitrd cannot build from a local tree's modules (it has no modules directory option): use tool = \"dracut\" there, or run the step on the machine itself".into(),
            ));
        }
        Ok(chosen)
    }

    /// The build command, writing `"$t"` from the modules in `"$m"`.
    fn command(&self, s: &mut Script, builder: Builder) {
        match builder {
            Builder::Dracut => {
                s.code("dracut --force");
                s.code(if self.omit_scsi { " --no-hostonly" } else { " --hostonly" });
                s.code(" --kver").arg(self.release.as_bytes());
                s.code(" --kmoddir \"$m\" --add-drivers");
                s.arg(self.drivers.join(" ").as_bytes());
                s.code(" -- \"$t\"");
            }
            Builder::Mkinitrd => {
                // Red Hat's mkinitrd reads its arguments by hand and knows no `--`; the image
                // path is absolute and the release cannot start with `-`.
                s.code("mkinitrd");
                for d in &self.drivers {
                    s.arg(format!("--preload={d}").as_bytes());
                }
                if self.omit_scsi {
                    s.code(" --omit-scsi-modules");
                }
                s.code(" \"$t\"").arg(self.release.as_bytes());
            }
        }
    }

    /// The command as the plan shows it.
    fn shown_command(&self, builder: Builder) -> String {
        let drivers = self.drivers.join(" ");
        match builder {
            Builder::Dracut => format!(
                "dracut --force {} --kver {} --kmoddir /lib/modules/{} --add-drivers '{drivers}' {}.vmup-new.PID",
                if self.omit_scsi { "--no-hostonly" } else { "--hostonly" },
                self.release,
                self.release,
                self.path
            ),
            Builder::Mkinitrd => format!(
                "mkinitrd {}{} {}.vmup-new.PID {}",
                self.drivers
                    .iter()
                    .map(|d| format!("--preload={d}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                if self.omit_scsi { " --omit-scsi-modules" } else { "" },
                self.path,
                self.release
            ),
        }
    }

    /// The apply script: build into the temporary file, prove every driver is in it, then
    /// swap it in guarded by `checksum` (None: the image must still be absent).
    fn script(
        &self,
        builder: Builder,
        proofs: &Proofs,
        checksum: Option<&str>,
        mode: u32,
    ) -> Result<Vec<u8>, PlanError> {
        let shown_path = self.path.as_bytes();
        let mut s = Script::new();
        s.code("PATH=$PATH:/usr/sbin:/sbin\n").code(INITRD_FN);
        s.code("vmup_initrd_at() { vmup_under \"$1\" || { echo \"vmup: $1: too many levels of symbolic links under the root\"; exit 1; }; }\n");
        s.code("vmup_initrd_at").arg(shown_path).code("; p=$R\n");
        s.code("vmup_initrd_at")
            .arg(format!("/lib/modules/{}", self.release).as_bytes())
            .code("; m=$R\n");
        s.code("P=").word(shown_path).newline();
        s.code(
            "t=\"$p.vmup-new.$$\"; o=\n\
             trap 'rm -f -- \"$t\" \"$o\"' 0\n\
             trap 'rm -f -- \"$t\" \"$o\"; exit 143' 15\n\
             d=${p%/*}; [ -d \"${d:-/}\" ] || { echo \"vmup: the directory of $P does not exist\"; exit 1; }\n",
        );
        // What the facts saw: the same image (its checksum), or nothing.
        match checksum {
            Some(sum) => {
                s.code("vmup_initrd_same() { vmup_isfile \"$1\" && [ \"$(cksum < \"$1\")\" =")
                    .arg(sum.as_bytes())
                    .code(" ]; }\n");
            }
            None => {
                s.code("vmup_initrd_same() { vmup_absent \"$1\"; }\n");
            }
        }
        if let Proofs::AtApply { .. } = proofs {
            // The kernel an earlier step installed: it must be there now, with its modules.
            s.code("vmup_initrd_at").arg(self.kernel_path().as_bytes()).code("; k=$R\n");
            s.code("[ -f \"$k\" ] || { echo ")
                .arg(format!("vmup: {} is not there after the earlier step installed kernel {}; nothing was built", self.kernel_path(), self.release).as_bytes())
                .code("; exit 1; }\n");
            s.code("[ -f \"$m/modules.dep\" ] || { echo ")
                .arg(format!("vmup: /lib/modules/{} has no modules.dep after the earlier step installed it; nothing was built", self.release).as_bytes())
                .code("; exit 1; }\n");
            s.code(RESOLVE_FN);
        }
        s.code(
            "vmup_initrd_same \"$p\" || { echo \"vmup: $P changed since facts were gathered; nothing was built\"; exit 1; }\n\
             rm -f -- \"$t\"\nout=$(",
        );
        self.command(&mut s, builder);
        s.code(&format!(
            " 2>&1 </dev/null); st=$?\n\
             [ -z \"$out\" ] || printf '%s\\n' \"$out\"\n\
             [ $st = 0 ] || {{ echo \"vmup: {b} failed (exit status $st) building $P; it is left as it was\"; exit 1; }}\n\
             [ -f \"$t\" ] || {{ echo \"vmup: {b} exited 0 but wrote no image; $P is left as it was\"; exit 1; }}\n\
             chmod {mode:o} \"$t\" || exit 1\n\
             l=$(vmup_initrd_ls \"$t\" 2>&1) || {{ printf '%s\\n' \"$l\" | tail -n 5; echo \"vmup: the new image cannot be listed; $P is left as it was\"; exit 1; }}\n\
             miss=; mw=\n",
            b = builder.name()
        ));
        let missing = |s: &mut Script, driver: &str| {
            s.code(" >/dev/null || { miss=\"$miss, \"")
                .word(driver.as_bytes())
                .code("; mw=\"$mw\n\"")
                .word(driver.as_bytes())
                .code("; }");
        };
        match proofs {
            Proofs::Known(known) => {
                for (driver, pattern) in known {
                    // Not `grep -q`: it would stop reading early, and printf, with SIGPIPE
                    // ignored by the apply script, would complain of the closed pipe.
                    s.code("printf '%s\\n' \"$l\" | grep -E").arg(pattern.as_bytes());
                    missing(&mut s, driver);
                    s.newline();
                }
            }
            Proofs::AtApply { in_release } => {
                let release = in_release.then_some(self.release.as_str());
                let (before, after) = proof_parts(release);
                for driver in &self.drivers {
                    // Compiled in: nothing to prove. Else a module of the name or of what
                    // it is an alias of, as the fact resolves it at plan time.
                    s.code("n=$(vmup_initrd_names").arg(driver.as_bytes()).code(")\n");
                    s.code("[ -f \"$m/modules.builtin\" ] && grep -E \"(^|/)($n)\\.ko\\$\" \"$m/modules.builtin\" >/dev/null || printf '%s\\n' \"$l\" | grep -E ")
                        .word(before.as_bytes())
                        .code("\"($n)\"")
                        .word(after.as_bytes());
                    missing(&mut s, driver);
                    s.newline();
                }
            }
        }
        s.code(&format!(
            "if [ -n \"$miss\" ]; then\n\
             e=$(printf '%s\\n' \"$out\" | grep -iE 'fail|error|warn|cannot|not found')\n\
             said=$(printf '%s\\n' \"$e\" | grep -F \"${{mw#?}}\" | tail -n 3)\n\
             [ -n \"$said\" ] || said=$(printf '%s\\n' \"$e\" | tail -n 3)\n\
             said=$(printf '%s\\n' \"$said\" | tr '\\n' '|' | sed 's/|$//; s/|/ \\/ /g')\n\
             echo \"vmup: initrd built without ${{miss#, }}: {b} exited 0 but the image lacks it${{said:+ ({b} said: $said)}}; $P is left as it was\"\n\
             exit 1\nfi\n\
             echo \"vmup: the new image holds every driver ($(printf '%s\\n' \"$l\" | sed -n 1p))\"\n",
            b = builder.name()
        ));
        if checksum.is_some() {
            s.code(
                "o=\"$p.vmup-old.$$\"\n\
                 ln -- \"$p\" \"$o\" || { echo \"vmup: cannot link $o\"; exit 1; }\n\
                 vmup_initrd_same \"$o\" || { echo \"vmup: $P changed since facts were gathered; left as the other writer left it\"; exit 1; }\n\
                 mv -f -- \"$t\" \"$p\" || { echo \"vmup: cannot rename $t to $p\"; exit 1; }\n\
                 vmup_initrd_same \"$o\" || { mv -f -- \"$o\" \"$p\"; o=; echo \"vmup: $P was written while it was being replaced; the other writer's content is back\"; exit 1; }\n\
                 rm -f -- \"$o\"; o=\n",
            );
        } else {
            s.code(
                "ln -- \"$t\" \"$p\" 2>/dev/null || { echo \"vmup: $P appeared since facts were gathered; left as it is\"; exit 1; }\n\
                 rm -f -- \"$t\"\n",
            );
        }
        s.finish().map_err(|e| PlanError::Internal(e.to_string()))
    }
}

/// The shell function that prints the module names a driver may be, as an extended
/// regular expression's alternatives (`-` and `_` alike): the name and the modules
/// `modules.alias` says it is an alias of, in the kernel's modules directory `$m`.
const RESOLVE_FN: &str = "vmup_initrd_names() {\n\
    w=$(printf '%s' \"$1\" | tr - _)\n\
    a=\n\
    [ -f \"$m/modules.alias\" ] && a=$(awk -v w=\"$w\" '$1 == \"alias\" { x = $2; gsub(/-/, \"_\", x); if (x == w) print $3 }' \"$m/modules.alias\")\n\
    printf '%s\\n' \"$w\" $a | tr - _ | sort -u | sed 's/_/[-_]/g' | tr '\\n' '|' | sed 's/|$//'\n\
}\n";

/// A proof pattern's text before and after the module names' group: `(^|[/ ])` and the
/// release's directory (dracut), then `\.ko` and the compressed suffixes.
fn proof_parts(release: Option<&str>) -> (String, String) {
    let suffixes: Vec<String> = MODULE_SUFFIXES
        .iter()
        .map(|s| s.trim_start_matches(".ko").replace('.', "\\."))
        .filter(|s| !s.is_empty())
        .collect();
    // A release is letters, digits and `._+-` (validated): `.` and `+` made literal.
    let dir = release
        .map(|r| format!("lib/modules/{}/(.*/)?", r.replace('.', "[.]").replace('+', "[+]")))
        .unwrap_or_default();
    (
        format!("(^|[/ ]){dir}"),
        format!("\\.ko({})?$", suffixes.join("|")),
    )
}

/// The grep pattern that finds one of `names` as a module file in a listing line.
/// `release`: only under `lib/modules/RELEASE/` (dracut keeps modules by release, and a
/// module under another release's directory is never loaded); None: anywhere (mkinitrd).
fn proof_pattern(names: &std::collections::BTreeSet<String>, release: Option<&str>) -> String {
    let (before, after) = proof_parts(release);
    format!("{before}{}{after}", names_pattern(names))
}

impl Resource for InitrdResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.path)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        vec![
            stat_fact(&self.path),
            self.image.key(),
            self.modules.key(),
            InitrdTools.key(),
            LocalTree.key(),
        ]
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let seen = view.get(&self.image).map_err(|e| match e {
            PlanError::Refused(why) => PlanError::Refused(format!(
                "{} cannot be read as an initrd ({why}): move it aside or remove it, and the step builds a new one",
                self.path
            )),
            other => other,
        })?;
        let installer = self.installed_by(view);
        let Some(Some(kernel_mtime)) = seen.kernel_mtime else {
            if let Some(step) = installer {
                return self.plan_after_install(view, &seen.image, &step);
            }
            return Err(PlanError::Refused(format!(
                "the kernel image {} does not exist on this machine: install kernel {} here first (or correct `kernel`)",
                self.kernel_path(),
                self.release
            )));
        };
        let info = view.get(&self.modules)?;
        if !info.exists {
            if let Some(step) = installer {
                return self.plan_after_install(view, &seen.image, &step);
            }
            return Err(PlanError::Refused(format!(
                "/lib/modules/{0} does not exist on this machine: the image's drivers come from there; install kernel {0}'s modules here first",
                self.release
            )));
        }
        if !info.has_dep {
            return Err(PlanError::Refused(format!(
                "/lib/modules/{0} has no modules.dep, so no tool can find its modules: run `depmod {0}` there first",
                self.release
            )));
        }
        let mode = self.target_mode(view)?;
        let builder = self.builder(view)?;
        let image = match &seen.image {
            ImageState::NotAFile => return Err(not_a_file(&self.path)),
            ImageState::Absent => None,
            ImageState::Present(c) => Some(c),
        };
        let in_release = (builder == Builder::Dracut).then_some(self.release.as_str());
        // Per driver: what the image must hold (None: compiled in), and a word for reports.
        let mut proofs = Vec::new();
        let mut held = Vec::new();
        let mut proven = Vec::new();
        let mut lacking = Vec::new();
        let mut remarks = Vec::new();
        for d in &self.drivers {
            match info.resolve(d) {
                Driver::Builtin(m) => {
                    remarks.push(format!("{d} is built into kernel {} ({m})", self.release));
                }
                Driver::Module(names) => {
                    let as_names = names.iter().cloned().collect::<Vec<_>>().join(" or ");
                    held.push(if as_names == crate::facts::initrd::module_name(d) {
                        d.clone()
                    } else {
                        format!("{d} ({as_names})")
                    });
                    proven.extend(held.last().cloned());
                    if !image.is_some_and(|c| names.iter().any(|n| c.has_module_for(&self.release, n))) {
                        lacking.push(d.clone());
                    }
                    proofs.push((d.clone(), proof_pattern(&names, in_release)));
                }
                Driver::Unknown => {
                    remarks.push(format!(
                        "{d} is neither a module nor an alias of one in /lib/modules/{}: a build cannot hold it, and its proof will fail",
                        self.release
                    ));
                    lacking.push(d.clone());
                    proven.push(d.clone());
                    let names = [crate::facts::initrd::module_name(d)].into_iter().collect();
                    proofs.push((d.clone(), proof_pattern(&names, in_release)));
                }
            }
        }
        let mut reasons = Vec::new();
        match image {
            None => reasons.push("missing".to_string()),
            Some(c) => {
                if c.mtime < kernel_mtime {
                    reasons.push("older than the kernel".to_string());
                }
                if !lacking.is_empty() {
                    reasons.push(format!("lacks {}", lacking.join(", ")));
                }
            }
        }
        if reasons.is_empty() {
            let mut note = format!(
                "{} holds {} and is not older than {}",
                self.path,
                if held.is_empty() { "no module it needs".to_string() } else { held.join(", ") },
                self.kernel_path()
            );
            for r in &remarks {
                note.push_str("; ");
                note.push_str(r);
            }
            return Ok(StepPlan::unchanged(note));
        }
        let script = self.script(
            builder,
            &Proofs::Known(proofs),
            image.map(|c| c.checksum.as_str()),
            mode,
        )?;
        let mut detail = vec![self.shown_command(builder)];
        detail.push(if proven.is_empty() {
            format!(
                "then listed: renamed over {} once it reads as an initrd (every driver is built into the kernel)",
                self.path
            )
        } else {
            format!(
                "then listed: renamed over {} only if it holds {}",
                self.path,
                proven.join(", ")
            )
        });
        detail.extend(remarks);
        Ok(StepPlan {
            changes: vec![Planned {
                summary: format!(
                    "build {} with {} (drivers: {}; reason: {})",
                    self.path,
                    builder.name(),
                    self.drivers.join(", "),
                    reasons.join(", ")
                ),
                action: Action::Run { script },
                detail: Some(detail.join("\n")),
            }],
            ..StepPlan::default()
        })
    }
}

fn not_a_file(path: &str) -> PlanError {
    PlanError::Refused(format!(
        "{path} exists and is not a regular file: it is never replaced by an image"
    ))
}

#[cfg(test)]
mod tests;
