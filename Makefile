.PHONY: setup demo test test-sqlite lint bench

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
