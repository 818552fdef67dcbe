"""Bulk notice generation: parallel workers, progress per PDF, one failure isolated."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from reports.bulk import NoticeResult, file_name, generate_notices
from reports.notice import NoticeSettings, build_notice_data
from scoring.result import from_dict


def _notices(
    scores: dict[str, Any],
    settings: NoticeSettings,
    names: tuple[dict[str, str], dict[str, str]],
) -> list[Any]:
    """One notice's data per street of ``scores``, numbered in order."""
    return [
        build_notice_data(
            from_dict(scores), s["street"], settings, seq=i + 1,
            dimension_names=names[0], indicator_names=names[1],
        )
        for i, s in enumerate(scores["streets"])
    ]  # fmt: skip


def test_parallel_generation_reports_each_street(
    scores: dict[str, Any],
    settings: NoticeSettings,
    names: tuple[dict[str, str], dict[str, str]],
    tmp_path: Path,
) -> None:
    notices = _notices(scores, settings, names)
    # a street whose score map is broken fails alone
    broken = dataclasses.replace(notices[1], street_scores={"street": "华侨路街道"})
    notices[1] = broken
    seen: list[tuple[str, int, int]] = []

    def progress(result: NoticeResult, done: int, total: int) -> None:
        seen.append((result.street, done, total))

    results = generate_notices(notices, tmp_path / "out", processes=2, progress=progress)

    assert [r.street for r in results] == ["宁海路街道", "华侨路街道", "湖南路街道"]
    assert sorted(d for _, d, _ in seen) == [1, 2, 3] and {t for _, _, t in seen} == {3}
    failed = results[1]
    assert not failed.ok and failed.path is None and failed.error
    assert failed.error.startswith(("AttributeError", "KeyError", "UndefinedError", "TypeError"))
    for r in (results[0], results[2]):
        assert r.ok and r.path is not None and r.path.name == f"{r.street}.pdf"
        content = r.path.read_bytes()
        assert content.startswith(b"%PDF") and r.size == len(content)
        assert r.sha256 == hashlib.sha256(content).hexdigest()


def test_in_process_returns_bytes(
    scores: dict[str, Any], settings: NoticeSettings, names: tuple[dict[str, str], dict[str, str]]
) -> None:
    data = build_notice_data(
        from_dict(scores),
        "湖南路街道",
        settings,
        seq=9,
        dimension_names=names[0],
        indicator_names=names[1],
    )
    [result] = generate_notices([data], processes=1)
    assert result.ok and result.pdf is not None and result.path is None
    assert result.sha256 == hashlib.sha256(result.pdf).hexdigest()


def test_file_names_are_safe() -> None:
    assert file_name("宁海路街道") == "宁海路街道.pdf"
    assert file_name("../a/b:c") == "_a_b_c.pdf"


def _renderers() -> set[int]:
    import multiprocessing

    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


def test_shared_pool_keeps_one_set_of_renderers_for_several_batches(
    scores: dict[str, Any],
    settings: NoticeSettings,
    names: tuple[dict[str, str], dict[str, str]],
) -> None:
    from reports.bulk import shared_pool

    notices = _notices(scores, settings, names)
    before = _renderers()
    with shared_pool():
        first = generate_notices(notices[:2], processes=2)
        pool = _renderers() - before
        second = generate_notices(notices[1:], processes=2)
        assert _renderers() - before == pool and len(pool) == 2  # the same two processes
    assert all(r.ok for r in [*first, *second])
    assert not (_renderers() - before)  # stopped when the block ends

    class Stop(Exception):
        pass

    def stop(result: NoticeResult, done: int, total: int) -> None:
        raise Stop  # e.g. the job is told to stop while rendering

    try:
        with shared_pool():
            generate_notices(notices[:2], processes=2)
            generate_notices(notices, processes=2, progress=stop)
    except Stop:
        pass
    else:  # pragma: no cover
        raise AssertionError("the progress callback's exception was swallowed")
    assert _gone(before)  # killed, not left running


def _gone(before: set[int], within: float = 5.0) -> bool:
    """No renderer beyond ``before`` is alive, polled for at most ``within`` seconds.

    A killed process is reaped a moment after the kill returns (the pool's own
    manager thread may be the one that joins it).
    """
    import time

    deadline = time.monotonic() + within
    while _renderers() - before:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _sleep(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def test_abandoned_pool_with_half_a_result_in_its_pipe_lets_the_interpreter_exit() -> None:
    """A renderer killed mid-send must not leave the pool's manager thread waiting for ever.

    The manager thread (which the interpreter joins at exit) is made to read a
    result whose sender died after its first bytes: the length says 1000, 10 came.
    """
    import os
    import struct
    import time
    from concurrent.futures import ProcessPoolExecutor

    from reports.bulk import _abandon

    pool = ProcessPoolExecutor(1)
    pool.submit(_sleep, 30)
    time.sleep(0.5)  # the renderer is busy, the manager thread waits for a result
    manager = pool._executor_manager_thread  # type: ignore[attr-defined]
    assert manager is not None and manager.is_alive()
    writer = pool._result_queue._writer  # type: ignore[attr-defined]
    os.write(writer.fileno(), struct.pack("!i", 1000) + b"x" * 10)  # half a message
    time.sleep(0.5)
    assert manager.is_alive()  # stuck reading the rest
    _abandon(pool)
    manager.join(timeout=10)
    assert not manager.is_alive()


def _hold_slot(out: Path, index: int) -> None:
    from reports.bulk import render_slot

    with render_slot():
        start = time.monotonic()
        time.sleep(0.4)
        (out / f"{index}.txt").write_text(f"{start} {time.monotonic()}")


def test_render_slots_let_a_host_render_at_most_one_notice_per_core(tmp_path: Path) -> None:
    """However many workers (processes) render, at most os.cpu_count() notices render at once."""
    import multiprocessing

    cores = os.cpu_count() or 1
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_hold_slot, args=(tmp_path, i)) for i in range(2 * cores + 1)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    spans = [tuple(map(float, p.read_text().split())) for p in tmp_path.glob("*.txt")]
    assert len(spans) == 2 * cores + 1
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = most = 0
    for _, change in events:
        running += change
        most = max(most, running)
    assert most == cores  # never more than one per core, and every core used
