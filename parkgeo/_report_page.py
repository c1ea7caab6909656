"""The report's page: CSS for screen and A4 print, the sorting script, assembly and PDF.

The page is one HTML file with everything inline (no font, script, style or image is
fetched), so it opens from a share with no network and prints the same way everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from parkgeo._errors import ParkgeoError
from parkgeo._legend import esc

__all__ = ["CHROMIUM_CANDIDATES", "find_chromium", "page_html", "print_pdf"]

CSS = """
:root { --ink: #222; --muted: #666; --line: #d9d9d9; --accent: #1f5fa8; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC",
  "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 1100px; padding: 24px 28px 60px; font-size: 14px; line-height: 1.5; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; border-bottom: 2px solid var(--accent); padding-bottom: 3px; margin: 30px 0 10px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
h4 { font-size: 13.5px; margin: 12px 0 4px; }
.pg-sub, .pg-note { color: var(--muted); font-size: 12.5px; }
nav ol { columns: 2; font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 7px; text-align: right;
  vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
th.t, td.t { text-align: left; }
td.pop, span.pop { color: var(--muted); font-size: 11.5px; }
table.pg-sortable th[data-col] { cursor: pointer; user-select: none; }
th.pg-group { text-align: center; border-bottom: 1px solid #bbb; }
table.pg-sortable th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 9px; }
table.pg-sortable th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 9px; }
tr.pg-city td { font-weight: 600; background: #fafafa; }
.st-met { color: #1a7f37; font-weight: 600; }
.st-on_track { color: #5a7d00; font-weight: 600; }
.st-behind { color: #c2410c; font-weight: 600; }
.st-no_data, .st-baseline, .st-no_baseline, .st-no_target, .st-suppressed,
.st-not_applicable { color: var(--muted); }
.pg-sentences li { margin-bottom: 4px; }
.pg-grid { display: flex; flex-wrap: wrap; gap: 8px 14px; }
.pg-small { font-size: 11px; color: var(--muted); text-align: center; }
.pg-figures td.t { white-space: nowrap; }
.pg-card-head { display: flex; justify-content: space-between; gap: 14px; align-items: flex-start; }
.pg-card ol { margin: 2px 0 6px; padding-left: 20px; font-size: 12.5px; }
.pg-card ul { margin: 2px 0 6px; padding-left: 20px; font-size: 12.5px; }
svg.pg-chart, svg.pg-locator { display: block; }
footer { margin-top: 30px; color: var(--muted); font-size: 11px; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  @page wide { size: A4 landscape; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  section.pg-section { break-before: page; }
  section.pg-section:first-of-type { break-before: auto; }
  section.pg-wide { page: wide; }
  .pg-card { break-before: page; font-size: 9pt; }
  #scorecards > article.pg-card:first-of-type { break-before: auto; }
  .pg-card ol, .pg-card ul { font-size: 8.4pt; margin-bottom: 3px; }
  .pg-card h4 { margin: 6px 0 2px; }
  .pg-card table { margin: 3px 0 4px; }
  table { font-size: 8.6pt; }
  thead { display: table-header-group; }
  tr, .pg-chart, .pg-locator, .pg-keep { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  table.pg-sortable th { cursor: auto; }
}
"""

SORT_JS = """
(function () {
  function key(td, numeric) {
    var v = td.getAttribute("data-v");
    if (numeric) { var x = parseFloat(v); return isNaN(x) ? null : x; }
    return (v === null ? td.textContent : v).trim();
  }
  document.querySelectorAll("table.pg-sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th[data-col]");
    heads.forEach(function (th) {
      var col = parseInt(th.getAttribute("data-col"), 10);
      th.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "num";
        var dir = th.getAttribute("aria-sort") === "descending" ? "ascending" : "descending";
        if (!numeric && !th.getAttribute("aria-sort")) { dir = "ascending"; }
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var sign = dir === "ascending" ? 1 : -1;
        rows.sort(function (a, b) {
          var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
          if (x === null && y === null) { return 0; }
          if (x === null) { return 1; }  // missing values last either way
          if (y === null) { return -1; }
          if (numeric) { return sign * (x - y); }
          return sign * x.localeCompare(y, document.documentElement.lang);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  window.parkgeoReadyAt = performance.now();
  window.parkgeoReady = true;
})();
"""


def page_html(*, lang: str, title: str, body: str) -> str:
    """The whole page around ``body`` (HTML already escaped by the sections)."""
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        f"<script>{SORT_JS}</script>\n</body>\n</html>\n"
    )


CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """Path of a headless-capable Chromium (``PARKGEO_CHROMIUM`` first), or None."""
    given = os.environ.get("PARKGEO_CHROMIUM")
    for candidate in ([given] if given else []) + list(CHROMIUM_CANDIDATES):
        path = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if path and os.path.exists(path):
            return path
    return None


def print_pdf(html_path: Path, pdf_path: Path, *, chromium: str | None = None) -> Path:
    """Print ``html_path`` to ``pdf_path`` (A4, the page's print CSS) with headless Chromium.

    Raises
    ------
    ParkgeoError
        When no Chromium is found or it fails; the message says how to get one.
    """
    from parkgeo.io import atomic_path

    exe = chromium or find_chromium()
    if exe is None:
        raise ParkgeoError(
            "no PDF written: headless Chromium was not found (set PARKGEO_CHROMIUM or install "
            "it, e.g. apt-get install chromium); the HTML report prints to A4 from any browser"
        )
    with (
        tempfile.TemporaryDirectory(prefix="parkgeo-pdf-") as profile,
        atomic_path(pdf_path) as tmp,
    ):
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={tmp}",
            Path(html_path).resolve().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ParkgeoError(f"no PDF written: {exe} failed ({exc})") from exc
        if done.returncode != 0 or not Path(tmp).exists() or Path(tmp).stat().st_size == 0:
            tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise ParkgeoError(f"no PDF written: {exe} exited with {done.returncode} ({tail[0]})")
    return Path(pdf_path)
