"""Benchmark: grade synthetic classes cold and warm, and one `grade check`; print the figures.

    python bench/run_bench.py                  # 1,000 and 10,000 submissions
    python bench/run_bench.py --sizes 200      # a quick run

For each size it generates a class (bench/generate_class.py), runs `grade CLASS --out OUT` twice in
a subprocess (cold: empty cache; warm: the same class again, every result cached) and prints wall
time, submissions per second, the CPU time (user and system) of all its processes (the main process,
its workers, the feedback writer), the system part of it for the cold run (the kernel's: it grows
when making files is slow, which the fixed loop below does not see) and the peak resident memory of
the largest of them. It also grades the first class (up to 1,000 submissions) in this process to
split the time per submission by problem (and reading the answers file), and times `grade check`
including start-up: the first check (nothing kept yet: Q4's derivations are read from its problem
folder), the first check of a copy of the problems without them (which derives Q4 with SymPy and
keeps the result, in a scratch folder), then five checks of one submission and one check each of
five others (the median, then the fastest and slowest: one run on a shared machine says little).
Before and after, it times a fixed pure-Python loop: the machine's speed drifts by hours, and
figures of different speeds do not compare. It also times making empty files beside the reports: a
cold run makes some 20,000, and when the file system is slow to make them (on the project's machine,
for some minutes after many files were deleted) those cost seconds more.
Targets (issue 7, on the project's 2-core machine): 10,000 cold < 30 s,
warm < 5 s, peak memory < 1 GB, `grade check` < 1 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_class import generate  # noqa: E402  (the sibling script)

ROOT = Path(__file__).resolve().parent.parent


CHECK_RUNS = 5
"""Times `grade check` is run for its figures."""


@dataclass(frozen=True)
class Run:
    """What one command cost.

    Attributes:
        wall: Wall time, in seconds.
        cpu: CPU time (user and system) of the command and every process it waited for, in seconds.
        system: The system part of ``cpu`` (the kernel's work: making files, faulting in memory), in seconds.
        peak_mb: Peak resident memory of the largest of those processes, in MB.
    """

    wall: float
    cpu: float
    system: float
    peak_mb: float


def timed_run(args: list[str], environment: dict[str, str] | None = None) -> Run:
    """Run a command (with ``environment`` added to this one's) and measure it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env={**os.environ, **(environment or {})})
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    system = after.ru_stime - before.ru_stime
    cpu = after.ru_utime - before.ru_utime + system
    return Run(elapsed, cpu, system, max(before.ru_maxrss, after.ru_maxrss) / 1024)


def per_problem(class_dir: Path, count: int) -> dict[str, float]:
    """Milliseconds per submission spent reading its answers file and in each problem, graded in this process.

    Over many submissions, as in a class run: the problems' memos (repeated
    answers, Q4's parameters) fill during the first hundreds.
    """
    from grader import engine
    from grader.problems import load_problems
    from grader.submission import find_submissions

    problems = load_problems(ROOT / "problems")
    spent: dict[str, float] = defaultdict(float)
    originals = engine.grade_problem, engine.read_submission

    def timing(problem, table):
        start = time.perf_counter()
        try:
            return originals[0](problem, table)
        finally:
            spent[problem.id] += time.perf_counter() - start

    def reading(*args, **kwargs):
        start = time.perf_counter()
        try:
            return originals[1](*args, **kwargs)
        finally:
            spent["reading"] += time.perf_counter() - start

    engine.grade_problem, engine.read_submission = timing, reading
    try:
        engine.grade_batch(find_submissions(class_dir)[:count], problems)
    finally:
        engine.grade_problem, engine.read_submission = originals
    return {name: 1000 * seconds / count for name, seconds in sorted(spent.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description="Grade synthetic classes and print the figures.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    arguments = parser.parse_args()
    grade = [sys.executable, "-m", "grader.cli"]
    with tempfile.TemporaryDirectory(prefix="grade-bench-") as scratch:
        base = Path(scratch)
        print(f"machine: {os.cpu_count()} CPUs; workers: {arguments.workers}; "
              f"speed before: {machine_speed():.2f} s for the fixed loop; "
              f"making a file: {file_speed(base / 'files-before'):.0f} µs")
        for size in arguments.sizes:
            class_dir, out = base / f"class{size}", base / f"out{size}"
            generate(class_dir, size)
            command = [*grade, "run", str(class_dir), "--out", str(out), "-q", "--workers", str(arguments.workers)]
            cold, warm = timed_run(command), timed_run(command)
            print(f"{size:>6} submissions: cold {cold.wall:7.1f} s ({size / cold.wall:6.0f}/s, CPU {cold.cpu:.1f} s, "
                  f"system {cold.system:.1f} s), "
                  f"warm {warm.wall:6.1f} s ({size / warm.wall:6.0f}/s, CPU {warm.cpu:.1f} s), "
                  f"peak RSS {max(cold.peak_mb, warm.peak_mb):6.0f} MB")
        sample = base / f"class{arguments.sizes[0]}"
        shares = per_problem(sample, min(1000, arguments.sizes[0]))
        print(f"time per submission by problem (ms, in-process, {min(1000, arguments.sizes[0])} submissions): "
              + ", ".join(f"{pid} {ms:.1f}" for pid, ms in shares.items()))
        students = sorted(sample.iterdir())[:CHECK_RUNS + 1]
        kept = {"GRADER_CACHE_DIR": str(base / "derivations")}  # empty: nothing kept by an earlier check
        unshipped = base / "problems"  # as after a solver changed, before `grade derive`
        shutil.copytree(ROOT / "problems", unshipped, ignore=shutil.ignore_patterns("derivations", "__pycache__"))

        def check(student: Path, *options: str) -> float:
            return timed_run([*grade, "check", str(student), "--lang", "en", *options], kept).wall

        print("grade check, start-up included:")
        print(f"  the first check (nothing kept; Q4's shipped derivations read): {check(students[0]):.2f} s")
        print(f"  the first check without shipped derivations (derives Q4 with SymPy and keeps it): "
              f"{check(students[0], '--problems', str(unshipped)):.2f} s")
        for label, times in ((f"one submission, {CHECK_RUNS} runs", [check(students[0]) for _ in range(CHECK_RUNS)]),
                             (f"{CHECK_RUNS} other submissions, one run each", [check(s) for s in students[1:]])):
            times.sort()
            print(f"  {label}: median {times[len(times) // 2]:.2f} s ({times[0]:.2f}–{times[-1]:.2f} s)")
        print(f"machine speed after: {machine_speed():.2f} s for the fixed loop; "
              f"making a file: {file_speed(base / 'files-after'):.0f} µs")


def machine_speed() -> float:
    """Seconds a fixed pure-Python loop takes: the machine's speed of the moment (less is faster)."""
    start = time.perf_counter()
    total = 0
    for number in range(20_000_000):
        total += number * number
    return time.perf_counter() - start


FILES_TIMED = 1000
"""Empty files :func:`file_speed` makes."""


def file_speed(folder: Path) -> float:
    """Microseconds it takes to make an empty file in a new ``folder`` (of :data:`FILES_TIMED`, kept there).

    Making files is the file system's work, which the fixed loop does not see. On the project's machine
    (ext4 without a journal) its cost moves ten times or more within minutes, most after many files were
    deleted: without a journal, a new file's inode is not one freed in the last minute (or six, until the
    deletion is written out), and each new file costs a search past those.
    """
    folder.mkdir()
    start = time.perf_counter()
    for number in range(FILES_TIMED):
        os.close(os.open(folder / str(number), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return (time.perf_counter() - start) * 1e6 / FILES_TIMED


if __name__ == "__main__":
    main()
