"""The resident set's high-water mark of the current process, for the memory benchmarks' fresh
interpreters (imported there, so each measures itself)."""

from __future__ import annotations

import resource


def peak_kb() -> int:
    """VmHWM in kB (Linux), else ru_maxrss (kB on Linux, bytes on macOS)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
