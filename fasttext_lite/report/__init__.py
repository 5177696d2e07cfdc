"""The evaluation report: its numbers (`measures`) and the page that shows them (`page`,
drawing with `svg`)."""

from __future__ import annotations

from fasttext_lite.report.measures import Report, evaluate_report
from fasttext_lite.report.page import render_html, write_html

__all__ = ["Report", "evaluate_report", "render_html", "write_html"]
