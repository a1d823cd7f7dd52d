"""Many users at once: 16 concurrent gradio_client clients classify photos against the app on loopback.

Runs the app twice in one go, with micro-batching off (TL_BATCH=0) and on, and prints requests/s, p50/p95
latency, errors and the app's peak memory (VmHWM) for each, and the batched/unbatched throughput ratio.
Traffic goes to 127.0.0.1 only, for a bounded number of requests and a bounded time.

Usage: python bench/load.py [--clients 16] [--requests 160] [--time-limit 300]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
PHOTOS = sorted((ROOT / "assets").glob("*.jp*g")) + sorted((ROOT / "assets").glob("*.png"))


def start_app(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    full = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port), **env}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("app.py did not start")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(url: str, clients: int, requests: int, time_limit: float) -> dict[str, float]:
    """`clients` threads, each with its own gradio_client, share `requests` classify calls."""
    from gradio_client import Client, handle_file

    sessions = [Client(url, verbose=False) for _ in range(clients)]
    sessions[0].predict(handle_file(str(PHOTOS[0])), "mobilenet", None, api_name="/classify")  # warm
    counter = iter(range(requests))
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.monotonic() + time_limit

    def client_loop(client) -> None:
        for i in counter:
            if time.monotonic() > stop_at:
                return
            start = time.perf_counter()
            try:
                client.predict(handle_file(str(PHOTOS[i % len(PHOTOS)])), "mobilenet", None, api_name="/classify")
                latencies.append(time.perf_counter() - start)
            except Exception as e:  # noqa: BLE001 - counted and reported
                errors.append(type(e).__name__ + ": " + str(e)[:80])

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client_loop, sessions))
    wall = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=20) if len(latencies) >= 2 else [float("nan")] * 19
    return {
        "done": len(latencies),
        "errors": len(errors),
        "rps": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": 1000 * q[18],
        "first_error": errors[0] if errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=160)
    parser.add_argument("--time-limit", type=float, default=300)
    args = parser.parse_args()

    results = {}
    for label, batch in (("unbatched", "0"), ("batched", "1")):
        proc, url = start_app({"TL_BATCH": batch})
        try:
            cpu_before, wall_before = cpu_seconds(proc.pid), time.perf_counter()
            results[label] = drive(url, args.clients, args.requests, args.time_limit)
            cpu = cpu_seconds(proc.pid) - cpu_before
            results[label]["peak_mb"] = peak_rss_mb(proc.pid)
            results[label]["server_cpu_ms"] = 1000 * cpu / max(1, results[label]["done"])
            results[label]["server_cores"] = cpu / (time.perf_counter() - wall_before)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    print(f"{args.clients} concurrent gradio_client clients, {args.requests} classify requests, MobileNet, loopback\n")
    print(f"{'':10} {'done':>5} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'peak MB':>8} {'app CPU ms/req':>15} {'app cores':>9}")
    for label, r in results.items():
        print(f"{label:10} {r['done']:5d} {r['errors']:6d} {r['rps']:7.1f} {r['p50_ms']:8.0f} {r['p95_ms']:8.0f} "
              f"{r['peak_mb']:8.0f} {r['server_cpu_ms']:15.0f} {r['server_cores']:9.2f}")
        if r["first_error"]:
            print(f"           first error: {r['first_error']}")
    ratio = results["batched"]["rps"] / results["unbatched"]["rps"]
    print(f"\nbatched / unbatched requests/s: {ratio:.2f}x (goal >= 2x); peak memory goal <= 1500 MB")
    print("app CPU ms/req: the app process's CPU time per request (the model's share is one ~10 ms forward);")
    print("the rest of the 2 cores goes to the 16 clients in this process.")


if __name__ == "__main__":
    main()
