"""Benchmark: time to render and validate the rules of each stack, and of a generated stack
of 50 services. Prints figures; asserts nothing (speed belongs here, not in tests).

    .venv/bin/python benchmarks/render_validate.py [--services 3] [--repeat 3]

render   = config → every artifact of the stack (rules, promtool tests, alertmanager.yml, …)
check    = `promtool check rules` on the rendered rule files
test     = `promtool test rules` on the generated unit tests (every alert's scenarios)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.config import StackConfig, load_stack
from infra.config.loader import validate_stack
from infra.render.artifacts import render_stack
from infra.validate import check_rules, run_rule_tests


def many_services(base: StackConfig, count: int) -> StackConfig:
    data: dict[str, Any] = json.loads(base.model_dump_json(by_alias=True))
    template = data["services"][0]
    data["services"] = [
        {
            **template,
            "name": f"svc-{i:02d}",
            "job": f"svc-{i:02d}",
            "base_url": f"https://svc{i}.example.org",
        }
        for i in range(count)
    ]
    return validate_stack(data, f"generated {count}-service stack")


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench(name: str, cfg: StackConfig, stack: str, repeat: int) -> None:
    render_s, files = timed(lambda: render_stack(cfg, stack), repeat)
    assert isinstance(files, dict)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        stack_dir = root / "alert_rules" / stack
        check_s, check = timed(lambda: check_rules(stack_dir), 1)
        test_s, test = timed(lambda: run_rule_tests(stack_dir), 1)
    ok = getattr(check, "ok", False) and getattr(test, "ok", False)
    rules = sum(
        t.count("- alert:") + t.count("- record:")
        for p, t in files.items()
        if p.endswith(".rules.yml")
    )
    print(
        f"{name:<22} services={len(cfg.services):>3} files={len(files):>4} rules={rules:>5} "
        f"render={render_s * 1000:8.1f} ms  promtool check={check_s:6.2f} s  "
        f"promtool test={test_s:7.2f} s  total={render_s + check_s + test_s:7.2f} s  "
        f"{'ok' if ok else 'FAILED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=3)  # the most a stack may declare
    parser.add_argument("--repeat", type=int, default=3, help="render repetitions (median)")
    args = parser.parse_args()
    production = load_stack("production")
    bench("production", production, "production", args.repeat)
    bench("staging", load_stack("staging"), "staging", args.repeat)
    bench(
        f"generated-{args.services}",
        many_services(production, args.services),
        "generated",
        args.repeat,
    )


if __name__ == "__main__":
    main()
