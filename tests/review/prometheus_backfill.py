"""A real Prometheus (Debian's) serving a backfilled history: the scenario written as
OpenMetrics, turned into TSDB blocks by ``promtool tsdb create-blocks-from openmetrics``, and
``prometheus`` started on a free loopback port with no scrape config, so it only serves them.

Compaction is off (``--storage.tsdb.min/max-block-duration=2h``: no level above the head's)
and retention (60d) is measured from the newest block, so the backfilled blocks stay exactly as
written; :func:`blocks` lets a test check that.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from infra.local import procs
from tests.review.scenario import Series, write_openmetrics

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def tools_missing() -> str | None:
    missing = [t for t in (PROMETHEUS, PROMTOOL) if not Path(t).exists()]
    return f"{', '.join(missing)} missing: run ./scripts/setup" if missing else None


def backfill(series: Sequence[Series], minutes: int, folder: Path) -> Path:
    """Write ``minutes`` of ``series`` as TSDB blocks under ``folder/tsdb``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "history.om"
    write_openmetrics(series, minutes, source)
    return create_blocks(source, folder, "24h")


def create_blocks(source: Path, folder: Path, max_block: str) -> Path:
    """``promtool tsdb create-blocks-from openmetrics`` of ``source`` into ``folder/tsdb``
    (emptied first), blocks of at most ``max_block``; ``source`` is removed; return the TSDB."""
    tsdb = folder / "tsdb"
    shutil.rmtree(tsdb, ignore_errors=True)
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
         f"--max-block-duration={max_block}", str(source), str(tsdb)],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    source.unlink()
    return tsdb


def blocks(tsdb: Path) -> list[str]:
    """The block directories (ULIDs) in ``tsdb``."""
    return sorted(p.name for p in tsdb.iterdir() if (p / "meta.json").is_file())


def start_prometheus(tsdb: Path, folder: Path) -> procs.ProcessRecord:
    """Start Prometheus on ``tsdb``; stop it with :func:`infra.local.procs.stop`."""
    config = folder / "prometheus.yml"
    config.write_text("global:\n  evaluation_interval: 1m\n")

    def build(port: int) -> tuple[list[str], str]:
        argv = [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tsdb}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=60d",
            "--storage.tsdb.min-block-duration=2h",
            "--storage.tsdb.max-block-duration=2h",
            "--query.timeout=5m",
        ]
        return argv, f"http://127.0.0.1:{port}/-/ready"

    return procs.start_on_free_port(
        "prometheus", build, folder / "prometheus.log", tie_to_parent=True, timeout=60
    )
