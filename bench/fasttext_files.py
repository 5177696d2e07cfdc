"""The fasttext-files suite: fastText's own files read by ftl, against the fastText binding.

Run through `make bench ARGS="--suite fasttext-files"` (or `.bench-venv/bin/python
bench/fasttext_files.py`; `--quick` for a smoke test). Needs the cooking data and the binding.

**Models** are made by the binding on `cooking.train` (2 threads, seed 0) the first time and
cached in `bench/work.tmp/fasttext-files/` (their names carry a hash of their settings):

- `cooking.bin`: `lr 1.0, epoch 25` (no n-grams, so fastText stores no bucket rows);
- `cooking-2M.bin`: `lr 1.0, epoch 25, wordNgrams 2` with fastText's default 2,000,000
  buckets (about 800 MB);
- `cooking-hs.bin`: `loss hs, dim 50, bucket 200000, lr 1.0, epoch 25, wordNgrams 2`, and
  `cooking-hs.ftz`, the same quantized by the binding's `quantize(cutoff=100000, retrain=True,
  qnorm=True)` (a pruned dictionary, quantized input matrix and norms).

**Readers**, each in a fresh process per measurement, interleaved, medians of `--repeat`:

- `ftl CLI`: `ftl predict FILE -m MODEL -k 1` (stdout captured);
- `ftl API`: `FastTextClassifier.load(MODEL)` then `predict(lines)`;
- `ftl compat`: `fasttext_lite.compat.load_model(MODEL)` then `predict(lines, k=1)`;
- `fastText`: the binding's `fasttext.load_model(MODEL)` then `predict(lines, k=1)`.

**Measures**: *load*: a process that loads the model and predicts an empty file: its wall
time, its peak RSS, and (Python readers) the seconds of the load call alone. *predict*: the
cooking valid texts repeated to `--predict-lines` lines, top-1: lines/s of the whole process,
lines/s after loading (lines / (predict process - load process), the same for every reader),
lines/s of the prediction loop alone (Python readers: read, predict, write), and peak RSS.
*same top-1*: share of lines whose label equals the binding's (from the first repetition).
Peak RSS is exact for these single processes (`ru_maxrss`, see run.py).

**.vec reading**: a generated `--vec-rows` x `--vec-dim` (1,000,000 x 300) `.vec` file (cached in
work.tmp), read by `fasttext_lite.formats.vec.read`, which is what `--pretrained-vectors` calls:
seconds, MB/s, peak RSS (`--vec-repeat` reads, default 1: numpy parses about 25 MB/s here).

Prints Markdown tables and writes `bench/results/<stamp>-fasttext-files.json`. The harness keeps
to the standard library (numpy and the binding run only in its subprocesses).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from run import (  # noqa: E402  (bench/ is not a package)
    PYTHON,
    Proc,
    cell,
    environment_info,
    fmt,
    log,
    make_dataset,
    predict_file,
    run_measured,
)

SELF = Path(__file__).resolve()
FTL = [str(Path(PYTHON).parent / "ftl")]

# name -> (binding's train_supervised settings, quantize settings or None). Every model
# trains with thread 2 and seed 0; a quantized one starts from the model without "-q".
MODELS: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
    "cooking": ({"lr": 1.0, "epoch": 25}, None),
    "cooking-2M": ({"lr": 1.0, "epoch": 25, "wordNgrams": 2}, None),
    "cooking-hs": (
        {"loss": "hs", "dim": 50, "bucket": 200_000, "lr": 1.0, "epoch": 25, "wordNgrams": 2},
        None,
    ),
    "cooking-hs-q": (
        {"loss": "hs", "dim": 50, "bucket": 200_000, "lr": 1.0, "epoch": 25, "wordNgrams": 2},
        {"cutoff": 100_000, "retrain": True, "qnorm": True},
    ),
}
READERS = ("ftl-cli", "ftl-api", "ftl-compat", "fasttext")
READER_LABELS = {
    "ftl-cli": "ftl CLI",
    "ftl-api": "ftl API",
    "ftl-compat": "ftl compat",
    "fasttext": "fastText",
}


# --------------------------------------------------------------------------------------------
# Workers (subprocesses; these import numpy, the binding or ftl)


def worker_make_model(args: argparse.Namespace) -> dict[str, Any]:
    fasttext = importlib.import_module("fasttext")  # the binding has no type hints
    settings, quantize = MODELS[args.name]
    t0 = time.perf_counter()
    model = fasttext.train_supervised(input=args.train, thread=2, seed=0, verbose=0, **settings)
    t1 = time.perf_counter()
    if quantize is not None:
        model.quantize(input=args.train, thread=2, verbose=0, **quantize)
    t2 = time.perf_counter()
    tmp = f"{args.out}.tmp{Path(args.out).suffix}"
    model.save_model(tmp)
    Path(tmp).replace(args.out)
    return {"train_s": t1 - t0, "quantize_s": t2 - t1, "labels": len(model.labels)}


def _load(reader: str) -> tuple[Callable[[str], Any], Callable[[Any, list[str]], list[str]]]:
    """The reader's load function and its top-1 prediction for a list of lines, as text."""
    if reader == "ftl-api":
        from fasttext_lite import FastTextClassifier

        def api_predict(model: Any, lines: list[str]) -> list[str]:
            prefix = model.label_prefix
            return [prefix + str(label) for label in model.predict(lines).tolist()]

        return FastTextClassifier.load, api_predict
    module = importlib.import_module(
        "fasttext_lite.compat" if reader == "ftl-compat" else "fasttext"
    )

    def binding_predict(model: Any, lines: list[str]) -> list[str]:
        labels, _ = model.predict(lines, k=1)
        return [" ".join(row) for row in labels]

    return module.load_model, binding_predict


def worker_predict(args: argparse.Namespace) -> dict[str, Any]:
    from refcommon import timed_predict

    load, predict = _load(args.reader)
    # An empty file measures the load alone: some readers refuse an empty list.
    return timed_predict(args, load, lambda model, lines: predict(model, lines) if lines else [])


def worker_make_vec(args: argparse.Namespace) -> dict[str, Any]:
    """A `.vec` of `rows` words `w0000000 ...` and `dim` numbers each, every number 7
    characters and a space as fastText prints them (`0.12345`, `-0.1234`), from a table of
    20,000 values: written a block of rows at a time with numpy, no Python loop per number."""
    import numpy as np

    rng = np.random.default_rng(args.seed)
    values = np.clip(rng.normal(0.0, 0.3, 20_000), -0.9999, 0.9999)
    table = np.frombuffer(
        b"".join((f"{v:.5f} " if v >= 0 else f"{v:.4f} ").encode("ascii") for v in values.tolist()),
        dtype=np.uint8,
    ).reshape(-1, 8)
    width = 9 + 8 * args.dim  # "w0000000 " then the numbers; the last space becomes "\n"
    block = 10_000
    tmp = Path(args.out + ".tmp")
    t0 = time.perf_counter()
    with tmp.open("wb") as out:
        out.write(f"{args.rows} {args.dim}\n".encode("ascii"))
        for start in range(0, args.rows, block):
            n = min(block, args.rows - start)
            rows = np.empty((n, width), dtype=np.uint8)
            words = b"".join(b"w%07d " % i for i in range(start, start + n))
            rows[:, :9] = np.frombuffer(words, dtype=np.uint8).reshape(n, 9)
            codes = rng.integers(0, values.size, (n, args.dim))
            rows[:, 9:] = table[codes].reshape(n, 8 * args.dim)
            rows[:, -1] = ord("\n")
            out.write(rows.tobytes())
    tmp.replace(args.out)
    return {"write_s": time.perf_counter() - t0}


def worker_read_vec(args: argparse.Namespace) -> dict[str, Any]:
    from fasttext_lite.formats import vec

    t0 = time.perf_counter()
    found = vec.read(args.path)
    seconds = time.perf_counter() - t0
    return {"read_s": seconds, "rows": len(found.words), "dim": int(found.vectors.shape[1])}


WORKERS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "make-model": worker_make_model,
    "predict": worker_predict,
    "make-vec": worker_make_vec,
    "read-vec": worker_read_vec,
}


def worker_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="fasttext_files.py worker")
    sub = ap.add_subparsers(dest="mode", required=True)
    mm = sub.add_parser("make-model")
    mm.add_argument("name", choices=sorted(MODELS))
    mm.add_argument("--train", required=True)
    mm.add_argument("--out", required=True)
    pr = sub.add_parser("predict")
    pr.add_argument("file")
    pr.add_argument("-m", "--model", required=True)
    pr.add_argument("--reader", choices=[r for r in READERS if r != "ftl-cli"], required=True)
    pr.add_argument("--out", default="/dev/null")
    mv = sub.add_parser("make-vec")
    mv.add_argument("--rows", type=int, required=True)
    mv.add_argument("--dim", type=int, required=True)
    mv.add_argument("--seed", type=int, default=1)
    mv.add_argument("--out", required=True)
    rv = sub.add_parser("read-vec")
    rv.add_argument("path")
    args = ap.parse_args(argv)
    json.dump(WORKERS[args.mode](args), sys.stdout)
    sys.stdout.write("\n")
    return 0


def worker_cmd(*argv: str) -> list[str]:
    return [PYTHON, str(SELF), "worker", *argv]


# --------------------------------------------------------------------------------------------
# The harness


def model_path(work: Path, name: str) -> Path:
    settings, quantize = MODELS[name]
    key = json.dumps([settings, quantize], sort_keys=True).encode()
    digest = hashlib.sha256(key).hexdigest()[:8]
    stem = name.removesuffix("-q")
    return work / f"{stem}-{digest}{'.ftz' if quantize else '.bin'}"


def ensure_model(work: Path, name: str, train: Path, timeout: float) -> dict[str, Any]:
    path = model_path(work, name)
    made: dict[str, Any] = {"path": str(path), "cached": path.is_file()}
    if not path.is_file():
        log(f"  making {path.name} with the binding")
        proc = run_measured(
            worker_cmd("make-model", name, "--train", str(train), "--out", str(path)), timeout
        )
        if proc.returncode != 0:
            raise RuntimeError(f"making {name}: {proc.error()}")
        made.update(proc.json())
    made["mb"] = path.stat().st_size / 1e6
    return made


def reader_cmd(reader: str, model: Path, text: Path, out: Path | None = None) -> list[str]:
    """The command predicting `text`'s top labels, written to `out` (default: dropped)."""
    if reader == "ftl-cli":
        cmd = [*FTL, "predict", str(text), "-m", str(model), "-k", "1"]
        # The shell execs ftl with stdout on the file: still one process, measured alone.
        return (
            cmd
            if out is None
            else ["sh", "-c", 'o=$1; shift; exec "$@" >"$o"', "sh", str(out), *cmd]
        )
    cmd = worker_cmd("predict", str(text), "-m", str(model), "--reader", reader)
    return cmd if out is None else [*cmd, "--out", str(out)]


def measure(reader: str, model: Path, text: Path, timeout: float) -> tuple[Proc, dict[str, Any]]:
    proc = run_measured(reader_cmd(reader, model, text), timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{reader} on {model.name}: {proc.error()}")
    return proc, ({} if reader == "ftl-cli" else proc.json())


def same_share(mine: Path, reference: Path) -> float | None:
    """The share of lines two outputs agree on, read a line at a time: what the harness holds
    raises the peak RSS of every later subprocess (see run.run_measured)."""
    same = total = 0
    with mine.open("rb") as a, reference.open("rb") as b:
        for x, y in itertools.zip_longest(a, b):
            if x is None or y is None:
                return None
            same += x.rstrip() == y.rstrip()
            total += 1
    return same / total if total else None


def run_model(args: argparse.Namespace, work: Path, name: str) -> dict[str, Any]:
    """The measures of one model, every reader."""
    cooking = make_dataset(
        "cooking",
        "cooking",
        args.cooking_dir / "cooking.train",
        args.cooking_dir / "cooking.valid",
        {},
    )
    text, lines = predict_file(cooking, args.work_dir, args.predict_lines)
    empty = work / "empty.txt"
    empty.write_bytes(b"")
    log(f"[fasttext-files / {name}]")
    try:
        made = ensure_model(work, name, cooking.train, args.timeout)
    except RuntimeError as error:
        log(f"  FAILED {error}")
        return {"model": name, "status": "failed", "note": str(error)[:500]}
    model = Path(made["path"])
    runs: dict[str, list[dict[str, Any]]] = {r: [] for r in READERS}
    outputs: dict[str, Path] = {}  # each reader's top labels in the first repetition
    failed: dict[str, str] = {}
    for rep in range(args.repeat):
        for reader in READERS:
            if reader in failed:
                continue
            out = work / f"top1-{name}-{reader}.txt"
            try:
                load, load_json = measure(reader, model, empty, args.timeout)
                pred = run_measured(reader_cmd(reader, model, text, out), args.timeout)
                if pred.returncode != 0:
                    raise RuntimeError(f"{reader} on {model.name}: {pred.error()}")
            except (RuntimeError, ValueError) as error:
                failed[reader] = str(error)[:500]
                log(f"  {reader}: FAILED {failed[reader]}")
                continue
            pred_json = {} if reader == "ftl-cli" else pred.json()
            if rep == 0:
                outputs[reader] = out.replace(out.with_suffix(".first.txt"))
            out.unlink(missing_ok=True)
            after = pred.wall_s - load.wall_s
            after_cpu = pred.cpu_s - load.cpu_s
            record = {
                "load_process_s": load.wall_s,
                "load_call_s": load_json.get("load_s"),
                "load_rss_mb": load.maxrss_mb,
                "predict_process_s": pred.wall_s,
                "predict_rss_mb": pred.maxrss_mb,
                "lines_per_s_process": lines / pred.wall_s,
                "lines_per_s_after_load": lines / after if after > 0 else None,
                "lines_per_s_loop": lines / pred_json["predict_s"] if pred_json else None,
                # CPU time is what other processes on a busy machine disturb least.
                "load_cpu_s": load.cpu_s,
                "predict_cpu_s": pred.cpu_s,
                "lines_per_cpu_s_after_load": lines / after_cpu if after_cpu > 0 else None,
                "other_cores": pred.other_cores,
            }
            runs[reader].append(record)
            log(
                f"  {READER_LABELS[reader]:<10} run {rep + 1}: load {load.wall_s:.2f} s "
                f"(RSS {load.maxrss_mb:.0f} MB), predict {record['lines_per_s_process']:,.0f}"
                f" lines/s (after load {fmt(record['lines_per_s_after_load'], ',.0f')}), "
                f"RSS {pred.maxrss_mb:.0f} MB"
            )
    reference = outputs.get("fasttext")
    rows = []
    for reader in READERS:
        median = {
            key: _median(r[key] for r in runs[reader])
            for key in (runs[reader][0] if runs[reader] else {})
        }
        same = None
        if reference is not None and reader in outputs:
            same = same_share(outputs[reader], reference)
        rows.append(
            {
                "reader": reader,
                "status": "failed" if reader in failed else "ok",
                "note": failed.get(reader, ""),
                "median": median,
                "same_top1_as_binding": same,
                "runs": runs[reader],
            }
        )
    for path in outputs.values():
        path.unlink()
    return {
        "model": name,
        "file": model.name,
        "settings": MODELS[name][0],
        "quantize": MODELS[name][1],
        "made": made,
        "predict_lines": lines,
        "readers": rows,
        "ratios_ftl_over_fasttext": ratios(rows),
    }


def _median(values: Any) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratios(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Each ftl reader's medians over the binding's: times and memory (above 1: ftl is slower
    or bigger), throughputs (above 1: ftl is faster)."""
    by = {row["reader"]: row["median"] for row in rows}
    ref = by.get("fasttext") or {}
    out = {}
    for reader in READERS[:-1]:
        mine = by.get(reader) or {}

        def div(key: str, mine: dict[str, Any] = mine) -> float | None:
            a, b = mine.get(key), ref.get(key)
            return None if a is None or not b else a / b

        out[reader] = {
            "load_process_s": div("load_process_s"),
            "load_rss_mb": div("load_rss_mb"),
            "predict_rss_mb": div("predict_rss_mb"),
            "lines_per_s_process": div("lines_per_s_process"),
            "lines_per_s_after_load": div("lines_per_s_after_load"),
            "lines_per_s_loop": div("lines_per_s_loop"),
            "load_cpu_s": div("load_cpu_s"),
            "lines_per_cpu_s_after_load": div("lines_per_cpu_s_after_load"),
        }
    return out


def run_vec(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    path = work / f"vectors-{args.vec_rows}x{args.vec_dim}.vec"
    log(f"[fasttext-files / .vec {args.vec_rows:,} x {args.vec_dim}]")
    made: dict[str, Any] = {"cached": path.is_file()}
    if not path.is_file():
        log(f"  writing {path.name}")
        cmd = worker_cmd(
            "make-vec", "--rows", str(args.vec_rows), "--dim", str(args.vec_dim),
            "--out", str(path),
        )  # fmt: skip
        proc = run_measured(cmd, args.timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"writing {path.name}: {proc.error()}")
        made.update(proc.json())
    mb = path.stat().st_size / 1e6
    runs = []
    for rep in range(args.vec_repeat):
        proc = run_measured(worker_cmd("read-vec", str(path)), args.timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"reading {path.name}: {proc.error()}")
        got = proc.json()
        if (got["rows"], got["dim"]) != (args.vec_rows, args.vec_dim):
            raise RuntimeError(f"reading {path.name} gave {got['rows']} x {got['dim']}")
        runs.append(
            {
                "read_s": got["read_s"],
                "process_s": proc.wall_s,
                "cpu_s": proc.cpu_s,
                "mb_per_s": mb / got["read_s"],
                "rss_mb": proc.maxrss_mb,
                "other_cores": proc.other_cores,
            }
        )
        log(
            f"  run {rep + 1}: {got['read_s']:.2f} s ({mb / got['read_s']:.0f} MB/s), "
            f"RSS {proc.maxrss_mb:.0f} MB"
        )
    return {
        "file": path.name,
        "rows": args.vec_rows,
        "dim": args.vec_dim,
        "file_mb": mb,
        "made": made,
        "median": {key: _median(r[key] for r in runs) for key in runs[0]},
        "runs": runs,
    }


def report(models: list[dict[str, Any]], vec: dict[str, Any] | None, repeat: int) -> str:
    lines = [
        "## fastText's files: ftl against the fastText binding",
        "",
        f"Medians of {repeat} run(s), each a fresh process. *load*: loading the model and "
        "predicting an empty file (call: the load call alone); *after load*: lines / (predict "
        "process s - load process s); *lines/CPU s*: the same with the processes' CPU seconds "
        "(less disturbed by a busy machine); *loop*: the prediction loop alone; *same top-1*: "
        "share of lines with the binding's label.",
    ]
    for res in models:
        lines += ["", f"### {res['model']}"]
        if res.get("status") == "failed":
            lines.append(f"failed: {cell(res['note'])}")
            continue
        quant = f", quantized: {res['quantize']}" if res["quantize"] else ""
        lines += [
            "",
            f"`{res['file']}`, {res['made']['mb']:.1f} MB, binding's settings {res['settings']}"
            f"{quant}; {res['predict_lines']:,} lines predicted",
            "",
            "| reader | load s (process) | load CPU s | load s (call) | load peak RSS MB "
            "| predict lines/s (process) | predict lines/s (after load) | lines/CPU s (after "
            "load) | predict lines/s (loop) | predict peak RSS MB | same top-1 | note |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for row in res["readers"]:
            m = row["median"]
            lines.append(
                f"| {READER_LABELS[row['reader']]} | {fmt(m.get('load_process_s'), '.2f')} "
                f"| {fmt(m.get('load_cpu_s'), '.2f')} "
                f"| {fmt(m.get('load_call_s'), '.3f')} | {fmt(m.get('load_rss_mb'), '.0f')} "
                f"| {fmt(m.get('lines_per_s_process'), ',.0f')} "
                f"| {fmt(m.get('lines_per_s_after_load'), ',.0f')} "
                f"| {fmt(m.get('lines_per_cpu_s_after_load'), ',.0f')} "
                f"| {fmt(m.get('lines_per_s_loop'), ',.0f')} "
                f"| {fmt(m.get('predict_rss_mb'), '.0f')} "
                f"| {fmt(row['same_top1_as_binding'], '.4f')} | {cell(row['note'])} |"
            )
        for reader, r in res["ratios_ftl_over_fasttext"].items():
            lines.append(
                f"| **{READER_LABELS[reader]} / fastText** | {fmt(r['load_process_s'], '.2f')}× "
                f"| {fmt(r['load_cpu_s'], '.2f')}× "
                f"| | {fmt(r['load_rss_mb'], '.2f')}× | {fmt(r['lines_per_s_process'], '.2f')}× "
                f"| {fmt(r['lines_per_s_after_load'], '.2f')}× "
                f"| {fmt(r['lines_per_cpu_s_after_load'], '.2f')}× "
                f"| {fmt(r['lines_per_s_loop'], '.2f')}× | {fmt(r['predict_rss_mb'], '.2f')}× "
                "| | |"
            )
    if vec is not None:
        m = vec["median"]
        lines += [
            "",
            f"### `.vec` reading ({vec['rows']:,} x {vec['dim']}, {vec['file_mb']:,.0f} MB)",
            "",
            "`fasttext_lite.formats.vec.read` (what `--pretrained-vectors` reads with), "
            "file in the page cache:",
            "",
            "| read s | MB/s | vectors/s | process s | process CPU s | peak RSS MB |",
            "|--:|--:|--:|--:|--:|--:|",
            f"| {m['read_s']:.2f} | {m['mb_per_s']:,.0f} | {vec['rows'] / m['read_s']:,.0f} "
            f"| {m['process_s']:.2f} | {m['cpu_s']:.2f} | {m['rss_mb']:,.0f} |",
        ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cooking-dir", type=Path, default=Path("/work/shared/datasets/cooking"))
    ap.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work.tmp")
    ap.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    ap.add_argument("--repeat", type=int, default=3, help="runs per reader and model (median)")
    ap.add_argument("--predict-lines", type=int, default=100_000, help="min. lines to predict")
    ap.add_argument(
        "--models", default=",".join(MODELS), help=f"comma-separated subset of {','.join(MODELS)}"
    )
    ap.add_argument("--vec-rows", type=int, default=1_000_000)
    ap.add_argument("--vec-dim", type=int, default=300)
    ap.add_argument(
        "--vec-repeat",
        type=int,
        default=1,
        help="reads of the .vec (about 2 min each at full size)",
    )
    ap.add_argument("--no-vec", action="store_true", help="skip the .vec reading")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 1 run, 10,000 lines predicted, a 20,000 x 300 .vec",
    )
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per process")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat, args.predict_lines, args.vec_rows = 1, 10_000, 20_000
    args.models = [name for name in args.models.split(",") if name]  # "": the .vec alone
    unknown = set(args.models) - set(MODELS)
    if unknown:
        ap.error(f"unknown model(s) {sorted(unknown)}; choose from {','.join(MODELS)}")
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:
        return worker_main(argv[1:])
    args = parse_args(argv)
    if not (args.cooking_dir / "cooking.train").is_file():
        log(f"fasttext-files: skipped, no cooking.train in {args.cooking_dir} (--cooking-dir)")
        return 1
    work = args.work_dir / "fasttext-files"
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"{stamp}-fasttext-files.json"
    record: dict[str, Any] = {
        "timestamp": stamp,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "environment": environment_info(),
        "models": [],
        "vec": None,
    }

    def save() -> None:  # after each model: an interrupted run keeps what it measured
        record["elapsed_s"] = time.perf_counter() - started
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        tmp.replace(out)

    for name in args.models:
        record["models"].append(run_model(args, work, name))
        save()
    if not args.no_vec:
        try:
            record["vec"] = run_vec(args, work)
        except (RuntimeError, ValueError) as error:
            log(f"  .vec: FAILED {error}")
        save()
    print(report(record["models"], record["vec"], args.repeat))
    log(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
