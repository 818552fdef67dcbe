"""Fixtures for the document tests: a small scores JSON in the shape of docs/scores-json.md."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reports.calendar import OfficialCalendar
from reports.notice import NoticeSettings

DIMENSIONS = {"D1": "党建引领", "D2": "城市治理", "D3": "民生保障", "D4": "社会建设"}
INDICATORS = {
    "I01": "社区党组织作用发挥", "I02": "党员先锋与志愿服务", "I03": "干部作风与诉求回应",
    "I04": "环境卫生", "I05": "垃圾分类", "I06": "文明养犬", "I07": "电动车停放充电",
    "I08": "停车秩序", "I09": "市容秩序", "I10": "为老服务", "I11": "社区医疗卫生",
    "I12": "就业与救助", "I13": "物业与老旧小区", "I14": "便民服务与办事效率",
    "I15": "治安与安全感", "I16": "矛盾调解与邻里关系", "I17": "文体活动与居民参与",
}  # fmt: skip
MEMBERS = {
    "D1": ["I01", "I02", "I03"],
    "D2": ["I04", "I05", "I06", "I07", "I08", "I09"],
    "D3": ["I10", "I11", "I12", "I13", "I14"],
    "D4": ["I15", "I16", "I17"],
}


def estimate(score: float, half: float, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "score": score,
        "ci_low": round(score - half, 2),
        "ci_high": round(score + half, 2),
        "n": n,
        "dk_rate": 0.05,
        "satisfaction_rate": round((score - 30) / 70, 3),
        **extra,
    }


def street(
    name: str, level: float, n: int, rank: tuple[int, int, int], band: str
) -> dict[str, Any]:
    codes = list(INDICATORS)
    # I07 and I08 (e-bikes, parking) lag behind the district in every street
    inds = {
        c: estimate(
            level - (9.0 if c in ("I07", "I08") else 0.0) + (i % 4) * 0.5, 4.0, n,
            attention=0.41 if c == "I07" else 0.12,
        )
        for i, c in enumerate(codes)
    }  # fmt: skip
    dims = {
        d: estimate(round(sum(inds[c]["score"] for c in cs) / len(cs), 2), 2.5, n)
        for d, cs in MEMBERS.items()
    }
    return {
        "street": name,
        "n": n,
        **estimate(level - 1.5, 1.8, n),
        "rank": rank[0],
        "rank_low": rank[1],
        "rank_high": rank[2],
        "band": band,
        "dimensions": dims,
        "indicators": inds,
        "priorities": ["I07", "I08", "I06"],
    }


@pytest.fixture(scope="session")
def scores() -> dict[str, Any]:
    """Three streets plus the district, as the scoring engine writes them."""
    district_inds = {c: estimate(86.0, 0.6, 1200, attention=0.15) for c in INDICATORS}
    district_dims = {d: estimate(86.0, 0.5, 1200) for d in MEMBERS}
    return {
        "method": {"boot": 1000, "seed": 20260101, "min_n": 30, "framework": "gulou-default"},
        "district": {
            **estimate(86.0, 0.5, 1200),
            "dimensions": district_dims,
            "indicators": district_inds,
        },
        "streets": [
            street("宁海路街道", 88.4, 412, (1, 1, 2), "above"),
            street("华侨路街道", 86.2, 398, (2, 1, 3), "similar"),
            street("湖南路街道", 82.1, 390, (3, 2, 3), "below"),
        ],
    }


@pytest.fixture(scope="session")
def settings() -> NoticeSettings:
    return NoticeSettings(
        authority="南京市鼓楼区民政局",
        mark="南京市鼓楼区民政局文件",
        doc_prefix="鼓民整",
        wave_name="2026年度居民满意度测评",
        issue_date=dt.date(2026, 3, 31),
        reply_address="区民政局基层政权建设科",
        calendar=OfficialCalendar.seeded(),
        copy_to="区委办、区政府办",
    )


@pytest.fixture(scope="session")
def names() -> tuple[dict[str, str], dict[str, str]]:
    """Dimension and indicator names of the default framework (scoring/data/gulou-default.toml)."""
    return DIMENSIONS, INDICATORS


def _pdffonts(path: Path) -> list[dict[str, str]]:
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name, type words..., encoding, emb, sub, uni, object, ID
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


@pytest.fixture(scope="session")
def pdffonts() -> Any:
    """Return a function listing ``pdffonts`` rows (poppler-utils): name, emb, sub, uni."""
    if shutil.which("pdffonts") is None:
        pytest.skip("poppler-utils (pdffonts) is not installed")
    return _pdffonts


@pytest.fixture(scope="session")
def read_text() -> Any:
    """Return a function giving a PDF's text with all whitespace removed (pdfplumber)."""
    import pdfplumber

    def read(path: Path) -> str:
        with pdfplumber.open(path) as pdf:
            return "".join("".join((p.extract_text() or "").split()) for p in pdf.pages)

    return read
