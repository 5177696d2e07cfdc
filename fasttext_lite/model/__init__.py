"""The model: the input matrix A and the output matrix B."""

from fasttext_lite.model.dense import Model

__all__ = ["Model"]
