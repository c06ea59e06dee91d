"""Benchmark: ``POST /api/v1/checks`` under concurrent load against a bare Starlette endpoint.

    python bench/api_checks.py [--people 20000] [--workers 1] [--concurrency 16]
                               [--client-processes 2] [--seconds 10] [--out DIR]

1. Build a demo town (``socialcredit demo --people N --out DIR``; reused when DIR holds one)
   and create a verifier account with ``socialcredit users add``.
2. Start ``socialcredit serve`` on it (uvicorn, ``--workers W``, no access log, the verifier
   rate limit raised for the run) and drive ``POST /api/v1/checks`` from ``--concurrency``
   concurrent httpx clients for ``--seconds``: every request is authenticated (bearer token),
   answered through ``services.standing.check`` and written to the person's access log.
3. Start a bare Starlette app that answers the same JSON body from a constant, under the
   same uvicorn settings, and drive it the same way.

It prints requests/s of both and the ratio (ours / bare; 1.0 = as fast as bare). The client
runs on the same machine and competes for the same cores: compare ratios, not numbers.
The goal is at least 0.25. Not a test: it never gates CI on a time.
"""

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
POLICY = "civil-service-promotion"  # mandated in the reference catalogue: no consent needed
PURPOSE = "benchmark promotion round"
BANK = "Benchmark Rural Commercial Bank"
ANSWER = {"eligible": True, "reasons": []}


def bare_app() -> Any:
    """The baseline: the same route and answer shape, no auth, no database, no log."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def check(request: Any) -> JSONResponse:
        await request.body()
        return JSONResponse(ANSWER)

    async def healthz(request: Any) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/api/v1/checks", check, methods=["POST"]), Route("/healthz", healthz)]
    )


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def socialcredit(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    command = [str(Path(sys.executable).with_name("socialcredit")), *args, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def demo_town(out: Path, people: int) -> str:
    database = out / "socialcredit-demo.db"
    if database.exists() and (out / "people.parquet").exists():
        say(f"reusing the demo town in {out}")
        return f"sqlite:///{database.resolve()}"
    say(f"building a demo town of {people:,} people in {out} ...")
    return str(socialcredit("demo", "--people", str(people), "--out", str(out))["database"])


def verifier_token(url: str) -> str:
    name = f"bench-bank-{os.getpid()}"
    created = socialcredit(
        "--db", url, "users", "add", name, "--role", "verifier",
        "--organisation", BANK, "--grant", f"{POLICY}:{PURPOSE}",
    )  # fmt: skip
    return str(created["token"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def start(command: list[str], port: int, env: dict[str, str]) -> Server:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _attempt in range(600):
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}: {' '.join(command)}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return Server(process, base)
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"server never answered: {' '.join(command)}")


def uvicorn_options(workers: int) -> list[str]:
    """What ``socialcredit serve`` passes to uvicorn, for the bare server too."""
    return ["--workers", str(workers), "--no-access-log"]


def start_ours(url: str, workers: int) -> Server:
    port = free_port()
    env = {**os.environ, "SOCIALCREDIT_VERIFIER_CHECKS_PER_MINUTE": "1000000"}
    command = [
        str(Path(sys.executable).with_name("socialcredit")), "--db", url, "serve",
        "--port", str(port), *uvicorn_options(workers),
    ]  # fmt: skip
    return start(command, port, env)


def start_bare(workers: int) -> Server:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "api_checks:bare_app", "--factory",
        "--app-dir", str(Path(__file__).parent), "--host", "127.0.0.1", "--port", str(port),
        "--no-server-header", "--log-level", "info", *uvicorn_options(workers),
    ]  # fmt: skip
    return start(command, port, dict(os.environ))


@dataclass
class Load:
    requests: int
    failures: int
    seconds: float
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def _drive(
    base: str, token: str, people: list[str], clients: int, seconds: float, offset: int
) -> dict[int, int]:
    """``clients`` clients, each on its own connection, asking one check after another.

    One ``AsyncClient`` per connection: a single client's shared pool serialises on its own
    lock and was measured here to fall from ~300 to ~100 requests/s at 32 connections.
    """
    headers = {"Authorization": f"Bearer {token}"}
    timeout = httpx.Timeout(120.0)  # a slow answer is a measurement, not an error
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def one_client(index: int) -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=timeout) as client:
            n = offset + index
            while time.perf_counter() < deadline:
                body = {"person_id": people[n % len(people)], "policy": POLICY, "purpose": PURPOSE}
                n += clients * 1000
                response = await client.post("/api/v1/checks", json=body)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    await asyncio.gather(*(one_client(i) for i in range(clients)))
    return statuses


def _client_process(
    base: str, token: str, people: list[str], clients: int, seconds: float, offset: int
) -> tuple[dict[int, int], float]:
    started = time.perf_counter()
    statuses = asyncio.run(_drive(base, token, people, clients, seconds, offset))
    return statuses, time.perf_counter() - started


def drive(
    base: str, token: str, people: list[str], args: argparse.Namespace, seconds: float
) -> Load:
    """``--concurrency`` clients spread over ``--client-processes`` processes."""
    processes = max(1, min(args.client_processes, args.concurrency))
    share = [
        args.concurrency // processes + (i < args.concurrency % processes) for i in range(processes)
    ]
    with ProcessPoolExecutor(processes) as pool:
        futures = [
            pool.submit(_client_process, base, token, people, n, seconds, i * 100_003)
            for i, n in enumerate(share)
        ]
        results = [future.result() for future in futures]
    statuses: dict[int, int] = {}
    for result, _elapsed in results:
        for status, count in result.items():
            statuses[status] = statuses.get(status, 0) + count
    # Each process times its own run; the load lasted as long as the slowest one.
    elapsed = max(elapsed for _result, elapsed in results)
    ok = statuses.get(200, 0)
    return Load(ok, sum(statuses.values()) - ok, elapsed, statuses)


def access_rows(url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from socialcredit.store.schema import access_log

    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(access_log)).scalar_one()
    engine.dispose()
    return int(count)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians")
    parser.add_argument("--out", type=Path, default=None, help="demo folder (kept; reused)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="socialcredit-bench-api-"))
    url = demo_town(out, args.people)
    token = verifier_token(url)
    people = pl.read_parquet(out / "people.parquet")["id"].sample(2000, seed=7).to_list()

    say(f"socialcredit serve and a bare Starlette app, --workers {args.workers} each ...")
    ours_server, bare_server = start_ours(url, args.workers), start_bare(args.workers)
    ours: list[Load] = []
    bare: list[Load] = []
    logged = 0
    try:
        for server in (ours_server, bare_server):  # warm up: token cache, pools, imports
            drive(server.base, token, people, args, min(2.0, args.seconds))
        # Alternate, so that a change in what else the machine runs hits both alike.
        for round_ in range(args.rounds):
            say(f"round {round_ + 1}/{args.rounds}: {args.concurrency} clients each ...")
            before = access_rows(url)
            ours.append(drive(ours_server.base, token, people, args, args.seconds))
            logged += access_rows(url) - before
            bare.append(drive(bare_server.base, token, people, args, args.seconds))
    finally:
        ours_server.stop()
        bare_server.stop()

    ours_rate = median([load.rate for load in ours])
    bare_rate = median([load.rate for load in bare])
    answered = sum(load.requests for load in ours)
    statuses: dict[int, int] = {}
    for load in ours:
        for status, count in load.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, python {platform.python_version()}; "
          "clients on the same machine")  # fmt: skip
    print(f"uvicorn workers {args.workers}, {args.concurrency} concurrent clients in "
          f"{args.client_processes} processes, {args.rounds} x {args.seconds:.0f} s, "
          f"town of {args.people:,}")  # fmt: skip
    print(f"POST /api/v1/checks : {ours_rate:8.0f} req/s median of "
          f"{', '.join(f'{load.rate:.0f}' for load in ours)}; statuses {statuses}; "
          f"{answered:,} answered, {logged:,} access-log rows written")  # fmt: skip
    print(f"bare Starlette      : {bare_rate:8.0f} req/s median of "
          f"{', '.join(f'{load.rate:.0f}' for load in bare)}")  # fmt: skip
    print(
        f"ratio ours/bare     : {ours_rate / bare_rate if bare_rate else 0.0:.2f}  (goal >= 0.25)"
    )


if __name__ == "__main__":
    main()
