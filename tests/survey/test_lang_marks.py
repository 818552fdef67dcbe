"""Chinese data inside English pages is marked lang="zh-CN" (survey/lang_marks.py)."""

from html.parser import HTMLParser

from survey.lang_marks import IDEOGRAPH, mark_chinese


class _Unmarked(HTMLParser):
    """Collect Chinese text not inside an element whose lang starts with zh."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "col", "area", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not IDEOGRAPH.search(data) or any(t in ("title", "script") for t, _ in self.stack):
            return
        lang = next((lang for _, lang in reversed(self.stack) if lang), "")
        if not lang.lower().startswith("zh"):
            self.found.append(data.strip())


def unmarked(html: str) -> list[str]:
    parser = _Unmarked()
    parser.feed(html)
    return parser.found


def test_runs_of_chinese_are_wrapped_and_english_stays_outside():
    html = (
        '<html lang="en"><head><title>宁海路 – minping</title></head><body>'
        "<h1>Survey wave · 鼓楼区</h1><p>Wave “2027年度居民满意度测评” and 宁海路街道, n = 5</p>"
        '<select><option value="1">宁海路街道</option><option>None</option></select>'
        '<textarea name="x">鼓楼区民政局</textarea>'
        '<a title="宁海路" href="/x">宁海路 (3)</a></body></html>'
    )
    out = mark_chinese(html)
    assert unmarked(html) and not unmarked(out)
    assert 'Survey wave · <span lang="zh-CN">鼓楼区</span>' in out
    assert '“<span lang="zh-CN">2027年度居民满意度测评</span>” and <span' in out
    assert '<option value="1" lang="zh-CN">宁海路街道</option><option>None</option>' in out
    assert '<textarea name="x" lang="zh-CN">' in out
    assert "<title>宁海路 – minping</title>" in out and 'title="宁海路"' in out
    assert mark_chinese("<p>no Chinese</p>") == "<p>no Chinese</p>"
    quoted = '<p title="得分 > 90">街道</p>'
    assert mark_chinese(quoted) == '<p title="得分 > 90"><span lang="zh-CN">街道</span></p>'


def test_full_width_punctuation_between_english_words_becomes_english():
    out = mark_chinese(
        "<p>街</p><p>admin（Street staff）</p><dd>Allowed；counted（+5.1～+9.0）</dd>"
    )
    assert "<p>admin (Street staff)</p>" in out
    assert "<dd>Allowed; counted (+5.1–+9.0)</dd>" in out


def test_english_console_pages_mark_street_and_wave_names(app, client, make_wave, make_user, login):
    wave = make_wave("w-lang", name="二〇二六年度测评")
    login(make_user("admin"))
    chinese = client.get(f"/admin/waves/{wave.code}").get_data(as_text=True)
    assert '<span lang="zh-CN">' not in chinese  # the Chinese UI needs no marks
    client.get("/lang/en")
    for path in (f"/admin/waves/{wave.code}", "/admin/", f"/admin/waves/{wave.code}/quotas"):
        page = client.get(path)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert '<span lang="zh-CN">二〇二六年度测评</span>' in html
        assert not unmarked(html), (path, unmarked(html)[:5])
