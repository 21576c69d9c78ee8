#!/usr/bin/env python3
"""probe.py TIMEOUT NAME=ADDR...: wait until every NAME's port 22 answers
with an SSH banner, all in parallel in this one process (run it inside the
controller network namespace). Prints the names that never answered, one
per line, on stderr and exits 1 if there are any."""
import errno
import selectors
import socket
import sys
import time


def main() -> int:
    deadline = time.monotonic() + float(sys.argv[1])
    todo = dict(arg.split("=", 1) for arg in sys.argv[2:])  # name -> addr
    last_error = {name: "no answer" for name in todo}
    sel = selectors.DefaultSelector()
    banner = {}

    def start(name: str) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((todo[name], 22))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            last_error[name] = errno.errorcode.get(err, str(err))
            retry.append((time.monotonic() + 0.05, name))
            return
        banner[name] = b""
        sel.register(s, selectors.EVENT_READ, name)

    retry = []
    for name in todo:
        start(name)
    done = set()
    while len(done) < len(todo) and time.monotonic() < deadline:
        now = time.monotonic()
        for item in [r for r in retry if r[0] <= now]:
            retry.remove(item)
            start(item[1])
        for key, _ in sel.select(timeout=0.02):
            s, name = key.fileobj, key.data
            try:
                data = s.recv(256)
            except OSError as e:
                data, last_error[name] = b"", errno.errorcode.get(e.errno, str(e))
            banner[name] += data
            if banner[name].startswith(b"SSH-") and b"\n" in banner[name]:
                done.add(name)
            elif data and len(banner[name]) < 256:
                continue
            else:
                if not data and name not in done:
                    retry.append((time.monotonic() + 0.05, name))
            sel.unregister(s)
            s.close()
    missing = sorted(set(todo) - done)
    for name in missing:
        print(f"{name} ({todo[name]}): {last_error[name]}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
