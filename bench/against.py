"""Run a bench script on this tree and on an earlier revision, interleaved, and compare.

Used to show that a change left a benchmark's figures where they were: the same script
runs in a temporary worktree of REV (the baseline) and in this tree, alternately, so
both see the same machine at the same time. Every output line that starts with a label
and carries numbers is matched by its label across the runs; the median of each figure
is printed for both trees with the ratio new / baseline.

    .venv/bin/python bench/against.py --rev fd358fe --rounds 3 bench/reconcile.py [ARGS...]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")


def figures(output: str) -> dict[str, list[float]]:
    """label -> the numbers on its line, for every line that starts with a label."""
    found: dict[str, list[float]] = {}
    for line in output.splitlines():
        first = NUMBER.search(line)
        if first is None:
            continue
        label = line[: first.start()].strip(" :")
        if not label or not label[0].isalpha():
            continue
        found[label] = [float(n.replace(",", "")) for n in NUMBER.findall(line[first.start() :])]
    return found


def run(tree: Path, script: str, args: list[str]) -> dict[str, list[float]]:
    out = subprocess.run(
        [sys.executable, str(tree / script), *args],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{script} failed in {tree}:\n{out.stderr[-3000:]}")
    return figures(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the baseline revision")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("script", help="a bench script, relative to the repository root")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()

    baseline = Path(tempfile.mkdtemp(prefix="sightline-against-")) / "tree"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(baseline), options.rev],
        check=True,
        capture_output=True,
    )
    runs: dict[str, list[dict[str, list[float]]]] = {"baseline": [], "this tree": []}
    try:
        for round_ in range(options.rounds):
            # Alternate which goes first so neither always runs on a warmer machine.
            order = [("baseline", baseline), ("this tree", REPO)]
            for name, tree in order if round_ % 2 == 0 else order[::-1]:
                print(f"round {round_ + 1}: {name}", file=sys.stderr, flush=True)
                runs[name].append(run(tree, options.script, options.args))
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)],
            check=False,
            capture_output=True,
        )

    print(f"{options.script} {' '.join(options.args)}: median of {options.rounds} rounds each")
    print(f"baseline {options.rev}; ratio = this tree / baseline")
    print()
    print(f"{'figure':<48}{'baseline':>12}{'this tree':>12}{'ratio':>8}")
    labels = [label for label in runs["this tree"][0] if label in runs["baseline"][0]]
    for label in labels:
        old = _medians([r.get(label, []) for r in runs["baseline"]])
        new = _medians([r.get(label, []) for r in runs["this tree"]])
        for index, (a, b) in enumerate(zip(old, new, strict=False)):
            if index and a == b:
                continue  # a constant on the line (a target, a count), not a measurement
            name = label if index == 0 else f"{label} [{index + 1}]"
            ratio = f"{b / a:.3f}" if a else ""
            print(f"{name[:47]:<48}{a:>12,.3f}{b:>12,.3f}{ratio:>8}")


def _medians(per_run: list[list[float]]) -> list[float]:
    width = min((len(values) for values in per_run), default=0)
    return [statistics.median(values[i] for values in per_run) for i in range(width)]


if __name__ == "__main__":
    main()
