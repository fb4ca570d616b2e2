# Keepsake: `make run` and `make test` do all set-up themselves (scripts/setup.sh).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TERM_COLOR ?= never
BIN := $(CARGO_TARGET_DIR)/debug
RELEASE := $(CARGO_TARGET_DIR)/release

.PHONY: run test setup build ui lint types test-rust test-ui test-e2e test-corpus corpus eval bench doctor screenshot screenshots \
	deb clean

## Launch the app (HEADLESS=1: under Xvfb, for machines without a display).
run: build
	@scripts/run-app.sh $(BIN)/keepsake-app

## The lint gate, then every suite: Rust (whole workspace), UI unit tests, end-to-end
## against the real app, the small mutation corpus.
test:
	@scripts/setup.sh test
	$(MAKE) --no-print-directory ui
	$(MAKE) --no-print-directory lint
	cargo build --locked -p keepsake-cli -p keepsake-app
	$(MAKE) --no-print-directory test-rust test-ui test-e2e test-corpus

## Formatting (rustfmt.toml), Rust lints as errors (the workspace's [workspace.lints] and
## clippy's defaults), the page's generated types up to date with the Rust ones, and the
## UI's types (svelte-check).
lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cargo test --locked -p keepsake-app --lib contract:: -q
	npm --prefix ui run --silent check

## Regenerates the page's TypeScript types (ui/src/lib/types.gen.ts) from the Rust types
## that cross to it (src-tauri/src/commands/contract.rs); commit the result.
types:
	KEEPSAKE_WRITE_TYPES=1 cargo test --locked -p keepsake-app --lib contract:: -q

setup:
	@scripts/setup.sh run

build: setup ui
	cargo build --locked -p keepsake-cli -p keepsake-app

ui:
	npm --prefix ui run --silent build -- --logLevel warn

test-rust:
	cargo test --locked --workspace

test-ui:
	npm --prefix ui test
	python3 -m unittest tests/eval/test_metrics.py

test-e2e:
	tests/e2e/run.sh $(BIN)/keepsake-app

## A small mutation corpus (damaged photos and videos) through the library; writes no report.
test-corpus:
	python3 -m unittest tests/corpus/test_corpus.py
	python3 tests/corpus/corpus.py --keepsake $(BIN)/keepsake

## The full mutation corpus, a few hundred damaged files, and its report (docs/corpus.md).
corpus:
	@scripts/setup.sh test
	cargo build --locked --release -p keepsake-cli
	python3 tests/corpus/corpus.py --keepsake $(RELEASE)/keepsake --count 400 --write docs/corpus.md

## Frame-selection quality report (evaluation set built from registry media).
eval:
	@scripts/setup.sh test
	cargo build --locked --release -p keepsake-cli
	python3 tests/eval/evaluate.py --keepsake $(RELEASE)/keepsake

## Speed, as ratios against reference tools timed in the same run.
bench:
	@scripts/setup.sh bench
	$(MAKE) --no-print-directory ui
	cargo build --locked --release -p keepsake-cli -p keepsake-app
	@for b in tests/bench/*.sh; do echo "== $$b"; "$$b" $(RELEASE); done

doctor: build
	$(BIN)/keepsake doctor

## One picture of whatever your own library shows, by the real app under Xvfb, next to
## the README's (docs/screenshots/) but not committed (see .gitignore).
screenshot: build
	scripts/screenshot.sh $(BIN)/keepsake-app docs/screenshots/library.png

## The README's pictures (docs/screenshots/), taken by the end-to-end suites from the real
## app; `make test` writes its screenshots to artifacts/e2e instead, leaving the tree clean.
screenshots:
	@scripts/setup.sh test
	$(MAKE) --no-print-directory ui
	cargo build --locked -p keepsake-cli -p keepsake-app
	KEEPSAKE_SCREENSHOTS=docs/screenshots tests/e2e/run.sh $(BIN)/keepsake-app

## A .deb package (offline bundling).
deb: setup ui
	cd src-tauri && npx --yes @tauri-apps/cli@2 build --bundles deb

clean:
	cargo clean
	rm -rf ui/dist
