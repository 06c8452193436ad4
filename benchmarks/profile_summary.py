"""Summarise a py-spy speedscope profile: the frames that hold the most samples.

    python benchmarks/profile_summary.py PROFILE.speedscope.json [--top 15] [--step raw_prices]

For every frame (function, file, line as py-spy names it): *inclusive* is the share of samples
with the frame anywhere on the stack (counted once per sample), *self* the share with it at the
top. Project frames (``rotation_assets/``) are listed apart, since they say which of the
project's functions the time goes to. ``--step NAME`` keeps only the samples taken inside the
op function ``NAME`` of ``rotation_assets/defs`` (a step of the run: ``raw_prices``,
``analytics`` ...); shares stay shares of the whole profile. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path


def _label(frame: dict) -> str:
    """``function (path)``: lines are dropped, so a function counts once whatever line ran."""
    path = re.sub(r"^.*/lib/python3\.\d+/", "", frame.get("file") or "?")
    for marker in ("site-packages/", "rotation_assets/", "benchmarks/"):
        if marker in path:
            path = marker + path.split(marker, 1)[1]
            break
    return f"{frame['name']} ({path})"


def _in_step(frame: dict, step: str) -> bool:
    return frame["name"] == step and "rotation_assets/defs/" in (frame.get("file") or "")


def summarise(profile: Path, top: int = 15, step: str | None = None, data: dict | None = None):
    data = data or json.loads(profile.read_text())
    frames = data["shared"]["frames"]
    labels = [_label(f) for f in frames]
    step_frames = {i for i, f in enumerate(frames) if step and _in_step(f, step)}
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = selected = 0.0
    for prof in data["profiles"]:
        for stack, weight in zip(prof["samples"], prof["weights"], strict=True):
            total += weight
            if not stack or (step and not step_frames.intersection(stack)):
                continue
            selected += weight
            own[labels[stack[-1]]] += weight
            for label in {labels[i] for i in stack}:
                inclusive[label] += weight
    if not total:
        return {"profile": str(profile), "sampled_seconds": 0}

    def share(counter: Counter[str], keep) -> list[dict]:
        chosen = [(label, w) for label, w in counter.most_common() if keep(label)][:top]
        return [{"frame": label, "share": round(w / total, 3)} for label, w in chosen]

    def project(label: str) -> bool:
        # The CLI's frames hold every sample of the run: they say nothing.
        return "(rotation_assets/" in label and "(rotation_assets/cli.py)" not in label

    return {
        "profile": str(profile),
        "step": step,
        "sampled_seconds": round(total, 2),
        "share_of_samples": round(selected / total, 3),
        "top_inclusive_project": share(inclusive, project),
        "top_self": share(own, lambda label: True),
        "top_self_project": share(own, project),
    }


def by_step(profile: Path, steps: list[str], top: int = 8) -> dict:
    """``summarise`` of each step's samples, and of the whole profile."""
    data = json.loads(profile.read_text())
    out = {"whole": summarise(profile, top, None, data)}
    # Sampled seconds per thread (the run's own, and any a library starts).
    out["whole"]["threads"] = {
        prof["name"]: round(sum(prof["weights"]), 2) for prof in data["profiles"]
    }
    for step in steps:
        out[step] = summarise(profile, top, step, data)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--step", help="only samples inside this op function")
    args = parser.parse_args()
    print(json.dumps(summarise(args.profile, args.top, args.step), indent=2))


if __name__ == "__main__":
    main()
