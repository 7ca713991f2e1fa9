"""Load on `socialcredit serve`: concurrent clients reading run lists and daily series while
a large run computes in the server's worker.

    python benchmarks/serve_load.py                        # 50 clients, 20 s, a 1M-citizen run
    python benchmarks/serve_load.py --clients 20 --seconds 10 --population 200000

Starts `socialcredit serve` on a free loopback port over a temporary data folder (nothing
leaves this machine), finishes a small run so there is a daily series to read, starts the
large run, and once it computes sends `--clients` clients at the server, each asking in turn
for the run list and the small run's daily series, until `--seconds` have passed or
`--requests` were made. Prints requests per second and the p50 and p99 latency (the goal is
p99 under 200 ms), and whether the large run was computing from start to end; then cancels
it and stops the server. Prints figures; asserts nothing. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import httpx


def start_server(data: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "socialcredit.cli", "serve", "--data", data,
                             "--port", "0", "--max-queued", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not found:
        proc.kill()
        raise SystemExit(f"the server did not start: {line.strip()}")
    return proc, found.group(0)


def wait(client: httpx.Client, run_id: str, done, seconds: float = 600) -> dict:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s = client.get(f"/api/runs/{run_id}").json()
        if done(s):
            return s
        time.sleep(0.2)
    raise SystemExit(f"run {run_id} did not get there in {seconds:.0f} s: {s}")


async def load(url: str, small: str, clients: int, seconds: float, most: int) -> list[float]:
    """`clients` kept-alive HTTP/1.1 connections asking in turn for the run list and a daily
    series. A plain asyncio client: a full HTTP library costs more CPU per request than the
    server does, and on a small machine the client would be what is measured."""
    host, port = url.removeprefix("http://").split(":")
    paths = ["/api/runs", f"/api/runs/{small}/daily?columns=listed,mean_score,penalties"]
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + seconds

    async def one(k: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        asks = [f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode() for p in paths]
        i = k
        while time.monotonic() < end and len(latencies) < most:
            t0 = time.perf_counter()
            writer.write(asks[i % 2])
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            size = next(int(x.split(b":")[1]) for x in lines
                        if x.lower().startswith(b"content-length:"))
            await reader.readexactly(size)
            latencies.append(time.perf_counter() - t0)
            errors += b" 200 " not in lines[0]
            i += 1
        writer.close()

    await asyncio.gather(*(one(k) for k in range(clients)))
    if errors:
        print(f"{errors} requests did not get 200")
    return latencies


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--requests", type=int, default=200_000, help="stop after this many")
    p.add_argument("--population", type=int, default=1_000_000, help="the large run's")
    p.add_argument("--days", type=int, default=36_500, help="the large run's (long enough to "
                   "outlast the load; it is cancelled at the end)")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as data:
        proc, url = start_server(data)
        try:
            with httpx.Client(base_url=url, timeout=30) as c:
                small = c.post("/api/runs", json={"scenario": "rongcheng", "population": 20_000,
                                                  "days": 365}).json()["id"]
                wait(c, small, lambda s: s["status"] == "done")
                big = c.post("/api/runs", json={"scenario": "rongcheng",
                                                "population": a.population,
                                                "days": a.days}).json()["id"]
                wait(c, big, lambda s: s["phase"] == "running")
                t0 = time.perf_counter()
                latencies = asyncio.run(load(url, small, a.clients, a.seconds, a.requests))
                wall = time.perf_counter() - t0
                after = c.get(f"/api/runs/{big}").json()
                computing = after["status"] == "running"
                c.post(f"/api/runs/{big}/cancel")
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
    latencies.sort()
    n = len(latencies)
    p50 = 1000 * latencies[n // 2]
    p99 = 1000 * latencies[min(n - 1, int(0.99 * n))]
    rps = n / wall
    print(f"{n:,} requests from {a.clients} clients in {wall:.1f} s while a "
          f"{a.population:,}-citizen run computed (still computing at the end: {computing}, "
          f"day {after['day']} of {after['days']})")
    print(f"{rps:,.0f} requests/s, latency p50 {p50:.1f} ms, p99 {p99:.1f} ms "
          f"(goal p99 < 200 ms: {'met' if p99 < 200 else 'not met'}); {os.cpu_count()} cores")
    print(json.dumps({"clients": a.clients, "requests": n, "seconds": round(wall, 2),
                      "rps": round(rps, 1), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
                      "population": a.population, "computing_throughout": computing}))


if __name__ == "__main__":
    main()
