"""The study report: one self-contained HTML page, checked as markup and in a real browser."""
from __future__ import annotations

import base64
import copy
import io
import json
import math
import os
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

from regulab.lab._plots import seed_band
from regulab.lab._report import render_report, write_report
from tests.lab.report_fixture import build_result

ODD = "L2 <b>0.01</b> & co"
NOTE = "With 5 seeds a < b & c; <script>alert(1)</script> is text"
PNG = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Every tag with its attributes, the text, and the cells of the variants table's body rows."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.rows: list[list[str]] = []
        self.classes: list[list[str]] = []
        self.text: list[str] = []
        self._in_table = self._in_body = False
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table" and "variants" in (attrs.get("class") or ""):
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
            self.classes.append([])
        elif self._in_body and tag in ("td", "th"):
            self._cell = []
            self.classes[-1].append(attrs.get("class") or "")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._in_table = self._in_body = False

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def full():
    result = build_result(rename={"L2": ODD})
    result["notes"].append(NOTE)
    return result, render_report(result)


@pytest.fixture(scope="module")
def small():
    result = build_result(variants=["baseline", "L2"], sweep=False)
    return result, render_report(result)


@pytest.fixture(scope="module")
def bare(small):
    """Two variants without curves, weights or diagnoses: only the forest plot is drawn (fast)."""
    result = copy.deepcopy(small[0])
    for v in result["variants"].values():
        v["histories"], v["weights"], v["diagnosis"] = [], None, None
    return result, render_report(result)


def _images(page: Page) -> list[dict]:
    return [attrs for tag, attrs in page.tags if tag == "img"]


def _decimals(result) -> int:
    """Two significant digits of the smallest std in the table."""
    stds = [v[k]["std"] for v in result["variants"].values() for k in ("summary", "gap_summary")]
    return 1 - math.floor(math.log10(min(stds)))


def test_the_table_has_one_row_per_variant_with_the_results_numbers(full):
    result, text = full
    page = Page(text)
    assert [row[0] for row in page.rows] == list(result["variants"]) == ["baseline", ODD,
                                                                         "proximal L1",
                                                                         "dropout + early stopping"]
    d = _decimals(result)
    assert d == 4   # the smallest std of the fixture is about 0.005
    v = result["variants"][ODD]
    s, vs = v["summary"], v["vs_baseline"]
    row = page.rows[1]
    assert row[1] == "l2=0.01"
    assert row[2] == "dense stacked"
    assert row[3] == f"{s['mean']:.4f} ± {s['std']:.4f} [{s['ci'][0]:.4f}, {s['ci'][1]:.4f}]"
    assert row[5] == f"{vs['difference']:+.4f} [{vs['ci'][0]:.4f}, {vs['ci'][1]:.4f}]"
    assert row[6].startswith(f"{vs['gap_difference']:+.4f}")
    assert row[7:] == [f"{vs['prob_improvement']:.2f}", f"{vs['wilcoxon_p']:.3g}", "30", "0.0%"]
    # the L2 variant beats the baseline and shrinks the gap, both intervals clear of zero
    assert vs["ci"][0] > 0 and vs["gap_ci"][1] < 0
    assert "better" in page.classes[1][5] and "better" in page.classes[1][6]
    assert page.rows[0][5] == "the reference"
    stopped = page.rows[3]
    epochs = result["variants"]["dropout + early stopping"]["epochs"]
    assert stopped[2] == "dropout one by one"
    assert stopped[9] == f"{min(epochs)}–{max(epochs)} mean {np.mean(epochs):.1f}"
    zeros = np.mean(result["variants"]["proximal L1"]["zero_fraction"])
    assert page.rows[2][10] == f"{zeros:.1%}"


def test_the_headline_names_the_largest_improvement_with_its_interval(full):
    result, text = full
    better = {n: v["vs_baseline"] for n, v in result["variants"].items()
              if v["vs_baseline"] and v["vs_baseline"]["ci"][0] > 0}
    name = max(better, key=lambda n: better[n]["difference"])
    vs = better[name]
    assert (f"{name} improved the held-out accuracy most: {vs['difference']:+.4f} "
            f"[{vs['ci'][0]:.4f}, {vs['ci'][1]:.4f}]") in "".join(Page(text).text)


def test_every_image_is_an_embedded_png_of_its_stated_size(full):
    result, text = full
    images = _images(Page(text))
    # learning curves per variant, the forest plot, the sweep, weight histograms, surviving inputs
    assert len(images) == len(result["variants"]) + 4
    from PIL import Image
    for attrs in images:
        head, data = attrs["src"].split(",", 1)
        assert head == "data:image/png;base64"
        png = base64.b64decode(data, validate=True)
        assert png[:8] == PNG
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            assert image.size == (int(attrs["width"]), int(attrs["height"]))
            assert 200 < image.size[0] < 1400
        assert attrs["alt"]
    assert len(text.encode()) < 2_000_000


def test_nothing_is_fetched_from_anywhere(full):
    _, text = full
    page = Page(text)
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed", "base")
        for key in ("src", "href", "srcset", "action", "poster"):
            assert attrs.get(key) is None or attrs[key].startswith("data:image/png;base64,")
    for needle in ("http://", "https://", "url(", "@import", "//fonts"):
        assert needle not in text


def test_text_from_the_result_is_escaped(full):
    _, text = full
    page = Page(text)
    assert "L2 &lt;b&gt;0.01&lt;/b&gt; &amp; co" in text
    assert "<b>" not in text and "<script>" not in text
    assert "b" not in {tag for tag, _ in page.tags}
    assert NOTE in page.text


def test_sections_follow_what_the_result_holds(full, small):
    full_ids = {a.get("id") for _, a in Page(full[1]).tags}
    assert {"variants", "groups", "intervals", "curves", "sweep", "weights", "diagnoses"} <= full_ids
    assert "Inputs that survived L1" in full[1]
    result, text = small
    page = Page(text)
    assert "sweep" not in {a.get("id") for _, a in page.tags}
    assert "Inputs that survived L1" not in text
    assert len(_images(page)) == 2 + 2   # two learning curves, the forest plot, the histograms
    assert [row[0] for row in page.rows] == ["baseline", "L2"]


def test_each_variant_shows_its_verdict_and_top_recommendations(full):
    result, text = full
    recs = result["variants"]["baseline"]["diagnosis"]["recommendations"]
    assert '<span class="verdict v-overfitting">overfitting</span>' in text
    card = text[text.index('<span class="verdict v-overfitting">'):]
    card = card[:card.index('<div class="card">')]
    positions = [card.index(f"<strong>{r['technique']}</strong>") for r in recs[:3]]
    assert positions == sorted(positions)
    assert recs[3]["technique"] not in card and "and 1 more" in card
    assert "the validation loss rises after epoch 10" in card
    assert "100% of seeds agree" in card
    assert text.count('class="verdict v-good-fit"') == 3


def test_for_a_loss_lower_is_better(bare):
    result = copy.deepcopy(bare[0])
    result.update(metric="loss", higher_is_better=False)
    vs = result["variants"]["L2"]["vs_baseline"]
    vs["difference"], vs["ci"] = 0.05, [0.01, 0.09]
    text = render_report(result)
    page = Page(text)
    assert "worse" in page.classes[1][5]
    assert "(lower is better)" in "".join(page.text)
    assert "none is shown to help" in text
    assert len(_images(page)) == 1


def test_seed_band_matches_numpy_over_the_seeds_that_ran_each_epoch():
    rng = np.random.default_rng(3)
    curves = [rng.normal(size=n).tolist() for n in (7, 4, 7, 2)]
    mean, low, high = seed_band(curves)
    for epoch in range(7):
        ran = [c[epoch] for c in curves if len(c) > epoch]
        assert mean[epoch] == pytest.approx(np.mean(ran))
        assert (low[epoch], high[epoch]) == (min(ran), max(ran))


def test_write_report_to_a_file_or_a_directory(bare, tmp_path):
    result, text = bare
    into_new = write_report(result, tmp_path / "out" / "regulab-report")
    assert into_new == tmp_path / "out" / "regulab-report" / "index.html"
    (tmp_path / "existing.d").mkdir()
    assert write_report(result, tmp_path / "existing.d") == tmp_path / "existing.d" / "index.html"
    named = write_report(result, str(tmp_path / "a" / "study.html"))
    assert named == tmp_path / "a" / "study.html"
    for path in (into_new, named):
        assert path.read_text(encoding="utf-8") == text
        assert os.listdir(path.parent) == [path.name]   # no temporary file left behind


def test_an_embeddable_fragment_scopes_its_style(bare):
    result, _ = bare
    fragment = render_report(result, standalone=False)
    assert fragment.startswith('<div class="regulab-report"><style>') and fragment.endswith("</div>")
    assert "<html" not in fragment and "body{" not in fragment
    assert [row[0] for row in Page(fragment).rows] == ["baseline", "L2"]


def test_bad_results_are_refused_with_what_is_missing(small):
    where = "Invalid value for argument `result` of render_report"
    with pytest.raises(TypeError, match=rf"^{where}: expected a dict \(StudyResult.to_json\(\)\)\. "
                                        r"Received: a list$"):
        render_report([])
    result = {k: v for k, v in small[0].items() if k not in ("metric", "seeds")}
    with pytest.raises(ValueError, match=rf"^{where}: missing key\(s\) 'metric', 'seeds'; a study "
                                         r"result has 'title', 'metric', "):
        render_report(result)
    result = copy.deepcopy(small[0])
    result["variants"] = {}
    with pytest.raises(ValueError, match=rf"^{where}: expected at least one variant in "
                                         r"result\['variants'\]\. Received: variants=\{\}$"):
        render_report(result)
    result = copy.deepcopy(small[0])
    del result["variants"]["L2"]["summary"], result["variants"]["L2"]["epochs"]
    with pytest.raises(ValueError, match=rf"^{where}: variant 'L2' is missing key\(s\) 'epochs', "
                                         r"'summary'\.$"):
        write_report(result, "unused.html")


def _chromium() -> str | None:
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium")
                                        else None)


_CHECK = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const check = document.createElement("pre");
  check.id = "check";
  check.textContent = JSON.stringify({
    images: images.length,
    decoded: images.filter(i => i.complete && i.naturalWidth > 0).length,
    rows: document.querySelectorAll("table.variants tbody tr").length,
    title: document.title});
  document.body.appendChild(check);
});
</script>"""


def _browser(chromium: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
               *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def test_the_report_opens_in_a_browser(full, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    result, text = full
    report, probe = tmp_path / "index.html", tmp_path / "probe.html"
    report.write_text(text, encoding="utf-8")
    # the check runs in a copy: the report itself has no script
    probe.write_text(text.replace("</body>", _CHECK + "</body>"), encoding="utf-8")
    dom = _browser(chromium, tmp_path, "--window-size=1280,2000", "--dump-dom",
                   probe.as_uri()).stdout
    check = dom[dom.index('<pre id="check">') + len('<pre id="check">'):]
    check = json.loads(Page(check[:check.index("</pre>")]).text[0])
    assert check == {"images": len(result["variants"]) + 4,
                     "decoded": len(result["variants"]) + 4,
                     "rows": len(result["variants"]), "title": result["title"]}

    shot = tmp_path / "report.png"
    _browser(chromium, tmp_path, "--window-size=1280,2000", f"--screenshot={shot}", report.as_uri())
    from PIL import Image
    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert shot.read_bytes()[:8] == PNG and shot.stat().st_size > 50_000
    # a page with text, tables and plots, not a blank or an error page
    assert pixels.std() > 10 and (pixels < 100).mean() > 0.01
