"""The report's building blocks: its inline style sheet, and escaping and number formatting for HTML."""
from __future__ import annotations

import html
import math

_CSS = """
.regulab-report{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 color:#1d2329;line-height:1.45;max-width:1240px;margin:0 auto;padding:24px 28px;font-size:14px}
.regulab-report h1{font-size:24px;margin:0 0 6px}
.regulab-report h2{font-size:18px;margin:30px 0 10px;border-bottom:1px solid #d8dde3;padding-bottom:4px}
.regulab-report h3{font-size:15px;margin:0 0 6px}
.regulab-report .meta{color:#4b5561;margin:2px 0}
.regulab-report .headline{font-size:15px;background:#eef5ee;border-left:4px solid #2ca02c;
 padding:8px 12px;margin:14px 0}
.regulab-report ul.notes{background:#fff8e6;border-left:4px solid #e0a800;padding:8px 12px 8px 30px}
.regulab-report table{border-collapse:collapse;margin:6px 0;font-size:13px}
.regulab-report th,.regulab-report td{border-bottom:1px solid #e3e7eb;padding:5px 7px;
 text-align:left;vertical-align:top}
.regulab-report thead th{background:#f1f3f5;border-bottom:2px solid #c9d0d7}
.regulab-report .scroll{overflow-x:auto}
.regulab-report td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.regulab-report .ci{display:block;color:#5f6b77;font-size:12px}
.regulab-report .better{background:#e3f4e1}
.regulab-report .worse{background:#fbe4e4}
.regulab-report code{font-size:12px;background:#f3f4f6;padding:1px 4px;border-radius:3px}
.regulab-report .small{color:#5f6b77;font-size:12px}
.regulab-report .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
.regulab-report figure{margin:8px 0;background:#fff;border:1px solid #e3e7eb;border-radius:6px;padding:8px}
.regulab-report figure img{max-width:100%;height:auto;display:block}
.regulab-report figcaption{font-size:12px;color:#4b5561;margin-top:4px}
.regulab-report .card{border:1px solid #e3e7eb;border-radius:6px;padding:10px 14px;background:#fff}
.regulab-report .verdict{display:inline-block;border-radius:10px;padding:1px 9px;font-weight:600;
 font-size:12px;background:#e9ecef}
.regulab-report .v-overfitting{background:#fbe4e4;color:#8a1c1c}
.regulab-report .v-underfitting{background:#ece4fb;color:#4b1c8a}
.regulab-report .v-good-fit{background:#e3f4e1;color:#1e5e1a}
.regulab-report .v-still-improving{background:#e1ecf8;color:#1a4a7e}
.regulab-report .v-unstable{background:#fff1cc;color:#7a5500}
.regulab-report dl{display:grid;grid-template-columns:max-content 1fr;gap:1px 12px;margin:6px 0;
 font-size:13px}
.regulab-report dt{color:#5f6b77}
.regulab-report dd{margin:0}
"""
_PAGE_CSS = "body{margin:0;background:#f7f8fa}"


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _num(value, spec: str = ".4g") -> str:
    number = _finite(value)
    return "—" if number is None else format(number, spec)


def _interval(ci, spec: str = ".4g") -> str:
    if not ci or len(ci) != 2:
        return "—"
    return f"[{_num(ci[0], spec)}, {_num(ci[1], spec)}]"
