"""Every console page of the bureau, the agency and a street, in English at 200% zoom.

The pages are found by following links from each role's home (GET links under
the role's prefix; downloads and pictures skipped), on the demo district.  On
each page:

- Chinese data (street names, comments, document titles...) inside the English
  page sits in an element marked ``lang="zh-CN"``, so screen readers switch voice;
- at 200% zoom (a 640 px wide viewport, as 1280 px at 200%) the page does not
  scroll sideways; a wide table scrolls inside its own box, which can be
  reached with the keyboard and has a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest

from .conftest import sign_in

pytestmark = pytest.mark.browser

ZOOM_200 = {"viewport": {"width": 640, "height": 900}, "bypass_csp": True}

UNMARKED_CHINESE = r"""() => {
  const cjk = /[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]/;
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!cjk.test(n.nodeValue)) continue;
    const el = n.parentElement;
    if (!el || el.closest('script, style, [hidden], [aria-hidden="true"]')) continue;
    const lang = el.closest('[lang]');
    if (lang && lang.getAttribute('lang').toLowerCase().startsWith('zh')) continue;
    out.push(el.tagName.toLowerCase() + ': ' + n.nodeValue.trim().slice(0, 40));
  }
  return out.slice(0, 8);
}"""

SIDEWAYS = r"""() => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    out.push('page ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
  }
  for (const e of document.querySelectorAll('body *')) {
    const s = getComputedStyle(e);
    if (!['auto', 'scroll'].includes(s.overflowX) || e.scrollWidth <= e.clientWidth + 1) continue;
    const named = e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')
      || (e.tagName === 'FIGURE' && e.querySelector('figcaption, img[alt]'));
    if (e.tabIndex < 0 || !named) {
      out.push('scroller without keyboard access or name: ' + e.tagName + '.' + e.className);
    }
  }
  return out.slice(0, 5);
}"""

SKIP = re.compile(
    r"\.(pdf|csv|xlsx|sav|png|svg|json)$|/thumb$|/evidence/\d+$|/export|/lang/|/text-size/"
    r"|/auth/logout|/interview/[^/]+/"
)


def crawl(page, base: str, prefix: str, limit: int = 45) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Same-origin GET links under ``prefix``, breadth first, one page per URL shape."""
    seen_shapes: set[str] = set()
    queue, visited = [f"{base}{prefix}"], []
    while queue and len(visited) < limit:
        url = queue.pop(0)
        shape = re.sub(r"\d+", "N", urlsplit(url).path)
        if shape in seen_shapes:
            continue
        seen_shapes.add(shape)
        response = page.goto(url)
        if (
            response is None
            or response.status != 200
            or "html" not in (response.headers.get("content-type", ""))
        ):
            continue
        visited.append(url)
        yield url
        hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
        for href in hrefs:
            target = urljoin(url, href).split("#")[0]
            parts = urlsplit(target)
            if not target.startswith(base) or not parts.path.startswith(prefix):
                continue
            if SKIP.search(parts.path):
                continue
            if target not in queue and target not in visited:
                queue.append(target)


@pytest.mark.parametrize(
    ("user", "password", "prefix", "least"),
    [
        ("admin", "Demo-Admin-2026", "/admin/", 20),
        ("agency", "Demo-Agency-2026", "/agency/", 4),
        ("ninghailu", "Demo-Street-2026", "/street/", 4),
    ],
)
def test_console_in_english_at_200_percent(
    demo_live, session_browser, shots, user, password, prefix, least
):
    url = demo_live.url
    context = session_browser.new_context(**ZOOM_200)
    page = context.new_page()
    sign_in(page, url, user, password)
    page.goto(f"{url}/lang/en?next={prefix}")
    problems, pages = [], []
    for here in crawl(page, url, prefix):
        page.wait_for_load_state("load")
        pages.append(here)
        unmarked = page.evaluate(UNMARKED_CHINESE)
        if unmarked:
            problems.append(f"{here}: Chinese not marked lang=zh-CN: {unmarked}")
        sideways = page.evaluate(SIDEWAYS)
        if sideways:
            problems.append(f"{here}: {sideways}")
        if shots is not None:
            name = re.sub(r"[^a-z0-9]+", "-", urlsplit(here).path + "-" + urlsplit(here).query)
            page.screenshot(path=str(shots / f"en640{name.rstrip('-')}.png"), full_page=True)
    context.close()
    assert len(pages) >= least, pages
    assert not problems, f"{len(problems)} of {len(pages)} pages:\n" + "\n".join(problems)
