"""Benchmark: notice PDFs per minute (README.md, "Performance": >= 120/min on 2 cores).

Run explicitly (not part of the test suite)::

    .venv/bin/python tests/benchmarks/bench_notices.py [--streets 300] [--processes 2]

Prints notices per minute for the parallel run, seconds per PDF, peak RSS of the
parent and of the largest worker, and, as a peer measured in the same run, the
single-process rate on a few notices (the parallel speed-up).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from reports.bulk import generate_notices
from reports.notice import NoticeSettings, build_notice_data
from reports.sample import sample_scores

DIMENSIONS = {"D1": "党建引领", "D2": "城市治理", "D3": "民生保障", "D4": "社会建设"}
INDICATORS = dict(
    zip(
        [f"I{i:02d}" for i in range(1, 18)],
        (
            "社区党组织作用发挥 党员先锋与志愿服务 干部作风与诉求回应 环境卫生 垃圾分类 文明养犬 "
            "电动车停放充电 停车秩序 市容秩序 为老服务 社区医疗卫生 就业与救助 物业与老旧小区 "
            "便民服务与办事效率 治安与安全感 矛盾调解与邻里关系 文体活动与居民参与"
        ).split(),
        strict=True,
    )
)
COMMENTS = [
    "晚上电动车在楼道里充电，很危险，希望多装几个充电桩",
    "小区门口乱停车，消防通道经常被堵",
    "反映过几次，一直没有人来处理",
]


def notices(count: int) -> list:  # type: ignore[type-arg]
    scores = sample_scores(count, seed=7)
    settings = NoticeSettings(
        authority="南京市鼓楼区民政局",
        mark="南京市鼓楼区民政局文件",
        doc_prefix="鼓民整",
        wave_name="2026年度居民满意度测评",
        issue_date=dt.date(2026, 3, 31),
        reply_address="区民政局基层政权建设科",
        copy_to="区委办、区政府办",
    )
    return [
        build_notice_data(
            scores,
            row["street"],
            settings,
            seq=i + 1,
            dimension_names=DIMENSIONS,
            indicator_names=INDICATORS,
            comments={code: COMMENTS for code in INDICATORS},
        )
        for i, row in enumerate(scores["streets"])
    ]


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def max_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streets", type=int, default=300)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--peer", type=int, default=8, help="notices for the 1-process peer")
    args = parser.parse_args()

    data = notices(args.streets)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        peer = generate_notices(data[: args.peer], Path(tmp) / "peer", processes=1)
        peer_rate = len(peer) / (time.perf_counter() - start) * 60

        cpu_before = cpu_seconds(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        results = generate_notices(data, Path(tmp) / "all", processes=args.processes)
        wall = time.perf_counter() - start
        cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_before
    failed = [r for r in results if not r.ok]
    rate = len(results) / wall * 60
    per_pdf = [r.seconds for r in results if r.ok]
    sizes = [r.size for r in results if r.ok]
    print(f"streets {len(results)}, processes {args.processes}, failed {len(failed)}")
    print(f"wall {wall:.1f} s -> {rate:.0f} notices/min (target >= 120: {rate / 120:.2f}x)")
    print(
        f"seconds per PDF in a worker: median {statistics.median(per_pdf):.3f}, "
        f"max {max(per_pdf):.3f}"
    )
    print(
        f"worker CPU per PDF (set-up included): {cpu / len(results):.3f} s; "
        f"CPU-bound ceiling on {args.processes} free cores: "
        f"{args.processes * 60 * len(results) / cpu:.0f}/min; load average now "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(f"PDF size: median {statistics.median(sizes) / 1024:.0f} KiB")
    print(
        f"1-process peer ({len(peer)} PDFs, includes set-up): {peer_rate:.0f}/min; "
        f"parallel speed-up {rate / peer_rate:.2f}x"
    )
    print(
        f"peak RSS: parent {max_rss_mb(resource.RUSAGE_SELF):.0f} MiB, "
        f"largest worker {max_rss_mb(resource.RUSAGE_CHILDREN):.0f} MiB"
    )
    for r in failed[:5]:
        print(f"  {r.street}: {r.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
