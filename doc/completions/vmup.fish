# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_vmup_global_optspecs
    string join \n v/verbose log-file= h/help V/version
end

function __fish_vmup_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_vmup_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_vmup_using_subcommand
    set -l cmd (__fish_vmup_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c vmup -n "__fish_vmup_needs_command" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_needs_command" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_needs_command" -s V -l version -d 'Print version'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "plan" -d 'Show, per host, the changes each step would make (with diffs); change nothing'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "apply" -d 'Plan, apply the changes, and verify that every host converged; then the runbook\'s `recreate` and `reboot` steps, on the machines whose apply converged'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "check" -d 'Per host, OK or Not OK with the reasons, as gridpulse reports; change nothing'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "facts" -d 'Show the facts vmup gathers from one host'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "kernels" -d 'Per guest: installed kernels, the one its host boots, the running one, and whether the next boot will find its modules'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "doctor" -d 'Per guest: will it boot? The chain from the host\'s config through the kernel, the guest\'s modules and the ramdisk\'s drivers to a console to log in on. Reads only'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "recreate" -d 'Shut each guest\'s domain down on its host, start it again from its config, and wait until it answers ssh running the kernel its host boots. Refuses a guest the doctor says would not boot'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "reboot" -d 'Reboot hosts without losing a guest: stop every guest a host runs, reboot it, prove the new boot, start the guests that ran and wait for each. Only hosts with guests or `role = "host"` are selected'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "run" -d 'Run one command (or script) on every host PATTERN selects, in parallel: the seed\'s ssh for-loops. Output is grouped by identical result; exit 1 when a host\'s command failed, and the retry file names those hosts'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "history" -d 'What earlier `apply`, `recreate` and `reboot` runs did: when, who, which command, per host its status and changes (with diffs, as the run reported them). Reads the history file those runs wrote (see `--history`)'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "conflicts" -d 'Find .rpmnew, .rpmsave and .rpmorig files beside package config files, show their diffs, and resolve them'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "report" -d 'Make one self-contained HTML page (no server, nothing fetched) from the `--json` output of runs: the summary, hosts grouped by outcome with their diffs, command output, errors and warnings, and the kernel matrix of `kernels`/`check` lines, with a filter box. Several FILEs merge, e.g. an apply and a `kernels --json` of the same fleet. Exit 0 once the page is written, 2 when a FILE is not vmup JSON lines. `report merge FILE...` makes the outputs of the N shards of one run (`--shard K/N`) into that run: one summary, one retry file, the run\'s own exit code'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "demo" -d 'Build a throwaway local fleet and run the example runbook on it'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "completions" -d 'Print the shell completion script for bash, zsh or fish (e.g. `vmup completions bash > /etc/bash_completion.d/vmup`)'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "man" -d 'Print vmup\'s manual page (roff), or a subcommand\'s (`vmup man apply | man -l -`)'
complete -c vmup -n "__fish_vmup_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vmup -n "__fish_vmup_using_subcommand plan" -s i -l inventory -d 'Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand plan" -s l -l limit -d 'Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated' -r
complete -c vmup -n "__fish_vmup_using_subcommand plan" -s f -l forks -d 'Hosts worked on at once [default: 64, or fewer when the batch is smaller]' -r
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l serial -d 'Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done' -r
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l shard -d 'Only shard K of N of the selected hosts (0-based, as Slurm\'s SLURM_ARRAY_TASK_ID and Kubernetes\' JOB_COMPLETION_INDEX count): a stable part by a hash of each host\'s name, a guest always with its host. An empty shard runs nothing and succeeds' -r
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l max-fail -d 'Stop starting hosts once more than N (or N%) have failed or were unreachable' -r
complete -c vmup -n "__fish_vmup_using_subcommand plan" -s F -l ssh-config -d 'ssh_config file for ssh and openssh transports [default: ~/.ssh/config]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l command-timeout -d 'Seconds a remote script may run before the host fails [default: no limit]' -r
complete -c vmup -n "__fish_vmup_using_subcommand plan" -s e -l extra-var -d 'Set a template variable for every host, over the runbook\'s and the inventory\'s (repeatable)' -r
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l retry-file -d 'Where `apply` writes the hosts that failed, were unreachable or skipped (removed when all converge)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l out -d '`plan`: save the plan in FILE (with what each host\'s plan was made from), for `apply --plan FILE` to apply exactly it' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l plan -d '`apply`: apply the plan saved in FILE, per host only if the host\'s plan made now is still that one (a file changed since refuses that host); the other hosts go on' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l confirm-above -d '`apply`: ask on a terminal only when more than N hosts would change' -r
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l history -d 'Record the run (`apply`, `recreate`, `reboot`; `plan` records nothing) in this SQLite file [default: $VMUP_HISTORY, else $XDG_STATE_HOME/vmup/history.sqlite, else ~/.local/state/vmup/history.sqlite]. A file that cannot be written is a warning, never a failed run' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l become -d 'Run every remote script as root through `sudo -n sh -s` (or the host\'s `become_method`), for logins that are not root; as `become = true` on every host. Never prompts: a host whose sudo wants a password fails, naming the sudoers line'
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l json -d 'Print one JSON object per host and a summary line, nothing else on stdout'
complete -c vmup -n "__fish_vmup_using_subcommand plan" -s y -l yes -d '`apply`: do not ask. On a terminal (standard input and error), `apply` first shows the plan and asks before changing more than --confirm-above hosts; never elsewhere'
complete -c vmup -n "__fish_vmup_using_subcommand plan" -l no-history -d 'Do not record the run in the history'
complete -c vmup -n "__fish_vmup_using_subcommand plan" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_using_subcommand apply" -s i -l inventory -d 'Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand apply" -s l -l limit -d 'Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated' -r
complete -c vmup -n "__fish_vmup_using_subcommand apply" -s f -l forks -d 'Hosts worked on at once [default: 64, or fewer when the batch is smaller]' -r
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l serial -d 'Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done' -r
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l shard -d 'Only shard K of N of the selected hosts (0-based, as Slurm\'s SLURM_ARRAY_TASK_ID and Kubernetes\' JOB_COMPLETION_INDEX count): a stable part by a hash of each host\'s name, a guest always with its host. An empty shard runs nothing and succeeds' -r
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l max-fail -d 'Stop starting hosts once more than N (or N%) have failed or were unreachable' -r
complete -c vmup -n "__fish_vmup_using_subcommand apply" -s F -l ssh-config -d 'ssh_config file for ssh and openssh transports [default: ~/.ssh/config]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l command-timeout -d 'Seconds a remote script may run before the host fails [default: no limit]' -r
complete -c vmup -n "__fish_vmup_using_subcommand apply" -s e -l extra-var -d 'Set a template variable for every host, over the runbook\'s and the inventory\'s (repeatable)' -r
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l retry-file -d 'Where `apply` writes the hosts that failed, were unreachable or skipped (removed when all converge)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l out -d '`plan`: save the plan in FILE (with what each host\'s plan was made from), for `apply --plan FILE` to apply exactly it' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l plan -d '`apply`: apply the plan saved in FILE, per host only if the host\'s plan made now is still that one (a file changed since refuses that host); the other hosts go on' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l confirm-above -d '`apply`: ask on a terminal only when more than N hosts would change' -r
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l history -d 'Record the run (`apply`, `recreate`, `reboot`; `plan` records nothing) in this SQLite file [default: $VMUP_HISTORY, else $XDG_STATE_HOME/vmup/history.sqlite, else ~/.local/state/vmup/history.sqlite]. A file that cannot be written is a warning, never a failed run' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l become -d 'Run every remote script as root through `sudo -n sh -s` (or the host\'s `become_method`), for logins that are not root; as `become = true` on every host. Never prompts: a host whose sudo wants a password fails, naming the sudoers line'
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l json -d 'Print one JSON object per host and a summary line, nothing else on stdout'
complete -c vmup -n "__fish_vmup_using_subcommand apply" -s y -l yes -d '`apply`: do not ask. On a terminal (standard input and error), `apply` first shows the plan and asks before changing more than --confirm-above hosts; never elsewhere'
complete -c vmup -n "__fish_vmup_using_subcommand apply" -l no-history -d 'Do not record the run in the history'
complete -c vmup -n "__fish_vmup_using_subcommand apply" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_using_subcommand check" -s i -l inventory -d 'Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand check" -s l -l limit -d 'Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated' -r
complete -c vmup -n "__fish_vmup_using_subcommand check" -s f -l forks -d 'Hosts worked on at once [default: 64, or fewer when the batch is smaller]' -r
complete -c vmup -n "__fish_vmup_using_subcommand check" -l serial -d 'Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done' -r
complete -c vmup -n "__fish_vmup_using_subcommand check" -l shard -d 'Only shard K of N of the selected hosts (0-based, as Slurm\'s SLURM_ARRAY_TASK_ID and Kubernetes\' JOB_COMPLETION_INDEX count): a stable part by a hash of each host\'s name, a guest always with its host. An empty shard runs nothing and succeeds' -r
complete -c vmup -n "__fish_vmup_using_subcommand check" -l max-fail -d 'Stop starting hosts once more than N (or N%) have failed or were unreachable' -r
complete -c vmup -n "__fish_vmup_using_subcommand check" -s F -l ssh-config -d 'ssh_config file for ssh and openssh transports [default: ~/.ssh/config]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand check" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c vmup -n "__fish_vmup_using_subcommand check" -l command-timeout -d 'Seconds a remote script may run before the host fails [default: no limit]' -r
complete -c vmup -n "__fish_vmup_using_subcommand check" -s e -l extra-var -d 'Set a template variable for every host, over the runbook\'s and the inventory\'s (repeatable)' -r
complete -c vmup -n "__fish_vmup_using_subcommand check" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand check" -l become -d 'Run every remote script as root through `sudo -n sh -s` (or the host\'s `become_method`), for logins that are not root; as `become = true` on every host. Never prompts: a host whose sudo wants a password fails, naming the sudoers line'
complete -c vmup -n "__fish_vmup_using_subcommand check" -l json -d 'Print one JSON object per host and a summary line, nothing else on stdout'
complete -c vmup -n "__fish_vmup_using_subcommand check" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_using_subcommand facts" -s i -l inventory -d 'Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand facts" -l runbook -d 'Gather exactly the facts this runbook needs (default: the seed\'s files)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand facts" -l fact -d 'Show only this fact (repeatable): hostname, cpus, kernel_release, an absolute path (its type, or a file\'s first line), or a command fact of the runbook by name' -r
complete -c vmup -n "__fish_vmup_using_subcommand facts" -s l -l limit -d 'Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated' -r
complete -c vmup -n "__fish_vmup_using_subcommand facts" -s f -l forks -d 'Hosts worked on at once [default: 64, or fewer when the batch is smaller]' -r
complete -c vmup -n "__fish_vmup_using_subcommand facts" -l serial -d 'Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done' -r
complete -c vmup -n "__fish_vmup_using_subcommand facts" -l shard -d 'Only shard K of N of the selected hosts (0-based, as Slurm\'s SLURM_ARRAY_TASK_ID and Kubernetes\' JOB_COMPLETION_INDEX count): a stable part by a hash of each host\'s name, a guest always with its host. An empty shard runs nothing and succeeds' -r
complete -c vmup -n "__fish_vmup_using_subcommand facts" -l max-fail -d 'Stop starting hosts once more than N (or N%) have failed or were unreachable' -r
complete -c vmup -n "__fish_vmup_using_subcommand facts" -s F -l ssh-config -d 'ssh_config file for ssh and openssh transports [default: ~/.ssh/config]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand facts" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c vmup -n "__fish_vmup_using_subcommand facts" -l command-timeout -d 'Seconds a remote script may run before the host fails [default: no limit]' -r
complete -c vmup -n "__fish_vmup_using_subcommand facts" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand facts" -l json -d 'Print one JSON object per host and a summary line, nothing else on stdout'
complete -c vmup -n "__fish_vmup_using_subcommand facts" -l become -d 'Run every remote script as root through `sudo -n sh -s` (or the host\'s `become_method`), for logins that are not root; as `become = true` on every host. Never prompts: a host whose sudo wants a password fails, naming the sudoers line'
complete -c vmup -n "__fish_vmup_using_subcommand facts" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand facts" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -s i -l inventory -d 'Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -s l -l limit -d 'Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated' -r
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -s f -l forks -d 'Hosts worked on at once [default: 64, or fewer when the batch is smaller]' -r
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -l serial -d 'Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done' -r
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -l shard -d 'Only shard K of N of the selected hosts (0-based, as Slurm\'s SLURM_ARRAY_TASK_ID and Kubernetes\' JOB_COMPLETION_INDEX count): a stable part by a hash of each host\'s name, a guest always with its host. An empty shard runs nothing and succeeds' -r
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -l max-fail -d 'Stop starting hosts once more than N (or N%) have failed or were unreachable' -r
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -s F -l ssh-config -d 'ssh_config file for ssh and openssh transports [default: ~/.ssh/config]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -l command-timeout -d 'Seconds a remote script may run before the host fails [default: no limit]' -r
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -l become -d 'Run every remote script as root through `sudo -n sh -s` (or the host\'s `become_method`), for logins that are not root; as `become = true` on every host. Never prompts: a host whose sudo wants a password fails, naming the sudoers line'
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -l json -d 'Print one JSON object per guest and a summary line, nothing else on stdout'
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand kernels" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -s i -l inventory -d 'Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -s l -l limit -d 'Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated' -r
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -s f -l forks -d 'Hosts worked on at once [default: 64, or fewer when the batch is smaller]' -r
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -l serial -d 'Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done' -r
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -l shard -d 'Only shard K of N of the selected hosts (0-based, as Slurm\'s SLURM_ARRAY_TASK_ID and Kubernetes\' JOB_COMPLETION_INDEX count): a stable part by a hash of each host\'s name, a guest always with its host. An empty shard runs nothing and succeeds' -r
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -l max-fail -d 'Stop starting hosts once more than N (or N%) have failed or were unreachable' -r
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -s F -l ssh-config -d 'ssh_config file for ssh and openssh transports [default: ~/.ssh/config]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -l command-timeout -d 'Seconds a remote script may run before the host fails [default: no limit]' -r
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -l boot-test-timeout -d 'Seconds a boot test may take before it counts as failed' -r
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -l become -d 'Run every remote script as root through `sudo -n sh -s` (or the host\'s `become_method`), for logins that are not root; as `become = true` on every host. Never prompts: a host whose sudo wants a password fails, naming the sudoers line'
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -l boot-test -d 'Also boot each guest\'s kernel, ramdisk and command line under QEMU on its host, with a throwaway snapshot of its disk, and judge the boot by its serial console'
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -l json -d 'Print one JSON object per guest and a summary line, nothing else on stdout'
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -s i -l inventory -d 'Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -s l -l limit -d 'Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated' -r
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -s f -l forks -d 'Hosts worked on at once [default: 64, or fewer when the batch is smaller]' -r
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l serial -d 'Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done' -r
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l shard -d 'Only shard K of N of the selected hosts (0-based, as Slurm\'s SLURM_ARRAY_TASK_ID and Kubernetes\' JOB_COMPLETION_INDEX count): a stable part by a hash of each host\'s name, a guest always with its host. An empty shard runs nothing and succeeds' -r
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l max-fail -d 'Stop starting hosts once more than N (or N%) have failed or were unreachable' -r
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -s F -l ssh-config -d 'ssh_config file for ssh and openssh transports [default: ~/.ssh/config]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l command-timeout -d 'Seconds a remote script may run before the host fails [default: no limit]' -r
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l shutdown-timeout -d 'Seconds a domain may take to shut down' -r
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l boot-timeout -d 'Seconds a guest may take from being created to answering ssh' -r
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l history -d 'Record the run (`apply`, `recreate`, `reboot`; `plan` records nothing) in this SQLite file [default: $VMUP_HISTORY, else $XDG_STATE_HOME/vmup/history.sqlite, else ~/.local/state/vmup/history.sqlite]. A file that cannot be written is a warning, never a failed run' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l become -d 'Run every remote script as root through `sudo -n sh -s` (or the host\'s `become_method`), for logins that are not root; as `become = true` on every host. Never prompts: a host whose sudo wants a password fails, naming the sudoers line'
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l force -d 'Recreate guests the doctor says would not boot, and destroy domains that do not shut down in time. Reported for each guest it applied to'
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l json -d 'Print one JSON object per guest and a summary line, nothing else on stdout'
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -l no-history -d 'Do not record the run in the history'
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand recreate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -s i -l inventory -d 'Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -s l -l limit -d 'Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated' -r
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -s f -l forks -d 'Hosts worked on at once [default: 64, or fewer when the batch is smaller]' -r
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l serial -d 'Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done' -r
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l shard -d 'Only shard K of N of the selected hosts (0-based, as Slurm\'s SLURM_ARRAY_TASK_ID and Kubernetes\' JOB_COMPLETION_INDEX count): a stable part by a hash of each host\'s name, a guest always with its host. An empty shard runs nothing and succeeds' -r
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l max-fail -d 'Stop starting hosts once more than N (or N%) have failed or were unreachable' -r
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -s F -l ssh-config -d 'ssh_config file for ssh and openssh transports [default: ~/.ssh/config]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l command-timeout -d 'Seconds a remote script may run before the host fails [default: no limit]' -r
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l shutdown-timeout -d 'Seconds a domain may take to shut down' -r
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l boot-timeout -d 'Seconds a guest may take from being created to answering ssh' -r
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l history -d 'Record the run (`apply`, `recreate`, `reboot`; `plan` records nothing) in this SQLite file [default: $VMUP_HISTORY, else $XDG_STATE_HOME/vmup/history.sqlite, else ~/.local/state/vmup/history.sqlite]. A file that cannot be written is a warning, never a failed run' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l become -d 'Run every remote script as root through `sudo -n sh -s` (or the host\'s `become_method`), for logins that are not root; as `become = true` on every host. Never prompts: a host whose sudo wants a password fails, naming the sudoers line'
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l force -d 'Recreate guests the doctor says would not boot, and destroy domains that do not shut down in time. Reported for each guest it applied to'
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l json -d 'Print one JSON object per guest and a summary line, nothing else on stdout'
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -l no-history -d 'Do not record the run in the history'
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand reboot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_using_subcommand run" -s i -l inventory -d 'Inventory file (TOML)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand run" -l script -d 'Run this shell script\'s contents on each host instead of a command' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand run" -s l -l limit -d 'Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated' -r
complete -c vmup -n "__fish_vmup_using_subcommand run" -s f -l forks -d 'Hosts worked on at once [default: 64, or fewer when the batch is smaller]' -r
complete -c vmup -n "__fish_vmup_using_subcommand run" -l serial -d 'Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done' -r
complete -c vmup -n "__fish_vmup_using_subcommand run" -l shard -d 'Only shard K of N of the selected hosts (0-based, as Slurm\'s SLURM_ARRAY_TASK_ID and Kubernetes\' JOB_COMPLETION_INDEX count): a stable part by a hash of each host\'s name, a guest always with its host. An empty shard runs nothing and succeeds' -r
complete -c vmup -n "__fish_vmup_using_subcommand run" -l max-fail -d 'Stop starting hosts once more than N (or N%) have failed or were unreachable' -r
complete -c vmup -n "__fish_vmup_using_subcommand run" -s F -l ssh-config -d 'ssh_config file for ssh and openssh transports [default: ~/.ssh/config]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand run" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c vmup -n "__fish_vmup_using_subcommand run" -l command-timeout -d 'Seconds a remote script may run before the host fails [default: no limit]' -r
complete -c vmup -n "__fish_vmup_using_subcommand run" -l retry-file -d 'Where to write the hosts whose command failed, were unreachable or skipped (removed when every host succeeds)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand run" -l history -d 'Record the run (`apply`, `recreate`, `reboot`; `plan` records nothing) in this SQLite file [default: $VMUP_HISTORY, else $XDG_STATE_HOME/vmup/history.sqlite, else ~/.local/state/vmup/history.sqlite]. A file that cannot be written is a warning, never a failed run' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand run" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand run" -l become -d 'Run every remote script as root through `sudo -n sh -s` (or the host\'s `become_method`), for logins that are not root; as `become = true` on every host. Never prompts: a host whose sudo wants a password fails, naming the sudoers line'
complete -c vmup -n "__fish_vmup_using_subcommand run" -l json -d 'Print one JSON object per host (with `exit_status`, `stdout`, `stderr`) and a summary line, nothing else on stdout'
complete -c vmup -n "__fish_vmup_using_subcommand run" -l no-history -d 'Do not record the run in the history'
complete -c vmup -n "__fish_vmup_using_subcommand run" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand run" -s h -l help -d 'Print help'
complete -c vmup -n "__fish_vmup_using_subcommand history" -l host -d 'Only this host (its inventory name)' -r
complete -c vmup -n "__fish_vmup_using_subcommand history" -l since -d 'Only runs started at or after DATE, in UTC: 2026-11-24, 2026-11-24T10:00, or an age (30m, 12h, 7d, 2w)' -r
complete -c vmup -n "__fish_vmup_using_subcommand history" -l history -d 'Read this history file [default: as `apply --history`]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand history" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand history" -l json -d 'Print one JSON object per recorded host-run: its `--json` line as the run printed it (changes included), with `run` (who, when, command, files, exit code), `part` and `booted_kernel`'
complete -c vmup -n "__fish_vmup_using_subcommand history" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand history" -s h -l help -d 'Print help'
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -s i -l inventory -d 'Inventory: vmup TOML, Ansible INI or YAML, or a host list `h1,h2,`' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -s l -l limit -d 'Only these hosts: names, groups, globs, `!exclude`, `@FILE` (a retry file), comma-separated' -r
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -s f -l forks -d 'Hosts worked on at once [default: 64, or fewer when the batch is smaller]' -r
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -l serial -d 'Rolling batches of N hosts or N% of the hosts; a batch starts when the previous one is done' -r
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -l shard -d 'Only shard K of N of the selected hosts (0-based, as Slurm\'s SLURM_ARRAY_TASK_ID and Kubernetes\' JOB_COMPLETION_INDEX count): a stable part by a hash of each host\'s name, a guest always with its host. An empty shard runs nothing and succeeds' -r
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -l max-fail -d 'Stop starting hosts once more than N (or N%) have failed or were unreachable' -r
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -s F -l ssh-config -d 'ssh_config file for ssh and openssh transports [default: ~/.ssh/config]' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -l command-timeout -d 'Seconds a remote script may run before the host fails [default: no limit]' -r
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -l resolve -d 'Resolve `.rpmnew` files this way (identical pairs are cleaned up too); without it, nothing is changed' -r -f -a "keep\t'Keep the current file and remove the package\'s `.rpmnew`'
new\t'Install the `.rpmnew` and keep the current file as `FILE.vmup-old`'"
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -l become -d 'Run every remote script as root through `sudo -n sh -s` (or the host\'s `become_method`), for logins that are not root; as `become = true` on every host. Never prompts: a host whose sudo wants a password fails, naming the sudoers line'
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -l json -d 'Print one JSON object per host and a summary line, nothing else on stdout'
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand conflicts" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_using_subcommand report; and not __fish_seen_subcommand_from merge help" -l html -d 'Write the HTML page here (`-`: standard output)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand report; and not __fish_seen_subcommand_from merge help" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand report; and not __fish_seen_subcommand_from merge help" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand report; and not __fish_seen_subcommand_from merge help" -s h -l help -d 'Print help'
complete -c vmup -n "__fish_vmup_using_subcommand report; and not __fish_seen_subcommand_from merge help" -a "merge" -d 'Merge the `--json` outputs of the N shards of one run (`--shard K/N`: the tasks of a Slurm job array, a Kubernetes Indexed Job) into one: each host\'s final line, one summary and one retry file. Refused (exit 2, nothing written) when a host is in two files, the files are of different commands or N, or a shard is missing or given twice. Otherwise exits as the whole run would have (0, 1, 3, 4, 5, 130)'
complete -c vmup -n "__fish_vmup_using_subcommand report; and not __fish_seen_subcommand_from merge help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vmup -n "__fish_vmup_using_subcommand report; and __fish_seen_subcommand_from merge" -l retry-file -d 'Where to write the hosts that failed, were unreachable, were skipped or held back (removed when there are none), for the next run\'s `--limit @FILE`' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand report; and __fish_seen_subcommand_from merge" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand report; and __fish_seen_subcommand_from merge" -l json -d 'Print each host\'s final line and one summary line as JSON lines, nothing else'
complete -c vmup -n "__fish_vmup_using_subcommand report; and __fish_seen_subcommand_from merge" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand report; and __fish_seen_subcommand_from merge" -s h -l help -d 'Print help'
complete -c vmup -n "__fish_vmup_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "merge" -d 'Merge the `--json` outputs of the N shards of one run (`--shard K/N`: the tasks of a Slurm job array, a Kubernetes Indexed Job) into one: each host\'s final line, one summary and one retry file. Refused (exit 2, nothing written) when a host is in two files, the files are of different commands or N, or a shard is missing or given twice. Otherwise exits as the whole run would have (0, 1, 3, 4, 5, 130)'
complete -c vmup -n "__fish_vmup_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vmup -n "__fish_vmup_using_subcommand demo" -l dir -d 'Build the demo fleet here instead of a temporary directory (kept afterwards)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand demo" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand demo" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand demo" -s h -l help -d 'Print help'
complete -c vmup -n "__fish_vmup_using_subcommand completions" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand completions" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vmup -n "__fish_vmup_using_subcommand man" -l log-file -d 'Also append the log to FILE (at least what -vv shows; created mode 0600)' -r -F
complete -c vmup -n "__fish_vmup_using_subcommand man" -l list -d 'List the subcommands that have a page, one per line'
complete -c vmup -n "__fish_vmup_using_subcommand man" -s v -l verbose -d 'Log what vmup does to standard error: -v connections and scripts, -vv the ssh negotiation too, -vvv everything vmup records. Never a script\'s body or a value'
complete -c vmup -n "__fish_vmup_using_subcommand man" -s h -l help -d 'Print help'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "plan" -d 'Show, per host, the changes each step would make (with diffs); change nothing'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "apply" -d 'Plan, apply the changes, and verify that every host converged; then the runbook\'s `recreate` and `reboot` steps, on the machines whose apply converged'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "check" -d 'Per host, OK or Not OK with the reasons, as gridpulse reports; change nothing'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "facts" -d 'Show the facts vmup gathers from one host'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "kernels" -d 'Per guest: installed kernels, the one its host boots, the running one, and whether the next boot will find its modules'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "doctor" -d 'Per guest: will it boot? The chain from the host\'s config through the kernel, the guest\'s modules and the ramdisk\'s drivers to a console to log in on. Reads only'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "recreate" -d 'Shut each guest\'s domain down on its host, start it again from its config, and wait until it answers ssh running the kernel its host boots. Refuses a guest the doctor says would not boot'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "reboot" -d 'Reboot hosts without losing a guest: stop every guest a host runs, reboot it, prove the new boot, start the guests that ran and wait for each. Only hosts with guests or `role = "host"` are selected'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "run" -d 'Run one command (or script) on every host PATTERN selects, in parallel: the seed\'s ssh for-loops. Output is grouped by identical result; exit 1 when a host\'s command failed, and the retry file names those hosts'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "history" -d 'What earlier `apply`, `recreate` and `reboot` runs did: when, who, which command, per host its status and changes (with diffs, as the run reported them). Reads the history file those runs wrote (see `--history`)'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "conflicts" -d 'Find .rpmnew, .rpmsave and .rpmorig files beside package config files, show their diffs, and resolve them'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "report" -d 'Make one self-contained HTML page (no server, nothing fetched) from the `--json` output of runs: the summary, hosts grouped by outcome with their diffs, command output, errors and warnings, and the kernel matrix of `kernels`/`check` lines, with a filter box. Several FILEs merge, e.g. an apply and a `kernels --json` of the same fleet. Exit 0 once the page is written, 2 when a FILE is not vmup JSON lines. `report merge FILE...` makes the outputs of the N shards of one run (`--shard K/N`) into that run: one summary, one retry file, the run\'s own exit code'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "demo" -d 'Build a throwaway local fleet and run the example runbook on it'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "completions" -d 'Print the shell completion script for bash, zsh or fish (e.g. `vmup completions bash > /etc/bash_completion.d/vmup`)'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "man" -d 'Print vmup\'s manual page (roff), or a subcommand\'s (`vmup man apply | man -l -`)'
complete -c vmup -n "__fish_vmup_using_subcommand help; and not __fish_seen_subcommand_from plan apply check facts kernels doctor recreate reboot run history conflicts report demo completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vmup -n "__fish_vmup_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "merge" -d 'Merge the `--json` outputs of the N shards of one run (`--shard K/N`: the tasks of a Slurm job array, a Kubernetes Indexed Job) into one: each host\'s final line, one summary and one retry file. Refused (exit 2, nothing written) when a host is in two files, the files are of different commands or N, or a shard is missing or given twice. Otherwise exits as the whole run would have (0, 1, 3, 4, 5, 130)'
