"""A study's report: one self-contained HTML file.

Everything the page shows is inside it: a small inline style sheet and the plots as PNG data URIs.
It fetches nothing from the network (no scripts, fonts or style sheets), so it opens offline, can be
mailed or archived as one file, and every piece of text from the study is HTML-escaped.

Contents, in order: what was trained on which data; the table of variants (held-out metric,
generalization gap, the paired comparison against the baseline, epochs, sparsity) and how each
group ran; the notes; a forest plot of the metric and the gap; learning curves per variant; the
sweep; weight histograms and the inputs that survived L1; each variant's diagnosis.
"""
from __future__ import annotations

import base64
import json
import math
import pathlib
import re

from regulab._atomic import atomic_write
from regulab.lab import _plots
from regulab.lab._report_html import _CSS, _PAGE_CSS, _esc, _finite, _interval, _num

_KEYS = ("title", "metric", "higher_is_better", "seeds", "baseline", "data", "variants")
_VARIANT_KEYS = ("settings", "group", "test", "epochs", "zero_fraction", "histories", "summary",
                 "gap_summary", "vs_baseline")

def render_report(result: dict, *, standalone: bool = True) -> str:
    """Return the HTML report of a study result (the dict of ``StudyResult.to_json()``).

    Args:
        result: the study result.
        standalone: a whole HTML document (default); ``False`` gives one ``<div>`` with its own
            scoped style sheet, for embedding (a notebook's ``_repr_html_``).

    >>> from regulab.lab._report import render_report
    >>> render_report([])
    Traceback (most recent call last):
    ...
    TypeError: Invalid value for argument `result` of render_report: expected a dict (StudyResult.to_json()). Received: a list
    """
    _check(result)
    body = "".join([_header(result), _table_section(result), _groups_section(result),
                    _forest_section(result), _curves_section(result), _sweep_section(result),
                    _weights_section(result), _diagnoses_section(result), _footer()])
    if not standalone:
        return f'<div class="regulab-report"><style>{_CSS}</style>{body}</div>'
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_esc(result['title'])}</title><style>{_PAGE_CSS}{_CSS}</style></head>\n"
            f"<body><main class=\"regulab-report\">{body}</main></body></html>\n")


def write_report(result: dict, path) -> pathlib.Path:
    """Write the HTML report of ``result`` to ``path`` and return the file's path.

    ``path`` is the file, or a directory (an existing one, or a path without a suffix such as
    ``regulab-report``) that gets an ``index.html``. Missing parent directories are created, and
    the file is written atomically: an interrupted write leaves any previous report intact.
    """
    html_text = render_report(result)
    target = pathlib.Path(path)
    if target.is_dir() or not target.suffix:
        target = target / "index.html"
    atomic_write(target, html_text.encode("utf-8"))
    return target


def _check(result) -> None:
    where = "Invalid value for argument `result` of render_report"
    if not isinstance(result, dict):
        raise TypeError(f"{where}: expected a dict (StudyResult.to_json()). "
                        f"Received: a {type(result).__name__}")
    missing = [k for k in _KEYS if k not in result]
    if missing:
        raise ValueError(f"{where}: missing key(s) {', '.join(map(repr, missing))}; a study result "
                         f"has {', '.join(map(repr, _KEYS))}.")
    if not isinstance(result["variants"], dict) or not result["variants"]:
        raise ValueError(f"{where}: expected at least one variant in result['variants']. "
                         f"Received: variants={result['variants']!r}")
    for name, variant in result["variants"].items():
        gone = [k for k in _VARIANT_KEYS if k not in variant]
        if gone:
            raise ValueError(f"{where}: variant {name!r} is missing key(s) "
                             f"{', '.join(map(repr, gone))}.")


# ---------------------------------------------------------------- formatting


def _spec(result: dict) -> str:
    """One fixed number of decimals for the table: two significant digits of the smallest std.

    >>> _spec({"variants": {"a": {"summary": {"std": 0.0163}, "gap_summary": {"std": 0.2}}}})
    '.3f'
    """
    stds = [_finite((v.get(key) or {}).get("std")) for v in result["variants"].values()
            for key in ("summary", "gap_summary")]
    stds = [s for s in stds if s is not None and s > 0]
    decimals = 4 if not stds else min(6, max(1, 1 - math.floor(math.log10(min(stds)))))
    return f".{decimals}f"


def _settings(settings: dict) -> str:
    if not settings:
        return "plain model"
    return ", ".join(f"{k}={json.dumps(v, separators=(', ', ': '))}" for k, v in settings.items())


def _side(ci, better_when_positive: bool) -> str:
    """``better``/``worse`` when the interval excludes zero, else no class."""
    low, high = (_finite(c) for c in ci) if ci and len(ci) == 2 else (None, None)
    if low is None or high is None or low <= 0 <= high:
        return ""
    return "better" if (low > 0) == better_when_positive else "worse"


def _cell(main: str, ci=None, side: str = "", spec: str = ".4g") -> str:
    css = f"num {side}".strip()
    extra = f'<span class="ci">{_esc(_interval(ci, spec))}</span>' if ci is not None else ""
    return f'<td class="{css}">{_esc(main)}{extra}</td>'


def _image(png: bytes, alt: str) -> str:
    # the PNG header holds the pixel size: giving it lets the browser lay the page out at once
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    data = base64.b64encode(png).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{_esc(alt)}" '
            f'width="{width}" height="{height}">')


def _figure(png: bytes | None, alt: str, caption: str = "") -> str:
    if png is None:
        return ""
    text = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    return f"<figure>{_image(png, alt)}{text}</figure>"


# ---------------------------------------------------------------- sections


def _header(result: dict) -> str:
    data = result["data"] or {}
    sizes = ", ".join(f"{_esc(data[k])} {label}" for k, label in
                      [("train", "training"), ("val", "validation"), ("test", "held-out")]
                      if data.get(k) is not None)
    direction = "higher is better" if result["higher_is_better"] else "lower is better"
    seeds = result["seeds"] or []
    lines = [f"<h1>{_esc(result['title'])}</h1>"]
    if data.get("description"):
        lines.append(f'<p class="meta">Data: {_esc(data["description"])}</p>')
    if sizes:
        lines.append(f'<p class="meta">Samples: {sizes}.</p>')
    lines.append(f'<p class="meta">Held-out metric: <strong>{_esc(result["metric"])}</strong> '
                 f"({direction}); {len(seeds)} seeds ({_esc(', '.join(map(str, seeds)))}); "
                 f"{len(result['variants'])} variants against <strong>"
                 f"{_esc(result['baseline'])}</strong>.</p>")
    lines.append(f'<p class="headline">{_esc(_headline(result))}</p>')
    notes = result.get("notes") or []
    if notes:
        lines.append('<ul class="notes">' + "".join(f"<li>{_esc(n)}</li>" for n in notes) + "</ul>")
    return "".join(lines)


def _headline(result: dict) -> str:
    """The variant that beat the baseline by most, among those whose interval excludes zero."""
    sign = 1.0 if result["higher_is_better"] else -1.0
    best = None
    for name, variant in result["variants"].items():
        vs = variant.get("vs_baseline")
        if not vs or _side(vs.get("ci"), result["higher_is_better"]) != "better":
            continue
        gain = sign * (_finite(vs.get("difference")) or 0.0)
        if best is None or gain > best[0]:
            best = (gain, name, vs)
    if best is None:
        return ("No variant's difference from the baseline has a 95% interval that excludes zero: "
                "none is shown to help.")
    _, name, vs = best
    spec = _spec(result)
    base = result["variants"].get(result["baseline"], {}).get("summary", {}).get("mean")
    mean = result["variants"][name]["summary"].get("mean")
    return (f"{name} improved the held-out {result['metric']} most: "
            f"{_num(vs['difference'], '+' + spec)} {_interval(vs.get('ci'), spec)} against the "
            f"baseline ({_num(base, spec)} → {_num(mean, spec)}).")


def _group_modes(result: dict) -> dict[str, str]:
    return {g.get("name"): g.get("mode", "") for g in result.get("groups") or []}


def _table_section(result: dict) -> str:
    hib, metric = result["higher_is_better"], _esc(result["metric"])
    modes = _group_modes(result)
    spec = _spec(result)
    signed = "+" + spec
    head = ["variant", "settings", "ran in", f"held-out {metric}", "gap", "difference vs baseline",
            "gap difference", "P(improve&shy;ment)", "Wilcoxon p", "epochs", "zero weights"]
    rows = []
    for name, v in result["variants"].items():
        s, g, vs = v["summary"] or {}, v["gap_summary"] or {}, v["vs_baseline"]
        group = v["group"]
        mode = modes.get(group)
        cells = [f'<th scope="row">{_esc(name)}</th>', f"<td><code>{_esc(_settings(v['settings']))}"
                 f"</code></td>", f"<td>{_esc(group)}" +
                 (f'<span class="ci">{_esc(mode)}</span>' if mode else "") + "</td>",
                 _cell(f"{_num(s.get('mean'), spec)} ± {_num(s.get('std'), spec)}", s.get("ci"),
                       spec=spec),
                 _cell(f"{_num(g.get('mean'), spec)} ± {_num(g.get('std'), spec)}", g.get("ci"),
                       spec=spec)]
        if vs:
            cells += [_cell(_num(vs.get("difference"), signed), vs.get("ci"),
                            _side(vs.get("ci"), hib), spec),
                      _cell(_num(vs.get("gap_difference"), signed), vs.get("gap_ci"),
                            _side(vs.get("gap_ci"), False), spec),
                      _cell(_num(vs.get("prob_improvement"), ".2f")),
                      _cell(_num(vs.get("wilcoxon_p"), ".3g"))]
        else:
            cells += ['<td class="small" colspan="4">the reference</td>']
        low_high, mean = _epochs(v["epochs"])
        extra = f'<span class="ci">mean {_esc(mean)}</span>' if mean else ""
        cells += [f'<td class="num">{_esc(low_high)}{extra}</td>', _cell(_zeros(v["zero_fraction"]))]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f'<th scope="col">{h}</th>' for h in head)
    return ('<section id="variants"><h2>Variants</h2><div class="scroll">'
            f'<table class="variants"><thead><tr>{header}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
            '<p class="small">Each cell: mean ± standard deviation over seeds, and below it the 95% '
            "percentile bootstrap interval over seeds. "
            "Differences are paired by seed (variant − baseline); green: the interval excludes "
            "zero on the better side, red: on the worse side. The gap is the train metric minus "
            "the validation metric (validation minus train for a loss): above zero, the model "
            "overfits. P(improvement) is the probability that a seed of the variant beats a seed "
            "of the baseline (Mann–Whitney U / n·m).</p></section>")


def _epochs(epochs) -> tuple[str, str]:
    """The range of epochs run over seeds, and their mean when they differ."""
    values = [int(e) for e in epochs or [] if _finite(e) is not None]
    if not values:
        return "—", ""
    low, high = min(values), max(values)
    return (str(low), "") if low == high else (f"{low}–{high}", f"{sum(values) / len(values):.1f}")


def _zeros(fractions) -> str:
    values = [f for f in (_finite(x) for x in fractions or []) if f is not None]
    return "—" if not values else f"{sum(values) / len(values):.1%}"


def _groups_section(result: dict) -> str:
    groups = result.get("groups") or []
    if not groups:
        return ""
    rows = "".join(
        f"<tr><td>{_esc(g.get('name', ''))}</td><td>{_esc(', '.join(map(str, g.get('variants', []))))}"
        f"</td><td>{_esc(g.get('mode', ''))}</td><td>{_esc(g.get('reason') or '')}</td>"
        f"{_cell(_num(g.get('seconds'), '.1f'))}</tr>" for g in groups)
    return ('<section id="groups"><h2>How the variants were trained</h2><p class="small">Variants '
            "that share an architecture train together as one stacked model with their seeds; the "
            "others train one by one.</p><table><thead><tr><th>group</th><th>variants</th>"
            "<th>mode</th><th>why</th><th>seconds</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def _forest_section(result: dict) -> str:
    names = list(result["variants"])
    variants = result["variants"].values()
    png = _plots.forest(names, [v["summary"] or {} for v in variants],
                        [v["gap_summary"] or {} for v in variants], result["metric"],
                        baseline=names.index(result["baseline"]) if result["baseline"] in names else 0)
    return ('<section id="intervals"><h2>Held-out metric and gap, with intervals</h2>'
            + _figure(png, "forest plot of the held-out metric and the gap per variant",
                      "Dashed lines: the baseline's mean (left) and no gap (right).") + "</section>")


def _curves_section(result: dict) -> str:
    figures = []
    for name, v in result["variants"].items():
        histories = [h for h in v["histories"] or [] if h]
        if not histories:
            continue
        png = _plots.learning_curves(name, histories, result["metric"])
        figures.append(_figure(png, f"learning curves of {name}",
                               f"{name} ({_settings(v['settings'])}): mean over seeds, band from the "
                               f"lowest to the highest seed; epochs run: {_epochs(v['epochs'])[0]}."))
    if not figures:
        return ""
    return ('<section id="curves"><h2>Learning curves</h2>'
            f'<div class="grid">{"".join(figures)}</div></section>')


def _sweep_section(result: dict) -> str:
    sweep = result.get("sweep")
    if not sweep:
        return ""
    png = _plots.sweep_curve(sweep, result["metric"])
    return (f'<section id="sweep"><h2>Sweep of {_esc(sweep["param"])}</h2>'
            + _figure(png, f"sweep of {sweep['param']}",
                      f"Best value {_num(sweep['best'])}; one-standard-error choice "
                      f"{_num(sweep['one_se'])} (the strongest setting whose validation mean is "
                      "within one standard error of the best).") + "</section>")


def _weights_section(result: dict) -> str:
    items, survivors = [], []
    for name, v in result["variants"].items():
        weights = v.get("weights")
        if weights and weights.get("counts") and weights.get("edges"):
            zeros = [f for f in (_finite(x) for x in v["zero_fraction"] or []) if f is not None]
            items.append((name, weights, sum(zeros) / len(zeros) if zeros else None))
        if v.get("surviving_inputs"):
            survivors.append((name, v["surviving_inputs"]))
    parts = []
    if items:
        parts.append(_figure(_plots.weight_histograms(items), "weight histograms per variant",
                             "The first layer's kernel, all seeds pooled; counts on a log scale."))
    if survivors:
        parts.append("<h3>Inputs that survived L1</h3>" + _figure(
            _plots.surviving_inputs(survivors), "surviving inputs per variant",
            "Share of seeds in which an input feature kept at least one non-zero weight in the "
            "first layer."))
    if not parts:
        return ""
    return '<section id="weights"><h2>Weights</h2>' + "".join(parts) + "</section>"


def _diagnoses_section(result: dict) -> str:
    cards = [_diagnosis_card(name, v["diagnosis"]) for name, v in result["variants"].items()
             if v.get("diagnosis")]
    if not cards:
        return ""
    return ('<section id="diagnoses"><h2>Diagnosis</h2>'
            f'<div class="grid">{"".join(cards)}</div></section>')


def _value(value) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return _num(value)
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _agreement(agreement) -> str:
    if isinstance(agreement, dict):
        return ", ".join(f"{k} {_num(v, '.0%')}" for k, v in agreement.items()) + " of seeds"
    if _finite(agreement) is not None:
        return f"{float(agreement):.0%} of seeds agree"
    return str(agreement)


def _diagnosis_card(name: str, diagnosis: dict) -> str:
    verdict = str(diagnosis.get("verdict", "no verdict"))
    slug = re.sub(r"[^a-z0-9]+", "-", verdict.lower()).strip("-")
    parts = [f"<h3>{_esc(name)} <span class=\"verdict v-{slug}\">{_esc(verdict)}</span></h3>"]
    if diagnosis.get("agreement") is not None:
        parts.append(f'<p class="small">{_esc(_agreement(diagnosis["agreement"]))}</p>')
    for key, value in diagnosis.items():
        if key not in ("verdict", "agreement", "evidence", "recommendations") and (
                isinstance(value, str) or (isinstance(value, list) and value
                                           and all(isinstance(x, str) for x in value))):
            parts.append(f"<p>{_esc(_value(value))}</p>")
    evidence = diagnosis.get("evidence")
    if isinstance(evidence, dict) and evidence:
        parts.append("<dl>" + "".join(f"<dt>{_esc(k.replace('_', ' '))}</dt><dd>{_esc(_value(v))}"
                                      "</dd>" for k, v in evidence.items()) + "</dl>")
    elif evidence:
        parts.append(f"<p>{_esc(evidence)}</p>")
    recommendations = diagnosis.get("recommendations")
    if isinstance(recommendations, list):
        parts.append(_recommendations(recommendations))
    return f'<div class="card">{"".join(parts)}</div>'


def _recommendations(recommendations: list, top: int = 3) -> str:
    if not recommendations:
        return '<p class="small">No change recommended.</p>'
    items = []
    for rec in recommendations[:top]:
        if not isinstance(rec, dict):
            items.append(f"<li>{_esc(rec)}</li>")
            continue
        settings = rec.get("settings")
        code = f" <code>{_esc(_settings(settings))}</code>" if settings else ""
        reason = f": {_esc(rec['reason'])}" if rec.get("reason") else ""
        items.append(f"<li><strong>{_esc(rec.get('technique', ''))}</strong>{code}{reason}</li>")
    more = len(recommendations) - top
    tail = f'<p class="small">and {more} more</p>' if more > 0 else ""
    return "<p>Try:</p><ol>" + "".join(items) + "</ol>" + tail


def _footer() -> str:
    from regulab import __version__
    return f'<p class="small" style="margin-top:32px">Written by regulab {_esc(__version__)}.</p>'
