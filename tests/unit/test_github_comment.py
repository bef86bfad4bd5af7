"""infra/github_comment.py (the PR review comment) against the GitHub contract server.

One comment per pull request, found by its marker: created on the first push, rewritten when the
report changes, left alone when it does not, never duplicated; a report over GitHub's limit is
cut with a notice; errors are one line without the token."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.github_api import BODY_LIMIT
from infra.github_comment import comment_body, marker, run
from infra.providers.http import RetryPolicy
from tests.contract.process import serve

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tests" / "contract" / "github_server.py"
TOKEN = "ghs_reviewToken0123456789abcdefABCDEF"
REPO = "acme/agenzia-ai-api"
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=30.0, timeout=5.0)
RUN_ENV = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": REPO,
           "GITHUB_RUN_ID": "77"}  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve(SERVER, "--token", TOKEN, "--repo", REPO, "--port", "0") as url:
        yield url


@pytest.fixture
def pr(server: str) -> int:
    httpx.post(f"{server}/__reset", json={}, timeout=5).raise_for_status()
    seeded = httpx.post(f"{server}/__seed", json={"repo": REPO, "items": [
        {"title": "Raise the error-rate threshold", "body": "please review",
         "pull_request": True}]}, timeout=5)  # fmt: skip
    seeded.raise_for_status()
    number: int = seeded.json()[0]
    return number


def comments(server: str, number: int) -> list[dict[str, Any]]:
    stored = httpx.get(f"{server}/__issues", params={"repo": REPO}, timeout=5).json()
    item = next(i for i in stored if i["number"] == number)
    found: list[dict[str, Any]] = item["comments"]
    return found


def upsert(server: str, tmp_path: Path, number: int, report: str, **env: str) -> tuple[int, str]:
    body = tmp_path / "review.md"
    body.write_text(report, encoding="utf-8")
    environ = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": server, **RUN_ENV, **env}
    argv = ["upsert", "--repo", REPO, "--pr", str(number), "--body", str(body)]
    return run(argv, environ, policy=FAST, sleep=lambda _: None), str(body)


def test_one_comment_per_pull_request_created_then_updated_then_left_alone(
    server: str, pr: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert upsert(server, tmp_path, pr, "### production\n- threshold 1% → 2%\n")[0] == 0
    [first] = comments(server, pr)
    assert first["body"].startswith(marker("diff") + "\n### production")
    assert "workflow run https://github.com/acme/agenzia-ai-api/actions/runs/77" in first["body"]
    assert upsert(server, tmp_path, pr, "### production\n- threshold 1% → 3%\n")[0] == 0
    [updated] = comments(server, pr)
    assert updated["id"] == first["id"] and "3%" in updated["body"]
    before = updated["updated_at"]
    assert upsert(server, tmp_path, pr, "### production\n- threshold 1% → 3%\n",
                  GITHUB_RUN_ID="78")[0] == 0  # fmt: skip
    [same] = comments(server, pr)
    assert same["updated_at"] == before, "an unchanged report must not be rewritten"
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"commented on #{pr}") and out[1].startswith("updated comment")
    assert "already shows this report" in out[2]


def test_a_person_s_comments_and_other_markers_are_left_alone(
    server: str, pr: int, tmp_path: Path
) -> None:
    for text in ("LGTM", f"quoting: {marker('diff')}", marker("other") + "\nx"):
        httpx.post(f"{server}/repos/{REPO}/issues/{pr}/comments", json={"body": text},
                   headers={"Authorization": f"Bearer {TOKEN}", "User-Agent": "t",
                            "X-GitHub-Api-Version": "2022-11-28"}, timeout=5).raise_for_status()  # fmt: skip
    assert upsert(server, tmp_path, pr, "report\n")[0] == 0
    bodies = [c["body"] for c in comments(server, pr)]
    assert bodies[:3] == ["LGTM", f"quoting: {marker('diff')}", marker("other") + "\nx"]
    assert len(bodies) == 4 and bodies[3].startswith(marker("diff"))


def test_comments_are_found_across_pages(server: str, pr: int, tmp_path: Path) -> None:
    httpx.post(f"{server}/__config", json={"max_per_page": 2}, timeout=5).raise_for_status()
    try:
        upsert(server, tmp_path, pr, "first\n")
        for n in range(5):
            httpx.post(f"{server}/repos/{REPO}/issues/{pr}/comments", json={"body": f"c{n}"},
                       headers={"Authorization": f"Bearer {TOKEN}", "User-Agent": "t",
                                "X-GitHub-Api-Version": "2022-11-28"}, timeout=5)  # fmt: skip
        assert upsert(server, tmp_path, pr, "second\n")[0] == 0
        mine = [c for c in comments(server, pr) if c["body"].startswith(marker("diff"))]
        assert len(mine) == 1 and "second" in mine[0]["body"]
    finally:
        httpx.post(f"{server}/__config", json={"max_per_page": 100}, timeout=5)


def test_an_oversized_report_is_cut_at_a_line_with_a_notice() -> None:
    report = "".join(f"| row {n} | {'x' * 80} |\n" for n in range(2000))
    body = comment_body("diff", report, "https://github.com/o/r/actions/runs/1")
    assert len(body) <= BODY_LIMIT
    assert "was cut to fit GitHub's limit of 65,536 characters" in body
    assert "of its 2,000 lines" in body
    assert all(line.endswith("|") for line in body.splitlines()[1:-6] if line.startswith("| row"))


def test_bad_token_and_missing_token_are_one_line_exit_2_without_the_token(
    server: str, pr: int, tmp_path: Path
) -> None:
    body = tmp_path / "review.md"
    body.write_text("report\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    argv = [sys.executable, "-m", "infra.github_comment", "upsert", "--repo", REPO,
            "--pr", str(pr), "--body", str(body)]  # fmt: skip
    wrong = "ghs_wrongToken_DO-NOT-LEAK_0123456789"
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**env, "GITHUB_API_URL": server, "GITHUB_TOKEN": wrong})  # fmt: skip
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Bad credentials" in done.stderr and wrong not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    missing = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60,
                             env={**env, "GITHUB_API_URL": server})  # fmt: skip
    assert missing.returncode == 2 and "GITHUB_TOKEN is not set" in missing.stderr
