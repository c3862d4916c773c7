"""The benchmark cannot rot: ``bench/run.py --smoke`` runs every scenario against
every server (Switchboard on eventlet and gevent, bare python-socketio, bare
Node socket.io) at tiny scale, and its JSON must hold sane numbers.

No timing is asserted: speed is reported by ``make bench``, never tested here.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_binary

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("fanout", "rooms", "idle", "polling", "deflate")
SERVERS = ("switchboard-eventlet", "switchboard-gevent", "bare-python", "bare-node")
SWITCHBOARD = SERVERS[:2]
BASELINES = SERVERS[2:]

# The figure of each scenario that must have a ratio to both baselines.
KEY_FIGURE = {
    "fanout": "saturation_deliveries_per_s",
    "rooms": "deliveries_per_s",
    "idle": "rss_per_conn_kib_100",
    "polling": "ack_p99_ms",
    # Not CPU per delivery: at smoke scale bare Node's CPU can round to 0 clock ticks.
    "deflate": "ack_p99_ms_plain",
}


def _ordered(summary: dict) -> None:
    assert summary["count"] > 0, summary
    assert 0 < summary["p50_ms"] <= summary["p90_ms"] <= summary["p99_ms"] <= summary["max_ms"], summary


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    require_binary("node")
    out = tmp_path_factory.mktemp("bench-smoke")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=400,  # bounded; other xdist workers share the cores
    )
    assert proc.returncode == 0, f"bench --smoke failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    results = json.loads((out / "latest.json").read_text())
    return results, (out / "latest.md").read_text()


@pytest.mark.timeout(480)
def test_every_scenario_ran_against_every_server(smoke):
    results, _ = smoke
    assert results["failures"] == []
    assert results["meta"]["smoke"] is True
    for scenario in SCENARIOS:
        servers = results["scenarios"][scenario]["servers"]
        for server in SERVERS:
            assert server in servers, (scenario, server)
            assert "error" not in servers[server], (scenario, server, servers[server])


def test_fanout_steps_deliver_everything(smoke):
    results, _ = smoke
    for server, cell in results["scenarios"]["fanout"]["servers"].items():
        assert cell["saturation_deliveries_per_s"] > 0, server
        assert cell["held_p99_250ms_deliveries_per_s"] > 0, server
        assert cell["steps"], server
        for step in cell["steps"]:
            assert step["errors"] == {} and step["unacked"] == 0, (server, step)
            assert step["missing_deliveries"] == 0, (server, step)
            assert step["deliveries_per_s"] > 0, (server, step)
            _ordered(step["ack"])
            _ordered(step["delivery"])


@pytest.mark.parametrize("scenario", ["rooms", "polling"])
def test_rooms_and_polling_figures_are_sane(smoke, scenario):
    results, _ = smoke
    for server, cell in results["scenarios"][scenario]["servers"].items():
        assert cell["deliveries_per_s"] > 0, server
        assert cell["stored_msgs_per_s"] > 0, server
        assert 0 < cell["ack_p50_ms"] <= cell["ack_p99_ms"], server
        assert 0 < cell["delivery_p50_ms"] <= cell["delivery_p99_ms"], server
        assert cell["errors"] == {} and cell["unacked"] == 0 and cell["missing_deliveries"] == 0, server
        assert cell["server_cpu_pct"] >= 0 and cell["gen_cpu_pct"] > 0, server
    polling = results["scenarios"]["polling"]["servers"]
    assert all(c["raw"]["transport"] == "polling" for c in polling.values())


def test_idle_levels_all_connected(smoke):
    results, _ = smoke
    levels = results["meta"]["plan"]["idle"]["levels"]
    for server, cell in results["scenarios"]["idle"]["servers"].items():
        for level in levels:
            assert cell[f"connected_{level}"] == level, (server, level)
            assert cell[f"connects_per_s_{level}"] > 0, (server, level)
            assert isinstance(cell[f"rss_per_conn_kib_{level}"], (int, float)), (server, level)


def test_deflate_variants_measured(smoke):
    results, _ = smoke
    cells = results["scenarios"]["deflate"]["servers"]
    for server, cell in cells.items():
        assert cell["cpu_us_per_delivery_plain"] is not None, server
        assert cell["cpu_us_per_delivery_deflate"] is not None, server
        assert isinstance(cell["negotiated"], bool), server
        for variant in ("not_offered", "offered"):
            raw = cell["raw"][variant]
            assert raw["deliveries_per_s"] > 0 and raw["missing_deliveries"] == 0, (server, variant)
    # socket.io 4 on Node declines permessage-deflate by default.
    assert cells["bare-node"]["negotiated"] is False


def test_ratios_to_both_baselines(smoke):
    results, _ = smoke
    for scenario, key in KEY_FIGURE.items():
        ratios = results["scenarios"][scenario]["ratios"]
        for sb in SWITCHBOARD:
            for base in BASELINES:
                value = ratios[f"{sb}/{base}"][key]
                assert isinstance(value, float) and value > 0, (scenario, sb, base, value)


def test_markdown_table_and_targets(smoke):
    results, markdown = smoke
    assert len(results["targets"]) == 10
    assert {t["server"] for t in results["targets"]} == set(SWITCHBOARD)
    for heading in ("Fan-out", "Small rooms", "Idle capacity", "Polling only", "permessage-deflate",
                    "Performance targets"):
        assert heading in markdown
    assert "bare python" in markdown and "bare Node" in markdown


def test_render_medians_of_saved_runs(smoke, tmp_path):
    """``--render`` rebuilds the tables from saved JSON, as medians when given several runs."""
    results, _ = smoke
    # Three runs whose bare Node saturation is half, the same and ten times the
    # smoke run's: only the median gives back the smoke run's figure.
    saved = []
    for i, factor in enumerate((0.5, 1, 10)):
        run = json.loads(json.dumps(results))
        run["scenarios"]["fanout"]["servers"]["bare-node"]["saturation_deliveries_per_s"] *= factor
        saved.append(tmp_path / f"run{i}.json")
        saved[-1].write_text(json.dumps(run))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--render", *map(str, saved),
         "--out", str(tmp_path / "out"), "--no-docs"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    merged = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert merged["meta"]["median_of"] == 3
    cell = merged["scenarios"]["fanout"]["servers"]["bare-node"]
    original = results["scenarios"]["fanout"]["servers"]["bare-node"]
    assert cell["saturation_deliveries_per_s"] == original["saturation_deliveries_per_s"]
    assert cell["runs"] == 3
    assert "Run-to-run spread" in (tmp_path / "out" / "latest.md").read_text()
