//! Arguments of every subcommand; the doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Update fleets of host-booted virtual machines (Xen PV guests, KVM direct kernel boot)
/// and the hosts that run them: facts -> plan -> apply -> verify, over ssh, in parallel.
///
/// Exit codes: 0 converged / nothing to change / every host OK, 1 a host failed, was skipped
/// or (`check`) is Not OK, 2 bad input (nothing was run), 3 `plan` found pending changes (or
/// an `apply` at a terminal was not confirmed), 4 a host was unreachable and none failed, 5 a
/// change was held back for safety (see the warnings), 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "vmup", version, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log what vmup does to standard error: -v connections and scripts, -vv the ssh
    /// negotiation too, -vvv everything vmup records. Never a script's body or a value.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Also append the log to FILE (at least what -vv shows; created mode 0600).
    #[arg(long = "log-file", value_name = "FILE", global = true)]
    pub log_file: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show, per host, the changes each step would make (with diffs); change nothing.
    Plan(RunArgs),
    /// Plan, apply the changes, and verify that every host converged; then the runbook's
    /// `recreate` and `reboot` steps, on the machines whose apply converged.
    Apply(RunArgs),
    /// Per host, OK or Not OK with the reasons, as gridpulse reports; change nothing.
    ///
    /// A host is Not OK when a step would change something (check-only steps included),
    /// cannot be planned or holds a change back, or, on a guest, when the kernel its host
    /// boots it with has no modules in it. An unreachable host is neither. Exit 0 when
    /// every host is OK, 1 when one is Not OK, failed or was skipped, 4 when one was
    /// unreachable and none of those.
    Check(CheckArgs),
    /// Show the facts vmup gathers from one host.
    Facts(FactsArgs),
    /// Per guest: installed kernels, the one its host boots, the running one, and whether
    /// the next boot will find its modules.
    Kernels(KernelsArgs),
    /// Per guest: will it boot? The chain from the host's config through the kernel, the
    /// guest's modules and the ramdisk's drivers to a console to log in on. Reads only.
    Doctor(DoctorArgs),
    /// Shut each guest's domain down on its host, start it again from its config, and wait
    /// until it answers ssh running the kernel its host boots. Refuses a guest the doctor
    /// says would not boot.
    Recreate(RecreateArgs),
    /// Reboot hosts without losing a guest: stop every guest a host runs, reboot it, prove
    /// the new boot, start the guests that ran and wait for each. Only hosts with guests
    /// or `role = "host"` are selected.
    Reboot(RecreateArgs),
    /// Run one command (or script) on every host PATTERN selects, in parallel: the seed's
    /// ssh for-loops. Output is grouped by identical result; exit 1 when a host's command
    /// failed, and the retry file names those hosts.
    Run(AdHocArgs),
    /// What earlier `apply`, `recreate` and `reboot` runs did: when, who, which command, per
    /// host its status and changes (with diffs, as the run reported them). Reads the
    /// history file those runs wrote (see `--history`).
    History(HistoryCmdArgs),
    /// Find .rpmnew, .rpmsave and .rpmorig files beside package config files, show their
    /// diffs, and resolve them.
    Conflicts(ConflictsArgs),
    /// Make one self-contained HTML page (no server, nothing fetched) from the `--json`
    /// output of runs: the summary, hosts grouped by outcome with their diffs, command
    /// output, errors and warnings, and the kernel matrix of `kernels`/`check` lines, with
    /// a filter box. Several FILEs merge, e.g. an apply and a `kernels --json` of the same
    /// fleet. Exit 0 once the page is written, 2 when a FILE is not vmup JSON lines.
    /// `report merge FILE...` makes the outputs of the N shards of one run (`--shard K/N`)
    /// into that run: one summary, one retry file, the run's own exit code.
    Report(ReportArgs),
    /// Build a throwaway local fleet and run the example runbook on it.
    Demo(DemoArgs),
    /// Print the shell completion script for bash, zsh or fish (e.g. `vmup completions bash
    /// > /etc/bash_completion.d/vmup`).
    Completions(CompletionsArgs),
    /// Print vmup's manual page (roff), or a subcommand's (`vmup man apply | man -l -`).
    Man(ManArgs),
}

impl Command {
    /// The subcommand's name, for the log (its arguments may hold values: never logged).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Plan(_) => "plan",
            Command::Apply(_) => "apply",
            Command::Check(_) => "check",
            Command::Facts(_) => "facts",
            Command::Kernels(_) => "kernels",
            Command::Doctor(_) => "doctor",
            Command::Recreate(_) => "recreate",
            Command::Reboot(_) => "reboot",
            Command::Run(_) => "run",
            Command::History(_) => "history",
            Command::Conflicts(_) => "conflicts",
            Command::Report(_) => "report",
            Command::Demo(_) => "demo",
            Command::Completions(_) => "completions",
            Command::Man(_) => "man",
        }
    }
}

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells completion scripts are made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// bash (bash-completion).
    Bash,
    /// zsh (compinit).
    Zsh,
    /// fish.
    Fish,
}

/// Arguments of `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (`vmup-apply(1)`); none: `vmup(1)`.
    #[arg(value_name = "SUBCOMMAND", conflicts_with = "list")]
    pub subcommand: Option<String>,
    /// List the subcommands that have a page, one per line.
    #[arg(long)]
    pub list: bool,
}

/// The long help of every `-i`: how the inventory's format is chosen (README "Inventory").
const INVENTORY_HELP: &str = "The machines: vmup's TOML inventory, an Ansible INI or YAML \
inventory, or an Ansible host list.

The format is chosen by extension: .toml is TOML; .yml, .yaml and .json are Ansible YAML; \
.ini and .cfg are Ansible INI. Any other file by its content: a first table [defaults], \
[hosts.NAME] or [groups.NAME] is TOML, a first line `---`, `{` or `NAME:` is YAML, anything else \
is Ansible INI (as /etc/ansible/hosts). A value holding a comma that is not an existing file \
is a host list (`-i web1,web2:2222,`): each host in group ungrouped with default settings. \
In Ansible inventories ansible_host, ansible_user, ansible_port and ansible_connection \
(ssh or local) set the address, user, port and transport, and vmup_role, vmup_host, \
vmup_domain, vmup_domain_config, vmup_root, vmup_transport, vmup_ssh_algorithms and \
vmup_cpus set vmup's own keys; every other variable is a template variable.";

/// A runbook over a fleet: what `plan`, `apply` and `check` all take.
#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`.
    #[arg(short = 'i', long, value_name = "INVENTORY", long_help = INVENTORY_HELP)]
    pub inventory: PathBuf,
    /// Runbook file (TOML) with the steps to run (for `check`: the steps hosts must satisfy).
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// Fleet selection and parallelism.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Set a template variable for every host, over the runbook's and the inventory's (repeatable).
    #[arg(short = 'e', long = "extra-var", value_name = "NAME=VALUE", value_parser = extra_var)]
    pub extra_vars: Vec<(String, String)>,
    /// Print one JSON object per host and a summary line, nothing else on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `plan` and `apply`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The runbook, the fleet and how to report.
    #[command(flatten)]
    pub run: RunbookArgs,
    /// Where `apply` writes the hosts that failed, were unreachable or skipped (removed when all converge).
    #[arg(long, value_name = "FILE", default_value = "vmup.retry")]
    pub retry_file: PathBuf,
    /// `plan`: save the plan in FILE (with what each host's plan was made from), for
    /// `apply --plan FILE` to apply exactly it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// `apply`: apply the plan saved in FILE, per host only if the host's plan made now is
    /// still that one (a file changed since refuses that host); the other hosts go on.
    #[arg(long, value_name = "FILE", conflicts_with = "out")]
    pub plan: Option<PathBuf>,
    /// `apply`: do not ask. On a terminal (standard input and error), `apply` first shows
    /// the plan and asks before changing more than --confirm-above hosts; never elsewhere.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// `apply`: ask on a terminal only when more than N hosts would change.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub confirm_above: usize,
    /// Where `apply` records the run (plan records nothing).
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// Where a run that changes machines is recorded.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Record the run (`apply`, `recreate`, `reboot`; `plan` records nothing) in this
    /// SQLite file [default: $VMUP_HISTORY, else
    /// $XDG_STATE_HOME/vmup/history.sqlite, else ~/.local/state/vmup/history.sqlite]. A
    /// file that cannot be written is a warning, never a failed run.
    #[arg(long = "history", value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Do not record the run in the history.
    #[arg(long, conflicts_with = "history")]
    pub no_history: bool,
}

/// Arguments of `history`.
#[derive(Debug, Args)]
pub struct HistoryCmdArgs {
    /// Only this host (its inventory name).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Only runs started at or after DATE, in UTC: 2026-11-24, 2026-11-24T10:00, or an age
    /// (30m, 12h, 7d, 2w).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Print one JSON object per recorded host-run: its `--json` line as the run printed
    /// it (changes included), with `run` (who, when, command, files, exit code), `part`
    /// and `booted_kernel`.
    #[arg(long)]
    pub json: bool,
    /// Read this history file [default: as `apply --history`].
    #[arg(long = "history", value_name = "FILE")]
    pub history: Option<PathBuf>,
}

/// Arguments of `check`: those of `plan`, without a retry file (nothing is applied).
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The runbook, the fleet and how to report.
    #[command(flatten)]
    pub run: RunbookArgs,
}

/// Which hosts, how many at once, and how to reach them.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated.
    #[arg(short = 'l', long, value_name = "PATTERN")]
    pub limit: Option<String>,
    /// Hosts worked on at once [default: 64, or fewer when the batch is smaller].
    #[arg(short = 'f', long, value_name = "N")]
    pub forks: Option<usize>,
    /// Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done.
    #[arg(long, value_name = "N|N%")]
    pub serial: Option<String>,
    /// Only shard K of N of the selected hosts (0-based, as Slurm's SLURM_ARRAY_TASK_ID and
    /// Kubernetes' JOB_COMPLETION_INDEX count): a stable part by a hash of each host's name,
    /// a guest always with its host. An empty shard runs nothing and succeeds.
    #[arg(long, value_name = "K/N", value_parser = vmup::engine::shard::Shard::parse)]
    pub shard: Option<vmup::engine::shard::Shard>,
    /// Stop starting hosts once more than N (or N%) have failed or were unreachable.
    #[arg(long, value_name = "N|N%")]
    pub max_fail: Option<String>,
    /// ssh_config file for ssh and openssh transports [default: ~/.ssh/config].
    #[arg(short = 'F', long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Seconds to wait for a connection.
    #[arg(long, value_name = "SECS", default_value_t = vmup::transport::connect::DEFAULT_CONNECT_TIMEOUT_SECS)]
    pub connect_timeout: u64,
    /// Seconds a remote script may run before the host fails [default: no limit].
    #[arg(long, value_name = "SECS")]
    pub command_timeout: Option<u64>,
    /// Run every remote script as root through `sudo -n sh -s` (or the host's
    /// `become_method`), for logins that are not root; as `become = true` on every host.
    /// Never prompts: a host whose sudo wants a password fails, naming the sudoers line.
    #[arg(long = "become")]
    pub become_root: bool,
}

/// Arguments of `facts`.
#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`.
    #[arg(short = 'i', long, value_name = "INVENTORY", long_help = INVENTORY_HELP)]
    pub inventory: PathBuf,
    /// The host to read (one host by name gets every fact listed), or a pattern as
    /// `--limit` takes; none: every host of the inventory, as a table.
    #[arg(value_name = "HOST", conflicts_with = "limit")]
    pub host: Option<String>,
    /// Gather exactly the facts this runbook needs (default: the seed's files).
    #[arg(long, value_name = "RUNBOOK")]
    pub runbook: Option<PathBuf>,
    /// Show only this fact (repeatable): hostname, cpus, kernel_release, an absolute path
    /// (its type, or a file's first line), or a command fact of the runbook by name.
    #[arg(long = "fact", value_name = "NAME")]
    pub facts: Vec<String>,
    /// Print one JSON object per host and a summary line, nothing else on stdout.
    #[arg(long)]
    pub json: bool,
    /// Fleet selection and parallelism.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct AdHocArgs {
    /// Inventory file (TOML).
    #[arg(short = 'i', long, value_name = "INVENTORY")]
    pub inventory: PathBuf,
    /// The hosts to run on: names, groups, globs, `!exclude`, `@FILE`, comma-separated
    /// (`--limit` narrows it further).
    #[arg(value_name = "PATTERN")]
    pub pattern: String,
    /// After `--`: the command. One word is a shell command line (`-- 'rpm -q kernel |
    /// tail -1'`); several words are a command and its arguments, each passed as it is.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
    /// Run this shell script's contents on each host instead of a command.
    #[arg(long, value_name = "FILE", conflicts_with = "command")]
    pub script: Option<PathBuf>,
    /// Fleet selection and parallelism.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Print one JSON object per host (with `exit_status`, `stdout`, `stderr`) and a
    /// summary line, nothing else on stdout.
    #[arg(long)]
    pub json: bool,
    /// Where to write the hosts whose command failed, were unreachable or skipped
    /// (removed when every host succeeds).
    #[arg(long, value_name = "FILE", default_value = "vmup.retry")]
    pub retry_file: PathBuf,
    /// Where the run is recorded (the command's output and exit status per host).
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// Arguments of `report`: `report FILE... --html OUT`, or `report merge FILE...`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReportArgs {
    /// `merge`, or none for the HTML page.
    #[command(subcommand)]
    pub action: Option<ReportAction>,
    /// JSON-lines files saved from `vmup apply --json > run.jsonl` (or plan, check,
    /// kernels, recreate); `-` reads standard input. Their runs are shown in this order.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Write the HTML page here (`-`: standard output).
    #[arg(long, value_name = "OUT", required = true)]
    pub html: Option<PathBuf>,
}

/// What `report` does besides the page.
#[derive(Debug, Subcommand)]
pub enum ReportAction {
    /// Merge the `--json` outputs of the N shards of one run (`--shard K/N`: the tasks of
    /// a Slurm job array, a Kubernetes Indexed Job) into one: each host's final line, one
    /// summary and one retry file. Refused (exit 2, nothing written) when a host is in two
    /// files, the files are of different commands or N, or a shard is missing or given
    /// twice. Otherwise exits as the whole run would have (0, 1, 3, 4, 5, 130).
    Merge(MergeArgs),
}

/// Arguments of `report merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' JSON-lines files (`vmup apply --json --shard K/N > run-K.jsonl`), all N
    /// of them; `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Print each host's final line and one summary line as JSON lines, nothing else.
    #[arg(long)]
    pub json: bool,
    /// Where to write the hosts that failed, were unreachable, were skipped or held back
    /// (removed when there are none), for the next run's `--limit @FILE`.
    #[arg(long, value_name = "FILE", default_value = "vmup.retry")]
    pub retry_file: PathBuf,
}

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Build the demo fleet here instead of a temporary directory (kept afterwards).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Arguments of `doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`.
    #[arg(short = 'i', long, value_name = "INVENTORY", long_help = INVENTORY_HELP)]
    pub inventory: PathBuf,
    /// Fleet selection and parallelism (guests are judged; their hosts are read).
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Also boot each guest's kernel, ramdisk and command line under QEMU on its host,
    /// with a throwaway snapshot of its disk, and judge the boot by its serial console.
    #[arg(long)]
    pub boot_test: bool,
    /// Seconds a boot test may take before it counts as failed.
    #[arg(long, value_name = "SECS", default_value_t = 90)]
    pub boot_test_timeout: u64,
    /// Print one JSON object per guest and a summary line, nothing else on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `recreate`.
#[derive(Debug, Args)]
pub struct RecreateArgs {
    /// Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`.
    #[arg(short = 'i', long, value_name = "INVENTORY", long_help = INVENTORY_HELP)]
    pub inventory: PathBuf,
    /// Fleet selection and parallelism (`--serial 1` recreates one guest at a time).
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Seconds a domain may take to shut down.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub shutdown_timeout: u64,
    /// Seconds a guest may take from being created to answering ssh.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub boot_timeout: u64,
    /// Recreate guests the doctor says would not boot, and destroy domains that do not
    /// shut down in time. Reported for each guest it applied to.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object per guest and a summary line, nothing else on stdout.
    #[arg(long)]
    pub json: bool,
    /// Where the run is recorded.
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// Arguments of `kernels`.
#[derive(Debug, Args)]
pub struct KernelsArgs {
    /// Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`.
    #[arg(short = 'i', long, value_name = "INVENTORY", long_help = INVENTORY_HELP)]
    pub inventory: PathBuf,
    /// Fleet selection and parallelism (guests are shown; their hosts are read for the
    /// domain configs).
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Print one JSON object per guest and a summary line, nothing else on stdout.
    #[arg(long)]
    pub json: bool,
}

/// How `conflicts --resolve` settles an `.rpmnew` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResolveArg {
    /// Keep the current file and remove the package's `.rpmnew`.
    Keep,
    /// Install the `.rpmnew` and keep the current file as `FILE.vmup-old`.
    New,
}

/// Arguments of `conflicts`.
#[derive(Debug, Args)]
pub struct ConflictsArgs {
    /// Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`.
    #[arg(short = 'i', long, value_name = "INVENTORY", long_help = INVENTORY_HELP)]
    pub inventory: PathBuf,
    /// Fleet selection and parallelism.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Resolve `.rpmnew` files this way (identical pairs are cleaned up too); without it,
    /// nothing is changed.
    #[arg(long, value_enum, value_name = "keep|new")]
    pub resolve: Option<ResolveArg>,
    /// Print one JSON object per host and a summary line, nothing else on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `-e NAME=VALUE`: a variable name templates can read, and its value as text.
fn extra_var(arg: &str) -> Result<(String, String), String> {
    let (name, value) = arg
        .split_once('=')
        .ok_or_else(|| format!("{arg:?} is not NAME=VALUE"))?;
    let ident = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        return Err(format!(
            "{name:?} is not a variable name (letters, digits, `_`, not starting with a digit)"
        ));
    }
    Ok((name.to_string(), value.to_string()))
}
