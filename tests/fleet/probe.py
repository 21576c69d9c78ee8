#!/usr/bin/env python3
"""probe.py TIMEOUT NAME=ADDR=PIDFILE...: wait until every machine's port 22
answers with an SSH banner, all in parallel in this one process (run it in
the controller network namespace). A machine whose PID 1 (pid file written by
host-init.sh) has exited fails at once instead of after TIMEOUT. Prints one
line per failed machine on stderr ("NAME ADDR: reason") and exits 1 if any."""
import errno
import os
import selectors
import socket
import sys
import time


def pid_state(pidfile: str) -> str:
    """'none' (no pid file yet), 'alive' or 'dead'."""
    try:
        with open(pidfile) as f:
            pid = f.read().split()[0]
    except (OSError, IndexError):
        return "none"
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "dead"
    return "dead" if state in ("Z", "X") else "alive"


def main() -> int:
    start = time.monotonic()
    deadline = start + float(sys.argv[1])
    machines = {}
    for arg in sys.argv[2:]:
        name, addr, pidfile = arg.split("=", 2)
        machines[name] = (addr, pidfile)
    error = {name: "no answer" for name in machines}
    sel = selectors.DefaultSelector()
    banner = {}
    retry = []
    done, failed = set(), set()

    def start_connect(name: str) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((machines[name][0], 22))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            error[name] = os.strerror(err)
            retry.append((time.monotonic() + 0.05, name))
            return
        banner[name] = b""
        sel.register(s, selectors.EVENT_READ, name)

    for name in machines:
        start_connect(name)
    next_check = 0.0
    while len(done) + len(failed) < len(machines) and time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_check:
            next_check = now + 0.1
            for name in set(machines) - done - failed:
                state = pid_state(machines[name][1])
                if state == "dead":
                    failed.add(name)
                    error[name] = "its PID 1 exited"
                elif state == "none" and now - start > 10:
                    failed.add(name)
                    error[name] = "it never started (no pid file after 10 s)"
        for item in [r for r in retry if r[0] <= now]:
            retry.remove(item)
            if item[1] not in failed:
                start_connect(item[1])
        for key, _ in sel.select(timeout=0.02):
            s, name = key.fileobj, key.data
            try:
                data = s.recv(256)
            except OSError as e:
                data = b""
                if name not in failed:
                    error[name] = os.strerror(e.errno)
            banner[name] += data
            if banner[name].startswith(b"SSH-") and b"\n" in banner[name]:
                done.add(name)
            elif data and len(banner[name]) < 256:
                continue  # more of the banner to come
            elif name not in failed:
                if data:
                    error[name] = f"not an ssh banner: {banner[name][:40]!r}"
                retry.append((time.monotonic() + 0.05, name))
            sel.unregister(s)
            s.close()
    missing = sorted(set(machines) - done)
    for name in missing:
        print(f"{name} {machines[name][0]}: {error[name]}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
