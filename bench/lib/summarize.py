#!/usr/bin/env python3
"""summarize.py RESULTS.tsv...: the table of medians printed by fleet-bench.sh
(several files are read as one, e.g. two invocations with different --sizes).

One row per (tool, N, run): median wall seconds and median controller CPU
per host (ms) over the repetitions, with the min-max range of the wall time
and how many repetitions left every guest as expected. Then the ratios
vmup/pyinfra at N=50 and the acceptance targets."""
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
}


def main():
    rows = []
    for path in sys.argv[1:]:
        with open(path) as f:
            rows += list(csv.DictReader(f, delimiter="\t"))
    groups = {}
    for r in rows:
        groups.setdefault((r["tool"], int(r["N"]), r["run"]), []).append(r)
    med = {}
    print("| tool | N | run | wall s (median) | wall min-max | CPU ms/host (median) | ssh conns / commands per host | runs ok |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    keys = sorted(groups, key=lambda k: (k[1], ORDER.index(k[0]) if k[0] in ORDER else 99, k[2] != "first"))
    for k in keys:
        g = groups[k]
        walls = [float(r["wall_s"]) for r in g]
        cpus = [float(r["cpu_ms_per_host"]) for r in g]
        ok = sum(1 for r in g if r["exit"] == "0" and r["guests"] == "ok")
        med[k] = (statistics.median(walls), statistics.median(cpus))
        conns = g[-1].get("conns_guest1", "?")
        cmds = g[-1].get("cmds_guest1", "?")
        print(f"| {LABEL.get(k[0], k[0])} | {k[1]} | {k[2]} | {med[k][0]:.2f} | "
              f"{min(walls):.2f}-{max(walls):.2f} | {med[k][1]:.1f} | {conns} / {cmds} | {ok}/{len(g)} |")
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
        for run in ("first", "second"):
            w = med[("vmup", n, run)][0] / med[("pyinfra", n, run)][0]
            checks.append((f"{run} run wall <= 0.6x pyinfra", w <= 0.6, f"{w:.2f}x"))
        cpu = max(med[("vmup", n, run)][1] for run in ("first", "second"))
        checks.append(("controller CPU <= 10 ms/host", cpu <= 10.0, f"{cpu:.1f} ms"))
        for what, good, fig in checks:
            print(f"target {what}: {'met' if good else 'MISSED'} ({fig})")
    else:
        print(f"ratio vmup/pyinfra at N={n}: not measured (needs vmup and pyinfra at N={n})")


if __name__ == "__main__":
    main()
