#!/usr/bin/env python3
"""measure.py OUT CGROUP -- CMD...: run CMD, append one line to OUT:

    exit_code  wall_s  tree_cpu_ms  rusage_cpu_ms  machine_busy_ms  load1  pre_busy_pct  peak_rss_mib

wall_s        monotonic wall time from just before fork to the end of wait4.
tree_cpu_ms   user+sys CPU of every process of CMD's tree, read from a cgroup-v1
              cpuacct group that CMD is placed in before exec: it also counts
              descendants that daemonize (OpenSSH ControlPersist masters), which
              getrusage(RUSAGE_CHILDREN) misses.  If CGROUP already holds
              processes (pre-opened ssh masters), their CPU during the run is
              counted too, and only during the run (the value is a difference).
rusage_cpu_ms user+sys of CMD and the descendants it waited for (wait4 rusage),
              what `/usr/bin/time` reports; kept as a cross-check.

machine_busy_ms  non-idle CPU of the whole machine during the run (/proc/stat):
              the tool, the guests' sshd and shells, and anything else running
              (a figure far above the tool's own flags a disturbed run).
load1         1-minute load average just before the run.
peak_rss_mib  the largest resident set of CMD or any descendant it waited for
              (wait4 ru_maxrss): for vmup, vmup's own peak memory.
pre_busy_pct  machine CPU busy (% of all cores) in the last 0.5 s sampled
              before the run. The run waits (up to $VMUP_BENCH_IDLE_WAIT s,
              default 30) for a sample under 30 %, so that other work on the
              machine (builds, tests) does not land in the figures.

CGROUP is a directory under /sys/fs/cgroup/cpuacct (created if missing).
"-" instead of CGROUP: no cgroup, tree_cpu_ms is then the rusage figure.
Nothing of this process (python start-up included) is in either figure.
stdin/stdout/stderr are passed through; the exit status of CMD is returned.
"""
import os
import sys
import time

CPUACCT = "/sys/fs/cgroup/cpuacct"


def usage_ns(cg):
    with open(os.path.join(cg, "cpuacct.usage")) as f:
        return int(f.read())


def machine_busy_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait
    return sum(v[:8]) - v[3] - v[4]


def wait_idle(limit):
    """Samples of 0.5 s until the machine is under 30 % busy or LIMIT s passed."""
    ncpu = os.cpu_count() or 1
    hz = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + limit
    while True:
        b0 = machine_busy_ticks()
        time.sleep(0.5)
        pct = (machine_busy_ticks() - b0) / hz / 0.5 / ncpu * 100
        if pct < 30 or time.monotonic() >= deadline:
            return pct
        time.sleep(0.5)


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit("usage: measure.py OUT CGROUP -- CMD...")
    out, cgname, cmd = sys.argv[1], sys.argv[2], sys.argv[4:]
    cg = None
    if cgname != "-":
        cg = os.path.join(CPUACCT, cgname)
        os.makedirs(cg, exist_ok=True)
        before = usage_ns(cg)
    pre_busy = wait_idle(float(os.environ.get("VMUP_BENCH_IDLE_WAIT", "30")))
    with open("/proc/loadavg") as f:
        load1 = f.read().split()[0]
    busy0 = machine_busy_ticks()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            if cg:
                with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
            os.execvp(cmd[0], cmd)
        except BaseException as e:  # report and die without running CMD
            os.write(2, f"measure.py: cannot run {cmd[0]}: {e}\n".encode())
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    t1 = time.monotonic()
    busy_ms = (machine_busy_ticks() - busy0) * 1000.0 / os.sysconf("SC_CLK_TCK")
    rusage_ms = (ru.ru_utime + ru.ru_stime) * 1000.0
    tree_ms = (usage_ns(cg) - before) / 1e6 if cg else rusage_ms
    code = os.waitstatus_to_exitcode(status)
    with open(out, "a") as f:
        f.write(f"{code}\t{t1 - t0:.3f}\t{tree_ms:.1f}\t{rusage_ms:.1f}\t{busy_ms:.0f}\t{load1}\t{pre_busy:.0f}\t{ru.ru_maxrss / 1024:.1f}\n")
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
