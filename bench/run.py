"""Benchmark ftl against fastText (1 and 2 threads) and a scikit-learn baseline.

Every training, evaluation and prediction runs in its own subprocess; its wall time and its
peak RSS (``ru_maxrss`` from ``os.wait4``) are those of that process alone. Results are printed
as Markdown tables on stdout and written as JSON to ``bench/results/<timestamp>.json``.

Run it through ``bench/run.sh`` (``make bench``), which sets up ``.bench-venv``; see
``bench/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PYTHON = sys.executable
GENERATE = BENCH_DIR / "generate.py"
FASTTEXT_REF = BENCH_DIR / "fasttext_ref.py"
SKLEARN_REF = BENCH_DIR / "sklearn_ref.py"
LABEL_PREFIX = "__label__"
# Set on some machines for old OpenBLAS builds; they slow a current numpy (bench/README.md).
UNSET_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
EVAL_KS = (1, 5)
# Seconds between samples of a process tree's memory. Reading smaps walks the process's page
# tables under its memory-map lock and slows it: ftl --thread 2 on 10^6 lines trained 11 %
# slower sampled every 0.05 s, 3 % every 1 s (where its memory peaks last for seconds).
PSS_INTERVAL = 1.0

Flags = tuple[tuple[str, str], ...]  # ftl-style (option, value) pairs

COOKING_SETTINGS: dict[str, Flags] = {
    "a": (("--lr", "1.0"), ("--epoch", "25")),
    "b": (("--lr", "1.0"), ("--epoch", "25"), ("--word-ngrams", "2")),
    "c": (
        ("--loss", "ova"),
        ("--lr", "0.5"),
        ("--epoch", "25"),
        ("--word-ngrams", "2"),
        ("--bucket", "200000"),
        ("--dim", "50"),
    ),
    # Issue 17's hs and ns rows, at fastText's own settings for them.
    "d": (
        ("--loss", "hs"),
        ("--dim", "50"),
        ("--bucket", "200000"),
        ("--lr", "1.0"),
        ("--epoch", "25"),
        ("--word-ngrams", "2"),
    ),
    "e": (
        ("--loss", "ns"),
        ("--dim", "50"),
        ("--bucket", "200000"),
        ("--lr", "1.0"),
        ("--epoch", "25"),
        ("--word-ngrams", "2"),
    ),
}
SCALE_SETTINGS: dict[str, Flags] = {
    "s": (("--lr", "0.5"), ("--epoch", "5"), ("--dim", "50")),
}
# hs where it is the point: corpora with at least this many labels also run setting h, beside
# softmax's s in the same run (summary: ftl hs / ftl softmax).
HS_MIN_LABELS = 10_000
SCALE_HS_SETTINGS: dict[str, Flags] = {"h": (*SCALE_SETTINGS["s"], ("--loss", "hs"))}
# Issue 20's long lines with few labels: its settings, and fastText's defaults.
LONG_SETTINGS: dict[str, Flags] = {
    "l": (("--lr", "0.5"), ("--epoch", "25"), ("--word-ngrams", "2")),
    "f": (),
}
# (lines, labels, in --quick, mean words a line or None for generate.py's default)
SCALE_CORPORA: tuple[tuple[int, int, bool, int | None], ...] = (
    (10_000, 10, True, None),
    (100_000, 10, True, None),
    (1_000_000, 10, False, None),
    (100_000, 1_000, False, None),
    (100_000, 10_000, False, None),
    (100_000, 50, False, 60),
)
SCALE_VALID_LINES = 10_000


# --------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Dataset:
    suite: str
    name: str
    train: Path
    valid: Path
    train_lines: int
    valid_lines: int
    labels: int
    multi_label: bool
    settings: dict[str, Flags]


def scan(path: Path) -> tuple[int, set[str], bool]:
    """Lines, distinct labels and whether any line has several labels."""
    n = 0
    labels: set[str] = set()
    multi = False
    with path.open(encoding="utf-8") as f:
        for line in f:
            n += 1
            own = [t for t in line.split() if t.startswith(LABEL_PREFIX)]
            labels.update(own)
            multi = multi or len(own) > 1
    return n, labels, multi


def make_dataset(
    suite: str, name: str, train: Path, valid: Path, settings: dict[str, Flags]
) -> Dataset:
    n_train, labels, multi = scan(train)
    n_valid, _, multi_valid = scan(valid)
    return Dataset(
        suite, name, train, valid, n_train, n_valid, len(labels), multi or multi_valid, settings
    )


def cooking_dataset(directory: Path) -> Dataset | None:
    train, valid = directory / "cooking.train", directory / "cooking.valid"
    if not (train.is_file() and valid.is_file()):
        log(f"cooking: skipped, {train} or {valid} is missing (see --cooking-dir)")
        return None
    return make_dataset("cooking", "cooking", train, valid, COOKING_SETTINGS)


def scale_datasets(
    work: Path, quick: bool, seed: int, multi_fraction: float, only: str | None = None
) -> list[Dataset]:
    """The generated corpora (`only`: a comma-separated subset of names like syn-1e6-10lab)."""
    out = []
    wanted = None if only is None else {name.strip() for name in only.split(",")}
    for lines, labels, in_quick, words in SCALE_CORPORA:
        name = f"syn-{lines:.0e}-{labels}lab".replace("+0", "").replace("+", "")
        name += f"-{words}w" if words else ""
        if (quick and not in_quick) or (wanted is not None and name not in wanted):
            continue
        prefix = work / "data" / f"{name}-seed{seed}-multi{multi_fraction:g}"
        train = prefix.with_name(prefix.name + ".train")
        valid = prefix.with_name(prefix.name + ".valid")
        if not (train.is_file() and valid.is_file()):
            # In a subprocess: the harness must stay small (see run_measured).
            cmd = [
                PYTHON, str(GENERATE), "--out", str(prefix), "--lines", str(lines),
                "--valid-lines", str(SCALE_VALID_LINES), "--labels", str(labels),
                "--seed", str(seed), "--multi-label-fraction", str(multi_fraction),
                *(["--words-per-line", str(words)] if words else []),
            ]  # fmt: skip
            subprocess.run(cmd, check=True, env=child_env())
        settings = SCALE_SETTINGS | (SCALE_HS_SETTINGS if labels >= HS_MIN_LABELS else {})
        settings = LONG_SETTINGS if words else settings
        out.append(make_dataset("scale", name, train, valid, settings))
    return out


def predict_file(data: Dataset, work: Path, min_lines: int) -> tuple[Path, int]:
    """The valid texts without labels, repeated to at least ``min_lines`` lines."""
    repeats = max(1, -(-min_lines // data.valid_lines))
    size = data.valid.stat().st_size
    path = work / "data" / f"{data.valid.name}-{size}-x{repeats}.predict.txt"
    if not path.is_file():
        with data.valid.open(encoding="utf-8") as f:
            texts = [
                " ".join(t for t in line.split() if not t.startswith(LABEL_PREFIX)) + "\n"
                for line in f
            ]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for _ in range(repeats):
                f.writelines(texts)
        tmp.replace(path)
    return path, repeats * data.valid_lines


# --------------------------------------------------------------------------------------------
# Processes


@dataclass
class Proc:
    cmd: list[str]
    returncode: int
    wall_s: float
    maxrss_mb: float
    cpu_s: float
    other_cores: float | None
    stdout: str
    stderr: str
    tree_pss_mb: float | None = None

    def json(self) -> dict[str, Any]:
        """The last line of stdout that parses as a JSON object."""
        for line in reversed(self.stdout.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, dict):
                    return value
        raise ValueError(f"no JSON object in the output of {shlex.join(self.cmd)}")

    def error(self) -> str:
        tail = (self.stderr.strip() or self.stdout.strip()).splitlines()[-3:]
        return f"exit {self.returncode}: " + " | ".join(tail)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in UNSET_ENV:
        env.pop(name, None)
    return env


def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (from /proc/stat)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_idle(max_wait: float, threshold: float) -> float | None:
    """Wait (up to ``max_wait`` s) until other processes use under ``threshold`` cores.

    Returns the last load sampled (cores busy over one second), None without /proc/stat.
    """
    start = time.monotonic()
    while True:
        b0 = busy_cpu_seconds()
        time.sleep(1.0)
        b1 = busy_cpu_seconds()
        if b0 is None or b1 is None:
            return None
        load = b1 - b0
        waited = time.monotonic() - start
        if load < threshold or waited >= max_wait:
            if waited > 1.5:
                log(f"  waited {waited:.0f} s for other processes ({load:.2f} cores busy now)")
            return load


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (those still running)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        with contextlib.suppress(OSError, ValueError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return tree


def tree_pss_kb(pid: int) -> int | None:
    """The summed PSS of `pid` and its descendants (Linux), or None for a single process
    (whose peak RSS is exact) or when nothing could be read."""
    tree = process_tree(pid)
    if len(tree) < 2:
        return None
    total = 0
    for current in tree:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
    return total or None


class PssSampler(threading.Thread):
    """Samples the summed PSS of a process tree every PSS_INTERVAL seconds while it has more
    than one process; keeps the peak.

    ``ru_maxrss`` is the largest single process of a tree: for workers forked to share memory
    it counts the shared pages once per process in none, and never sums them. PSS shares
    each page among the processes mapping it, so its sum over the tree is the tree's memory.
    Sampled, it can miss a peak shorter than the interval.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(PSS_INTERVAL):
            kb = tree_pss_kb(self.pid)
            if kb is not None:
                self.peak_kb = max(self.peak_kb, kb)


def run_measured(cmd: Sequence[str], timeout: float, discard_stdout: bool = False) -> Proc:
    """Run ``cmd``; return its wall time and the peak RSS of that process (and its children).

    Linux carries a process's peak RSS across fork and exec, so a child's ``ru_maxrss`` is at
    least the harness's own peak: this process therefore never loads numpy or big data.
    ``other_cores`` is the mean number of cores that other processes kept busy meanwhile.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sink = subprocess.DEVNULL if discard_stdout else out
        busy0 = busy_cpu_seconds()
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=sink, stderr=err, env=child_env(), cwd=REPO_DIR)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        sampler = PssSampler(proc.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            sampler.done.set()
            sampler.join()
        wall = time.perf_counter() - t0
        busy1 = busy_cpu_seconds()
        own = usage.ru_utime + usage.ru_stime
        other = None if busy0 is None or busy1 is None else max(0.0, busy1 - busy0 - own) / wall
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Proc(
            list(cmd),
            proc.returncode,
            wall,
            usage.ru_maxrss / 1024.0,  # KiB on Linux
            own,
            other,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            sampler.peak_kb / 1024.0 if sampler.peak_kb else None,
        )


def path_size_mb(path: Path) -> float:
    """Size of the model: a file, a directory, or files named PATH.* if PATH is absent."""
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
    else:
        files = [p for p in path.parent.glob(path.name + ".*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def remove_model(path: Path) -> None:
    targets = [path] if path.exists() else list(path.parent.glob(path.name + ".*"))
    for p in targets:
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()


# --------------------------------------------------------------------------------------------
# Tools


@dataclass(frozen=True)
class Tool:
    key: str  # "ftl-t1", "fasttext-t2", "fasttext-shuffled-t1", "sklearn", ...
    label: str
    kind: str  # "ftl" | "fasttext" | "sklearn"
    threads: int | None  # None: the tool's own default (an ftl without --thread)
    shuffled: bool = False  # fastText on a copy of the corpus in a random order (per seed)
    one_core: bool = False  # fastText with all its threads pinned to one CPU


def show_threads(tool: Tool) -> str:
    return "default" if tool.threads is None else str(tool.threads)


@dataclass
class Context:
    args: argparse.Namespace
    work: Path
    ftl_cmd: list[str]
    ftl_problem: str | None
    ftl_options: frozenset[str] = frozenset()  # options listed by `ftl train --help`


def flag_value(flags: Flags, name: str, default: str) -> str:
    return dict(flags).get(name, default)


def sklearn_features(labels: int, budget_mb: float) -> int:
    """2**20 hash slots, halved until the dense coef_ (labels x slots float64) fits the budget."""
    n = 2**20
    while n > 2**10 and labels * n * 8 > budget_mb * 2**20:
        n //= 2
    return n


def train_cmd(
    tool: Tool, ctx: Context, data: Dataset, flags: Flags, model: Path, seed: int
) -> list[str]:
    common = [x for pair in flags for x in pair] + ["--seed", str(seed)]
    if tool.threads is not None:
        # fastText's own option is -thread; the reference scripts spell it --threads.
        common += ["--thread" if tool.kind == "ftl" else "--threads", str(tool.threads)]
    if tool.kind == "ftl":
        missing = [name for name, _ in flags if name not in ctx.ftl_options]
        if missing:
            raise RuntimeError(f"ftl train has no option(s) {', '.join(missing)}")
        extra = shlex.split(ctx.args.ftl_extra or "")
        quiet = ["--quiet"] if "--quiet" in ctx.ftl_options else []
        return [*ctx.ftl_cmd, "train", str(data.train), "-o", str(model), *common, *extra, *quiet]
    if tool.kind == "fasttext":
        variant = ["--shuffle-lines"] if tool.shuffled else []
        variant += ["--one-core"] if tool.one_core else []
        cmd = [PYTHON, str(FASTTEXT_REF), "train", str(data.train), "-o", str(model)]
        return [*cmd, *common, *variant]
    n_features = sklearn_features(data.labels, ctx.args.sklearn_max_coef_mb)
    return [
        PYTHON, str(SKLEARN_REF), "train", str(data.train), "-o", str(model), *common,
        "--n-features", str(n_features), "--alpha", str(ctx.args.sklearn_alpha),
        "--sk-loss", ctx.args.sklearn_loss,
    ]  # fmt: skip


def eval_runs(tool: Tool, ctx: Context, data: Dataset, model: Path) -> dict[int, dict[str, float]]:
    """Precision/recall at k on the valid file, keyed by k."""
    timeout = ctx.args.timeout
    if tool.kind == "ftl":
        out: dict[int, dict[str, float]] = {}
        for k in EVAL_KS:
            cmd = [*ctx.ftl_cmd, "eval", str(data.valid), "-m", str(model), "-k", str(k), "--json"]
            proc = run_measured(cmd, timeout)
            if proc.returncode != 0:
                raise RuntimeError(f"ftl eval: {proc.error()}")
            res = proc.json()
            out[k] = {"n": res["n"], "precision": res["precision"], "recall": res["recall"]}
        return out
    script = FASTTEXT_REF if tool.kind == "fasttext" else SKLEARN_REF
    ks = EVAL_KS if tool.kind == "fasttext" else (1,)
    cmd = [PYTHON, str(script), "eval", str(data.valid), "-m", str(model)]
    cmd += [x for k in ks for x in ("-k", str(k))]
    proc = run_measured(cmd, timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool.label} eval: {proc.error()}")
    return {
        int(r["k"]): {"n": r["n"], "precision": r["precision"], "recall": r["recall"]}
        for r in proc.json()["results"]
    }


def predict_cmd(tool: Tool, ctx: Context, path: Path, model: Path) -> list[str]:
    if tool.kind == "ftl":
        return [*ctx.ftl_cmd, "predict", str(path), "-m", str(model), "-k", "1"]
    script = FASTTEXT_REF if tool.kind == "fasttext" else SKLEARN_REF
    return [PYTHON, str(script), "predict", str(path), "-m", str(model), "-k", "1"]


# --------------------------------------------------------------------------------------------
# Runs and results


@dataclass
class RunRecord:
    seed: int
    train_s: float
    train_rss_mb: float
    model_mb: float
    train_cpu_s: float
    other_cores: float | None = None
    train_pss_mb: float | None = None
    train_inproc_s: float | None = None
    metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    predict_s: float | None = None
    predict_rss_mb: float | None = None
    predict_lines_per_s: float | None = None
    predict_loop_lines_per_s: float | None = None


@dataclass
class ToolResult:
    tool: Tool
    status: str = "ok"  # ok | not available | skipped | failed
    note: str = ""
    runs: list[RunRecord] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)

    def median(self) -> dict[str, float | None]:
        def med(values: Iterable[float | None]) -> float | None:
            present = [v for v in values if v is not None]
            return statistics.median(present) if present else None

        out: dict[str, float | None] = {
            "train_s": med(r.train_s for r in self.runs),
            "train_rss_mb": med(r.train_rss_mb for r in self.runs),
            "train_pss_mb": med(r.train_pss_mb for r in self.runs),
            "model_mb": med(r.model_mb for r in self.runs),
            "predict_lines_per_s": med(r.predict_lines_per_s for r in self.runs),
            "predict_loop_lines_per_s": med(r.predict_loop_lines_per_s for r in self.runs),
            "predict_rss_mb": med(r.predict_rss_mb for r in self.runs),
            "train_cpu_s": med(r.train_cpu_s for r in self.runs),
            "other_cores": med(r.other_cores for r in self.runs),
        }
        for k in EVAL_KS:
            out[f"p@{k}"] = med(r.metrics.get(k, {}).get("precision") for r in self.runs)
            out[f"r@{k}"] = med(r.metrics.get(k, {}).get("recall") for r in self.runs)
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool.key,
            "label": self.tool.label,
            "threads": self.tool.threads,
            "status": self.status,
            "note": self.note,
            "train_cmd_example": shlex.join(self.cmd) if self.cmd else None,
            "median": self.median(),
            "runs": [asdict(r) for r in self.runs],
        }


@dataclass
class Group:
    data: Dataset
    setting: str
    flags: Flags
    results: list[ToolResult]

    @property
    def flags_text(self) -> str:
        return " ".join(f"{k} {v}" for k, v in self.flags)


def one_run(
    tool: Tool, ctx: Context, data: Dataset, flags: Flags, seed: int, result: ToolResult
) -> None:
    """Train, evaluate and predict once; append a RunRecord or mark the result failed."""
    args = ctx.args
    model = ctx.work / "models" / f"{data.name}-{tool.key}-{os.getpid()}.model"
    model.parent.mkdir(parents=True, exist_ok=True)
    try:
        cmd = train_cmd(tool, ctx, data, flags, model, seed)
        result.cmd = cmd
        if args.wait_idle > 0:
            wait_idle(args.wait_idle, args.idle_threshold)
        proc = run_measured(cmd, args.timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"train: {proc.error()}")
        record = RunRecord(
            seed, proc.wall_s, proc.maxrss_mb, path_size_mb(model), proc.cpu_s, proc.other_cores
        )
        record.train_pss_mb = proc.tree_pss_mb
        if tool.kind != "ftl":
            record.train_inproc_s = float(proc.json()["train_s"])
        record.metrics = eval_runs(tool, ctx, data, model)
        pfile, plines = predict_file(data, ctx.work, args.predict_lines)
        pproc = run_measured(
            predict_cmd(tool, ctx, pfile, model), args.timeout, discard_stdout=tool.kind == "ftl"
        )
        if pproc.returncode != 0:
            raise RuntimeError(f"predict: {pproc.error()}")
        record.predict_s = pproc.wall_s
        record.predict_rss_mb = pproc.maxrss_mb
        record.predict_lines_per_s = plines / pproc.wall_s
        if tool.kind != "ftl":
            record.predict_loop_lines_per_s = plines / float(pproc.json()["predict_s"])
        result.runs.append(record)
        p1 = record.metrics.get(1, {}).get("precision", float("nan"))
        busy = "" if proc.other_cores is None else f", other load {proc.other_cores:.2f} cores"
        log(
            f"  {tool.label:<8} t{show_threads(tool)} seed {seed}: train {record.train_s:.2f} s"
            f" (cpu {record.train_cpu_s:.1f} s), RSS {record.train_rss_mb:.0f} MB,"
            f" PSS {fmt(record.train_pss_mb, '.0f')} MB, "
            f"model {record.model_mb:.1f} MB, P@1 {p1:.4f}, "
            f"predict {record.predict_lines_per_s:,.0f} lines/s{busy}"
        )
    except (RuntimeError, ValueError, KeyError, OSError) as exc:
        result.status, result.note = "failed", str(exc)[:500]
        log(f"  {tool.label} t{show_threads(tool)}: FAILED {result.note}")
    finally:
        if model.exists() or any(model.parent.glob(model.name + ".*")):
            if args.keep_models:
                log(f"  kept {model}")
            else:
                remove_model(model)


def run_group(
    ctx: Context,
    data: Dataset,
    setting: str,
    flags: Flags,
    tools: list[Tool],
    sklearn_cache: dict[tuple[str, str, str], tuple[str, ToolResult]],
) -> Group:
    args = ctx.args
    text = " ".join(f"{k} {v}" for k, v in flags)
    log(f"[{data.name} / {setting}] {text}")
    results: dict[str, ToolResult] = {}
    shared: dict[str, str] = {}
    for tool in tools:
        result = ToolResult(tool)
        results[tool.key] = result
        if tool.kind == "ftl" and ctx.ftl_problem:
            result.status, result.note = "not available", ctx.ftl_problem
        elif tool.kind == "sklearn":
            if data.labels > args.sklearn_max_labels:
                result.status = "skipped"
                result.note = (
                    f"{data.labels} labels > --sklearn-max-labels {args.sklearn_max_labels} "
                    "(one-vs-rest SGD: one binary model per label)"
                )
                continue
            key = (
                data.name,
                flag_value(flags, "--word-ngrams", "1"),
                flag_value(flags, "--epoch", "5"),
            )
            if key in sklearn_cache:
                first_setting, cached = sklearn_cache[key]
                results[tool.key] = cached
                shared[tool.key] = first_setting
            else:
                sklearn_cache[key] = (setting, result)
                nf = sklearn_features(data.labels, args.sklearn_max_coef_mb)
                result.note = f"n_features 2^{nf.bit_length() - 1}"
    for rep in range(args.repeat):
        seed = args.seed + rep
        for tool in tools:
            result = results[tool.key]
            if result.status != "ok" or tool.key in shared:
                continue
            one_run(tool, ctx, data, flags, seed, result)
    for tool_key, first_setting in shared.items():
        log(f"  sklearn: same runs as setting {first_setting} (same n-grams and epochs)")
        original = results[tool_key]
        results[tool_key] = ToolResult(
            original.tool, original.status, f"{original.note}; runs of setting {first_setting}",
            original.runs, original.cmd,
        )  # fmt: skip
    return Group(data, setting, flags, list(results.values()))


# --------------------------------------------------------------------------------------------
# Report


def fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def cell(text: str) -> str:
    """Text made safe for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def ratios(group: Group, threads: int) -> dict[str, float | None] | None:
    """ftl / fastText medians, both with `threads` threads, or None if either is missing.

    Memory is the larger of peak RSS (exact, but the largest process of a tree) and peak PSS
    summed over the tree (sampled): ftl's forked workers share their memory.
    """
    by_key = {r.tool.key: r for r in group.results}
    ftl, ft = by_key.get(f"ftl-t{threads}"), by_key.get(f"fasttext-t{threads}")
    if not ftl or not ft or not ftl.runs or not ft.runs:
        return None
    a, b = ftl.median(), ft.median()

    def div(name: str) -> float | None:
        x, y = a[name], b[name]
        return None if x is None or y is None or y == 0 else x / y

    def memory(m: dict[str, float | None]) -> float | None:
        present = [v for v in (m["train_rss_mb"], m["train_pss_mb"]) if v is not None]
        return max(present) if present else None

    p1a, p1b = a["p@1"], b["p@1"]
    mem_a, mem_b = memory(a), memory(b)
    # fastText's Hogwild can be slower with 2 threads than with 1: also compare to the faster.
    ft_times = [
        res.median()["train_s"]
        for key in ("fasttext-t1", "fasttext-t2")
        if (res := by_key.get(key)) is not None and res.runs
    ]
    fastest = min((t for t in ft_times if t is not None), default=None)
    ftl_s = a["train_s"]
    return {
        "train_s": div("train_s"),
        "train_s_vs_faster_fasttext": None if ftl_s is None or not fastest else ftl_s / fastest,
        "memory": None if mem_a is None or not mem_b else mem_a / mem_b,
        "model_mb": div("model_mb"),
        "predict_lines_per_s": div("predict_lines_per_s"),
        "p@1_diff": None if p1a is None or p1b is None else p1a - p1b,
    }


def group_table(group: Group) -> str:
    d = group.data
    lines = [
        f"### {d.name}: `{group.flags_text}`",
        "",
        f"train {d.train_lines:,} lines, valid {d.valid_lines:,} lines, {d.labels:,} labels"
        + (", multi-label" if d.multi_label else ""),
        "",
        "| tool | threads | train s | train CPU s | peak RSS MB | peak PSS MB | model MB | P@1 "
        "| R@1 | P@5 | R@5 | predict lines/s (process) | predict lines/s (loop) | other load "
        "| note |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for res in group.results:
        threads = show_threads(res.tool)
        if not res.runs:
            note = f"{res.status}: {res.note}" if res.note else res.status
            lines.append(f"| {res.tool.label} | {threads} |" + " — |" * 12 + f" {cell(note)} |")
            continue
        m = res.median()
        note = res.note if res.status == "ok" else f"{res.status}: {res.note}"
        lines.append(
            f"| {res.tool.label} | {threads} | {fmt(m['train_s'], '.2f')} "
            f"| {fmt(m['train_cpu_s'], '.1f')} "
            f"| {fmt(m['train_rss_mb'], '.0f')} | {fmt(m['train_pss_mb'], '.0f')} "
            f"| {fmt(m['model_mb'], '.1f')} | {fmt(m['p@1'], '.3f')} | {fmt(m['r@1'], '.3f')} "
            f"| {fmt(m['p@5'], '.3f')} "
            f"| {fmt(m['r@5'], '.3f')} | {fmt(m['predict_lines_per_s'], ',.0f')} "
            f"| {fmt(m['predict_loop_lines_per_s'], ',.0f')} | {fmt(m['other_cores'], '.2f')} "
            f"| {cell(note)} |"
        )
    for n in (1, 2):
        r = ratios(group, n)
        if r is not None:
            lines.append(
                f"| **ftl / fastText ({n})** | | {fmt(r['train_s'], '.2f')}× | "
                f"| {fmt(r['memory'], '.2f')}× (memory) | | {fmt(r['model_mb'], '.2f')}× "
                f"| {fmt(r['p@1_diff'], '+.3f')} | | | | {fmt(r['predict_lines_per_s'], '.2f')}× "
                "| | | P@1 column: difference |"
            )
    return "\n".join(lines)


def summary_table(groups: list[Group]) -> str:
    lines = [
        "### ftl / fastText with the same threads, medians",
        "",
        "| data | settings | threads | train time | train time vs faster fastText | memory "
        "| model size | predict lines/s | ΔP@1 |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for g in groups:
        for threads in (1, 2):
            r = ratios(g, threads)
            if r is None:
                continue
            lines.append(
                f"| {g.data.name} | `{g.flags_text}` | {threads} | {fmt(r['train_s'], '.2f')}× "
                f"| {fmt(r['train_s_vs_faster_fasttext'], '.2f')}× "
                f"| {fmt(r['memory'], '.2f')}× | {fmt(r['model_mb'], '.2f')}× "
                f"| {fmt(r['predict_lines_per_s'], '.2f')}× | {fmt(r['p@1_diff'], '+.3f')} |"
            )
    return "\n".join(lines)


def hs_over_softmax(groups: list[Group]) -> list[dict[str, Any]]:
    """Each tool's hs medians over its softmax medians on the same data, for every hs group
    whose flags without `--loss hs` are another group's (scale h and s): train time (below 1:
    hs is faster), predict lines/s (above 1: hs is faster) and P@1 (hs - softmax)."""
    out = []
    for hs in groups:
        if ("--loss", "hs") not in hs.flags:
            continue
        plain = tuple(pair for pair in hs.flags if pair != ("--loss", "hs"))
        for soft in groups:
            if soft.data.name != hs.data.name or soft.flags != plain:
                continue
            softs = {r.tool.key: r for r in soft.results if r.runs}
            for res in hs.results:
                other = softs.get(res.tool.key)
                if not res.runs or other is None:
                    continue
                a, b = res.median(), other.median()

                def div(name: str, a: dict[str, Any] = a, b: dict[str, Any] = b) -> float | None:
                    return None if a[name] is None or not b[name] else a[name] / b[name]

                p1a, p1b = a["p@1"], b["p@1"]
                out.append(
                    {
                        "data": hs.data.name,
                        "hs_setting": hs.setting,
                        "softmax_setting": soft.setting,
                        "tool": res.tool.key,
                        "train_s": div("train_s"),
                        "predict_lines_per_s": div("predict_lines_per_s"),
                        "p@1_diff": None if p1a is None or p1b is None else p1a - p1b,
                    }
                )
    return out


def hs_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "### hs / softmax, same tool, same data, medians",
        "",
        "| data | tool | train time | predict lines/s | ΔP@1 |",
        "|---|---|--:|--:|--:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['tool']} | {fmt(r['train_s'], '.2f')}× "
            f"| {fmt(r['predict_lines_per_s'], '.2f')}× | {fmt(r['p@1_diff'], '+.3f')} |"
        )
    return "\n".join(lines)


def header(env_info: dict[str, Any], args: argparse.Namespace) -> str:
    versions = env_info["versions"]
    blas = ", ".join(
        f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')}, "
        f"{b.get('num_threads')} threads)"
        for b in env_info["blas"]
        if b.get("user_api") == "blas"
    )
    return "\n".join(
        [
            "## fasttext_lite benchmark",
            "",
            f"- machine: {env_info['cpu']}, {env_info['cores']} cores; "
            f"Python {platform.python_version()}; numpy BLAS: {blas or 'unknown'}",
            f"- fastText: Python binding {versions.get('fasttext')} (the pip wheel ships no CLI "
            "binary: train, eval and predict run through bench/fasttext_ref.py)",
            f"- {versions.get('scikit-learn')}: HashingVectorizer + "
            f"SGDClassifier(loss={args.sklearn_loss}, alpha={args.sklearn_alpha:g}, "
            "max_iter=epoch, n_jobs=threads), first label only, top-1 only",
            f"- ftl: {versions.get('fasttext_lite') or 'not installed'}",
            f"- medians of {args.repeat} run(s); times are whole-process wall seconds "
            "(interpreter start, imports, reading, training, saving); peak RSS is the "
            "process's ru_maxrss (at least the harness's own peak, "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB); "
            "predict lines/s (process) counts model loading, (loop) does not",
            "- other load: mean number of cores that other processes kept busy during training "
            "(from /proc/stat); well above 0 means the times are not trustworthy",
        ]
    )


# --------------------------------------------------------------------------------------------
# Environment


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def check_ftl(cmd: list[str]) -> tuple[str | None, frozenset[str]]:
    """(None, options of ``ftl train``) if ``ftl train --help`` runs, else (why not, {})."""
    if not cmd:
        return "no ftl command found (is ftl installed in .bench-venv?)", frozenset()
    help_cmd = [*cmd, "train", "--help"]
    try:
        proc = subprocess.run(help_cmd, capture_output=True, text=True, env=child_env(), timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`{shlex.join(help_cmd)}` failed: {exc}", frozenset()
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:]
        return f"`{shlex.join(help_cmd)}` exited {proc.returncode}: {' '.join(tail)}", frozenset()
    return None, frozenset(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", proc.stdout))


def package_version(*names: str) -> str | None:
    for name in names:
        try:
            return f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            continue
    return None


def environment_info() -> dict[str, Any]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    probe = subprocess.run(
        [PYTHON, "-c", "import json, numpy, threadpoolctl; "
         "print(json.dumps(threadpoolctl.threadpool_info()))"],
        capture_output=True, text=True, env=child_env(),
    )  # fmt: skip
    blas: list[dict[str, Any]] = json.loads(probe.stdout) if probe.returncode == 0 else []
    git = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO_DIR)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "blas": blas,
        "unset_env": {name: os.environ.get(name) for name in UNSET_ENV},
        "git_commit": git.stdout.strip() if git.returncode == 0 else None,
        "versions": {
            "fasttext": package_version("fasttext-numpy2-wheel", "fasttext-wheel", "fasttext"),
            "scikit-learn": package_version("scikit-learn"),
            "numpy": package_version("numpy"),
            "fasttext_lite": package_version("fasttext_lite", "fasttext-lite"),
        },
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--suite",
        action="append",
        choices=["cooking", "scale", "scale-out", "fasttext-files", "accuracy"],
        help="suite to run (repeatable; default: cooking)",
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool and setting (median)")
    ap.add_argument(
        "--quick", action="store_true", help="one run, small scale corpora only (smoke test)"
    )
    ap.add_argument(
        "--cooking-dir", type=Path, default=Path("/work/shared/datasets/cooking"),
        help="directory holding cooking.train and cooking.valid",
    )  # fmt: skip
    ap.add_argument(
        "--settings",
        help="comma-separated settings to run: cooking a-e, scale s and h (hs, on corpora of"
        " 10,000 labels); a data set none of whose settings is named runs all of its own",
    )
    ap.add_argument(
        "--tools",
        default="ftl-t1,ftl-t2,fasttext-t1,fasttext-t2,sklearn",
        help="comma-separated subset of ftl-t1,ftl-t2,fasttext-t1,fasttext-t2,sklearn,"
        "fasttext-shuffled-t1,fasttext-shuffled-t2,fasttext-one-core-t2 (fastText on a copy"
        " of the corpus in a random order drawn from the run's seed; fastText with its 2"
        " threads on one CPU)",
    )
    ap.add_argument("--ftl-cmd", help="command running ftl (default: ftl beside this python)")
    ap.add_argument("--ftl-extra", help='extra ftl train options, e.g. "--batch-size 64"')
    ap.add_argument(
        "--files-extra",
        help='extra options of the fasttext-files suite, e.g. "--models cooking --no-vec"'
        " (see bench/fasttext_files.py --help)",
    )
    ap.add_argument("--accuracy-args", default="", help="options of bench/accuracy.py (--help)")
    ap.add_argument("--seed", type=int, default=0, help="run i uses seed SEED+i")
    ap.add_argument("--data-seed", type=int, default=1, help="seed of the generated corpora")
    ap.add_argument("--scale-multi-label-fraction", type=float, default=0.0)
    ap.add_argument(
        "--corpora",
        help="comma-separated scale corpora to run, e.g. syn-1e6-10lab (default all)",
    )
    ap.add_argument("--predict-lines", type=int, default=100_000, help="min. lines to predict")
    ap.add_argument("--sklearn-loss", choices=["hinge", "log_loss"], default="hinge")
    ap.add_argument("--sklearn-alpha", type=float, default=1e-4)
    ap.add_argument("--sklearn-max-labels", type=int, default=1000)
    ap.add_argument(
        "--sklearn-max-coef-mb", type=float, default=8192,
        help="halve n_features (from 2^20) until labels x n_features x 8 B fits",
    )  # fmt: skip
    ap.add_argument("--timeout", type=float, default=7200, help="seconds per process")
    ap.add_argument(
        "--wait-idle", type=float, default=0.0, metavar="SECONDS",
        help="before each training, wait up to SECONDS for other processes to go quiet",
    )  # fmt: skip
    ap.add_argument(
        "--idle-threshold", type=float, default=0.3, metavar="CORES",
        help="quiet means fewer than CORES cores busy over one second (with --wait-idle)",
    )  # fmt: skip
    ap.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work.tmp")
    ap.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    ap.add_argument("--keep-models", action="store_true")
    args = ap.parse_args(argv)
    args.suite = args.suite or ["cooking"]
    if args.quick:
        args.repeat = 1
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    return args


def select_tools(args: argparse.Namespace) -> list[Tool]:
    catalog = {
        "ftl-t1": Tool("ftl-t1", "ftl", "ftl", 1),
        "ftl-t2": Tool("ftl-t2", "ftl", "ftl", 2),
        "fasttext-t1": Tool("fasttext-t1", "fastText", "fasttext", 1),
        "fasttext-t2": Tool("fasttext-t2", "fastText", "fasttext", 2),
        "fasttext-shuffled-t1": Tool(
            "fasttext-shuffled-t1", "fastText shuffled", "fasttext", 1, True
        ),
        "fasttext-shuffled-t2": Tool(
            "fasttext-shuffled-t2", "fastText shuffled", "fasttext", 2, True
        ),
        "fasttext-one-core-t2": Tool(
            "fasttext-one-core-t2", "fastText on one core", "fasttext", 2, one_core=True
        ),
        "sklearn": Tool("sklearn", "sklearn", "sklearn", 2),
    }
    keys = [k.strip() for k in args.tools.split(",") if k.strip()]
    unknown = [k for k in keys if k not in catalog]
    if unknown:
        raise SystemExit(f"unknown tool(s) {unknown}; choose from {sorted(catalog)}")
    return [catalog[k] for k in keys]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tools = select_tools(args)
    work: Path = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    if args.ftl_cmd:
        ftl_cmd = shlex.split(args.ftl_cmd)
    else:
        candidate = Path(PYTHON).parent / "ftl"
        ftl_cmd = [str(candidate)] if candidate.exists() else []
    ftl_problem, ftl_options = None, frozenset[str]()
    if any(t.kind == "ftl" for t in tools):
        ftl_problem, ftl_options = check_ftl(ftl_cmd)
        if ftl_problem:
            log(f"ftl: not available ({ftl_problem})")
        elif "--thread" not in ftl_options:
            log("ftl: `ftl train` has no --thread option; running it with its defaults")
            tools = [replace(t, threads=None) if t.kind == "ftl" else t for t in tools]
    ctx = Context(args, work, ftl_cmd, ftl_problem, ftl_options)

    for suite, script in (("scale-out", "scale_out.py"), ("accuracy", "accuracy.py")):
        if suite in args.suite:  # its own script (processes, memory, Dask, HTTP; accuracy)
            extra = shlex.split(args.accuracy_args) if suite == "accuracy" else []
            subprocess.run(
                [PYTHON, str(BENCH_DIR / script), "--cooking-dir", str(args.cooking_dir)]
                + ["--results-dir", str(args.results_dir), *extra],
                check=False,
            )
    args.suite = [suite for suite in args.suite if suite not in ("scale-out", "accuracy")]
    if not args.suite:
        return 0
    if "fasttext-files" in args.suite:  # its own script: fastText's .bin / .ftz / .vec files
        quick = ["--quick"] if args.quick else ["--repeat", str(args.repeat)]
        subprocess.run(
            [PYTHON, str(BENCH_DIR / "fasttext_files.py"), *quick]
            + ["--cooking-dir", str(args.cooking_dir), "--work-dir", str(work)]
            + ["--results-dir", str(args.results_dir), "--timeout", str(args.timeout)]
            + (["--predict-lines", str(args.predict_lines)] if not args.quick else [])
            + shlex.split(args.files_extra or ""),
            check=False,
        )
        args.suite = [suite for suite in args.suite if suite != "fasttext-files"]
        if not args.suite:
            return 0

    env_info = environment_info()
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out_path = args.results_dir / f"{stamp}.json"
    serial = 1
    while True:  # reserve the name: two runs may start within the same second
        try:
            out_path.open("x").close()
            break
        except FileExistsError:
            out_path = args.results_dir / f"{stamp}-{serial}.json"
            serial += 1

    datasets: list[Dataset] = []
    if "cooking" in args.suite:
        cooking = cooking_dataset(args.cooking_dir)
        if cooking is not None:
            datasets.append(cooking)
    if "scale" in args.suite:
        datasets += scale_datasets(
            work, args.quick, args.data_seed, args.scale_multi_label_fraction, args.corpora
        )

    groups: list[Group] = []
    sklearn_cache: dict[tuple[str, str, str], tuple[str, ToolResult]] = {}
    started = time.perf_counter()
    wanted = {s.strip() for s in (args.settings or "").split(",") if s.strip()}
    for data in datasets:
        chosen = data.settings
        if wanted & set(data.settings):  # a data set none of whose settings is named runs all
            chosen = {k: v for k, v in data.settings.items() if k in wanted}
        for setting, flags in chosen.items():
            groups.append(run_group(ctx, data, setting, flags, tools, sklearn_cache))
            write_json(out_path, stamp, args, env_info, groups, time.perf_counter() - started)

    report = [header(env_info, args), ""]
    report += [group_table(g) + "\n" for g in groups]
    if not groups:
        report.append("Nothing was run (see the messages above).")
    elif any(t.kind == "ftl" for t in tools):
        report.append(summary_table(groups))
    if hs_over_softmax(groups):
        report.append("\n" + hs_table(hs_over_softmax(groups)))
    print("\n".join(report))
    write_json(out_path, stamp, args, env_info, groups, time.perf_counter() - started)
    log(f"results written to {out_path}")
    return 0


def write_json(
    path: Path,
    stamp: str,
    args: argparse.Namespace,
    env_info: dict[str, Any],
    groups: list[Group],
    elapsed: float,
) -> None:
    doc = {
        "timestamp": stamp,
        "elapsed_s": elapsed,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "environment": env_info,
        "groups": [
            {
                "suite": g.data.suite,
                "data": {
                    k: str(v) if isinstance(v, Path) else v
                    for k, v in asdict(g.data).items()
                    if k != "settings"
                },
                "setting": g.setting,
                "flags": g.flags_text,
                "ratios_ftl_over_fasttext_t1": ratios(g, 1),
                "ratios_ftl_over_fasttext_t2": ratios(g, 2),
                "results": [r.as_json() for r in g.results],
            }
            for g in groups
        ],
        "hs_over_softmax": hs_over_softmax(groups),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
