"""The evaluation report as a user sees it: `ftl eval --report` on a model with 700 labels,
opened in headless Chromium (Debian's `chromium`), its DOM after the page's script ran and a
screenshot checked. Skipped where Chromium is not installed (`.ci/run` installs it)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from helpers import run

from fasttext_lite import FastTextClassifier

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

# Headless, and quiet: no network of its own, no first-run or update work.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
NLABELS = 700
WIDTH, HEIGHT = 1280, 2000
# The report's series colours (report.page.COLOURS) as RGB.
BLUE, AMBER = (0x25, 0x63, 0xEB), (0xD9, 0x77, 0x06)


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ftl eval --report` on a model of NLABELS labels, each with its own words and some
    shared ones, and a multi-label line now and then."""
    directory = tmp_path_factory.mktemp("report")
    rng = np.random.default_rng(0)
    shared = [f"w{i}" for i in range(300)]

    def lines(per_label: int) -> list[str]:
        out = []
        for label in range(NLABELS):
            for _ in range(per_label):
                words = [f"own{label}", f"own{label}b", *rng.choice(shared, 2)]
                labels = [f"__label__topic-{label}"]
                if rng.random() < 0.1:
                    labels.append(f"__label__topic-{(label + 1) % NLABELS}")
                out.append(" ".join(labels + list(rng.permutation(words))))
        return out

    train, test = directory / "many.train", directory / "many.valid"
    train.write_text("\n".join(lines(3)) + "\n")
    test.write_text("\n".join(lines(1)) + "\n")
    model = directory / "many.ftl"
    FastTextClassifier(epoch=10, lr=1.0, dim=16, seed=1).fit_file(train).save(model)
    page = directory / "report.html"
    result = run("eval", test, "-m", model, "--report", page)
    assert result.exit_code == 0, result.output
    return page


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Chromium with a fresh profile directory."""
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        timeout=120,
        check=True,
    )


def test_page_after_its_script_ran_has_the_charts_and_a_sorted_row_per_label(
    report_page: Path, tmp_path: Path
) -> None:
    # Sorted by F1, lowest first, through the address, as a linked view would be.
    dom = chromium(
        tmp_path / "profile", "--dump-dom", report_page.as_uri() + "#sort=f1:asc"
    ).stdout.decode()
    assert dom.count("<svg") == 3
    assert dom.count("<polyline") >= 6
    assert dom.count("<circle") >= 10  # reliability and P@k points
    body = dom.split('<table id="labels">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr [^>]*data-i=", body)
    assert len(rows) == NLABELS
    # The script ran: it counted the rows and sorted them.
    assert f"{NLABELS} of {NLABELS} labels" in dom
    assert re.search(r'data-key="f1"[^>]*aria-sort="ascending"', dom)
    f1 = [float(v) for v in re.findall(r'<td class="bar" data-v="([0-9.]+)"', body)[2::3]]
    assert len(f1) == NLABELS
    assert f1 == sorted(f1) and f1[0] < f1[-1]


def test_page_screenshot_shows_charts_and_tables(report_page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}",
        report_page.as_uri(),
    )
    if os.environ.get("FTL_KEEP_SCREENSHOT"):  # to look at it: the path to copy it to
        shutil.copy(shot, os.environ["FTL_KEEP_SCREENSHOT"])
    pixels = png_pixels(shot)
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    rgb = pixels.astype(np.uint32)
    colours, counts = np.unique(
        rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2], return_counts=True
    )
    assert len(colours) > 100  # text, charts, table bars: not one colour, nor a few
    assert counts.max() < 0.8 * HEIGHT * WIDTH  # the background leaves room for content
    present = set(colours.tolist())
    for r, g, b in (BLUE, AMBER):  # the charts' lines were drawn
        assert r << 16 | g << 8 | b in present


def png_pixels(path: Path) -> npt.NDArray[np.uint8]:
    """(height, width, 3) RGB of an 8-bit RGB or RGBA PNG without interlacing (what Chromium
    writes), decoded here: the test needs no imaging library."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, compressed = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        chunk = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unexpected PNG kind"
        elif kind == b"IDAT":
            compressed += chunk
        position += 12 + length
    step = 3 if colour == 2 else 4
    stride = width * step
    raw = np.frombuffer(zlib.decompress(compressed), np.uint8).reshape(height, stride + 1)
    image = np.zeros((height, stride), np.uint8)
    previous = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 1:  # Sub: a running sum along the row, per channel
            row = np.cumsum(line.reshape(width, step), axis=0).reshape(-1) & 0xFF
        elif kind == 2:  # Up
            row = (line + previous) & 0xFF
        else:  # Average or Paeth: each byte needs the one decoded before it
            row = np.array(
                _unfilter_sequentially(int(kind), line.tolist(), previous.tolist(), step)
            )
        image[y] = row
        previous = np.asarray(row, np.int32)
    return image.reshape(height, width, step)[:, :, :3]


def _unfilter_sequentially(kind: int, line: list[int], up: list[int], step: int) -> list[int]:
    out = [0] * len(line)
    for i, value in enumerate(line):
        left = out[i - step] if i >= step else 0
        above = up[i]
        if kind == 3:
            predicted = (left + above) // 2
        else:  # Paeth: the neighbour nearest left + above - upper left
            corner = up[i - step] if i >= step else 0
            estimate = left + above - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - above), abs(estimate - corner)
            predicted = left if pa <= pb and pa <= pc else above if pb <= pc else corner
        out[i] = (value + predicted) & 0xFF
    return out
