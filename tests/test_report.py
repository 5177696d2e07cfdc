"""The evaluation report: its numbers on cases counted by hand or against direct computations,
agreement with `evaluate`, the page's contents, and `ftl eval --report` from the command line.
(`test_report_browser.py` opens the page in a browser.)"""

from __future__ import annotations

import errno
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from helpers import run

from fasttext_lite import FastTextClassifier, Report, evaluate, evaluate_report
from fasttext_lite.losses.base import top_k_of
from fasttext_lite.report import measures, render_html
from fasttext_lite.report.measures import ReportMeter

LABELS = ["a", "b", "c"]
# Four lines (gold, probabilities of a, b, c): top labels a (right), a (wrong: b is gold),
# c (right; a is missed too), b (wrong: c is gold).
GOLD = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 0, 1]], bool)
PROBS = np.array(
    [[0.72, 0.19, 0.09], [0.55, 0.34, 0.11], [0.12, 0.26, 0.62], [0.25, 0.46, 0.29]], np.float32
)


def report_of(
    gold: npt.NDArray[np.bool_],
    probs: npt.NDArray[np.float32],
    *,
    k: int = 1,
    threshold: float = 0.0,
    chunk: int | None = None,
) -> Report:
    meter = ReportMeter(probs.shape[1])
    step = chunk or len(gold)
    for start in range(0, len(gold), step):
        part = ReportMeter(probs.shape[1])
        g, p = gold[start : start + step], probs[start : start + step]
        part.add(g, p, top_k_of(p, k, threshold), threshold)
        meter.merge(part)
    labels = [f"l{i}" for i in range(probs.shape[1])] if probs.shape[1] != 3 else LABELS
    return meter.result(labels, k=k, threshold=threshold)


def random_case(
    seed: int, lines: int = 300, nlabels: int = 7
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float32]]:
    """Multi-label gold lines and probabilities off the threshold grid's edges."""
    rng = np.random.default_rng(seed)
    probs = ((rng.integers(0, 1000, (lines, nlabels)) + 0.5) / 1000).astype(np.float32)
    gold = rng.random((lines, nlabels)) < probs  # roughly calibrated
    gold[~gold.any(axis=1), 0] = True
    return gold, probs


# -- the numbers -------------------------------------------------------------------------------


def test_scores_at_k_are_those_of_the_top_k_labels() -> None:
    at_k = report_of(GOLD, PROBS).at_k
    assert [a.k for a in at_k] == [1, 2, 3]  # no more than there are labels
    # Top 2: (a, b) finds a; (a, b) finds b; (c, b) finds c; (b, c) finds c. Gold labels: 5.
    assert (at_k[0].precision, at_k[0].recall) == pytest.approx((2 / 4, 2 / 5))
    assert (at_k[1].precision, at_k[1].recall) == pytest.approx((4 / 8, 4 / 5))
    assert (at_k[2].precision, at_k[2].recall) == pytest.approx((5 / 12, 1.0))


def test_scores_at_k_count_only_labels_above_the_threshold() -> None:
    at_k = report_of(GOLD, PROBS, threshold=0.3).at_k
    # At or above 0.3: a .72 | a .55, b .34 | c .62 | b .46. Right: a, b, c.
    assert (at_k[1].precision, at_k[1].recall) == pytest.approx((3 / 5, 3 / 5))
    assert at_k[2] == measures.AtK(3, at_k[1].precision, at_k[1].recall)


def test_confusions_pair_a_missed_gold_label_with_a_wrong_prediction() -> None:
    report = report_of(GOLD, PROBS)
    pairs = {(c.gold, c.predicted): (c.lines, c.share) for c in report.confusions}
    # Line 3 misses a but predicts only gold labels: no pair.
    assert pairs == {("b", "a"): (1, 1.0), ("c", "b"): (1, 0.5)}
    worst = {
        s.label: c for s, c in zip(report.evaluation.per_label, report.confused_with, strict=True)
    }
    assert worst["a"] is None
    assert worst["b"] is not None and worst["b"].predicted == "a"
    assert worst["c"] is not None and worst["c"].predicted == "b"


def test_confusions_are_listed_most_lines_first() -> None:
    gold, probs = random_case(3, nlabels=12)
    lines = [c.lines for c in report_of(gold, probs).confusions]
    assert lines == sorted(lines, reverse=True)
    assert len(lines) == measures.CONFUSIONS


def test_curves_give_micro_precision_and_recall_at_each_threshold() -> None:
    gold, probs = random_case(1)
    report = report_of(gold, probs)
    best = probs.argmax(axis=1)
    top_p, top_gold = probs[np.arange(len(probs)), best], gold[np.arange(len(gold)), best]
    for threshold in (0.0, 0.1, 0.25, 0.5, 0.731, 0.9):
        for name, p, g in (("top", top_p, top_gold), ("all", probs, gold)):
            curve = report.curves[name]
            i = curve.thresholds.index(threshold)
            kept = p >= threshold
            assert curve.predictions[i] == kept.sum()
            assert curve.precision[i] == pytest.approx((kept & g).sum() / kept.sum())
            assert curve.recall[i] == pytest.approx((kept & g).sum() / gold.sum())


def test_curves_lose_predictions_and_recall_as_the_threshold_rises() -> None:
    report = report_of(*random_case(2))
    for curve in report.curves.values():
        assert np.all(np.diff(curve.thresholds) > 0)
        assert np.all(np.diff(curve.predictions) <= 0)
        assert np.all(np.diff(curve.recall) <= 0)
        assert curve.predictions[-1] > 0  # thresholds past the last prediction are left out


def test_curves_end_at_the_highest_probability() -> None:
    curves = report_of(GOLD, PROBS).curves
    # Past 0.72 nothing is predicted: no precision to show.
    assert curves["top"].thresholds[-1] == curves["all"].thresholds[-1] == 0.72
    assert (curves["top"].predictions[-1], curves["top"].precision[-1]) == (1, 1.0)


def test_top_label_curve_at_threshold_zero_is_the_reports_own_p_at_1() -> None:
    report = report_of(*random_case(4))
    curve = report.curves["top"]
    assert curve.thresholds[0] == 0.0
    assert curve.precision[0] == pytest.approx(report.evaluation.precision)
    assert curve.recall[0] == pytest.approx(report.evaluation.recall)


def test_reliability_bins_count_probabilities_and_how_often_they_were_gold() -> None:
    gold, probs = random_case(5)
    report = report_of(gold, probs)
    bins = report.reliability["all"].bins
    assert len(bins) == measures.RELIABILITY_BINS
    for b in bins:
        inside = (probs >= b.lower) & (probs < b.upper)
        assert b.count == inside.sum()
        assert b.mean_probability == pytest.approx(probs[inside].mean())
        assert b.frequency == pytest.approx(gold[inside].mean())
    gaps = [b.count * abs(b.frequency - b.mean_probability) for b in bins]  # type: ignore[operator]
    assert report.reliability["all"].calibration_error == pytest.approx(sum(gaps) / probs.size)


def test_reliability_of_the_top_label_by_hand() -> None:
    bins = report_of(GOLD, PROBS).reliability["top"].bins
    # Top probabilities .72 (right), .55 (wrong), .62 (right), .46 (wrong).
    filled = {round(b.lower, 1): b for b in bins if b.count}
    assert set(filled) == {0.4, 0.5, 0.6, 0.7}
    assert (filled[0.5].count, filled[0.5].frequency) == (1, 0.0)
    assert filled[0.7].mean_probability == pytest.approx(0.72)
    assert filled[0.7].frequency == 1.0
    empty = [b for b in bins if not b.count]
    assert all(b.mean_probability is None and b.frequency is None for b in empty)


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_counting_in_chunks_gives_the_same_report(chunk: int) -> None:
    gold, probs = random_case(6)
    whole, parts = report_of(gold, probs, k=2), report_of(gold, probs, k=2, chunk=chunk)
    assert parts.evaluation == whole.evaluation
    assert (parts.at_k, parts.confusions) == (whole.at_k, whole.confusions)
    assert parts.curves["all"].predictions == whole.curves["all"].predictions
    assert parts.curves["all"].precision == pytest.approx(whole.curves["all"].precision)


# -- on a model --------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "threshold"), [(1, 0.0), (2, 0.0), (1, 0.6), (-1, 0.2)])
def test_report_scores_are_evaluates(
    trained: FastTextClassifier, support_valid: Path, k: int, threshold: float
) -> None:
    report = evaluate_report(trained, support_valid, k=k, threshold=threshold)
    assert report.evaluation == evaluate(trained, support_valid, k=k, threshold=threshold)


@pytest.mark.parametrize("loss", ["hs", "ova"])
def test_report_scores_are_evaluates_for_other_losses(
    support_train: Path, support_valid: Path, loss: str
) -> None:
    clf = FastTextClassifier(loss=loss, epoch=5, lr=0.5, dim=10, bucket=1000, seed=1)
    clf.fit_file(support_train)
    for k in (1, 3):
        report = evaluate_report(clf, support_valid, k=k)
        assert report.evaluation == evaluate(clf, support_valid, k=k)


def test_multi_label_lines_and_unknown_labels_count_as_in_evaluate(
    trained: FastTextClassifier, tmp_path: Path
) -> None:
    lines = [
        "__label__billing __label__account I was charged twice for my account",
        "__label__nosuchlabel where is my parcel",  # no known label: skipped
        "no label at all",
        "__label__shipping __label__nosuchlabel my parcel is late",
    ]
    path = tmp_path / "multi.txt"
    path.write_text("\n".join(lines) + "\n")
    report = evaluate_report(trained, path, k=2)
    assert report.evaluation == evaluate(trained, path, k=2)
    assert report.evaluation.examples == 2
    assert report.curves["all"].predictions[0] == 2 * len(trained.classes_)
    assert report.curves["all"].recall[0] == 1.0  # every gold label is above threshold 0
    again = evaluate_report(trained, lines, k=2)  # from an iterable, chunked otherwise
    assert (again.evaluation, again.at_k, again.curves["all"].predictions) == (
        report.evaluation,
        report.at_k,
        report.curves["all"].predictions,
    )


def test_report_in_two_processes_counts_the_same(
    trained: FastTextClassifier, support_valid: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fasttext_lite import inference

    monkeypatch.setattr(inference, "PREDICT_CELLS", 60)  # 10 lines a chunk: several chunks
    one = evaluate_report(trained, support_valid, k=2, threads=1)
    two = evaluate_report(trained, support_valid, k=2, threads=2)
    assert two.evaluation == one.evaluation
    assert (two.at_k, two.confusions, two.confused_with) == (
        one.at_k,
        one.confusions,
        one.confused_with,
    )
    assert two.curves["top"].predictions == one.curves["top"].predictions


def test_report_of_lines_without_known_labels_is_an_error(trained: FastTextClassifier) -> None:
    from fasttext_lite import DataError

    with pytest.raises(DataError, match="no line has a label the model knows"):
        evaluate_report(trained, ["__label__nosuchlabel hello", "plain text"])


# -- the page ----------------------------------------------------------------------------------


class Elements(HTMLParser):
    """Counts of start tags, the attributes seen, and the text, of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> Elements:
    elements = Elements()
    elements.feed(page)
    return elements


def label_rows(page: str) -> list[str]:
    """The per-label table's rows, each as the text of its first cell."""
    body = page.split('<table id="labels">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-i="\d+"><td>(.*?)</td>', body)


def test_page_holds_the_charts_tables_and_a_row_per_label(
    trained: FastTextClassifier, support_valid: Path
) -> None:
    report = evaluate_report(trained, support_valid)
    page = render_html(report, model="support.ftl", test="support.valid")
    elements = parsed(page)
    assert elements.tags["svg"] == 3
    assert elements.tags["polyline"] >= 6  # two series in each chart
    rows = label_rows(page)
    assert sorted(rows) == sorted(trained.classes_.tolist())
    supports = {s.label: s.support for s in report.evaluation.per_label}
    assert [supports[r] for r in rows] == sorted(supports.values(), reverse=True)
    assert "support.ftl" in page and f"{report.evaluation.examples:,} lines" in page


def test_page_fetches_nothing(trained: FastTextClassifier, support_valid: Path) -> None:
    page = render_html(evaluate_report(trained, support_valid))
    names = {name for name, _ in parsed(page).attributes}
    assert not names & {"src", "href"}
    assert "url(" not in page and "@import" not in page
    # The only address is SVG's namespace, which names and does not fetch.
    assert set(re.findall(r"https?://[^\"' ]+", page)) == {"http://www.w3.org/2000/svg"}


def test_page_escapes_labels_and_keeps_invalid_bytes_visible(tmp_path: Path) -> None:
    corpus = tmp_path / "odd.txt"
    corpus.write_bytes(
        b"__label__<b>&bold good tasty food\n__label__caf\xff cold awful food\n" * 10
    )
    clf = FastTextClassifier(epoch=5, lr=0.5, dim=5, seed=1).fit_file(corpus)
    out = tmp_path / "odd.html"
    from fasttext_lite.report import write_html

    write_html(evaluate_report(clf, corpus), out)
    page = out.read_text(encoding="utf-8")
    assert "&lt;b&gt;&amp;bold" in page and "<b>&bold" not in page
    assert "caf\\udcff" in page


# -- the command line ----------------------------------------------------------------------------


def test_eval_report_writes_the_page_and_prints_evals_results(
    model_path: Path, support_valid: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = run("eval", "-m", model_path, support_valid, "--report", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == run("eval", "-m", model_path, support_valid).stdout
    assert str(out) in result.stderr
    assert label_rows(out.read_text(encoding="utf-8"))
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed


def test_eval_report_json_holds_every_number(
    model_path: Path, support_valid: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = run("eval", "-m", model_path, "-", "--report", out, "--json", "-k", "2",
                 stdin=support_valid.read_bytes())  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    clf = FastTextClassifier.load(model_path)
    expected = evaluate_report(clf, support_valid, k=2)
    assert record == json.loads(json.dumps(expected.as_dict()))
    assert {"macro", "weighted", "per_label", "at_k", "confusions", "curves", "reliability"} <= set(
        record
    )
    assert [row["label"] for row in record["per_label"]] == clf.classes_.tolist()
    assert out.exists()


def test_eval_json_has_the_averages_without_a_report(
    model_path: Path, support_valid: Path, trained: FastTextClassifier
) -> None:
    record = json.loads(run("eval", "-m", model_path, support_valid, "--json").stdout)
    expected = evaluate(trained, support_valid)
    assert record["macro"]["f1"] == pytest.approx(expected.macro.f1)
    assert record["weighted"]["recall"] == pytest.approx(expected.weighted.recall)


@pytest.mark.parametrize("where", ["directory", "missing-directory", "the-test-file", "a-fifo"])
def test_eval_report_to_an_unusable_path_is_a_one_line_error(
    model_path: Path, support_valid: Path, tmp_path: Path, where: str
) -> None:
    test = tmp_path / "valid.txt"
    test.write_bytes(support_valid.read_bytes())
    os.mkfifo(tmp_path / "fifo")
    out = {
        "a-fifo": tmp_path / "fifo",
        "directory": tmp_path,
        "missing-directory": tmp_path / "nowhere" / "report.html",
        "the-test-file": test,
    }[where]
    result = run("eval", "-m", model_path, test, "--report", out)
    assert result.exit_code == 1
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith(f"Error: {out}: ") and "\n" not in message
    assert test.read_bytes() == support_valid.read_bytes()


def test_a_failed_write_leaves_the_earlier_report_and_no_temporary_file(
    trained: FastTextClassifier,
    support_valid: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fasttext_lite import StorageError
    from fasttext_lite.report import write_html

    report = evaluate_report(trained, support_valid)
    out = tmp_path / "report.html"
    out.write_text("earlier")

    def full_disk(source: str, destination: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(StorageError, match="cannot write the report .No space left on device"):
        write_html(report, out)
    assert out.read_text() == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
