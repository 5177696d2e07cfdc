"""Quantization against fastText's, in one run: cooking trained with `--lr 1.0 --epoch 25
--word-ngrams 2` by ftl and by the fastText binding (1 thread each), then quantized with
`--cutoff 100000 --retrain --qnorm` (fastText: `quantize(cutoff=100000, retrain=True,
qnorm=True)`): model sizes, P@1 on cooking.valid before and after, and the time quantizing
takes. Also ftl's prediction time on the quantized model, decoding rows on demand (what ftl
does) against decoding the whole matrix once at load, interleaved.

    PYTHONPATH=$PWD .bench-venv/bin/python bench/quantize.py [--cooking-dir DIR] [--repeat N]

Needs the binding (`import fasttext`) in the interpreter running it; ftl runs as `python -m
fasttext_lite` in that interpreter too. Writes bench/results/quantize-<UTC time>.json and
prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TRAIN = ["--lr", "1.0", "--epoch", "25", "--word-ngrams", "2", "--thread", "1"]
QUANTIZE = ["--cutoff", "100000", "--retrain", "--qnorm"]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def ftl_p_at_1(model: Path, valid: Path) -> float:
    from fasttext_lite import FastTextClassifier, evaluate

    return float(evaluate(FastTextClassifier.load(model), valid).precision)


def prediction_times(model: Path, valid: Path, repeat: int) -> dict[str, list[float]]:
    """Seconds to predict k=1 for every line of `valid`: from the codes (rows decoded per
    batch) and from the matrix decoded once, alternately."""
    import numpy as np

    from fasttext_lite import FastTextClassifier
    from fasttext_lite.model import Model

    lines = [line for line in valid.read_text(encoding="utf-8").splitlines()]
    coded = FastTextClassifier.load(model)
    dense = FastTextClassifier.load(model)
    m = coded.model_
    assert m.quantized is not None
    dense.model_ = Model(
        np.asarray(m.quantized.decode_all()), m.output, m.feature_ids, pruned=m.pruned
    )
    times: dict[str, list[float]] = {"on_demand_s": [], "decoded_once_s": []}
    for _ in range(repeat):
        for name, clf in (("on_demand_s", coded), ("decoded_once_s", dense)):
            started = time.perf_counter()
            clf.predict(lines)
            times[name].append(time.perf_counter() - started)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cooking-dir", type=Path, default=Path("/work/shared/datasets/cooking"))
    ap.add_argument("--repeat", type=int, default=5, help="prediction timings per variant")
    args = ap.parse_args()
    train, valid = args.cooking_dir / "cooking.train", args.cooking_dir / "cooking.valid"
    import fasttext

    ftl = [sys.executable, "-m", "fasttext_lite"]
    result: dict[str, Any] = {
        "commands": {
            "ftl_train": "ftl train cooking.train -o cooking.ftl " + " ".join(TRAIN),
            "ftl_quantize": "ftl quantize cooking.ftl -o cooking.q.ftl "
            + " ".join(QUANTIZE)
            + " --input cooking.train",
            "fasttext_train": "train_supervised(lr=1.0, epoch=25, wordNgrams=2, thread=1)",
            "fasttext_quantize": "quantize(input=cooking.train, cutoff=100000, retrain=True,"
            " qnorm=True, thread=1)",
        },
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        big, small = work / "cooking.ftl", work / "cooking.q.ftl"
        # Interleaved: ftl train, fastText train, ftl quantize, fastText quantize.
        ftl_train_s = timed([*ftl, "train", str(train), "-o", str(big), "-q", *TRAIN])
        started = time.perf_counter()
        ft = fasttext.train_supervised(
            input=str(train), lr=1.0, epoch=25, wordNgrams=2, thread=1, verbose=0
        )
        ft_train_s = time.perf_counter() - started
        ft.save_model(str(work / "cooking.bin"))
        ft_before = ft.test(str(valid))[1]
        ftl_quantize_s = timed(
            [*ftl, "quantize", str(big), "-o", str(small), *QUANTIZE, "--input", str(train), "-q"]
        )
        started = time.perf_counter()
        ft.quantize(input=str(train), cutoff=100000, retrain=True, qnorm=True, thread=1)
        ft_quantize_s = time.perf_counter() - started
        ft.save_model(str(work / "cooking.ftz"))
        result["ftl"] = {
            "train_s": ftl_train_s,
            "quantize_s": ftl_quantize_s,
            "size_bytes": big.stat().st_size,
            "quantized_size_bytes": small.stat().st_size,
            "p_at_1": ftl_p_at_1(big, valid),
            "quantized_p_at_1": ftl_p_at_1(small, valid),
            "prediction": prediction_times(small, valid, args.repeat),
        }
        result["fasttext"] = {
            "train_s": ft_train_s,
            "quantize_s": ft_quantize_s,
            "size_bytes": (work / "cooking.bin").stat().st_size,
            "quantized_size_bytes": (work / "cooking.ftz").stat().st_size,
            "p_at_1": ft_before,
            "quantized_p_at_1": ft.test(str(valid))[1],
        }
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = HERE / "results" / f"quantize-{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"\n(written to {out.relative_to(HERE.parent)})", file=sys.stderr)


def table(result: dict[str, Any]) -> str:
    rows = ["| | ftl | fastText 0.9.2 |", "|---|---|---|"]
    a, b = result["ftl"], result["fasttext"]
    for label, key, fmt in (
        ("train (s)", "train_s", "{:.1f}"),
        ("quantize (s)", "quantize_s", "{:.1f}"),
        ("model (bytes)", "size_bytes", "{:,}"),
        ("quantized (bytes)", "quantized_size_bytes", "{:,}"),
        ("P@1", "p_at_1", "{:.4f}"),
        ("quantized P@1", "quantized_p_at_1", "{:.4f}"),
    ):
        rows.append(f"| {label} | {fmt.format(a[key])} | {fmt.format(b[key])} |")
    for who in (a, b):
        who["ratio"] = who["size_bytes"] / who["quantized_size_bytes"]
    rows.append(f"| size / quantized size | {a['ratio']:.1f} | {b['ratio']:.1f} |")
    times = a["prediction"]
    rows.append(
        f"\nftl predict on cooking.valid (median of {len(times['on_demand_s'])}):"
        f" rows decoded on demand {statistics.median(times['on_demand_s']):.3f} s,"
        f" matrix decoded once {statistics.median(times['decoded_once_s']):.3f} s"
    )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
