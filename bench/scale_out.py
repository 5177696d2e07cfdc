"""Scale-out benchmark: prediction with several processes, shared model memory, Dask, HTTP.

Run through `make bench ARGS="--suite scale-out"` (or `.bench-venv/bin/python
bench/scale_out.py`). Needs the cooking data. Measures, in one run on this machine:

- `ftl predict` lines/s on 10^6 lines (cooking questions repeated), 1 and 2 processes, and
  the fastText binding's `predict` on the same lines (one thread, as it has no other);
- the memory (PSS, from /proc/PID/smaps_rollup) of 1 and 4 processes predicting with one
  cooking-bigrams model, loaded with and without `mmap`;
- Dask: lines/s of `predict_bag` on a LocalCluster of 1 and 2 worker processes, against the
  fastText binding inside `map_partitions`;
- HTTP (`ftl serve`, 1 and 2 workers): requests/s and p50/p99 latency for single texts and
  for batches of 100, from 8 client threads, a bounded number of requests.

Prints a Markdown table and writes bench/results/<stamp>-scale-out.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
FTL = [str(Path(PYTHON).parent / "ftl")]


def lines_file(cooking: Path, work: Path, lines: int) -> Path:
    path = work / f"cooking-{lines}.txt"
    if not path.exists():
        texts = [
            line.split(" ", 1)[1] if " " in line else line
            for line in (cooking / "cooking.train").read_text(errors="replace").splitlines()
        ]
        with open(path, "w") as out:
            for i in range(lines):
                out.write(texts[i % len(texts)] + "\n")
    return path


def timed(command: list[str], stdout: Any = subprocess.DEVNULL) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=stdout)
    return time.perf_counter() - started


def _together(command: list[str], copies: int) -> float:
    """Seconds until `copies` runs of `command` started at once have all ended."""
    started = time.perf_counter()
    running = [subprocess.Popen(command, stdout=subprocess.DEVNULL) for _ in range(copies)]
    for process in running:
        if process.wait() != 0:
            raise RuntimeError(f"{' '.join(command)} failed")
    return time.perf_counter() - started


def predict_rates(model: Path, text: Path, lines: int, repeat: int) -> dict[str, float]:
    rates = {}
    for threads in (1, 2):
        seconds = statistics.median(
            timed([*FTL, "predict", "-m", str(model), str(text), "--thread", str(threads)])
            for _ in range(repeat)
        )
        rates[f"ftl-t{threads}"] = lines / seconds
    # What the machine gives two processes: two 1-process runs at once, independent (shared
    # caches, memory bandwidth, or cores that are hyperthreads of one), the ceiling for
    # --thread 2.
    command = [*FTL, "predict", "-m", str(model), str(text), "--thread", "1"]
    seconds = statistics.median(_together(command, 2) for _ in range(repeat))
    rates["2 x ftl-t1 at once (the machine's ceiling for t2)"] = 2 * lines / seconds
    binding = (
        "import fasttext, sys, time\n"
        "m = fasttext.load_model(sys.argv[1])\n"
        "lines = open(sys.argv[2], encoding='utf-8', errors='replace').read().splitlines()\n"
        "t = time.perf_counter()\n"
        "for i in range(0, len(lines), 10000):\n"
        "    m.predict(lines[i:i + 10000], k=1)\n"
        "print(time.perf_counter() - t)\n"
    )
    bin_model = model.with_suffix(".bin")
    if bin_model.exists():
        done = subprocess.run(
            [PYTHON, "-c", binding, str(bin_model), str(text)], capture_output=True, text=True
        )
        if done.returncode == 0:
            rates["fasttext-t1 (predict only, no file reading)"] = lines / float(done.stdout)
    return rates


def pss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def shared_memory(model: Path, text: Path) -> dict[str, float]:
    """PSS of N processes that loaded the model and predicted 10,000 lines, then wait."""
    program = (
        "import sys, time\n"
        "from fasttext_lite import FastTextClassifier\n"
        "clf = FastTextClassifier.load(sys.argv[1], mmap=sys.argv[3] == 'mmap')\n"
        "lines = open(sys.argv[2], 'rb').read().splitlines()[:10000]\n"
        "clf.predict(lines)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    result = {}
    for mode in ("mmap", "copy"):
        for count in (1, 4):
            processes = [
                subprocess.Popen(
                    [PYTHON, "-c", program, str(model), str(text), mode],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for _ in range(count)
            ]
            try:
                for process in processes:
                    assert process.stdout is not None
                    process.stdout.readline()
                result[f"{mode}-{count}"] = sum(pss_kb(p.pid) for p in processes) / 1024
            finally:
                for process in processes:
                    process.kill()
                    process.wait()
    return result


def dask_rates(model: Path, text: Path, lines: int) -> dict[str, float]:
    import dask.bag
    from distributed import Client, LocalCluster

    from fasttext_lite import FastTextClassifier
    from fasttext_lite.integrations.dask import predict_bag

    rates = {}
    clf = FastTextClassifier.load(model)
    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster),
        ):
            bag = dask.bag.read_text(str(text), blocksize="8MiB", errors="surrogateescape")
            started = time.perf_counter()
            count = predict_bag(bag, clf).count().compute()
            assert count == lines
            rates[f"ftl dask {workers} worker(s)"] = lines / (time.perf_counter() - started)
            bin_model = model.with_suffix(".bin")
            try:
                import fasttext  # noqa: F401
            except ImportError:
                continue
            if bin_model.exists():
                started = time.perf_counter()
                bag.map_partitions(_fasttext_partition, str(bin_model)).count().compute()
                rates[f"fastText dask {workers} worker(s)"] = lines / (
                    time.perf_counter() - started
                )
    return rates


_FASTTEXT_MODELS: dict[str, Any] = {}


def _fasttext_partition(lines: list[str], path: str) -> list[Any]:
    import fasttext

    model = _FASTTEXT_MODELS.get(path)
    if model is None:
        model = _FASTTEXT_MODELS[path] = fasttext.load_model(path)
    labels, _ = model.predict([line.rstrip("\n") for line in lines], k=1)
    return list(labels)


def http_load(model: Path, requests: int) -> dict[str, dict[str, float]]:
    import httpx

    results: dict[str, dict[str, float]] = {}
    texts = ["how long should i boil an egg for a soft yolk"] * 100
    for workers in (1, 2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [*FTL, "serve", "-m", str(model), "--port", str(port), "--workers", str(workers)]
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            for name, batch in (("1 text", texts[:1]), ("100 texts", texts)):
                client = httpx.Client(timeout=30)

                def ask(
                    _: int, batch: list[str] = batch, client: httpx.Client = client, url: str = url
                ) -> float:
                    began = time.perf_counter()
                    response = client.post(f"{url}/predict", json={"texts": batch})
                    assert response.status_code == 200
                    return time.perf_counter() - began

                count = requests if len(batch) == 1 else requests // 10
                started = time.perf_counter()
                with ThreadPoolExecutor(8) as pool:
                    latencies = sorted(pool.map(ask, range(count)))
                elapsed = time.perf_counter() - started
                client.close()
                results[f"{workers} worker(s), {name}"] = {
                    "requests_per_s": count / elapsed,
                    "p50_ms": 1000 * latencies[len(latencies) // 2],
                    "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
                }
        finally:
            server.terminate()
            server.wait(timeout=30)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cooking-dir", type=Path, default=Path("/work/shared/datasets/cooking"))
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    args = parser.parse_args()
    if not (args.cooking_dir / "cooking.train").exists():
        print(f"no cooking data at {args.cooking_dir}", file=sys.stderr)
        return 1
    work = BENCH / "work.tmp"
    work.mkdir(exist_ok=True)
    text = lines_file(args.cooking_dir, work, args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "cooking.ftl"
        train = args.cooking_dir / "cooking.train"
        subprocess.run(
            [*FTL, "train", str(train), "-o", str(model), "--lr", "1.0", "--epoch", "25"]
            + ["--word-ngrams", "2", "-q"],
            check=True,
        )
        try:  # the same settings with the binding, for its rows
            import fasttext

            fasttext.train_supervised(
                input=str(train), lr=1.0, epoch=25, wordNgrams=2, thread=2, verbose=0
            ).save_model(str(model.with_suffix(".bin")))
        except ImportError:
            pass
        record: dict[str, Any] = {
            "cores": os.cpu_count(),
            "lines": args.lines,
            "predict_lines_per_s": predict_rates(model, text, args.lines, args.repeat),
            "pss_mb": shared_memory(model, text),
            "dask_lines_per_s": dask_rates(model, text, args.lines),
            "http": http_load(model, args.requests),
        }
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    args.results_dir.mkdir(exist_ok=True)
    (args.results_dir / f"{stamp}-scale-out.json").write_text(json.dumps(record, indent=1))
    print(f"## Scale-out ({record['cores']} cores, {args.lines} lines)\n")
    print("| measure | value |\n|---|---|")
    for name, rate in record["predict_lines_per_s"].items():
        print(f"| predict {name} | {rate:,.0f} lines/s |")
    for name, value in record["pss_mb"].items():
        print(f"| PSS {name} processes | {value:.0f} MB |")
    for name, rate in record["dask_lines_per_s"].items():
        print(f"| {name} | {rate:,.0f} lines/s |")
    for name, row in record["http"].items():
        print(
            f"| HTTP {name} | {row['requests_per_s']:.0f} req/s, p50 {row['p50_ms']:.1f} ms,"
            f" p99 {row['p99_ms']:.1f} ms |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
