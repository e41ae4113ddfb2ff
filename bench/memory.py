"""Peak resident memory (VmHWM from /proc) of every process of the stack.

VmHWM is the kernel's own high-water mark of a process's RSS, so one reading at the end
gives each process's peak without sampling. Children of the stack's processes count
too; the servers (redis-server, nx-27017) are found by the port on their command line.
"""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def _status_kb(pid: int, key: str) -> int | None:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat)."""
    import os

    fields = (PROC / str(pid) / "stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float | None:
    kb = _status_kb(pid, "VmHWM")
    return None if kb is None else kb / 1024


def _cmdline(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _children(pid: int) -> list[int]:
    out = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command may contain spaces and parentheses: the ppid follows the last ')'
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def server_pid(binary: str, port: int) -> int | None:
    """The pid of ``binary`` whose command line names ``port`` (redis / nx-27017)."""
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        argv = _cmdline(int(entry.name))
        # redis-server rewrites its title to "redis-server 127.0.0.1:<port>"
        if (
            argv
            and binary in argv[0] + " ".join(argv[1:2])
            and any(a == str(port) or a.endswith(f":{port}") for a in argv)
        ):
            return int(entry.name)
    return None


def reset_peak(pid: int) -> bool:
    """Start ``pid``'s VmHWM again from its current RSS (``5`` to /proc/<pid>/clear_refs,
    Linux >= 4.0), so a long-lived server's peak covers one phase, not the ones before."""
    try:
        (PROC / str(pid) / "clear_refs").write_text("5")
    except OSError:
        return False
    return True


def stack_peaks(named_pids: dict[str, int]) -> dict[str, float]:
    """Peak RSS in MB per name (a process plus its children, summed)."""
    peaks: dict[str, float] = {}
    for name, pid in named_pids.items():
        total = 0.0
        for p in (pid, *_children(pid)):
            total += peak_rss_mb(p) or 0.0
        peaks[name] = total
    return peaks
