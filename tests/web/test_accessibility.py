"""Accessibility basics, checked in the HTML of every page as its role, in both languages:
the document language, one h1 and headings in order, a skip link to the main part, a label
for every field, alt text on every image, captions on tables, and a viewport for phones."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from tests.web.conftest import ANON, ROLES, Portal
from tests.web.pages import PAGE_REQUESTS, call

from socialcredit.web.access import PAGE_ACCESS

FIELDS = ("input", "select", "textarea")
UNLABELLED_TYPES = ("hidden", "submit", "button", "reset")


@dataclass
class Outline(HTMLParser):
    lang: str | None = None
    headings: list[int] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    label_for: set[str] = field(default_factory=set)
    fields: list[dict[str, str | None]] = field(default_factory=list)
    images: list[dict[str, str | None]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    tables: int = 0
    captions: int = 0
    viewport: bool = False
    open_labels: int = 0  # fields inside a <label> are labelled by it

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "html":
            self.lang = found.get("lang")
        elif len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))
        elif tag == "label":
            self.open_labels += 1
            if found.get("for"):
                self.label_for.add(str(found["for"]))
        elif tag in FIELDS and found.get("type") not in UNLABELLED_TYPES:
            self.fields.append({**found, "wrapped": "yes" if self.open_labels else None})
        elif tag == "img":
            self.images.append(found)
        elif tag == "a":
            self.links.append(found.get("href") or "")
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "meta" and found.get("name") == "viewport":
            self.viewport = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1


def check_page(html: str, where: str, lang: str) -> None:
    page = Outline()
    page.feed(html)
    assert page.lang == lang, where
    assert page.viewport, where
    assert page.headings.count(1) == 1 and page.headings[0] == 1, (where, page.headings)
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, (where, "a heading level is skipped", page.headings)
    assert page.links and page.links[0] == "#main" and "main" in page.ids, where
    for found in page.fields:
        labelled = found["wrapped"] or found.get("aria-label") or found.get("id") in page.label_for
        assert labelled, (where, "a field without a label", found)
    for image in page.images:
        assert (image.get("alt") or "").strip(), (where, "an image without alt text", image)
    assert page.captions == page.tables, (where, "a table without a caption")


def html_pages() -> list[tuple[str, str]]:
    skip = ("/static/portal.css", "/language", "/login")
    return sorted(
        route for route in PAGE_REQUESTS
        if route[1] not in skip and not route[1].endswith((".pdf", ".png", "}"))
        and not (route[0] == "POST" and route[1] in ("/logout",))
    )  # fmt: skip


def who_may(route: tuple[str, str]) -> str:
    access = PAGE_ACCESS[route]
    return ANON if access.public else next(role for role in ROLES if access.admits(role))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_has_the_basics(portal: Portal, lang: str):
    checked = 0
    for route in html_pages():
        who = who_may(route)
        portal.client(who).cookies.set("sc_lang", lang, domain="testserver.local")
        response = call(portal, *route, who)
        if response.status_code == 303:  # a form that redirects: check where it lands
            response = portal.client(who).get(response.headers["location"])
        assert response.headers["content-type"].startswith("text/html"), route
        check_page(response.text, f"{route} {lang}", "en" if lang == "en" else "zh-Hans")
        checked += 1
    assert checked >= 20
    for role_or_anon in (ANON, "clerk"):  # the login form and an error page too
        client = portal.client(role_or_anon)
        check_page(client.get("/login").text, "/login", "en" if lang == "en" else "zh-Hans")
        check_page(
            client.get("/nope", headers={"accept": "text/html"}).text,
            "404",
            "en" if lang == "en" else "zh-Hans",
        )


def test_the_checker_finds_what_it_should():
    good = (
        '<html lang="en"><meta name="viewport"><a href="#main">skip</a><main id="main">'
        '<h1>x</h1><h2>y</h2><label for="a">A</label><input id="a"></main></html>'
    )
    check_page(good, "good", "en")
    for bad in (
        good.replace('lang="en"', ""),
        good.replace("<h2>y</h2>", "<h3>y</h3>"),
        good.replace("<h2>y</h2>", "<h1>y</h1>"),
        good.replace('<label for="a">A</label>', ""),
        good.replace('<a href="#main">skip</a>', ""),
        good.replace("</main>", '<img src="p.png"></main>'),
        good.replace("</main>", "<table><tr><td>1</td></tr></table></main>"),
    ):
        with pytest.raises(AssertionError):
            check_page(bad, "bad", "en")


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(one: str, two: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_text_colours_have_sufficient_contrast():
    """WCAG AA (4.5:1) for every text colour of the stylesheet on the background it is used on."""
    from pathlib import Path

    css = (Path(__file__).parents[2] / "src/socialcredit/web/static/portal.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    pairs = [
        ("ink", "paper"), ("muted", "paper"), ("accent", "paper"), ("accent-ink", "accent"),
        ("good", "paper"), ("bad", "paper"), ("warn-ink", "warn-bg"), ("ink", "band"),
        ("muted", "band"), ("accent", "band"),
    ]  # fmt: skip
    for text, background in pairs:
        ratio = contrast(colours[text], colours[background])
        assert ratio >= 4.5, (text, background, round(ratio, 2))
    assert round(contrast("#ffffff", "#000000"), 1) == 21.0
