"""One schema of the hyper-parameters feeds the constructor, get_params, the model file and
the command line."""

from __future__ import annotations

import inspect

import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier, ParameterError, params
from fasttext_lite.cli import cli


def test_the_constructor_takes_the_schemas_parameters_with_its_defaults() -> None:
    signature = inspect.signature(FastTextClassifier.__init__).parameters
    taken = {name: p.default for name, p in signature.items() if name != "self"}
    assert taken == params.DEFAULTS
    assert list(FastTextClassifier().get_params()) == [p.name for p in params.PARAMS]


def test_every_training_option_is_a_schema_parameter_with_its_help() -> None:
    help_text = CliRunner().invoke(cli, ["train", "--help"], terminal_width=200).stdout
    for param in params.PARAMS:
        if param.name == "verbose":  # the absence of --quiet
            continue
        assert param.option in help_text, param.name
        assert param.help.split(" (")[0][:30] in " ".join(help_text.split()), param.name


def test_the_model_file_keeps_the_model_parameters_only(
    trained: FastTextClassifier,
) -> None:
    stored = set(params.MODEL_PARAMS)
    assert {"lr", "dim", "loss", "label_prefix"} <= stored
    assert not stored & {"verbose", "valid", "valid_split", "early_stop", "init_model"}
    assert set(trained._parts().params) >= stored


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("dim", 0, "dim: must be a positive integer, got 0"),
        ("lr", -1.0, "lr: must be a positive number"),
        ("loss", "nope", "loss: must be one of softmax, ova, hs, ns"),
        ("valid_split", 0.7, "valid_split: must be between 0 and 0.5"),
        ("label_prefix", "a b", "label_prefix: must be one non-empty token"),
    ],
)
def test_each_parameter_is_checked_by_its_schema_entry(
    name: str, value: object, message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        params.validate({**params.DEFAULTS, name: value})
