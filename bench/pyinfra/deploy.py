"""pyinfra deploy: the guest steps of examples/runbook.toml, for bench/fleet-bench.sh.

    pyinfra -y --parallel N inventory.py deploy.py

Built-in operations where pyinfra has one (files.line, files.put,
server.shell); two small custom operations where it has none: adding words to
an INI key (yum's installonlypkgs) and inserting a line *before* an anchor
(files.line can only append). Both decide from a fact, so a run with nothing
to change executes no change command, like pyinfra's own operations.
"""

import os
import shlex
from io import StringIO

from pyinfra import host
from pyinfra.api import FactBase, operation
from pyinfra.facts.files import FindInFile
from pyinfra.operations import files, server

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "lib", "ini-add-words.awk")) as f:
    INI_AWK = f.read()

INSTALLONLY = [
    "kernel", "kernel-smp", "kernel-devel", "kernel-smp-devel", "kernel-largesmp",
    "kernel-largesmp-devel", "kernel-hugemem", "kernel-hugemem-devel",
    "kernel-xenU", "kernel-xenU-devel",
]

MONASH_REPO = """\
[monashbase]
name=Updated distro at Monash - 4.6
#baseurl=http://132.181.50.89/install/CentOS/$releasever/os/$basearch/
baseurl=http://ftp.monash.edu.au/pub/linux/CentOS/4.6/os/i386/
enabled=0
gpgcheck=1

[monashupdates]
name=Distro updates at Monash - 4.6
baseurl=http://ftp.monash.edu.au/pub/linux/CentOS/4.6/updates/i386/
enabled=0
gpgcheck=1
"""

S0_LINE = "S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav"


class IniWords(FactBase):
    """Words of KEY in [SECTION] (its last occurrence); [] when the key is absent."""

    def command(self, path, section, key):
        prog = (
            'l = $0; sub(/^[ \\t]+/, "", l); sub(/[ \\t\\r]+$/, "", l)\n'
            'if (l ~ /^\\[/) { insec = (l == "[" sec "]"); next }\n'
            'k = l; sub(/[ \\t]*=.*/, "", k)\n'
            'if (insec && k == key && l ~ /=/) { v = l; sub(/^[^=]*=/, "", v); found = 1 }\n'
        )
        return "awk -v sec={} -v key={} {} {}".format(
            shlex.quote(section), shlex.quote(key),
            shlex.quote("{" + prog + "} END { if (found) print v }"), shlex.quote(path))

    @staticmethod
    def default():
        return []

    def process(self, output):
        return " ".join(output).split()


@operation()
def ini_contains(path: str, section: str, key: str, words: list):
    """Add the missing WORDS to KEY in [SECTION] (creating key/section)."""
    have = host.get_fact(IniWords, path=path, section=section, key=key) or []
    missing = [w for w in words if w not in have]
    if not missing:
        host.noop(f"{key} in [{section}] of {path} holds every word")
        return
    q = shlex.quote
    yield (
        f"f={q(path)}; t=\"$f.pyinfra-tmp.$$\"; cp -p \"$f\" \"$t\" && "
        f"awk -v sec={q(section)} -v key={q(key)} -v words={q(' '.join(words))} {q(INI_AWK)} "
        f"\"$f\" \"$f\" >\"$t\" && mv -f \"$t\" \"$f\""
    )


@operation()
def line_before(path: str, line: str, match: str, before: str):
    """LINE present: else the last line matching MATCH is replaced, else LINE
    goes before the first line matching BEFORE (error when there is none)."""
    present = host.get_fact(FindInFile, path=path, pattern=match)
    if present is None:
        raise OSError(f"{path} does not exist")
    if line in present:
        host.noop(f"{path} has the line")
        return
    q = shlex.quote
    prog = (
        "NR == FNR { if ($0 ~ m) last = FNR; if (!first && $0 ~ b) first = FNR; next }\n"
        "FNR == 1 && !last && !first { exit 1 }\n"
        "last && FNR == last { print line; next }\n"
        "!last && FNR == first { print line }\n"
        "{ print }"
    )
    yield (
        f"f={q(path)}; t=\"$f.pyinfra-tmp.$$\"; cp -p \"$f\" \"$t\" && "
        f"awk -v line={q(line)} -v m={q(match)} -v b={q(before)} {q(prog)} \"$f\" \"$f\" >\"$t\" "
        f"&& mv -f \"$t\" \"$f\" || {{ rm -f \"$t\"; echo \"no line matches {before} in $f\" >&2; exit 1; }}"
    )


ini_contains(
    name="keep guest kernels installed side by side",
    path="/etc/yum.conf", section="main", key="installonlypkgs", words=INSTALLONLY,
)

files.put(
    name="KAREN-reachable CentOS mirror",
    src=StringIO(MONASH_REPO), dest="/etc/yum.repos.d/Monash-base.repo",
    mode="644", user="root", group="root",
)

files.line(
    name="root login on the serial console",
    path="/etc/securetty", line="^ttyS0$",
)

line_before(
    name="getty on the serial console",
    path="/etc/inittab", line=S0_LINE, match="^S0:", before="^1:",
)

server.shell(
    name="thread-local-storage libraries stay disabled",
    commands=[
        "if [ -e /lib/tls ] || [ -L /lib/tls ]; then "
        "if [ -e /lib/tls.disabled ] || [ -L /lib/tls.disabled ]; then "
        "rm -rf /lib/tls.disabled.old && mv /lib/tls.disabled /lib/tls.disabled.old; fi && "
        "mv /lib/tls /lib/tls.disabled; fi"
    ],
)

# The stable /boot names are the dom0's (examples/runbook.toml: `hosts = "hosts"`, since
# the host boots the guest's kernel); every tool here works on the guests only.
