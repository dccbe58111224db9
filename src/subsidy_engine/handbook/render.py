"""The handbook's blocks (book.py) as Markdown and as one self-contained, printable HTML page (inline CSS, no
external asset: the office laptop may be offline), and the two files written to a folder."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

from subsidy_engine.handbook.book import Block, build
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.run.outdir import atomic_folder, os_errors

LINK = re.compile(r"\[([^\]]+)\]\(#([\w-]+)\)")
FILES = ("handbook.html", "handbook.md")

CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimSun", sans-serif;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.6; color: #222; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #335; padding-bottom: .3rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 1px solid #aab; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #99a; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #e8ecf4; }
tr.assumed td { color: #7a4b00; font-style: italic; }
tr.current td { background: #fff3c4; font-weight: bold; }
nav.bar { padding: .4rem 0; border-bottom: 1px solid #ccd; }
nav.bar form { display: flex; gap: 1rem; align-items: center; }
ul { margin: .3rem 0 .8rem; }
a { color: #224; }
@media print {
  body { max-width: none; margin: 0; font-size: 10.5pt; }
  nav.bar { display: none; }
  h2 { page-break-before: always; }
  h1 + p, h2#toc, h2#in-force { page-break-before: avoid; }
  table, tr { page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  tr.current td { background: #eee; }
}
"""


def markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            if b.anchor:
                out.append(f'<a id="{b.anchor}"></a>')
            out.append("#" * int(b.kind[1]) + " " + b.text)
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "ul":
            out.append("\n".join(f"- {i}" for i in b.items))
        elif b.kind == "table":
            cells = [[_md_cell(c) for c in row] for row in b.rows]
            cells = [[f"**{c}**" if c and i in b.marked else c for c in row] for i, row in enumerate(cells)]
            lines = ["| " + " | ".join(b.header) + " |", "|" + "---|" * len(b.header)]
            lines += ["| " + " | ".join(row) + " |" for row in cells]
            out.append("\n".join(lines))
        out.append("")
    return "\n".join(out)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def page(blocks: list[Block], bar: str = "") -> str:
    """The whole HTML page; `bar`, trusted HTML put first and left out of print, is the web app's navigation."""
    title = next((b.text for b in blocks if b.kind == "h1"), "规则手册")
    body: list[str] = [f'<nav class="bar">{bar}</nav>'] if bar else []
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            anchor = f' id="{b.anchor}"' if b.anchor else ""
            body.append(f"<{b.kind}{anchor}>{_inline(b.text)}</{b.kind}>")
        elif b.kind == "p":
            body.append(f"<p>{_inline(b.text)}</p>")
        elif b.kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b.header)
            rows = [
                f"<tr{_row_class(i, b)}>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for i, row in enumerate(b.rows)
            ]
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return (
        '<!doctype html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _row_class(i: int, b: Block) -> str:
    names = [n for n, rows in (("current", b.marked), ("assumed", b.assumed)) if i in rows]
    return f' class="{" ".join(names)}"' if names else ""


def _inline(text: str) -> str:
    """Escaped text with [words](#anchor) links."""
    out, pos = [], 0
    for m in LINK.finditer(text):
        out.append(html.escape(text[pos : m.start()]))
        out.append(f'<a href="#{m.group(2)}">{html.escape(m.group(1))}</a>')
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def write_book(rb: Rulebook, out: Path, on: dt.date | None = None, *, overwrite: bool = False) -> list[Path]:
    """handbook.html and handbook.md in the folder `out`, which appears whole (run/outdir.py: new or empty
    unless `overwrite`, its parent must exist); returns their paths."""
    blocks = build(rb, on)
    with atomic_folder(out, overwrite=overwrite, parents=False) as tmp, os_errors(out):
        (tmp / FILES[0]).write_text(page(blocks), encoding="utf-8")
        (tmp / FILES[1]).write_text(markdown(blocks), encoding="utf-8")
    return [out / name for name in FILES]
