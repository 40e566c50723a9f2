#!/usr/bin/python3 -B
"""End state of a list of paths inside a container, one line per object (fed on stdin:
`python3 -B - HOST PATH... [unit:NAME...]`). Same fields as shared/bench/verify_state.py
(type, mode, owner:group, size, sha256, link target; no timestamps), restricted to the
given paths (directories are walked), plus `systemctl is-active/is-enabled` for `unit:X`.
The container name is replaced by @HOST@, the shadow last-change day is blanked, and
timestamped backup names (`file.1234.2026-01-01@00:00:00~`) become `file.BACKUP~`."""
import hashlib
import os
import re
import stat
import subprocess
import sys

HOST = sys.argv[1].encode()
BACKUP = re.compile(r"\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$")


def owner(st):
    import grp
    import pwd
    try:
        u = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        u = str(st.st_uid)
    try:
        g = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        g = str(st.st_gid)
    return "%s:%s" % (u, g)


def norm(path, data):
    if path in ("/etc/shadow", "/etc/gshadow"):
        lines = []
        for line in data.split(b"\n"):
            parts = line.split(b":")
            if path == "/etc/shadow" and len(parts) >= 3:
                parts[2] = b"D"
            lines.append(b":".join(parts))
        data = b"\n".join(lines)
    return data.replace(HOST, b"@HOST@")


def entry(path, st):
    shown = BACKUP.sub(".BACKUP~", path)
    mode = "%04o" % stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path).encode().replace(HOST, b"@HOST@").decode()
        return "l %s %s -> %s" % (owner(st), shown, target)
    if stat.S_ISDIR(st.st_mode):
        return "d %s %s %s" % (mode, owner(st), shown)
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as fh:
            data = norm(path, fh.read())
        return "f %s %s %d %s %s" % (mode, owner(st), len(data),
                                     hashlib.sha256(data).hexdigest(), shown)
    return "? %s %s %s" % (mode, owner(st), shown)


def walk(path, out):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        out.append("absent %s" % path)
        return
    out.append(entry(path, st))
    if stat.S_ISDIR(st.st_mode):
        for name in sorted(os.listdir(path)):
            walk(os.path.join(path, name), out)


def unit(name, out):
    def q(*args):
        r = subprocess.run(["systemctl", *args, name], capture_output=True, text=True)
        return r.stdout.strip() or "-"
    out.append("unit %s active=%s enabled=%s" % (name, q("is-active"), q("is-enabled")))


out = []
for arg in sys.argv[2:]:
    if arg.startswith("unit:"):
        unit(arg[5:], out)
    else:
        walk(arg, out)
print("\n".join(out))
