"""`ftl convert`: a model file in the other format (ftl's `.ftl`, fastText's `.bin` / `.ftz`)."""

from __future__ import annotations

from pathlib import Path

import click

from fasttext_lite.classifier import FastTextClassifier
from fasttext_lite.cli.options import PATH
from fasttext_lite.errors import ModelFileError
from fasttext_lite.formats import container, fasttext_model, model_file
from fasttext_lite.formats.model_file import ModelParts


@click.command()
@click.argument("input_path", metavar="IN", type=PATH)
@click.argument("output_path", metavar="OUT", type=PATH)
@click.option("--force", is_flag=True, help="Replace OUT even if it is not a model.")
def convert(input_path: str, output_path: str, force: bool) -> None:
    """Write the model IN to OUT in the format OUT's suffix names: `.ftl` for ftl's,
    `.bin` or `.ftz` for fastText's (fastText loads it and predicts what ftl predicts).
    IN may be either. A quantized model is written as fastText's `.ftz`.

    \b
    Example:
        ftl convert support.ftl support.bin
        ftl convert lid.176.ftz lid.ftl
    """
    suffix = Path(output_path).suffix.lower()
    if suffix not in (".ftl", *fasttext_model.SUFFIXES):
        raise ModelFileError(
            f"{output_path}: its suffix does not say which format to write; end it in .ftl"
            " (ftl's) or .bin / .ftz (fastText's)"
        )
    container.check_writable(output_path)
    container.check_replaceable(output_path, inputs=(input_path,), force=force)
    clf = FastTextClassifier.load(input_path)
    if suffix == ".ftl" and container.is_fasttext(input_path):
        # Rows ftl wrote as zeros need no room in .ftl.
        parts = ModelParts(clf.get_params(), clf.vocabulary_, clf.model_, clf.summary_)
        model_file.save(output_path, fasttext_model.without_zero_rows(parts))
    else:
        clf.save(output_path)  # the format its suffix names
