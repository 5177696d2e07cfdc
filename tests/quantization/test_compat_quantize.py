"""fastText's `quantize` through `fasttext_lite.compat`: the model method and the command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fasttext_lite.compat as fasttext

COMPAT = [sys.executable, "-c", "from fasttext_lite.compat.cli import main; main()"]


def test_model_quantize_works_in_place_as_the_binding(
    model_path: Path, support_train: Path
) -> None:
    model = fasttext.load_model(str(model_path))
    before = model.predict("where is my parcel", k=2)
    assert not model.is_quantized()
    model.quantize(input=str(support_train), cutoff=500, retrain=True, qnorm=True, epoch=2)
    assert model.is_quantized()
    assert len(model.words) < len(fasttext.load_model(str(model_path)).words)
    labels, probabilities = model.predict("where is my parcel", k=2)
    assert set(labels) <= set(model.labels) and len(labels) == len(before[0]) == 2
    assert isinstance(probabilities, np.ndarray)
    with pytest.raises(ValueError, match="Can't export quantized matrix"):
        model.get_input_matrix()


def test_model_quantize_needs_input_to_retrain(model_path: Path) -> None:
    with pytest.raises(ValueError, match="Need input file path if retraining"):
        fasttext.load_model(str(model_path)).quantize(retrain=True)


def test_command_reads_model_bin_and_writes_model_ftz(
    model_path: Path, support_train: Path, support_valid: Path, tmp_path: Path
) -> None:
    shutil.copy(model_path, tmp_path / "model.bin")
    output = tmp_path / "model"
    done = subprocess.run(
        [*COMPAT, "quantize", "-output", str(output), "-input", str(support_train),
         "-qnorm", "-retrain", "-cutoff", "500", "-epoch", "2"],
        capture_output=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"" and done.stderr == b""
    assert (tmp_path / "model.ftz").read_bytes()[:4] == (793712314).to_bytes(4, "little")
    assert fasttext.load_model(str(tmp_path / "model.ftz")).is_quantized()
    tested = subprocess.run(
        [*COMPAT, "test", str(tmp_path / "model.ftz"), str(support_valid)],
        capture_output=True, timeout=300,
    )  # fmt: skip
    assert tested.returncode == 0 and tested.stdout.startswith(b"N\t100\nP@1\t")


@pytest.mark.parametrize(
    ("args", "message"),
    [(["-output"], b"missing an argument"), (["-cutoff", "x", "-output", "m"], b"needs a int"),
     (["-output", "nowhere/m"], b"nowhere")],
)  # fmt: skip
def test_command_errors_are_one_line(args: list[str], message: bytes) -> None:
    done = subprocess.run([*COMPAT, "quantize", *args], capture_output=True, timeout=300)
    assert done.returncode == 1 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
