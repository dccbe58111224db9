"""Colour contrast of the style sheet (WCAG 2 ratios) and visible focus for links, buttons and inputs.

The screen rules of static/app.css are read (print rules are not: paper is black on white): each rule that sets
a text colour is checked against the background it sits on (its own, an ancestor rule's such as `header` for
`header a`, or else every light surface of the page: the body and every rule that shades a background without
setting a text colour). Text is held to 4.5:1 (the body-text level, stricter than the 3:1 large text needs);
borders of controls, chart bars and the focus outline to 3:1. The browser test (test_web_pages_browser.py)
measures the rendered pages as well."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import subsidy_engine.web

CSS = Path(subsidy_engine.web.__file__).parent / "static" / "app.css"
TEXT, NON_TEXT = 4.5, 3.0
NAMED = {"white": "#ffffff", "black": "#000000"}
COLOUR = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b|rgba?\([^)]*\)|\b(?:white|black|transparent)\b")


@dataclass
class Rule:
    media: str
    selector: str
    decls: dict[str, str]


def rules(css: str, media: str = "") -> list[Rule]:
    """The rules of a style sheet, `@media` blocks opened (with their condition), other at-rules skipped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out: list[Rule] = []
    i = 0
    while (open_ := css.find("{", i)) != -1:
        head = css[i:open_].strip()
        depth, j = 1, open_ + 1
        while depth:
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
        body = css[open_ + 1 : j - 1]
        if head.startswith("@media"):
            out += rules(body, head)
        elif not head.startswith("@"):
            decls = {}
            for d in body.split(";"):
                name, _, value = d.partition(":")
                if value.strip():
                    decls[name.strip().lower()] = value.strip().lower()
            out += [Rule(media, s.strip(), decls) for s in head.split(",")]
        i = j
    return out


def rgb(value: str) -> tuple[int, int, int] | None:
    """A colour as (r, g, b); None for `transparent` or a colour with alpha below 1."""
    value = NAMED.get(value, value)
    if value == "transparent":
        return None
    if value.startswith("#"):
        h = value[1:]
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    parts = [float(p) for p in re.split(r"[\s,/]+", value[value.index("(") + 1 : -1].strip())]
    if len(parts) > 3 and parts[3] < 1:
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def luminance(c: tuple[int, int, int]) -> float:
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = map(channel, c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: str, b: str) -> float:
    ca, cb = rgb(a), rgb(b)
    assert ca is not None and cb is not None, (a, b)
    hi, lo = sorted((luminance(ca), luminance(cb)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def colour_of(value: str | None) -> str | None:
    m = COLOUR.search(value or "")
    return m.group(0) if m else None


SCREEN = [r for r in rules(CSS.read_text(encoding="utf-8")) if "print" not in r.media]


def background(rule: Rule) -> str | None:
    c = colour_of(rule.decls.get("background-color") or rule.decls.get("background"))
    return c if c is not None and rgb(c) is not None else None


def backgrounds_under(rule: Rule) -> list[str]:
    """What a rule's text is drawn on: its own background, or what is around it."""
    own = background(rule)
    return [own] if own else around(rule)


def around(rule: Rule) -> list[str]:
    """What surrounds a rule's box (where its border and focus ring are seen): an ancestor rule's background
    (`header` for `header a`), or else every surface of the page."""
    ancestors = [
        r
        for r in SCREEN
        if background(r) and r.selector != rule.selector and rule.selector.startswith(r.selector + " ")
    ]
    if ancestors:
        return [background(max(ancestors, key=lambda r: len(r.selector))) or ""]
    return SURFACES


def inherited_colour(rule: Rule) -> str | None:
    """The text colour of a rule that shades a background only: its base rule's (`.badge` for `.badge.failed`,
    `button` for `button.secondary`), else the body's."""
    bases = [
        r
        for r in SCREEN
        if "color" in r.decls
        and rule.selector[len(r.selector) : len(r.selector) + 1] in (".", ":", "[")
        and rule.selector.startswith(r.selector)
    ]
    base = max(bases, key=lambda r: len(r.selector)) if bases else BODY
    return colour_of(base.decls["color"])


BODY = next(r for r in SCREEN if r.selector == "body")
SURFACES = sorted(
    {background(BODY) or "#fff"}
    | {
        b
        for r in SCREEN
        if (b := background(r)) and "color" not in r.decls and luminance(rgb(b) or (0, 0, 0)) > 0.5
    }
)


def test_the_ratio_is_wcags() -> None:
    assert ratio("#000", "#fff") == pytest.approx(21)
    assert ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert ratio("#e08a00", "#fff") < NON_TEXT  # the old focus orange: too pale on white


def test_every_text_colour_reads_on_its_background() -> None:
    pairs = [
        (r.selector, colour_of(r.decls["color"]), bg)
        for r in SCREEN
        if "color" in r.decls
        for bg in backgrounds_under(r)
    ]
    pairs += [("body", colour_of(BODY.decls["color"]), s) for s in SURFACES]  # inherited onto every surface
    pairs += [
        (r.selector, inherited_colour(r), bg)
        for r in SCREEN
        if "color" not in r.decls and (bg := background(r))
    ]
    checked = [(sel, fg, bg, round(ratio(fg, bg), 2)) for sel, fg, bg in pairs if fg and rgb(fg)]
    assert len(checked) >= 20 and len(SURFACES) >= 3, (checked, SURFACES)
    low = [c for c in checked if c[3] < TEXT]
    assert not low, low


def test_control_borders_chart_bars_and_focus_rings_stand_out() -> None:
    checked = []
    for r in SCREEN:
        for prop in ("border", "border-color", "fill", "outline", "outline-color"):
            c = colour_of(r.decls.get(prop))
            is_control = (
                prop in ("fill",)
                or "outline" in prop
                or re.search(r"\b(input|select|button)\b|\.button", r.selector)
            )
            if c and rgb(c) and is_control:
                checked += [(r.selector, prop, c, bg, round(ratio(c, bg), 2)) for bg in around(r)]
    assert any(c[1].startswith("outline") for c in checked) and any(c[1] == "fill" for c in checked)
    low = [c for c in checked if c[4] < NON_TEXT]
    assert not low, low


def test_links_buttons_and_inputs_show_where_the_focus_is() -> None:
    focus = [r for r in SCREEN if ":focus" in r.selector]
    ring = next(
        r for r in focus if r.selector == ":focus-visible"
    )  # every focusable element: a, button, input…
    width = re.search(r"(\d+(?:\.\d+)?)px", ring.decls["outline"])
    assert width and float(width.group(1)) >= 2 and "solid" in ring.decls["outline"]
    colour = colour_of(ring.decls["outline"])
    assert colour and all(ratio(colour, s) >= NON_TEXT for s in SURFACES)
    header = background(next(r for r in SCREEN if r.selector == "header"))
    assert header
    in_header = next((r for r in focus if r.selector.startswith("header ")), None)
    shown = colour_of(in_header.decls.get("outline-color")) if in_header else colour
    assert shown and ratio(shown, header) >= NON_TEXT, (shown, header)
    for r in SCREEN:  # nothing takes the outline away
        assert not re.fullmatch(r"none|0(px)?", r.decls.get("outline", "x")), r.selector
