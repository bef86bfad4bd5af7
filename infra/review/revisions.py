"""Read a revision's generated artifacts from git without checking it out or importing its code.

A revision is a git ref (``main``, ``origin/main``, a SHA, ``HEAD~1``) or ``None`` for the
working tree. What each revision provisions is its committed artifacts (``alert_rules/``,
``dashboards/``, …), which ``monitoring render --check`` keeps equal to its config; so two
revisions compare by their files, whatever code rendered them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class RevisionError(Exception):
    """A ref git cannot resolve, or a repository git cannot read; one line for a person."""


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=120, check=False
        )
    except FileNotFoundError:
        raise RevisionError("git is not installed; install it to compare revisions") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise RevisionError(f"git {' '.join(args[:2])} failed: {last}")
    return done.stdout


def resolve(root: Path, ref: str) -> str:
    """The commit SHA ``ref`` names; a clear error when it names none (e.g. a shallow clone
    without the PR's base: fetch it with ``git fetch --depth=1 origin <base>``)."""
    if ref.startswith("-"):
        raise RevisionError(f"{ref!r} is not a git ref")
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except RevisionError:
        raise RevisionError(
            f"git cannot find revision {ref!r}; fetch it first (e.g. `git fetch origin {ref}`)"
        ) from None


def read_tree(root: Path, ref: str | None, prefix: str) -> dict[str, str]:
    """``{path: text}`` of every file under ``prefix`` (a folder, relative to the repository
    root) at ``ref``, or in the working tree when ``ref`` is ``None``."""
    prefix = prefix.strip("/")
    if ref is None:
        folder = root / prefix
        return {
            p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
    sha = resolve(root, ref)
    listing = _git(root, "ls-tree", "-r", "--name-only", sha, "--", prefix)
    return {path: read_file(root, sha, path) for path in listing.splitlines() if path}


def read_file(root: Path, ref: str | None, path: str) -> str:
    """The text of ``path`` at ``ref`` (``None``: the working tree)."""
    if ref is None:
        return (root / path).read_text(encoding="utf-8")
    # "./": relative to the project folder, which may be a subfolder of the repository.
    return _git(root, "show", f"{ref}:./{path}")
