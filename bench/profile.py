"""Where a Switchboard process spends its time under a fixed load, with py-spy.

    python bench/profile.py [--server switchboard-eventlet] [--scenario fanout|rooms]
                            [--rate 50] [--seconds 10]

Starts Switchboard exactly as ``bench/run.py`` does (seeded instance, bench
settings, pinned to core 0), drives one fixed-rate load with the same Node
generator (pinned to core 1), records the server with ``py-spy record`` during
the measured window, and prints the frames that hold the most samples
(inclusive and leaf). Raw stacks land in bench/results/profile-*.txt (feed them
to flamegraph.pl or speedscope for a picture).

py-spy is not a project dependency: ``.venv/bin/pip install py-spy`` first.
Everything started here is stopped by PID, failure or not.
"""
from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run as bench  # noqa: E402  (bench/run.py: the same servers, settings and generator)


def top_frames(raw: Path, count: int = 40) -> str:
    leaf: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        samples = int(n)
        total += samples
        frames = stack.split(";")
        leaf[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    out = [f"{total} samples"]
    out.append("\nleaf (where the CPU was):")
    out += [f"{n / total:6.1%}  {f}" for f, n in leaf.most_common(count // 2)]
    out.append("\ninclusive (what it was doing):")
    out += [f"{n / total:6.1%}  {f}" for f, n in inclusive.most_common(count)]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("switchboard-eventlet", "switchboard-gevent", "bare-python"),
                        default="switchboard-eventlet",
                        help="bare-python profiles the baseline under the same load, for comparison")
    parser.add_argument("--scenario", choices=("fanout", "rooms"), default="fanout")
    parser.add_argument("--clients", type=int, default=None, help="default 200 (fanout), 1000 (rooms)")
    parser.add_argument("--rate", type=int, default=50, help="messages/s in all")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long py-spy records")
    parser.add_argument("--idle", action="store_true", help="also sample waiting (py-spy --idle)")
    parser.add_argument("--boost", type=int, default=0, metavar="N", help="as bench/run.py --boost")
    args = parser.parse_args()
    bench.BOOST = max(0, min(20, args.boost))
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is missing: .venv/bin/pip install py-spy")

    clients = args.clients or (200 if args.scenario == "fanout" else 1000)
    out_dir = BENCH / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "logs").mkdir(exist_ok=True)
    raw = out_dir / f"profile-{args.scenario}-{args.server}-{args.rate}.txt"
    workdir = Path(tempfile.mkdtemp(prefix="sb-profile-"))
    bench.raise_fd_limit(clients + 1000)
    bench.ensure_node_deps()
    procs = bench.Processes()
    pinning = shutil.which("taskset") is not None
    warm = 3.0
    try:
        bench.seed_instance(workdir / "instance", clients)
        server = bench.Server(args.server, procs, pinning, workdir / "instance",
                              out_dir / "logs", clients + 100)
        server.start()
        if args.scenario == "fanout":
            params = {"clients": clients, "per_sender_rate": 5, "warmup_s": warm,
                      "step_s": args.seconds + 4, "drain_s": 10, "pause_s": 0, "stop_p99_ms": 10**9,
                      "rates": [args.rate]}
            scenario = "ramp"
        else:
            params = {"clients": clients, "group": 10, "rate": args.rate, "warmup_s": warm,
                      "duration_s": args.seconds + 4, "drain_s": 10, "transport": "websocket"}
            scenario = "rooms"
        config = bench.generator_config("profile", server, scenario, params, clients,
                                        deadline_s=600, settle_s=0.5)
        cfg = workdir / "config.json"
        cfg.write_text(json.dumps(config))
        gen_log = workdir / "gen.log"
        with open(gen_log, "w") as log_fh:
            gen = procs.start(bench.generator_argv(server, cfg, workdir / "result.json"),
                              stderr=log_fh, stdout=log_fh)
        deadline = time.monotonic() + 300
        while "clients connected" not in gen_log.read_text():
            if gen.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"generator failed:\n{gen_log.read_text()}")
            time.sleep(0.2)
        # rooms formed + settle + warm-up, then record inside the measured window
        time.sleep(warm + 2.0 + (5.0 if args.scenario == "rooms" else 0.0))
        spy = [py_spy, "record", "--pid", str(server.pid), "--duration", str(int(args.seconds)),
               "--rate", "200", "--format", "raw", "--output", str(raw), "--nonblocking"]
        if args.idle:
            spy.append("--idle")
        subprocess.run(spy, check=True, timeout=args.seconds + 60, stdout=subprocess.DEVNULL)
        gen.wait(params.get("step_s", params.get("duration_s")) + 120)
        result = json.loads((workdir / "result.json").read_text())
        if result.get("ok"):
            r = result["result"]
            r = r["steps"][0] if "steps" in r else r
            print(f"load: {r['offered_msgs_per_s']} msgs/s to rooms of {r['group_size']}: "
                  f"{r['deliveries_per_s']} deliveries/s, ack p50/p99 {r['ack']['p50_ms']}/"
                  f"{r['ack']['p99_ms']} ms, server CPU {r['server_cpu_pct']}%, "
                  f"generator CPU {r['gen_cpu_pct']}%, other processes {r['other_cpu_pct']}%")
        print(top_frames(raw))
        print(f"\nraw stacks: {raw}")
    finally:
        procs.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
