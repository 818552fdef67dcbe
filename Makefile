.PHONY: setup demo test test-sqlite lint bench calibrate

setup:
	bash scripts/setup.sh --test

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

test-sqlite:
	MINPING_TEST_DATABASES=sqlite bash scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench:
	.venv/bin/python tests/benchmarks/bench_scoring.py
	.venv/bin/python tests/benchmarks/bench_notices.py

calibrate:
	.venv/bin/pytest -m slow tests/scoring/test_calibration.py -s -p no:randomly
