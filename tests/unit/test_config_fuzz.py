"""Fuzz: the production stack file mutated 10,000 ways per run, through the real loader.

Every mutated file must end as a working config (it loads, and ``render_stack`` renders it,
promtool tests included) or as one ``ConfigError``; never another exception, never more than
2 s or 200 MB for one case. The mutations are drawn by a seeded generator (same cases every
run; ``CONFIG_FUZZ_SEED`` and ``CONFIG_FUZZ_CASES`` explore others) and cover the hostile
classes of issue 12: alias bombs, deep nesting, non-text keys, huge, infinite, NaN and tiny
numbers, long strings, secret-looking values where a secret name belongs, template syntax,
wrong types at every path, broken YAML text, and plausible values near every bound (which
is what makes some of them working configs, so rendering is exercised too).

Time is ``time.perf_counter`` around load and render; a case over 2 s is tried again, up to
three times, and its fastest try counts (the machine is shared: a case descheduled for a
second is not slow). Rendering is pure, so a config equal to one already rendered is not
rendered again. Memory is the peak resident size a case adds (``VmHWM``, reset before each
case through ``/proc/self/clear_refs``); an address-space limit stops a runaway case before
it can hurt the machine, and a timer stops a hung one. A failing case is shown with its
mutations and the start of its text.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import resource
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import yaml

from infra.config import ConfigError
from infra.config.errors import MAX_PROBLEM_CHARS, MAX_PROBLEMS, NAMESPACE
from infra.config.loader import load_stack_text, split_stack_file, validate_stack
from infra.render.artifacts import render_stack
from tests.conftest import ROOT

CASES = int(os.environ.get("CONFIG_FUZZ_CASES", "10000"))
SEED = int(os.environ.get("CONFIG_FUZZ_SEED", "12"))
MAX_SECONDS = 2.0
MAX_BYTES = 200 * 1024 * 1024
HANG_SECONDS = 30  # a case still running after this is stopped (and fails)
SOURCE = "Pulumi.fuzz.yaml"

BASE_TEXT = (ROOT / "Pulumi.production.yaml").read_text(encoding="utf-8")
BASE_DOCUMENT: dict[str, Any] = yaml.safe_load(BASE_TEXT)
BASE_SETTINGS, _ = split_stack_file(BASE_DOCUMENT)
# Every key with its default written out, so that mutations reach the defaults too.
EXPANDED_SETTINGS: dict[str, Any] = validate_stack(BASE_SETTINGS, SOURCE).model_dump(
    mode="json", by_alias=True, exclude_none=True
)
OTHER_CONFIG = {
    k: v for k, v in BASE_DOCUMENT["config"].items() if not k.startswith(f"{NAMESPACE}:")
}

# --------------------------------------------------------------------------- value pools

SECRETS = (
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "e93facc04764012d7bfb002500d5d1a6",  # PagerDuty integration key shape
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "sntrys_eyJpYXQiOjE3MDAwMDAwMDAuMCwidXJsIjoiaHR0cHM6Ly9zZW50cnkuaW8ifQ",
    "glsa_AbCdEfGhIjKlMnOpQrStUvWx0123456_deadbeef",
    "u1234567-0a1b2c3d4e5f60718293a4b5",
    "s3cr3tPassw0rd2024",
    "smtp://user:hunter2@smtp.agenzia.ai:587",
)
TEMPLATES = (
    "{{ .CommonLabels.alertname }}",
    "oncall+{{ .GroupLabels.service }}@agenzia.ai",
    "#alerts-{{ .Status }}",
    '{{ template "slack.default.title" . }}',
    "}}",
    "{{",
    "{{ $value }}",
)
ODD_STRINGS = (
    "",
    " ",
    "5%",
    "-5m",
    "0s",
    "1.5h",
    "300000d",
    "9999999d",
    "1e9",
    "null",
    "~",
    "true",
    "#",
    "a\nb",
    'a"b',
    "x: y",
    "]}",
    "${HOME}",
    "$(id)",
    "../../etc/passwd",
    "é",
    "\u202eevil",
    "\x00",
    "\t",
    "x" * 100_000,
    "9" * 10_000,
    "{" * 1000,
    "a@b.c" * 1000,
    "#" + "a" * 300,
    "http://" + "a" * 5000,
    "/" + "a/" * 500,
)
ODD_SCALARS = (
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    0.5,
    -0.5,
    1e308,
    -1e308,
    5e-324,
    9.99e-13,
    1e-300,
    10**19,
    -(10**19),
    10**400,
    2**63,
)
ODD_CONTAINERS = (
    [],
    {},
    [None],
    [[[]]],
    {"a": 1},
    {"secret": "x"},
    {"secure": "v1:ZW5jcnlwdGVk"},
    ["a"] * 60,
    list(range(200)),
    {f"k{i}": i for i in range(100)},
)
# Raw YAML put in place of a value: what no serializer of Python data would write.
_LAUGHS = ", ".join(["lol"] * 9)
RAW_VALUES = (
    "{a: &a ["
    + _LAUGHS
    + "], "
    + ", ".join(
        f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "}",  # billion laughs: 9^9 values from 1 KB
    "[&x lol, " + ", ".join(["*x"] * 12_000) + "]",
    "&r [*r]",
    "&m {a: *m}",
    "[" * 5000 + "]" * 5000,
    "{a: " * 5000 + "1" + "}" * 5000,
    "[" * 33 + "]" * 33,
    "[" * 31 + "]" * 31,
    "9" * 400,
    "-" + "9" * 400,
    "9" * 5000,
    "0x" + "f" * 2000,
    "1" + ":59" * 300,
    "1_000_000_000_000_000_000_000",
    ".inf",
    "-.inf",
    ".nan",
    ".NaN",
    "1e400",
    "-1e400",
    "9.99e-13",
    "-0.0",
    "0o777",
    "0b101",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [{a: 1}, {b: 2}]",
    "!!pairs [{a: 1}, {a: 2}]",
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/name:os.system",
    "!Ref x",
    "!!str 5",
    "!!int '5'",
    "!!float '0.5'",
    "!!timestamp 2024-01-01",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "10:00:00",
    "yes",
    "off",
    "{<<: {a: 1}, b: 2}",
    '"\\ud800"',
    '"a\\u0000b"',
    '"\\x07"',
    "*undefined",
    "&dup [1]",
    "'unterminated",
    "[1, 2",
    "{a: 1, a: 2}",
    "? [a, b]",
)
RAW_KEYS = (
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "1",
    "-1",
    "1.5",
    "true",
    "yes",
    "null",
    "~",
    ".inf",
    "[a, b]",
    "{a: 1}",
    "!!binary aGk=",
    "9" * 400,
    '"' + "k" * 10_000 + '"',
    '"' + SECRETS[0] + '"',
    '"a\\nb"',
)
DURATION_UNITS = ("s", "m", "h", "d")
SLOT = re.compile(r'"zz(raw|key)(\d+)zz"|zz(raw|key)(\d+)zz')

# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    ops: list[str] = field(default_factory=list)
    text: str = ""
    secrets: list[str] = field(default_factory=list)  # must never appear in an error

    def describe(self, limit: int = 300) -> str:
        text = (
            self.text
            if len(self.text) <= limit
            else f"{self.text[:limit]}… ({len(self.text)} chars)"
        )
        return f"ops={self.ops!r}\n    text={text!r}"


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _get(root: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        root = root[part]
    return root


def _is_duration(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"(\d+[dhms])+", value) is not None


def _show_path(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


OPS = (
    "plausible",
    "hostile",
    "yaml",
    "secret",
    "delete",
    "add-key",
    "odd-key",
    "services",
    "receivers",
)
# Hostile mutations dominate; about one case in ten still loads, and those are rendered.
OP_WEIGHTS = (6, 40, 13, 6, 6, 6, 14, 1, 4)


class Mutator:
    """Draws one mutated stack file per call, from a seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.raw: list[str] = []

    # ---- values

    def duration(self) -> str:
        r = self.rng
        if r.random() < 0.3:
            return r.choice(("1s", "59s", "1m", "1h", "1d", "25h", "2d", "3d", "30d", "90d", "91d"))
        return "".join(f"{r.randint(1, 120)}{u}" for u in r.sample(DURATION_UNITS, r.randint(1, 2)))

    def plausible(self, current: Any) -> Any:
        """A value of the same kind as ``current``, often valid, often just past a bound."""
        r = self.rng
        if isinstance(current, bool):
            return not current
        if isinstance(current, int):
            return r.choice(
                (current + 1, current - 1, 0, current * 2, r.randint(-10, 10**6), 1024**5 + 1)
            )
        if isinstance(current, float):
            if 0 < current < 1:
                return r.choice(
                    (
                        r.random(),
                        1 - 10 ** -r.uniform(1, 8),
                        10 ** -r.uniform(0.3, 8),
                        round(current + r.uniform(-0.05, 0.05), 6),
                    )
                )
            return r.choice(
                (round(r.uniform(0.001, 2 * current + 1), 4), current * 10, 10 ** r.uniform(-4, 4))
            )
        if _is_duration(current):
            return self.duration()
        if current in ("critical", "warning", "info"):
            return r.choice(("critical", "warning", "info", "page", "CRITICAL"))
        if isinstance(current, str):
            return r.choice(
                (
                    current.upper(),
                    current + "-2",
                    current + " x",
                    current * 3,
                    current[: max(1, len(current) // 2)],
                    current + r.choice(TEMPLATES),
                    "a" * r.choice((39, 40, 41, 64, 65, 101, 255, 300)),
                )
            )
        if isinstance(current, list) and current:
            items = list(current)
            op = r.randrange(4)
            if op == 0:
                return [*items, copy.deepcopy(r.choice(items))]
            if op == 1:
                r.shuffle(items)
                return items
            if op == 2:
                return items[:-1]
            return items * r.choice((2, 10, 60))
        if isinstance(current, dict) and current:
            items = dict(current)
            items.pop(r.choice(list(items)))
            return items
        return self.hostile()

    def hostile(self) -> Any:
        r = self.rng
        pool = r.randrange(6)
        if pool == 0:
            return r.choice(ODD_SCALARS)
        if pool == 1:
            return r.choice(ODD_STRINGS)
        if pool == 2:
            return copy.deepcopy(r.choice(ODD_CONTAINERS))
        if pool == 3:
            return r.choice(TEMPLATES)
        if pool == 4:
            return r.choice(SECRETS)
        return self.raw_value(r.choice(RAW_VALUES))

    def raw_value(self, fragment: str) -> str:
        self.raw.append(fragment)
        return f"zzraw{len(self.raw) - 1}zz"

    def raw_key(self, fragment: str) -> str:
        self.raw.append(fragment)
        return f"zzkey{len(self.raw) - 1}zz"

    # ---- operations on the settings

    def secret(self) -> tuple[str, str]:
        """A fresh secret-looking value and the random part of it that no message may show."""
        r = self.rng
        hexdigits = "".join(r.choice("0123456789abcdef") for _ in range(32))
        word = "".join(
            r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            for _ in range(24)
        )
        marker = hexdigits[1:7] if r.random() < 0.5 else word[:6]
        value = r.choice(
            (
                f"https://hooks.slack.com/services/T{word[:8]}/B{word[8:16]}/{word}",
                f"e{hexdigits[1:]}",
                f"xoxb-{hexdigits[:12]}-{word}",
                f"sntrys_{word}{hexdigits}",
                f"glsa_{word}_{hexdigits[:8]}",
                f"u{hexdigits[:7]}-{hexdigits[7:]}",
                f"smtp://user:{word}@smtp.agenzia.ai:587",
                f"{word[:6].lower()}{hexdigits[:10]}",
            )
        )
        return value, (marker if marker in value else value)

    def mutate(self, settings: dict[str, Any], case: Case) -> None:
        r = self.rng
        path = r.choice(EXPANDED_PATHS)
        if not _materialize(settings, path):
            path = r.choice(list(_paths(settings)) or [("environment",)])
            settings.setdefault("environment", "production")
        parent, key = _get(settings, path[:-1]), path[-1]
        current = parent[key]
        op = r.choices(OPS, weights=OP_WEIGHTS)[0]
        if op == "plausible":
            value = self.plausible(current)
        elif op == "hostile":
            value = self.hostile()
        elif op == "yaml":
            value = self.raw_value(r.choice(RAW_VALUES))
        elif op == "secret":
            secret, marker = self.secret()
            case.secrets.append(marker)
            path = r.choice(SECRET_PATHS)
            if not _materialize(settings, path):
                return
            parent, key = _get(settings, path[:-1]), path[-1]
            value = secret if key == "secret" or r.random() < 0.5 else {"secret": secret}
        elif op == "delete":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
            case.ops.append(f"delete {_show_path(path)}")
            return
        elif op in ("add-key", "odd-key"):
            target = current if isinstance(current, dict) else parent
            where = path if isinstance(current, dict) else path[:-1]
            if not isinstance(target, dict):
                target = settings
                where = ()
            if op == "add-key":
                name = r.choice(("treshold", "for_", "Severity", "enabled ", "x" * 300, "secret"))
            else:
                name = self.raw_key(r.choice(RAW_KEYS))
            target[name] = self.hostile() if r.random() < 0.3 else 1
            case.ops.append(f"{op} {_show_path(where)}[{name}]")
            return
        elif op == "services":
            services = settings.setdefault("services", [])
            if not isinstance(services, list) or not services or not isinstance(services[0], dict):
                return
            count = r.choice((2, 3, 4, 50))
            template = services[0]
            extra = []
            for i in range(count - len(services)):
                svc = copy.deepcopy(template)
                svc["name"] = f"svc-{i}"
                svc["job"] = f"svc_{i}"
                extra.append(svc)
            services.extend(extra)
            case.ops.append(f"services x{count}")
            return
        else:  # receivers
            routing = settings.get("routing")
            if not isinstance(routing, dict) or not isinstance(routing.get("receivers"), list):
                return
            count = r.choice((5, 21, 200))
            routing["receivers"] = routing["receivers"] + [
                {"type": "null", "name": f"sink-{i}"} for i in range(count)
            ]
            case.ops.append(f"receivers +{count}")
            return
        parent[key] = value
        shown_value = repr(value)
        case.ops.append(f"{op} {_show_path(path)} = {shown_value[:80]}")

    # ---- text

    def emit(self, settings: dict[str, Any]) -> str:
        document = {
            "config": {**OTHER_CONFIG, **{f"{NAMESPACE}:{k}": v for k, v in settings.items()}}
        }
        if self.rng.random() < 0.8:
            text = json.dumps(document)  # JSON is YAML; flow style, fast to write
        else:
            text = yaml.dump(
                document, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=120
            )
        raw = self.raw

        def put(match: re.Match[str]) -> str:
            index = int(match.group(2) or match.group(4))
            return raw[index]

        return SLOT.sub(put, text)

    def text_attack(self, text: str) -> tuple[str, str]:
        r = self.rng
        attacks: dict[str, Callable[[], str]] = {
            "truncate": lambda: text[: r.randrange(len(text))],
            "garbage": lambda: _insert(
                text, r.randrange(len(text)), r.choice("\x00\x07\t\"'{}[]&*!|>%@`:-#\ufeff\ud800")
            ),
            "bom": lambda: "\ufeff" + text,
            "two-documents": lambda: text + "\n---\nconfig: {}\n",
            "empty": lambda: r.choice(
                (
                    "",
                    "   ",
                    "\n",
                    "null",
                    "~",
                    "[]",
                    "42",
                    "config:",
                    "config: 5",
                    "config: []",
                    "config: {}",
                )
            ),
            "huge": lambda: text + "\n#" + "x" * (1024 * 1024),
            "indent": lambda: text.replace("\n  ", "\n\t", 1),
            "base-text": lambda: BASE_TEXT.replace(": ", ":", r.randint(1, 3)),
        }
        name = r.choice(list(attacks))
        return name, attacks[name]()

    def case(self) -> Case:
        r = self.rng
        self.raw = []
        case = Case()
        settings = copy.deepcopy(BASE_SETTINGS)
        for _ in range(r.choices((1, 2, 3), weights=(70, 20, 10))[0]):
            self.mutate(settings, case)
        text = self.emit(settings)
        if r.random() < 0.04:
            name, text = self.text_attack(text)
            case.ops.append(f"text {name}")
        case.text = text
        return case


def _materialize(settings: dict[str, Any], path: tuple[Any, ...]) -> bool:
    """Write out the defaults along ``path`` (from the expanded config) where the file omits
    them, so a mutation can reach any key while the file stays the production one. False when
    an earlier mutation took the path away."""
    node: Any = settings
    default: Any = EXPANDED_SETTINGS
    for part in path:
        default = default[part]
        if isinstance(node, dict):
            if part not in node:
                node[part] = copy.deepcopy(default)
        elif not (isinstance(node, list) and isinstance(part, int) and part < len(node)):
            return False
        node = node[part]
    return True


EXPANDED_PATHS = list(_paths(EXPANDED_SETTINGS))
SECRET_PATHS = [
    p
    for p in EXPANDED_PATHS
    if p[-1]
    in ("secret", "integration_key", "smtp_password", "webhook_url", "auth_token", "api_key")
]


def _insert(text: str, at: int, char: str) -> str:
    return text[:at] + char + text[at:]


_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# --------------------------------------------------------------------------- measuring


class _Hung(Exception):
    pass


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise _Hung(f"still running after {HANG_SECONDS} s")


def _status(field_name: str) -> int:
    match = re.search(rf"^{field_name}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) * 1024 if match else 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux 4.0+)
    except OSError:
        return False
    return True


@dataclass
class Outcome:
    case: Case
    result: str  # "working", "config-error" or the exception's type
    seconds: float
    peak_bytes: int
    detail: str = ""
    rendered: bool = False
    cpu_seconds: float = 0.0


class Runner:
    """Runs cases one at a time, measuring each. Rendering is pure, so a config equal to one
    already rendered (a deleted key that had its default value, say) is not rendered again."""

    def __init__(self) -> None:
        self.can_reset = _reset_peak()
        self.rendered: set[str] = set()

    def run(self, case: Case) -> Outcome:
        if self.can_reset:
            _reset_peak()
        before = _status("VmRSS")
        start, cpu = time.perf_counter(), time.process_time()
        detail, rendered = "", False
        try:
            cfg = load_stack_text(case.text, SOURCE)
            key = cfg.model_dump_json()
            if key not in self.rendered:
                render_stack(cfg, "production")
                self.rendered.add(key)
                rendered = True
            result = "working"
        except ConfigError as exc:
            result = "config-error"
            detail = str(exc)
        except Exception as exc:  # the failure this test exists to find
            result = type(exc).__name__
            detail = str(exc)[:300]
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        peak = (_status("VmHWM") - before) if self.can_reset else 0
        return Outcome(case, result, seconds, max(peak, 0), detail, rendered, cpu)

    def measure(self, case: Case) -> Outcome:
        """:meth:`run`, tried again (up to three times in all) while it is over the time bound:
        the machine is shared, and a case that was slow only because it was descheduled is
        not slow. The fastest try counts."""
        best = self.run(case)
        for _ in range(2):
            if best.seconds <= MAX_SECONDS or best.result not in ("working", "config-error"):
                break
            if best.rendered:  # render it again, not the cache
                self.rendered.discard(load_stack_text(case.text, SOURCE).model_dump_json())
            again = self.run(case)
            best = again if again.seconds < best.seconds else best
        return best


def _message_problems(outcome: Outcome) -> list[str]:
    """What is wrong with a ConfigError's message, if anything."""
    lines = outcome.detail.split("\n")
    wrong = []
    if not lines[0].startswith(f"{SOURCE}: invalid monitoring config:"):
        wrong.append("does not start with the source")
    problems = lines[1:]
    if not problems or not all(p.startswith("  - ") for p in problems):
        wrong.append("has no problem lines, or a problem spans lines")
    if len(problems) > MAX_PROBLEMS + 1:
        wrong.append(f"lists {len(problems)} problems")
    if any(len(p) > MAX_PROBLEM_CHARS + 10 for p in problems):
        wrong.append("has a problem line longer than its limit")
    for marker in outcome.case.secrets:
        if marker in outcome.detail:
            wrong.append("repeats a secret-looking value")
    return wrong


# --------------------------------------------------------------------------- the test


def test_every_mutated_stack_file_works_or_fails_with_one_config_error() -> None:
    mutator = Mutator(SEED)
    runner = Runner()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    # A guard, not the measure: a runaway case gets MemoryError instead of the machine's RAM.
    limit = _status("VmSize") + 4 * MAX_BYTES
    if hard == resource.RLIM_INFINITY or limit < hard:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    try:
        for _ in range(CASES):
            case = mutator.case()
            signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
            try:
                outcomes.append(runner.measure(case))
            except _Hung as hung:  # raised outside the runner's own handler
                outcomes.append(Outcome(case, "_Hung", HANG_SECONDS, 0, str(hung)))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    wall = time.perf_counter() - started

    failures = []
    for o in outcomes:
        why = []
        if o.result not in ("working", "config-error"):
            why.append(f"raised {o.result}: {o.detail}")
        if o.seconds > MAX_SECONDS:
            why.append(f"took {o.seconds:.2f} s")
        if o.peak_bytes > MAX_BYTES:
            why.append(f"used {o.peak_bytes / 2**20:.0f} MB")
        if o.result == "config-error":
            why += [f"message {w}" for w in _message_problems(o)]
        if why:
            failures.append(f"{'; '.join(why)}\n    {o.case.describe()}")

    working = sum(o.result == "working" for o in outcomes)
    rendered = sum(o.rendered for o in outcomes)
    errors = sum(o.result == "config-error" for o in outcomes)
    slowest = max(outcomes, key=lambda o: o.seconds)
    busiest = max(outcomes, key=lambda o: o.cpu_seconds)
    heaviest = max(outcomes, key=lambda o: o.peak_bytes)
    print(
        f"\nconfig fuzz (seed {SEED}): {len(outcomes)} cases in {wall:.1f} s: {working} "
        f"working ({rendered} distinct configs rendered), {errors} ConfigError; slowest "
        f"{slowest.seconds:.3f} s ({slowest.result}: {slowest.case.ops}); most CPU "
        f"{busiest.cpu_seconds:.3f} s ({busiest.case.ops}); most memory "
        f"{heaviest.peak_bytes / 2**20:.1f} MB ({heaviest.result}: {heaviest.case.ops})"
    )
    assert len(outcomes) == CASES
    assert not failures, f"{len(failures)} of {CASES} cases failed:\n" + "\n".join(failures[:15])
    # Both ends must be exercised, or the generator has drifted away from the config.
    assert working >= CASES // 50, f"only {working} mutated configs loaded; widen the mutations"


@pytest.mark.parametrize("fragment", RAW_VALUES[:6], ids=lambda f: f[:12])
def test_each_yaml_attack_is_rejected_quickly(fragment: str) -> None:
    mutator = Mutator(SEED)
    settings = copy.deepcopy(BASE_SETTINGS)
    settings["services"][0]["slo"]["availability"] = mutator.raw_value(fragment)
    outcome = Runner().run(Case(["attack"], mutator.emit(settings)))
    assert outcome.result == "config-error", outcome.detail
    assert outcome.seconds < MAX_SECONDS


def test_the_runner_sees_a_case_s_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    def heavy(_text: str, source: str) -> None:
        block = bytearray(64 * 2**20)  # zero-filled: every page is touched
        raise ConfigError(source, [f"monitoring: {len(block)} bytes"])

    runner = Runner()
    if not runner.can_reset:
        pytest.skip("no /proc/self/clear_refs here: peak memory cannot be reset per case")
    monkeypatch.setattr(sys.modules[__name__], "load_stack_text", heavy)
    outcome = runner.run(Case(["heavy"], "config: {}"))
    assert outcome.result == "config-error"
    assert outcome.peak_bytes >= 60 * 2**20
