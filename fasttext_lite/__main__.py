"""`python -m fasttext_lite` is `ftl`."""

from fasttext_lite.cli import main

main()
