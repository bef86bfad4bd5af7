"""infra/github_issue.py against the GitHub contract server (tests/contract/github_server.py).

The CLI cases (exit codes, one-line errors, no token in the output) run the real module as a
subprocess; the others call ``run`` in-process with sleeping injected. Every call goes over
real HTTP to the contract server, started once for the module and stopped by its PID."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.github_issue import (
    BODY_LIMIT,
    issue_body,
    marker,
    run,
    run_url,
)
from infra.providers.http import RetryPolicy
from tests.contract.process import serve

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tests" / "contract" / "github_server.py"
TOKEN = "ghs_contractToken0123456789abcdefABCDEF"
REPO = "acme/agenzia-ai-api"
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=30.0, timeout=5.0)
RUN_ENV = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": REPO,
    "GITHUB_RUN_ID": "1001",
}
REPORT_A = "# Drift on production\n\n| resource | change |\n|---|---|\n| monitor api-health | interval 60 → 300 |\n"
REPORT_B = "# Drift on production\n\n| resource | change |\n|---|---|\n| monitor api-ready | deleted outside Pulumi |\n"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The contract server on a free loopback port; always stopped by its PID."""
    with serve(SERVER, "--token", TOKEN, "--repo", REPO, "--port", "0") as url:
        yield url


@pytest.fixture(autouse=True)
def fresh(server: str) -> None:
    admin(server, "/__reset", {})


def admin(server: str, path: str, body: Any = None, **params: str) -> Any:
    """Call a test-only admin endpoint (``/__faults``, ``/__seed``, ``/__issues``…)."""
    method = "GET" if path in {"/__issues", "/__requests"} else "POST"
    response = httpx.request(method, server + path, json=body, params=params, timeout=5)
    response.raise_for_status()
    return response.json() if response.content else None


def issues(server: str) -> list[dict[str, Any]]:
    return sorted(admin(server, "/__issues", repo=REPO), key=lambda i: i["number"])


def calls(server: str, method: str | None = None) -> list[dict[str, Any]]:
    seen = admin(server, "/__requests")
    return [c for c in seen if method is None or c["method"] == method]


def seed(server: str, *items: dict[str, Any]) -> list[int]:
    return list(admin(server, "/__seed", {"repo": REPO, "items": list(items)}))


class Sync:
    """``run`` in-process with the server's URL and a recorded sleep."""

    def __init__(self, server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.server, self.tmp_path, self.capsys = server, tmp_path, capsys
        self.slept: list[float] = []

    def __call__(
        self, status: str, report: str = REPORT_A, stack: str = "production", **env: str
    ) -> tuple[int, str, str]:
        path = self.tmp_path / f"drift-{stack}.md"
        path.write_text(report, encoding="utf-8")
        environ = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": self.server, **RUN_ENV, **env}
        argv = ["sync", "--repo", REPO, "--stack", stack, "--report", str(path)]
        code = run([*argv, "--status", status], environ, policy=FAST, sleep=self.slept.append)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def sync(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Sync:
    return Sync(server, tmp_path, capsys)


def cli(
    server: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real module as a process, as the workflow runs it."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith("GITHUB_") and k != "GH_TOKEN"
    }
    environ |= {"GITHUB_API_URL": server, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "infra.github_issue", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def sync_args(report: Path, status: str = "drift", stack: str = "production") -> list[str]:
    return ["sync", "--repo", REPO, "--stack", stack, "--report", str(report), "--status", status]


def marked(stack: str = "production", title: str = "Drift", **extra: Any) -> dict[str, Any]:
    """An issue as the sync would have opened it."""
    body = f"{marker(stack)}\nold report\n"
    return {"title": title, "body": body, "labels": ["monitoring-drift"], **extra}


# --------------------------------------------------------------------------- the CLI


def test_first_drift_opens_one_labelled_issue_with_marker_report_and_run_link(
    server: str, tmp_path: Path
) -> None:
    report = tmp_path / "drift.md"
    report.write_text(REPORT_A, encoding="utf-8")
    done = cli(server, *sync_args(report), env={"GITHUB_TOKEN": TOKEN, **RUN_ENV})
    assert (done.returncode, done.stdout, done.stderr) == (0, "opened #1\n", "")
    [issue] = issues(server)
    assert issue["title"] == "Drift on stack production: live resources differ from the config"
    assert [label["name"] for label in issue["labels"]] == ["monitoring-drift"]
    assert issue["body"].splitlines()[0] == "<!-- monitoring-drift stack=production -->"
    assert REPORT_A in issue["body"]
    assert issue["body"].endswith(
        "<sub>Report from workflow run https://github.com/acme/agenzia-ai-api/actions/runs/1001</sub>\n"
    )
    for call in calls(server):  # the headers GitHub's REST docs ask for, on every call
        assert call["accept"] == "application/vnd.github+json"
        assert call["api_version"] == "2022-11-28"
        assert call["auth_scheme"] == "bearer"
    [listing] = calls(server, "GET")
    assert listing["query"] == {"state": "open", "labels": "monitoring-drift", "per_page": "100"}


def test_a_wrong_token_is_one_line_exit_2_and_the_token_is_never_shown(
    server: str, tmp_path: Path
) -> None:
    report = tmp_path / "drift.md"
    report.write_text(REPORT_A, encoding="utf-8")
    wrong = "ghp_wrongWRONGwrong0123456789abcdefXYZ"
    done = cli(server, *sync_args(report), env={"GITHUB_TOKEN": wrong})
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert re.fullmatch(
        r"python -m infra\.github_issue: GET /repos/acme/agenzia-ai-api/issues failed with HTTP 401:"
        r" Bad credentials; check that GITHUB_TOKEN is valid and not expired\n",
        done.stderr,
    )
    assert wrong not in done.stdout + done.stderr
    assert issues(server) == []


def test_a_missing_token_is_a_clear_error_before_any_call(server: str, tmp_path: Path) -> None:
    report = tmp_path / "drift.md"
    report.write_text(REPORT_A, encoding="utf-8")
    done = cli(server, *sync_args(report))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "python -m infra.github_issue: GITHUB_TOKEN is not set: pass the workflow's token in"
        " the step's env\n"
    )
    assert calls(server) == []


@pytest.mark.parametrize(
    ("args", "report_text", "error"),
    [
        (["--repo", "acme"], REPORT_A, "--repo must be OWNER/NAME (got 'acme')"),
        (["--stack", "prod -->"], REPORT_A, "--stack must be a stack name like production"),
        (["--status", "broken"], REPORT_A, "argument --status: invalid choice: 'broken'"),
        (["--label", "a,b"], REPORT_A, "--label must be one label name, without commas"),
        ([], "  \n", "is empty: a drift issue needs the report"),
        (["--report", "/nonexistent/drift.md"], REPORT_A, "cannot read it (No such file"),
        (["--repo", "acme/elsewhere"], REPORT_A, "HTTP 404: Not Found; check --repo"),
    ],
    ids=["repo", "stack", "status", "label", "empty-report", "no-report", "unknown-repo"],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    server: str, tmp_path: Path, args: list[str], report_text: str, error: str
) -> None:
    report = tmp_path / "drift.md"
    report.write_text(report_text, encoding="utf-8")
    done = cli(server, *sync_args(report), *args, env={"GITHUB_TOKEN": TOKEN})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert error in done.stderr
    assert TOKEN not in done.stderr


# --------------------------------------------------------------------------- drift and clean


def test_a_second_drift_updates_the_same_issue(server: str, sync: Sync) -> None:
    assert sync("drift", REPORT_A)[:2] == (0, "opened #1\n")
    assert sync("drift", REPORT_B, GITHUB_RUN_ID="1002")[:2] == (0, "updated #1\n")
    [issue] = issues(server)
    assert REPORT_B in issue["body"] and REPORT_A not in issue["body"]
    assert issue["body"].endswith("/actions/runs/1002</sub>\n")
    assert len(calls(server, "PATCH")) == 1


def test_an_unchanged_report_is_not_patched_again(server: str, sync: Sync) -> None:
    sync("drift", REPORT_A)
    assert sync("drift", REPORT_A)[:2] == (0, "#1 already shows this report; nothing to do\n")
    # A later run with the same report: only the run link would change, so nothing is sent.
    assert sync("drift", REPORT_A, GITHUB_RUN_ID="1002")[1] == (
        "#1 already shows this report; nothing to do\n"
    )
    assert calls(server, "PATCH") == []
    assert issues(server)[0]["body"].endswith("/actions/runs/1001</sub>\n")


def test_clean_comments_then_closes_the_issue_as_completed(server: str, sync: Sync) -> None:
    sync("drift")
    assert sync("clean", "", GITHUB_RUN_ID="1003") == (0, "closed #1\n", "")
    [issue] = issues(server)
    assert (issue["state"], issue["state_reason"]) == ("closed", "completed")
    [comment] = issue["comments"]
    assert comment["body"] == (
        "The scheduled drift check found stack `production` clean again"
        " ([run](https://github.com/acme/agenzia-ai-api/actions/runs/1003)); closing."
    )
    writes = [c["method"] + " " + c["path"] for c in calls(server) if c["method"] != "GET"]
    assert writes == [
        "POST /repos/acme/agenzia-ai-api/issues",
        "POST /repos/acme/agenzia-ai-api/issues/1/comments",  # said why before closing
        "PATCH /repos/acme/agenzia-ai-api/issues/1",
    ]


def test_clean_with_no_open_issue_does_nothing(server: str, sync: Sync) -> None:
    assert sync("clean", "") == (0, "no open drift issue; nothing to do\n", "")
    assert [c["method"] for c in calls(server)] == ["GET"]


def test_the_issue_is_found_by_its_marker_after_a_person_renamed_it(
    server: str, sync: Sync
) -> None:
    [number] = seed(server, marked(title="Prod monitors changed by hand — looking into it"))
    assert sync("drift", REPORT_B)[1] == f"updated #{number}\n"
    [issue] = issues(server)
    assert issue["title"] == "Prod monitors changed by hand — looking into it"
    assert REPORT_B in issue["body"]


def test_other_stacks_pull_requests_and_quoted_markers_are_not_the_issue(
    server: str, sync: Sync
) -> None:
    seed(
        server,
        marked("staging", title="Drift on stack staging"),
        marked(title="Fix drift sync", pull_request=True),
        {
            "title": "How does the drift issue work?",
            "body": f"It carries this line:\n> {marker('production')}\n",
            "labels": ["monitoring-drift"],
        },
    )
    before = issues(server)
    assert sync("clean", "")[1] == "no open drift issue; nothing to do\n"
    assert sync("drift")[1] == "opened #4\n"
    assert issues(server)[:3] == before
    assert calls(server, "PATCH") == []


def test_the_issue_is_found_on_a_later_page(server: str, sync: Sync) -> None:
    admin(server, "/__config", {"max_per_page": 2})
    [mine] = seed(server, marked(created_at="2025-01-01T00:00:00Z"))  # oldest: listed last
    others = [
        {"title": f"other {n}", "body": "no marker", "labels": ["monitoring-drift"]}
        for n in range(5)
    ]
    seed(server, *others)
    assert sync("drift", REPORT_B)[1] == f"updated #{mine}\n"
    pages = [c["query"].get("page", "1") for c in calls(server, "GET")]
    assert pages == ["1", "2", "3"]


def test_two_issues_with_the_marker_update_the_oldest_and_say_so(server: str, sync: Sync) -> None:
    first, copy = seed(server, marked(), marked(title="copied"))
    code, out, err = sync("drift", REPORT_B)
    assert (code, out) == (0, f"updated #{first}\n")
    assert err == (
        f"warning: open issues #{first}, #{copy} all carry the marker of stack production;"
        f" using the oldest, #{first} (remove the marker from the others)\n"
    )
    assert "old report" in issues(server)[1]["body"]


# --------------------------------------------------------------------------- the body limit


def test_an_oversized_report_is_cut_at_a_line_boundary_and_says_so(server: str, sync: Sync) -> None:
    lines = [f"| monitor-{n:05d} | interval 60 → 300 |\n" for n in range(3000)]
    report = "# Drift on production\n\n```diff\n" + "".join(lines) + "```\n"
    assert len(report) > BODY_LIMIT
    assert sync("drift", report)[:2] == (0, "opened #1\n")
    body = issues(server)[0]["body"]
    assert len(body) <= BODY_LIMIT
    _, _, rest = body.partition("```diff\n")
    shown, _, tail = rest.partition("```\n")  # the cut closed the open fence
    assert shown and all(line + "\n" in lines for line in shown.splitlines())
    assert tail.startswith(
        "\n> [!WARNING]\n> This report was cut to fit GitHub's limit of 65,536 characters"
        f" for an issue body: it shows {len(shown.splitlines()) + 3:,} of its 3,004 lines"
    )
    assert "The whole report is in the log of the workflow run that wrote this." in tail
    assert tail.endswith("/actions/runs/1001</sub>\n")


def test_a_report_that_fits_is_never_cut() -> None:
    head = len(issue_body("production", "\n", None)) - 1  # all but the report
    report = "x" * (BODY_LIMIT - head - 1) + "\n"
    body = issue_body("production", report, None)
    assert len(body) == BODY_LIMIT and "[!WARNING]" not in body
    assert "[!WARNING]" in issue_body("production", report + "y\n", None)


def test_the_run_link_needs_all_three_variables() -> None:
    assert run_url(RUN_ENV) == "https://github.com/acme/agenzia-ai-api/actions/runs/1001"
    assert run_url({**RUN_ENV, "GITHUB_RUN_ID": ""}) is None
    assert "<sub>" not in issue_body("production", REPORT_A, None)


# --------------------------------------------------------------------------- retries


def test_429_and_5xx_are_retried_after_the_advertised_delay(server: str, sync: Sync) -> None:
    admin(
        server,
        "/__faults",
        [
            {"method": "GET", "kind": "secondary_429", "retry_after": 2},
            {"method": "POST", "kind": "502"},
        ],
    )
    assert sync("drift")[:2] == (0, "opened #1\n")
    assert len(issues(server)) == 1
    assert len(sync.slept) == 2 and 2.0 <= sync.slept[0] <= 2.01  # Retry-After, plus jitter


def test_a_403_rate_limit_is_retried_not_reported_as_a_permission_problem(
    server: str, sync: Sync
) -> None:
    admin(
        server,
        "/__faults",
        [
            {"method": "GET", "kind": "secondary_403", "retry_after": 3},
            {"method": "POST", "kind": "primary_403", "retry_after": 20},
        ],
    )
    assert sync("drift")[:2] == (0, "opened #1\n")
    assert sync.slept[0] == 3.0  # Retry-After
    assert 18.0 <= sync.slept[1] <= 20.0  # x-ratelimit-reset, as remaining was 0


def test_a_rate_limit_that_outlasts_the_retries_is_one_line(server: str, sync: Sync) -> None:
    admin(server, "/__faults", {"kind": "secondary_403", "times": 5})
    code, out, err = sync("drift")
    assert (code, out) == (2, "")
    assert err.endswith(
        "failed with HTTP 403: You have exceeded a secondary rate limit. Please wait a few"
        " minutes before you try again.; still rate limited after retries; try again later\n"
    )
    assert err.count("\n") == 1


def test_a_lost_answer_to_the_create_does_not_open_a_second_issue(server: str, sync: Sync) -> None:
    admin(server, "/__faults", {"method": "POST", "kind": "reset_after_commit"})
    assert sync("drift")[:2] == (0, "opened #1\n")
    assert len(issues(server)) == 1
    assert len(calls(server, "POST")) == 1, "the POST is not repeated: the issue is looked for"


def test_a_dropped_label_is_reported_since_the_next_run_could_not_find_the_issue(
    server: str, sync: Sync
) -> None:
    admin(server, "/__config", {"drop_labels": True})
    code, out, err = sync("drift")
    assert (code, out) == (0, "opened #1\n")
    assert err == (
        "warning: GitHub dropped the label 'monitoring-drift' from #1, so the next run will not"
        " find it: give the token the issues: write permission\n"
    )
