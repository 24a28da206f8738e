"""Pin every distribution that `pip install -e '.[dev]'` installs, in constraints.txt.

    python tools/lock.py --write   # regenerate constraints.txt from the running environment
    python tools/lock.py --check   # offline: constraints.txt agrees with pyproject.toml and
                                   # with what the running environment has installed

The requirement tree starts at pyproject.toml's [project].dependencies and its `dev` extra
(posture[dev]) and follows each installed distribution's Requires-Dist (importlib.metadata),
markers evaluated for this interpreter and platform. pip itself is pinned too, for the
Makefile's `pip install --upgrade pip` step. Needs `packaging` (pytest requires it, so every
.venv made by `make install` has it).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

REPO = Path(__file__).resolve().parent.parent
CONSTRAINTS = REPO / "constraints.txt"
PYPROJECT = REPO / "pyproject.toml"
EXTRA = "dev"
# Pinned beside the tree: the Makefile upgrades pip with `-c constraints.txt` first.
BOOTSTRAP = ("pip",)

HEADER = """\
# Every distribution that `pip install -e '.[dev]'` installs into .venv, pinned name==version
# (CPython 3.11 on Linux). `make install` installs with `-c constraints.txt`, and make test
# (tests/test_constraints.py) fails when this file disagrees with pyproject.toml or with .venv.
# Generated from .venv by tools/lock.py: do not edit by hand. Regenerate with: make lock
"""

Pins = dict[str, tuple[str, str]]  # canonical name -> (distribution's own name, version)


def installed_distributions() -> dict[str, metadata.Distribution]:
    """The running environment's distributions by canonical name (first on sys.path wins)."""
    found: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonicalize_name(name), dist)
    return found


def _applies(req: Requirement, extras: Iterable[str]) -> bool:
    if req.marker is None:
        return True
    env = default_environment()
    return any(req.marker.evaluate({**env, "extra": extra}) for extra in {"", *extras})


def pyproject_requirements(pyproject_text: str, extra: str = EXTRA) -> list[Requirement]:
    """[project].dependencies plus the named extra, those whose markers hold here."""
    project = tomllib.loads(pyproject_text)["project"]
    reqs = [Requirement(s) for s in project.get("dependencies", [])]
    reqs += [Requirement(s) for s in project.get("optional-dependencies", {}).get(extra, [])]
    return [r for r in reqs if _applies(r, [extra])]


def resolve_tree(
    roots: Iterable[Requirement], dists: Mapping[str, metadata.Distribution]
) -> tuple[Pins, list[str]]:
    """Every installed distribution the roots need, transitively, and what is missing."""
    pins: Pins = {}
    missing: list[str] = []
    done: dict[str, set[str]] = {}  # canonical name -> extras already followed
    todo: list[tuple[Requirement, str]] = [(r, "pyproject.toml") for r in roots]
    while todo:
        req, needed_by = todo.pop()
        key = canonicalize_name(req.name)
        dist = dists.get(key)
        if dist is None:
            if key not in done:
                missing.append(f"{req.name} (needed by {needed_by})")
                done[key] = set()
            continue
        extras = set(req.extras)
        if key in done and extras <= done[key]:
            continue
        done[key] = done.get(key, set()) | extras
        name = dist.metadata["Name"]
        pins[key] = (name, dist.version)
        for spec in dist.requires or []:
            sub = Requirement(spec)
            if _applies(sub, done[key]):
                todo.append((sub, name))
    return pins, missing


def render(pins: Pins) -> str:
    lines = [f"{name}=={version}" for _, (name, version) in sorted(pins.items())]
    return HEADER + "\n".join(lines) + "\n"


def parse_constraints(text: str) -> tuple[Pins, list[str]]:
    """name==version lines (comments and blank lines ignored), and what is malformed."""
    pins: Pins = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            problems.append(f"constraints.txt line {number} ({line!r}) is not a requirement.")
            continue
        specs = list(req.specifier)
        if req.extras or req.marker or req.url or len(specs) != 1 or specs[0].operator != "==":
            problems.append(f"constraints.txt line {number} ({line!r}) is not a name==version pin.")
            continue
        key = canonicalize_name(req.name)
        if key in pins:
            problems.append(f"constraints.txt pins {req.name} twice (line {number}).")
            continue
        pins[key] = (req.name, specs[0].version)
    return pins, problems


def check(
    constraints_text: str,
    pyproject_text: str,
    dists: Mapping[str, metadata.Distribution] | None = None,
) -> list[str]:
    """One sentence per disagreement between constraints, pyproject.toml and the environment."""
    dists = installed_distributions() if dists is None else dists
    pins, problems = parse_constraints(constraints_text)
    roots = pyproject_requirements(pyproject_text)

    for req in roots:
        key = canonicalize_name(req.name)
        if key not in pins:
            problems.append(
                f"{req.name} is required by pyproject.toml but has no pin in constraints.txt."
            )
            continue
        name, version = pins[key]
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            problems.append(
                f"constraints.txt pins {name}=={version}, which pyproject.toml's "
                f"{req.name}{req.specifier} does not allow."
            )

    for key, (name, version) in sorted(pins.items()):
        dist = dists.get(key)
        if dist is None:
            problems.append(f"constraints.txt pins {name}=={version} but it is not installed.")
            continue
        try:
            same = Version(dist.version) == Version(version)
        except InvalidVersion:
            same = dist.version == version
        if not same:
            problems.append(
                f"constraints.txt pins {name}=={version} but the environment has {dist.version}."
            )

    tree, missing = resolve_tree(roots, dists)
    for what in missing:
        problems.append(f"{what} is not installed, so the requirement tree is incomplete.")
    for key, (name, version) in sorted(tree.items()):
        if key not in pins:
            problems.append(
                f"{name} {version} is part of posture[{EXTRA}] but has no pin in constraints.txt."
            )
    wanted = set(tree) | {canonicalize_name(n) for n in BOOTSTRAP}
    for key, (name, _) in sorted(pins.items()):
        if key not in wanted:
            problems.append(f"constraints.txt pins {name}, which posture[{EXTRA}] does not need.")
    return problems


def lock_text(pyproject_text: str, dists: Mapping[str, metadata.Distribution] | None = None):
    """constraints.txt for the environment, and why it cannot be written (if it cannot)."""
    dists = installed_distributions() if dists is None else dists
    pins, missing = resolve_tree(pyproject_requirements(pyproject_text), dists)
    problems = [f"{what} is not installed: run make install first." for what in missing]
    for name in BOOTSTRAP:
        dist = dists.get(canonicalize_name(name))
        if dist is not None:
            pins[canonicalize_name(name)] = (dist.metadata["Name"], dist.version)
    text = render(pins)
    if not problems:
        problems = check(text, pyproject_text, dists)
    return text, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate the constraints file")
    mode.add_argument("--check", action="store_true", help="verify it (offline)")
    parser.add_argument("--constraints", type=Path, default=CONSTRAINTS)
    parser.add_argument("--pyproject", type=Path, default=PYPROJECT)
    args = parser.parse_args(argv)
    pyproject_text = args.pyproject.read_text()

    if args.write:
        text, problems = lock_text(pyproject_text)
        if not problems:
            args.constraints.write_text(text)
            count = sum(1 for line in text.splitlines() if not line.startswith("#"))
            print(f"wrote {args.constraints} ({count} pins)")
    else:
        if not args.constraints.is_file():
            problems = [f"{args.constraints} does not exist: run make lock."]
        else:
            problems = check(args.constraints.read_text(), pyproject_text)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
