#!/usr/bin/env python3
"""Run a command and report CPU time per process of its tree.

    scripts/proc-cpu.py [--every SECONDS] -- COMMAND ARGS...

Polls /proc every --every seconds (0.1 by default) for the descendants of
the command, and keeps each process's last reading of user and system time
(/proc/PID/stat fields 14 and 15), voluntary and involuntary context
switches and peak RSS (/proc/PID/status), and minor page faults. A
process's final figures are its last poll before it exited, so up to one
interval of its CPU time is missed; the command's own totals, children
included, come from getrusage and are printed last for comparison. Used to
tell where training through plugin processes spends its CPU (host, env and
algo plugins) and which process makes the system time.
"""
import os
import resource
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def children_of():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        kids.setdefault(int(rest[1]), []).append(int(d))
    return kids


def tree(root):
    kids, out, todo = children_of(), [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def read(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        with open(f"/proc/{pid}/status") as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
    except OSError:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    rest = s[s.rindex(")") + 2:].split()
    return {
        "comm": comm,
        "user": int(rest[11]) / TICK,
        "sys": int(rest[12]) / TICK,
        "minflt": int(rest[7]),
        "vcsw": int(st["voluntary_ctxt_switches"]),
        "ivcsw": int(st["nonvoluntary_ctxt_switches"]),
        "hwm_mb": int(st.get("VmHWM", "0 kB").split()[0]) / 1024,
    }


def main():
    args = sys.argv[1:]
    every = 0.1
    if args[:1] == ["--every"]:
        every, args = float(args[1]), args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: proc-cpu.py [--every S] -- COMMAND ARGS...")
    load0 = open("/proc/loadavg").read().split()[:3]
    t0 = time.time()
    p = subprocess.Popen(args)
    last = {}
    while p.poll() is None:
        for pid in tree(p.pid):
            r = read(pid)
            if r:
                # An exited process (a zombie) has no memory figures left.
                if r["hwm_mb"] == 0 and pid in last:
                    r["hwm_mb"] = last[pid]["hwm_mb"]
                last[pid] = r
        time.sleep(every)
    wall = time.time() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    load1 = open("/proc/loadavg").read().split()[:3]
    print(f"# load before {' '.join(load0)} after {' '.join(load1)}; wall {wall:.1f} s; exit {p.returncode}")
    print(f"{'pid':>7} {'process':<18} {'user_s':>7} {'sys_s':>7} {'vol_csw':>9} {'invol_csw':>9} {'minflt':>9} {'peak_MB':>8}")
    tot = [0.0, 0.0]
    for pid, r in sorted(last.items()):
        if r["user"] + r["sys"] < 0.01 and r["comm"] in ("time", "env", "sh"):
            continue
        tot[0] += r["user"]
        tot[1] += r["sys"]
        print(f"{pid:>7} {r['comm']:<18} {r['user']:>7.2f} {r['sys']:>7.2f} {r['vcsw']:>9} {r['ivcsw']:>9} {r['minflt']:>9} {r['hwm_mb']:>8.0f}")
    print(f"{'':>7} {'sum of polls':<18} {tot[0]:>7.2f} {tot[1]:>7.2f}")
    print(f"{'':>7} {'getrusage (all)':<18} {ru.ru_utime:>7.2f} {ru.ru_stime:>7.2f}")
    sys.exit(p.returncode)


main()
