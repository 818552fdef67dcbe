"""Every sentence a document builds in Python: titles, addressees, band and rule words.

The documents' running text is in their templates (``templates/reports/``); what is
composed in code lives here and nowhere else, so a wording change is one edit.
Services store what the document builder computed (``NoticeData.title``,
``RankingData.title``, ``NoticeData.deadline``), never a second copy of it.
The web pages' translated words (``band_label`` in ``templates/macros.html``,
``survey.services.results.district_reference_label``) are the console's and the
public pages' own register; exports write band codes, not words.
"""

from __future__ import annotations

from collections.abc import Sequence

from reports.models import SampleCell, SampleComposition, sample_cells
from scoring.result import POOLED

# --- titles and addressees -----------------------------------------------------------------


def notice_title(street: str, wave_name: str, letter: bool) -> str:
    """Title of a street's 整改通知书, or of its 测评结果告知书 when ``letter``."""
    if letter:
        return f"关于{street}{wave_name}结果的告知书"
    return f"关于{street}{wave_name}结果及整改要求的通知"


def ranking_title(wave_name: str) -> str:
    """Title of the ranking report (通报) of a wave."""
    return f"关于{wave_name}结果的通报"


def escalation_title(street: str) -> str:
    """Title of a follow-up notice (督办通知) for ``street``."""
    return f"关于督促{street}加快整改逾期事项的通知"


def publication_title(street: str, wave_name: str) -> str:
    """Title of a street's public rectification list (整改公示)."""
    return f"{street}{wave_name}整改情况公示"


def supplement_title() -> str:
    """Title of a supplement (the document it supplements is named in the text)."""
    return "关于重新核定整改期限的补充说明"


def correction_title(title: str) -> str:
    """Title of a correction of the document titled ``title``."""
    return title + "（更正）"


def addressee_for(street: str) -> str:
    """主送机关 for a street: 街道办事处, or 人民政府 for a town (镇)."""
    return f"{street}人民政府：" if street.endswith("镇") else f"{street}办事处："


def doc_number(prefix: str, year: int, seq: int) -> str:
    """发文字号: ``鼓民整〔2026〕3号``."""
    return f"{prefix}〔{year}〕{seq}号"


def preview_number(prefix: str, year: int) -> str:
    """The 发文字号 line of a preview, which takes no number."""
    return f"{prefix}〔{year}〕号（预览，下发时编号）"


# --- bands and the rule behind them ----------------------------------------------------------

BAND_WORDS = {
    "above": "高于全区平均",
    "similar": "与全区平均持平",
    "below": "低于全区平均",
}
# the short form of a table cell (通报 表1), and of a complete street without a band
BAND_SHORT = {"above": "高于", "similar": "持平", "below": "低于"}
NO_BAND_SHORT = "暂不判定"
NO_DATA_BAND = "暂无法判定（有效样本不足）"

# "... 的，判定为高于或低于": what a street must show, per ``method.band_rule``
BAND_RULE_WORDS = {
    "alarm": "与全区平均之差超出99.8%警戒线",
    "alert": "与全区平均之差超出95%预警线",
    "fdr": "与全区平均之差经错误发现率（FDR，5%）校正后仍显著",
}
OLD_RULE_WORDS = "与全区平均之差的95%置信区间不含0"
# "按 ... 判定" in the methods appendix
BAND_RULE_LIMITS = {
    "alarm": "99.8% 控制限（漏斗图“警报”线）",
    "alert": "95% 控制限（漏斗图“提示”线）",
    "fdr": "错误发现率（Benjamini-Hochberg）控制",
}


def band_words(band: str | None) -> str:
    """Plain words for a band code (above / similar / below; ``None``: no data)."""
    if band is None:
        return NO_DATA_BAND
    try:
        return BAND_WORDS[band]
    except KeyError:
        raise ValueError(f"unknown band {band!r}: expected above, similar or below") from None


def band_short(band: str | None) -> str:
    """A band in a table cell: 高于 / 持平 / 低于, 暂不判定 without a band."""
    return BAND_SHORT.get(band or "", NO_BAND_SHORT)


def band_rule_words(rule: str | None) -> str:
    """What a street must show to be judged 高于 / 低于 under ``rule`` (older runs: the CI)."""
    return BAND_RULE_WORDS.get(rule, OLD_RULE_WORDS) if rule else OLD_RULE_WORDS


# --- the district reference --------------------------------------------------------------------

DISTRICT_REFERENCE_WORDS = {
    "population": "全区平均（按各街道人口加权）",
    "street_mean": "全区平均（各街道简单平均）",
}
# runs scored before the district reference was defined pooled all respondents
POOLED_REFERENCE_WORDS = "全区平均（全部受访者合并计算）"


def district_reference(reference: str | None) -> str:
    """Name the district reference a score is compared with.

    ``population``: streets weighted by their population counts; ``street_mean``:
    the plain mean of the streets; ``pooled`` or ``None`` (a run stored before the
    reference was recorded): the mean over all respondents pooled.
    """
    if reference is None or reference == POOLED:
        return POOLED_REFERENCE_WORDS
    return DISTRICT_REFERENCE_WORDS.get(reference, DISTRICT_REFERENCE_WORDS["street_mean"])


# --- sample composition ------------------------------------------------------------------------

VARIABLE_WORDS = {"age_band": "年龄", "gender": "性别"}
CATEGORY_WORDS = {
    "18-34": "18—34岁",
    "35-59": "35—59岁",
    "60-69": "60—69岁",
    "70-79": "70—79岁",
    "80+": "80岁及以上",
    "female": "女",
    "male": "男",
}


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def category_words(category: str) -> str:
    """An age band or gender code in words (the code itself when unknown)."""
    return CATEGORY_WORDS.get(category, category)


def composition_text(comp: SampleComposition | None) -> str:
    """Sample shares with the population's in brackets: ``18—34岁 12%（20%）、…``.

    Categories that neither the sample nor the population has are left out; the
    respondents who did not say are counted at the end.
    """
    if comp is None:
        return "—"
    parts = []
    for r in comp.rows:
        if not r.n and not r.population:
            continue
        sample = _pct(r.sample) if r.sample is not None else "—"
        population = f"（{_pct(r.population)}）" if r.population is not None else ""
        parts.append(f"{category_words(r.category)} {sample}{population}")
    if comp.undisclosed:
        parts.append(f"未填{comp.undisclosed}人")
    return "、".join(parts) or "—"


def composition_warning(comp: SampleComposition) -> str:
    """What is wrong with a cell's sample, in words (empty when nothing is)."""
    out = []
    for r in comp.far:
        assert r.sample is not None and r.population is not None
        side = "偏高" if r.sample > r.population else "偏低"
        out.append(
            f"{category_words(r.category)}{side}{abs(100 * (r.sample - r.population)):.0f}个百分点"
        )
    if comp.below_quota and comp.quota:
        out.append(f"样本{comp.n}份，仅为配额{comp.quota}份的{_pct(comp.n / comp.quota)}")
    return "；".join(out)


# the alternative weighting schemes of the rank sensitivity (scoring.sensitivity.SCHEMES)
SCHEME_WORDS = {
    "equal_shares": "各群体等权",
    "residents_only": "只计居民",
    "equal_dimensions": "维度等权",
    "equal_indicators": "指标等权",
    "entropy": "熵权",
    "ahp": "AHP权重",
}


def cell_warning(cell: SampleCell, sep: str = "；") -> str:
    """A street x group's warnings in words (empty when none)."""
    return sep.join(w for c in cell.parts if (w := composition_warning(c)))


def composition_warnings(compositions: Sequence[SampleComposition]) -> list[str]:
    """One clause per street x group with a warning: ``老年居民：70—79岁偏高12个百分点``."""
    return [f"{c.group}：{cell_warning(c, '，')}" for c in sample_cells(compositions) if c.warned]
