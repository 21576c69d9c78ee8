#!/usr/bin/env python3
"""vm-qemu: boots a Xen domain config with QEMU (TCG) on a dom0 of vmup's test fleet.

There is no hypervisor in the test fleet. For a domain whose config carries the marker
comment

    # vmup-qemu: ssh_forward = 198.18.0.10:2201

the fleet's xl/xm test double (xl-double.sh) hands `create`, `shutdown`, `destroy` and
`list` to this script, which runs the config as a real virtual machine: kernel=, ramdisk=
and the command line exactly as xl reads them (cmdline=, else "root=ROOT EXTRA"), the first
disk= target as a raw virtio disk, the vif's MAC on a virtio NIC in QEMU's user-mode
network, with the guest's port 22 forwarded to ssh_forward (the dom0's own address), the
serial console in /var/log/vmup-vm/<name>.console. This file is the one place that builds
QEMU's command line (`argv` prints it; `--snapshot` for throw-away boots).

    vm-qemu.py is-vm CFG                  exit 0 if CFG is a real-VM config
    vm-qemu.py argv CFG [--snapshot] [--serial FILE] [--ssh-forward ADDR:PORT] [KEY=VALUE...]
    vm-qemu.py start CFG [KEY=VALUE...]   like `xl create CFG KEY=VALUE...`
    vm-qemu.py list                       "NAME MEMORY VCPUS" per running VM
    vm-qemu.py running NAME               exit 0 while its QEMU runs
    vm-qemu.py shutdown NAME [--wait] [--timeout SECS]
    vm-qemu.py destroy NAME

State: /run/vmup-vm/<name>.{pid,monitor,cfg} (the dom0's /run is a tmpfs: it goes when the
dom0 stops, and so does QEMU, which lives in the dom0's PID namespace).
"""

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

RUN = "/run/vmup-vm"
LOG = "/var/log/vmup-vm"
QEMU = "qemu-system-x86_64"
MARKER = re.compile(r"^\s*#\s*vmup-qemu:(.*)$", re.M)
SHUTDOWN_TIMEOUT = float(os.environ.get("VMUP_XL_SHUTDOWN_TIMEOUT", "60"))


class Error(Exception):
    pass


# ------------------------------------------------------------------ xl config


def _unescape(body):
    # libxlutil's dequoting: C-style escapes in both quote styles.
    out, i = [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 == len(body):
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n in simple:
            out.append(simple[n])
            i += 2
        elif n == "x" and re.match(r"[0-9a-fA-F]{2}", body[i + 2 : i + 4]):
            out.append(chr(int(body[i + 2 : i + 4], 16)))
            i += 4
        elif re.match(r"[0-7]{1,3}", body[i + 1 :]):
            m = re.match(r"[0-7]{1,3}", body[i + 1 :])
            out.append(chr(int(m.group(0), 8)))
            i += 1 + len(m.group(0))
        else:
            out.append(n)
            i += 2
    return "".join(out)


TOKEN = re.compile(
    r"""(?P<ws>[ \t\r]+)|(?P<comment>\#[^\n]*)|(?P<nl>\n)|(?P<semi>;)
      |(?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
      |(?P<num>0x[0-9a-fA-F]+|[0-9]+(?:\.[0-9]+)?)
      |(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\+=|=|\[|\]|,)""",
    re.X,
)


def parse_config(text):
    """The settings of an xl/xm config as xl reads them: the last assignment wins, `+=`
    appends to a string or a list. Values: str, int, float or a list of those."""
    toks = []
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            line = text.count("\n", 0, pos) + 1
            raise Error(f"config line {line}: cannot read {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind in ("ws", "comment"):
            continue
        toks.append((kind, m.group(kind)))
    settings, i = {}, 0

    def value(i):
        kind, t = toks[i]
        if kind == "str":
            return _unescape(t[1:-1]), i + 1
        if kind == "num":
            return (int(t, 16) if t.startswith("0x") else float(t) if "." in t else int(t)), i + 1
        raise Error(f"expected a value, got {t!r}")

    while i < len(toks):
        kind, t = toks[i]
        if kind in ("nl", "semi"):
            i += 1
            continue
        if kind != "id" or i + 1 >= len(toks) or toks[i + 1][1] not in ("=", "+="):
            raise Error(f"expected KEY = VALUE near {t!r}")
        key, op = t, toks[i + 1][1]
        i += 2
        if i < len(toks) and toks[i][1] == "[":
            items, i = [], i + 1
            while i < len(toks) and toks[i][1] != "]":
                if toks[i][0] == "nl" or toks[i][1] == ",":
                    i += 1
                    continue
                v, i = value(i)
                items.append(v)
            if i >= len(toks):
                raise Error(f"{key}: list not closed")
            i += 1
            v = items
        else:
            v, i = value(i)
        if op == "+=" and key in settings:
            old = settings[key]
            v = old + v if type(old) is type(v) else v
        settings[key] = v
    return settings


def kernel_cmdline(s):
    """The command line xl gives the kernel: cmdline=, else root= and extra=."""
    if "cmdline" in s:
        if "root" in s or "extra" in s:
            print("Warning: ignoring root= and extra= in favour of cmdline=", file=sys.stderr)
        return str(s["cmdline"])
    root, extra = s.get("root"), s.get("extra")
    if root is not None and extra is not None:
        return f"root={root} {extra}"
    if root is not None:
        return f"root={root}"
    return "" if extra is None else str(extra)


def disk_image(spec):
    """The target of an xl/xm disk spec: 'file:/p,xvda,w', '/p,xvda,w' or
    'format=raw, vdev=xvda, access=rw, target=/p'."""
    parts = [p.strip() for p in spec.split(",")]
    for p in parts:
        if p.startswith("target="):
            return p[len("target="):]
    target = parts[0]
    for prefix in ("file:", "tap:aio:", "tap2:aio:", "aio:"):
        if target.startswith(prefix):
            return target[len(prefix):]
    if ":" in target.split("/")[0]:
        raise Error(f"disk {spec!r}: only image files can be booted with QEMU here")
    return target


class Vm:
    """A real-VM domain config, read as xl reads it, plus the marker's settings."""

    def __init__(self, path, overrides=()):
        with open(path) as f:
            text = f.read()
        m = MARKER.search(text)
        if not m:
            raise Error(f"{path} is not a QEMU-backed domain (no '# vmup-qemu:' line)")
        self.marker = dict(
            (k.strip(), v.strip())
            for k, v in (kv.split("=", 1) for kv in m.group(1).split(";") if "=" in kv)
        )
        # `xl create CFG KEY=VALUE`: each one is a config line read after the file's.
        s = parse_config(text + "\n" + "\n".join(overrides) + "\n")
        self.path = path
        self.name = str(s.get("name") or "")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.name):
            raise Error(f"{path}: name {self.name!r} is missing or not a plain word")
        for key in ("kernel", "ramdisk"):
            if key not in s:
                raise Error(f"{path}: no {key}= (the fleet's VMs boot a kernel and initrd from the dom0)")
        self.kernel, self.ramdisk = str(s["kernel"]), str(s["ramdisk"])
        self.cmdline = kernel_cmdline(s)
        self.memory = int(s.get("memory", 512))
        self.vcpus = int(s.get("vcpus", 1))
        disks = s.get("disk") or []
        if not disks:
            raise Error(f"{path}: no disk=")
        self.image = disk_image(str(disks[0]))
        self.mac = None
        for vif in s.get("vif") or []:
            for kv in str(vif).split(","):
                k, _, v = kv.strip().partition("=")
                if k == "mac":
                    self.mac = v.strip()
            break
        fwd = self.marker.get("ssh_forward", "")
        if not re.fullmatch(r"[0-9.]+:[0-9]+", fwd):
            raise Error(f"{path}: the vmup-qemu line needs ssh_forward = ADDR:PORT (got {fwd!r})")
        self.ssh_addr, self.ssh_port = fwd.rsplit(":", 1)

    def argv(self, snapshot=False, daemon=True, serial=None, forward=None):
        """QEMU's command line for this domain (the one place it is built). A boot test
        beside the running domain wants snapshot=True (the disk's writes thrown away),
        its own serial file and its own forwarded port."""
        addr, port = (forward or f"{self.ssh_addr}:{self.ssh_port}").rsplit(":", 1)
        drive = f"file={self.image},format=raw,if=virtio,cache=unsafe"
        nic = "virtio-net-pci,netdev=n0" + (f",mac={self.mac}" if self.mac else "")
        argv = [
            # tb-size: TCG's code cache, 1 GiB by default; 64 MB boots as fast and
            # halves QEMU's resident memory (about 325 MB with 512 MB for the guest).
            QEMU, "-name", self.name, "-accel", "tcg,tb-size=64", "-machine", "pc",
            "-m", str(self.memory), "-smp", str(self.vcpus),
            "-nodefaults", "-no-user-config",
            "-kernel", self.kernel, "-initrd", self.ramdisk, "-append", self.cmdline,
            "-drive", drive + (",snapshot=on" if snapshot else ""),
            "-netdev", f"user,id=n0,hostfwd=tcp:{addr}:{port}-:22",
            "-device", nic,
            # Entropy for the guest's early getrandom() (sshd waited ~10 s without it).
            "-device", "virtio-rng-pci",
            "-serial", f"file:{serial or f'{LOG}/{self.name}.console'}",
            "-display", "none", "-no-reboot",
        ]
        if daemon:
            argv += [
                "-monitor", f"unix:{RUN}/{self.name}.monitor,server=on,wait=off",
                "-daemonize", "-pidfile", f"{RUN}/{self.name}.pid",
            ]
        return argv


# ------------------------------------------------------------------ processes


def pid_of(name):
    """The pid of NAME's QEMU while it runs (checked against its command line, so a
    reused pid or a zombie never counts)."""
    try:
        with open(f"{RUN}/{name}.pid") as f:
            pid = int(f.read().split()[0])
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
    except (OSError, ValueError, IndexError):
        return None
    want = [b"-name", name.encode()]
    if any(args[i : i + 2] == want for i in range(len(args))):
        return pid
    return None


def running():
    out = []
    try:
        names = sorted(f[:-4] for f in os.listdir(RUN) if f.endswith(".pid"))
    except FileNotFoundError:
        return out
    for name in names:
        if pid_of(name):
            vm = Vm(f"{RUN}/{name}.cfg")
            out.append((name, vm.memory, vm.vcpus))
    return out


def monitor(name, command):
    """One human-monitor command on NAME's QEMU; returns its answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(f"{RUN}/{name}.monitor")
    buf = b""
    while not buf.endswith(b"(qemu) "):
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    s.sendall(command.encode() + b"\n")
    buf = b""
    while not buf.endswith(b"(qemu) "):
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    s.close()
    return buf.decode(errors="replace")


def wait_gone(name, pid, timeout):
    deadline = time.monotonic() + timeout
    while pid_of(name) == pid:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


# ------------------------------------------------------------------ commands


def cmd_start(path, overrides):
    vm = Vm(path, overrides)
    if pid_of(vm.name):
        raise Error(f"domain with name {vm.name!r} already exists")
    for f in (vm.kernel, vm.ramdisk, vm.image):
        if not os.path.exists(f):
            raise Error(f"{vm.name}: {f} does not exist")
    os.makedirs(RUN, exist_ok=True)
    os.makedirs(LOG, exist_ok=True)
    console = f"{LOG}/{vm.name}.console"
    if os.path.exists(console):
        os.replace(console, console + ".old")
    with open(f"{RUN}/{vm.name}.cfg", "w") as f:
        with open(path) as src:
            f.write(src.read())
        f.write("\n" + "\n".join(overrides) + "\n")
    argv = vm.argv()
    with open(f"{LOG}/{vm.name}.argv", "w") as f:
        f.write(shlex.join(argv) + "\n")
    # -daemonize: the first process exits once the VM runs (0) or could not start
    # (its error on stderr), so a bad kernel path fails `xl create` as with Xen.
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0 or not pid_of(vm.name):
        raise Error(f"{vm.name}: QEMU did not start (exit {p.returncode}): {p.stdout.strip()}")
    print(f"Started domain {vm.name} (QEMU pid {pid_of(vm.name)}, ssh on {vm.ssh_addr}:{vm.ssh_port})")


def cmd_shutdown(name, wait, timeout):
    pid = pid_of(name)
    if not pid:
        raise Error(f"Domain '{name}' does not exist.")
    # The guest's PID 1 turns ctrl-alt-del into a clean power-off (vm-init.sh).
    monitor(name, "sendkey ctrl-alt-delete")
    if wait:
        print(f"Waiting for domain {name} to shut down")
        if not wait_gone(name, pid, timeout):
            raise Error(f"domain {name} did not shut down within {timeout:g} s")
        print(f"Domain {name} has been shut down")


def cmd_destroy(name):
    pid = pid_of(name)
    if not pid:
        raise Error(f"Domain '{name}' does not exist.")
    os.kill(pid, signal.SIGTERM)
    if not wait_gone(name, pid, 5):
        os.kill(pid, signal.SIGKILL)
        wait_gone(name, pid, 5)


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "is-vm":
        with open(args[0]) as f:
            return 0 if MARKER.search(f.read()) else 1
    if cmd == "argv":
        opts, rest, it = {}, [], iter(args[1:])
        for a in it:
            if a == "--snapshot":
                opts["snapshot"] = True
            elif a in ("--serial", "--ssh-forward"):
                opts[a[2:].replace("ssh-", "")] = next(it, None)
            else:
                rest.append(a)
        print(shlex.join(Vm(args[0], rest).argv(daemon=False, **opts)))
    elif cmd == "start":
        cmd_start(args[0], args[1:])
    elif cmd == "list":
        for name, memory, vcpus in running():
            print(name, memory, vcpus)
    elif cmd == "running":
        return 0 if pid_of(args[0]) else 1
    elif cmd == "shutdown":
        wait, timeout, names = False, SHUTDOWN_TIMEOUT, []
        it = iter(args)
        for a in it:
            if a in ("-w", "--wait"):
                wait = True
            elif a == "--timeout":
                timeout = float(next(it, "0"))
            else:
                names.append(a)
        for name in names:
            cmd_shutdown(name, wait, timeout)
    elif cmd == "destroy":
        for name in args:
            cmd_destroy(name)
    else:
        print(f"vm-qemu: unknown command {cmd}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Error as e:
        print(f"Error: {e}", file=sys.stderr)
        sys.exit(1)
