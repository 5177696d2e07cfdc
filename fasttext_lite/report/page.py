"""The evaluation report as one self-contained HTML page: summary, charts (inline SVG from
`report.svg`), the most confused pairs and a sortable, filterable per-label table (plain
inline JavaScript). Nothing is fetched when the page is viewed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path

from fasttext_lite.errors import StorageError
from fasttext_lite.files import write_atomically
from fasttext_lite.report.measures import Report
from fasttext_lite.report.svg import Mark, Series, line_chart
from fasttext_lite.version import __version__

COLOURS = {"top": "#2563eb", "all": "#d97706", "recall": "#059669"}
NAMES = {"top": "top label", "all": "every label"}
SERIES = ("all", "top")  # the top label's curve drawn last, over the other where they meet
_LABELLED_THRESHOLDS = (0.2, 0.5, 0.8)


def render_html(report: Report, *, model: str = "", test: str = "") -> str:
    """The page; `model` and `test` name the files in its heading."""
    result = report.evaluation
    setting = f"k = {result.k}" + (f", threshold {result.threshold:g}" if result.threshold else "")
    sources = " · ".join(
        f"{name} <code>{escape(value)}</code>" for name, value in (("model", model), ("test", test))
        if value
    )  # fmt: skip
    body = [
        "<header>",
        "<h1>Evaluation report</h1>",
        f'<p class="sub">{sources}{" · " if sources else ""}{result.examples:,} lines ·'
        f" {len(result.per_label):,} labels · {setting} · ftl {escape(__version__)}</p>",
        "</header>",
        _summary(report),
        '<section class="charts">',
        _figure("Precision and recall by threshold", _pr_chart(report), _pr_caption(report)),
        _figure("Reliability", _reliability_chart(report), _reliability_caption(report)),
        _figure("Precision and recall at k", _at_k_chart(report), _at_k_caption(report)),
        "</section>",
        '<section class="tables">',
        _confusions(report),
        _labels(report),
        "</section>",
        _notes(),
    ]
    return _PAGE.format(
        title=escape(f"ftl evaluation report{': ' + test if test else ''}"),
        style=_STYLE,
        body="\n".join(body),
        script=_SCRIPT,
    )


def check_path(path: str | Path, *, inputs: Iterable[str | Path] = ()) -> None:
    """Raise `StorageError` unless a report could be written at `path`; called before the
    evaluation, so that a typo costs nothing. `inputs` are files it must not replace."""
    path = Path(path)
    if path.is_dir():
        raise StorageError(f"{path}: is a directory; give a file name for the report")
    if path.exists() and not path.is_file():
        # Renaming over a device such as /dev/null would replace the device itself.
        raise StorageError(f"{path}: is not a regular file; give a file name for the report")
    if not path.parent.is_dir():
        raise StorageError(f"{path}: directory {path.parent} does not exist; create it first")
    for given in inputs:
        if path.exists() and os.path.exists(given) and os.path.samefile(path, given):
            raise StorageError(f"{path}: is the input {given}; write the report elsewhere")


def write_html(report: Report, path: str | Path, *, model: str = "", test: str = "") -> None:
    """Write the page to `path` atomically (UTF-8; a label's invalid bytes as `\\udcXX`)."""
    check_path(path)
    data = render_html(report, model=model, test=test).encode("utf-8", "backslashreplace")
    write_atomically(path, data, StorageError, kind="report")


# -- parts of the page ---------------------------------------------------------------------


def _f(value: float) -> str:
    return f"{value:.3f}"


def _summary(report: Report) -> str:
    result = report.evaluation
    k = result.k if result.k > 0 else "all"
    cards = [
        (f"P@{k}", _f(result.precision), "micro precision"),
        (f"R@{k}", _f(result.recall), "micro recall"),
        (f"F1@{k}", _f(result.f1), "micro F1"),
        ("macro F1", _f(result.macro.f1), "mean over labels"),
        ("weighted F1", _f(result.weighted.f1), "mean weighted by support"),
    ]
    card_html = "".join(
        f'<div class="card"><div class="name">{escape(name)}</div>'
        f'<div class="value">{value}</div><div class="hint">{hint}</div></div>'
        for name, value, hint in cards
    )
    rows = [
        ("micro", result.precision, result.recall, result.f1),
        ("macro", result.macro.precision, result.macro.recall, result.macro.f1),
        ("weighted", result.weighted.precision, result.weighted.recall, result.weighted.f1),
    ]
    table = _table(
        ["average", "precision", "recall", "F1"],
        [[name, _f(p), _f(r), _f(f)] for name, p, r, f in rows],
        id_="averages",
    )
    return (
        f'<section class="summary"><div class="cards">{card_html}</div>{table}'
        f"{_at_k_table(report)}</section>"
    )


def _figure(title: str, chart: str, caption: str) -> str:
    return (
        f'<figure class="panel"><h2>{escape(title)}</h2>{chart}'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _pr_chart(report: Report) -> str:
    series, marks = [], []
    for name in SERIES:
        curve = report.curves[name]
        series.append(
            Series(
                NAMES[name], list(zip(curve.recall, curve.precision, strict=True)), COLOURS[name]
            )
        )
    top = report.curves["top"]
    for t in _LABELLED_THRESHOLDS:
        if t in top.thresholds:
            i = top.thresholds.index(t)
            marks.append(Mark(top.recall[i], top.precision[i], f"{t:g}", COLOURS["top"]))
    result = report.evaluation
    marks.append(Mark(result.recall, result.precision, f"k = {result.k}", "#111827", below=True))
    return line_chart(
        series,
        title="Micro precision against recall as the threshold rises",
        x_label="recall",
        y_label="precision",
        x_ticks=(0, 0.2, 0.4, 0.6, 0.8, 1),
        marks=marks,
    )


def _pr_caption(report: Report) -> str:
    return (
        "Each line's <b>top label</b>, or <b>every label</b>, kept when its probability is at"
        " least the threshold (numbers beside the top-label curve are thresholds); the black"
        " circle is the report's own setting."
    )


def _reliability_chart(report: Report) -> str:
    series = []
    for name in SERIES:
        reliability = report.reliability[name]
        points, notes = [], []
        for b in reliability.bins:
            if b.mean_probability is None or b.frequency is None:
                continue
            points.append((b.mean_probability, b.frequency))
            notes.append(
                f"{NAMES[name]}, probability {b.lower:g}-{b.upper:g}: {b.count:,} predictions,"
                f" mean {b.mean_probability:.3f}, gold {b.frequency:.3f}"
            )
        series.append(Series(NAMES[name], points, COLOURS[name], markers=True, notes=notes))
    return line_chart(
        series,
        title="Observed frequency of gold labels against predicted probability",
        x_label="predicted probability (mean of the bin)",
        y_label="observed frequency",
        x_ticks=(0, 0.2, 0.4, 0.6, 0.8, 1),
        diagonal=True,
    )


def _reliability_caption(report: Report) -> str:
    errors = ", ".join(
        f"{NAMES[name]} {report.reliability[name].calibration_error:.3f}" for name in SERIES
    )
    return (
        "Probabilities in ten bins of width 0.1: how often a label given that probability was"
        " gold. On the diagonal the probabilities mean what they say; below it the model is"
        f" over-confident. Expected calibration error: {errors}. Hover a point for its counts."
    )


def _at_k_chart(report: Report) -> str:
    ks = [a.k for a in report.at_k]
    return line_chart(
        [
            Series("P@k", [(a.k, a.precision) for a in report.at_k], COLOURS["top"], markers=True),
            Series("R@k", [(a.k, a.recall) for a in report.at_k], COLOURS["recall"], markers=True),
        ],
        title="Micro precision and recall of the top k labels",
        x_label="k (labels predicted per line)",
        y_label="micro score",
        x_ticks=ks if len(ks) > 1 else (1, 2),
    )


def _at_k_table(report: Report) -> str:
    rows = [[str(a.k), _f(a.precision), _f(a.recall)] for a in report.at_k]
    return _table(["k", "P@k", "R@k"], rows, id_="at-k")


def _at_k_caption(report: Report) -> str:
    threshold = report.evaluation.threshold
    note = f", those at or above {threshold:g}" if threshold else ""
    return f"The k most probable labels of each line{note}."


def _confusions(report: Report) -> str:
    if not report.confusions:
        return '<section class="panel"><h2>Most confused labels</h2><p>None.</p></section>'
    rows = [
        [escape(c.gold), escape(c.predicted), f"{c.lines:,}", f"{c.share:.1%}"]
        for c in report.confusions
    ]
    table = _table(
        ["gold label", "predicted instead", "lines", "share"],
        rows,
        id_="confusions",
        raw=True,
    )
    return (
        '<section class="panel"><h2>Most confused labels</h2>'
        "<p>Lines where the gold label was missed and the other was predicted, though not"
        " gold; the share is of the gold label's lines.</p>"
        f"{table}</section>"
    )


_COLUMNS = [
    ("label", "label", "text"),
    ("support", "gold", "num"),
    ("predicted", "predicted", "num"),
    ("precision", "precision", "num"),
    ("recall", "recall", "num"),
    ("f1", "F1", "num"),
    ("confused", "most confused with", "text"),
]


def _labels(report: Report) -> str:
    scores = report.evaluation.per_label
    order = sorted(range(len(scores)), key=lambda i: (-scores[i].support, scores[i].label))
    head = "".join(
        f'<th data-key="{key}" data-type="{kind}" aria-sort="none" tabindex="0">{name}</th>'
        for key, name, kind in _COLUMNS
    )
    rows = []
    for position, i in enumerate(order):
        s, c = scores[i], report.confused_with[i]
        cells = [
            f"<td>{escape(s.label)}</td>",
            f'<td data-v="{s.support}">{s.support:,}</td>',
            f'<td data-v="{s.predicted}">{s.predicted:,}</td>',
            *(
                f'<td class="bar" data-v="{v:.4f}" style="--v:{v:.1%}">{_f(v)}</td>'
                for v in (s.precision, s.recall, s.f1)
            ),
            f"<td>{escape(c.predicted)} ({c.lines:,})</td>" if c else "<td></td>",
        ]
        rows.append(f'<tr data-i="{position}">{"".join(cells)}</tr>')
    return (
        '<section class="panel"><h2>Per label</h2>'
        '<div class="tools"><input id="filter" type="search" placeholder="Filter labels"'
        ' aria-label="Filter labels"> <span id="shown"></span>'
        ' <span class="hint">· click a column to sort</span></div>'
        f'<div class="scroll"><table id="labels"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _table(
    head: Sequence[str], rows: Sequence[Sequence[str]], *, id_: str, raw: bool = False
) -> str:
    """A small table; cells are escaped unless `raw` (already escaped)."""
    cell = (lambda v: v) if raw else escape
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return (
        f'<table id="{id_}" class="small"><thead><tr>{header}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _notes() -> str:
    return (
        '<section class="notes"><h2>How these are counted</h2><ul>'
        "<li>As <code>ftl eval</code> (fastText's <code>test</code>): a line's gold labels are"
        " all its labels the model knows; lines with none are skipped. P@k is correct"
        " predictions over predictions made, R@k correct predictions over gold labels, both"
        " summed over the file (micro).</li>"
        "<li>Macro: the mean of the labels' scores over the labels that occur (gold or"
        " predicted); weighted: their mean weighted by each label's gold count.</li>"
        "<li>Curves and reliability use every label's probability on every line, counted on"
        " a grid of thresholds 0.001 apart.</li>"
        "</ul></section>"
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<main>
{body}
</main>
<script>{script}</script>
</body>
</html>
"""

_STYLE = """
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb;
  --panel: #ffffff; --back: #f3f4f6; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--back); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1480px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 10px; }
.sub { color: var(--muted); margin: 0 0 16px; }
code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; }
.summary { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start;
  margin-bottom: 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 16px; min-width: 130px; }
.card .name { color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .04em; }
.card .value { font-size: 28px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .hint { color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr));
  gap: 16px; margin-bottom: 16px; }
.tables { display: grid; grid-template-columns: minmax(420px, 1fr) minmax(620px, 2fr);
  gap: 16px; align-items: start; }
@media (max-width: 1100px) { .tables { grid-template-columns: 1fr; } }
.panel, .notes { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 16px; margin: 0 0 16px; }
figure { margin: 0; }
.panel { overflow-x: auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 6px; }
svg.chart { width: 100%; max-width: 560px; height: auto; display: block; }
svg .plot { fill: #fafafa; stroke: #d1d5db; }
svg .grid { stroke: #e5e7eb; }
svg .tick { fill: var(--muted); font-size: 12px; }
svg .axis { fill: var(--ink); font-size: 13px; }
svg .legend { fill: var(--ink); font-size: 13px; }
svg .series { fill: none; stroke-width: 2.2; stroke-linejoin: round; }
svg .diagonal { stroke: #9ca3af; stroke-dasharray: 4 4; }
svg .marker { stroke: #fff; stroke-width: 1; }
svg .mark { fill: #fff; stroke-width: 2.5; }
svg .mark-text { font-size: 12px; fill: var(--ink); }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right;
  white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
table.small { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
table.small th { color: var(--muted); font-weight: 600; font-size: 12px; }
#confusions td:nth-child(2), #confusions th:nth-child(2) { text-align: left; }
.tools { margin-bottom: 8px; }
.tools input { font: inherit; padding: 4px 8px; border: 1px solid #d1d5db; border-radius: 6px;
  width: 260px; }
.hint, #shown { color: var(--muted); font-size: 12.5px; }
.scroll { max-height: 640px; overflow: auto; border: 1px solid var(--line);
  border-radius: 6px; }
#labels { width: 100%; }
#labels th { position: sticky; top: 0; background: #f9fafb; cursor: pointer;
  user-select: none; font-size: 12.5px; }
#labels th[aria-sort=ascending]::after { content: " \\25B2"; }
#labels th[aria-sort=descending]::after { content: " \\25BC"; }
#labels th:last-child, #labels td:last-child { text-align: left; color: var(--muted); }
#labels tbody tr:hover { background: #f9fafb; }
td.bar { background: linear-gradient(90deg, #dbeafe var(--v), transparent var(--v)); }
.notes ul { margin: 0; padding-left: 20px; color: var(--muted); }
"""

# Sorting and filtering of the per-label table. `#sort=KEY:asc|desc` in the address sorts on
# opening (and is set when a column is clicked), so a sorted view can be linked.
_SCRIPT = """
(function () {
  var table = document.getElementById("labels");
  if (!table) return;
  var body = table.tBodies[0], heads = table.tHead.rows[0].cells;
  var rows = Array.prototype.slice.call(body.rows);
  var shown = document.getElementById("shown"), filter = document.getElementById("filter");
  var current = { col: -1, dir: 1 };
  function value(row, col, numeric) {
    var cell = row.cells[col];
    return numeric ? parseFloat(cell.getAttribute("data-v")) : cell.textContent.toLowerCase();
  }
  function sortBy(col, dir) {
    var numeric = heads[col].getAttribute("data-type") === "num";
    rows.sort(function (a, b) {
      var x = value(a, col, numeric), y = value(b, col, numeric);
      var order = (x < y ? -1 : x > y ? 1 : 0) * dir;
      return order || a.getAttribute("data-i") - b.getAttribute("data-i");
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
    for (var i = 0; i < heads.length; i++) {
      var sorted = dir > 0 ? "ascending" : "descending";
      heads[i].setAttribute("aria-sort", i === col ? sorted : "none");
    }
    current = { col: col, dir: dir };
  }
  function count() {
    var visible = rows.filter(function (row) { return !row.hidden; }).length;
    shown.textContent = visible + " of " + rows.length + " labels";
  }
  function onHead(i) {
    var numeric = heads[i].getAttribute("data-type") === "num";
    var dir = current.col === i ? -current.dir : (numeric ? -1 : 1);
    sortBy(i, dir);
    try {
      var key = heads[i].getAttribute("data-key");
      history.replaceState(null, "", "#sort=" + key + ":" + (dir > 0 ? "asc" : "desc"));
    } catch (e) { /* some browsers refuse for local files */ }
  }
  Array.prototype.forEach.call(heads, function (head, i) {
    head.addEventListener("click", function () { onHead(i); });
    head.addEventListener("keydown", function (e) { if (e.key === "Enter") onHead(i); });
  });
  filter.addEventListener("input", function () {
    var needle = filter.value.toLowerCase();
    rows.forEach(function (row) {
      row.hidden = needle !== "" && row.cells[0].textContent.toLowerCase().indexOf(needle) < 0;
    });
    count();
  });
  var asked = /^#sort=([a-z0-9]+):(asc|desc)$/.exec(location.hash);
  if (asked) {
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getAttribute("data-key") === asked[1]) sortBy(i, asked[2] === "asc" ? 1 : -1);
    }
  }
  count();
})();
"""
