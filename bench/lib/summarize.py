#!/usr/bin/env python3
"""summarize.py RESULTS.tsv...: the table of medians printed by fleet-bench.sh
(several files are read as one, e.g. two invocations with different --sizes).

One row per (tool, N, run): median wall seconds and median controller CPU
per host (ms) over the repetitions, with the min-max range of the wall time
its peak resident memory, and how many repetitions left every guest as
expected. Then the ratios vmup/pyinfra at N=50 and the acceptance targets,
the per-host figures of vmup at every N (flat: no step grows faster than the
fleet) and its memory at 1,000 real and 10,000 synthetic hosts."""
import csv
import statistics
import sys

ORDER = ["vmup", "vmup-openssh", "pyinfra", "ansible", "ssh", "ssh-cm"]
LABEL = {
    "vmup": "vmup",
    "vmup-openssh": "vmup (openssh)",
    "pyinfra": "pyinfra",
    "ansible": "ansible",
    "ssh": "xargs+ssh",
    "ssh-cm": "xargs+ssh (CM)",
    "vmup-synthetic": "vmup (synthetic hosts)",
}
ORDER.append("vmup-synthetic")


def main():
    rows = []
    for path in sys.argv[1:]:
        with open(path) as f:
            rows += list(csv.DictReader(f, delimiter="\t"))
    groups = {}
    for r in rows:
        groups.setdefault((r["tool"], int(r["N"]), r["run"]), []).append(r)
    med = {}
    print("| tool | N | run | wall s (median) | wall min-max | CPU ms/host (median) | peak RSS MiB | ssh conns / commands / processes per host | runs ok |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    keys = sorted(groups, key=lambda k: (k[1], ORDER.index(k[0]) if k[0] in ORDER else 99, k[2] != "first"))
    for k in keys:
        g = groups[k]
        walls = [float(r["wall_s"]) for r in g]
        cpus = [float(r["cpu_ms_per_host"]) for r in g]
        ok = sum(1 for r in g if r["exit"] == "0" and r["guests"] == "ok")
        rss = max(float(r.get("peak_rss_mib") or 0) for r in g)
        med[k] = (statistics.median(walls), statistics.median(cpus), rss)
        conns = g[-1].get("conns_guest1", "?")
        cmds = g[-1].get("cmds_guest1", "?")
        forks = g[-1].get("forks_guest1", "?")
        print(f"| {LABEL.get(k[0], k[0])} | {k[1]} | {k[2]} | {med[k][0]:.2f} | "
              f"{min(walls):.2f}-{max(walls):.2f} | {med[k][1]:.2f} | {rss:.0f} | {conns} / {cmds} / {forks} | {ok}/{len(g)} |")
    print()
    n = 50
    if ("vmup", n, "first") in med and ("pyinfra", n, "first") in med:
        parts = []
        for run in ("first", "second"):
            if ("vmup", n, run) in med and ("pyinfra", n, run) in med:
                w = med[("vmup", n, run)][0] / med[("pyinfra", n, run)][0]
                c = med[("vmup", n, run)][1] / med[("pyinfra", n, run)][1]
                parts.append(f"{run} run {w:.2f}x wall ({c:.2f}x CPU)")
        print(f"ratio vmup/pyinfra at N={n}: " + ", ".join(parts))
        checks = []
        for run, limit in (("first", 0.30), ("second", 0.25)):
            w = med[("vmup", n, run)][0] / med[("pyinfra", n, run)][0]
            checks.append((f"{run} run wall <= {limit:.2f}x pyinfra", w <= limit, f"{w:.2f}x"))
        vmup_keys = [k for k in med if k[0] in ("vmup", "vmup-synthetic")]
        cpu = max(med[k][1] for k in vmup_keys)
        checks.append(("controller CPU <= 2 ms/host at every N", cpu <= 2.0, f"{cpu:.2f} ms"))
        for tool, size, limit in (("vmup", 1000, 256), ("vmup-synthetic", 10000, 1024)):
            rss = [med[k][2] for k in med if k[0] == tool and k[1] == size]
            if rss:
                checks.append((f"peak RSS <= {limit} MiB at {size} ({tool})", max(rss) <= limit, f"{max(rss):.0f} MiB"))
        for what, good, fig in checks:
            print(f"target {what}: {'met' if good else 'MISSED'} ({fig})")
        for run in ("first", "second"):
            line = [f"N={k[1]}{' synthetic' if k[0] != 'vmup' else ''}: {med[k][1]:.2f}"
                    for k in sorted(vmup_keys, key=lambda k: (k[0] != "vmup", k[1])) if k[2] == run]
            print(f"vmup CPU ms/host, {run} run: " + ", ".join(line))
    else:
        print(f"ratio vmup/pyinfra at N={n}: not measured (needs vmup and pyinfra at N={n})")


if __name__ == "__main__":
    main()
