# The two commands of the README:
#   make demo   build the plugins and the host, simulate over sample-data/, print a summary
#   make test   everything CI checks
# and the operator console over the sample data:
#   make console   serve sample-data/ with the shipped plugins enabled; prints the address and the token
# Both install what they need (the wasm32-wasip2 target) themselves.

SHELL := bash
CARGO ?= cargo
WASM := target/wasm32-wasip2/release

# Strategy plugins shipped with the host; `make demo` copies them to target/plugins.
PLUGINS := birthday-tiered first-purchase-nudge second-purchase-nudge dormant-recall category-recommendation group-buy-referral coupon-reminder browse-abandon out-of-stock-recovery
# Misbehaving plugins for the sandbox tests; copied to target/test-plugins.
TEST_PLUGINS := forever-loop memory-hog trap flood wrong-world future-api clock-reader hostile slow facts-echo reach-echo api-0-1 api-0-2 api-0-3 trigger-echo

# Strategies written in Python or JavaScript. Shipped ones go to target/plugins
# beside the Rust ones; twins of Rust strategies (same id, same rules) go to
# target/polyglot/<language>, for the equivalence tests.
PY_SHIPPED := vip-anniversary
PY_TWINS := dormant-recall coupon-reminder
JS_TWINS := birthday-tiered coupon-reminder
# The WIT version the Python and JavaScript SDKs build against, as the Rust SDK.
WIT_DIR := wit/v0.4.0
WIT := $(WIT_DIR)/strategy.wit
PY_SDK := $(wildcard plugins/sdk-python/canvas_sdk/*.py) plugins/sdk-python/canvas_component.py
JS_SDK := $(wildcard plugins/sdk-js/*.js)

# Pinned guest toolchains, installed into the tree on first use.
COMPONENTIZE_PY_VERSION := 0.25.1
PY_TOOLS := target/tools/python
COMPONENTIZE_PY := $(PY_TOOLS)/bin/componentize-py
COMPONENTIZE_JS := plugins/js/node_modules/.bin/componentize-js

DEMO_FROM ?= 2026-08-01
DEMO_TO ?= 2026-10-24

.PHONY: demo console loop test bench bench-smoke plugins test-plugins polyglot sdk-tests host wasm-target chromium duckdb console-deps

demo: plugins host
	target/release/canvas simulate --data sample-data --from $(DEMO_FROM) --to $(DEMO_TO) --out target/demo

# The closed loop at length (a few minutes): the service day after day over
# 20,000 generated members and a world that answers its touches with planted
# lifts and deletions; prints planted vs measured per strategy (docs/operations.md).
loop: plugins host
	target/release/canvas loop --members 20000 --days 90 --seed 7 --background 1 --harm 20 \
		--plant dormant-recall=30 --plant second-purchase-nudge=10 --plant category-recommendation=0 \
		--plant group-buy-referral=5

test: sdk-tests plugins test-plugins polyglot chromium duckdb console-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --release --workspace
	$(CARGO) bench --bench brand_scale -- --smoke

host:
	$(CARGO) build --release --workspace

# The operator console (README): a fresh target/console/ with sample-data/
# imported and every shipped plugin installed and enabled, served on
# 127.0.0.1:$(CONSOLE_PORT) until Ctrl-C. Touches go to target/console/touches.jsonl.
# The token is the one `serve` generates into the store (mode 0600), printed
# once the service answers.
CONSOLE_PORT ?= 8720
CONSOLE_DIR := target/console
CANVAS_CONSOLE = target/release/canvas --config $(CONSOLE_DIR)/canvas.toml
console: plugins host
	@rm -rf $(CONSOLE_DIR) && mkdir -p $(CONSOLE_DIR)
	@printf 'store = "%s"\n[dispatch.channels."*"]\nkind = "file"\npath = "%s"\n' \
		$(CONSOLE_DIR)/store $(CONSOLE_DIR)/touches.jsonl > $(CONSOLE_DIR)/canvas.toml
	@# Each shipped strategy's place in the life cycle: the canvas shows them by stage.
	@for s in first-purchase-nudge=activation birthday-tiered=retention dormant-recall=retention \
		vip-anniversary=retention second-purchase-nudge=repurchase category-recommendation=upsell \
		group-buy-referral=referral coupon-reminder=service \
		browse-abandon=activation out-of-stock-recovery=repurchase; do \
		printf '[strategies.%s]\nstage = "%s"\n' $${s%=*} $${s#*=} >> $(CONSOLE_DIR)/canvas.toml; done
	$(CANVAS_CONSOLE) import --data sample-data
	$(CANVAS_CONSOLE) plugin install target/plugins/*.wasm
	@for p in target/plugins/*.wasm; do $(CANVAS_CONSOLE) plugin enable $$(basename $$p .wasm) >/dev/null || exit 1; done
	@$(CANVAS_CONSOLE) serve --listen 127.0.0.1:$(CONSOLE_PORT) & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid; exit 0' INT TERM; \
	until [ -s $(CONSOLE_DIR)/store/serve-token ] && (exec 3<>/dev/tcp/127.0.0.1/$(CONSOLE_PORT)) 2>/dev/null; do \
		kill -0 $$pid 2>/dev/null || { wait $$pid; exit 1; }; sleep 0.2; done; \
	echo; echo "the console: http://127.0.0.1:$(CONSOLE_PORT)/"; \
	echo "token:       $$(cat $(CONSOLE_DIR)/store/serve-token)  (in $(CONSOLE_DIR)/store/serve-token)"; \
	echo "Ctrl-C stops it"; echo; wait $$pid

# The console's browser test (tests/integration/console.rs) drives Chromium
# with playwright-core, pinned in tests/console/package-lock.json.
console-deps: tests/console/node_modules/.package-lock.json

tests/console/node_modules/.package-lock.json: tests/console/package.json tests/console/package-lock.json
	cd tests/console && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Brand scale (BENCHMARKS.md): 1M members, 6M orders, about 20 minutes and 12 GB of disk in target/bench.
bench: plugins polyglot duckdb
	$(CARGO) bench --bench brand_scale

# The same benchmark at 5,000 members, so CI keeps it working.
bench-smoke: plugins polyglot duckdb
	$(CARGO) bench --bench brand_scale -- --smoke

# DuckDB, for the benchmark's host-vs-SQL audiences.
DUCKDB_VERSION := 1.5.6
duckdb: $(COMPONENTIZE_PY)
	@$(PY_TOOLS)/bin/python -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$(DUCKDB_VERSION)')" 2>/dev/null || \
		$(PY_TOOLS)/bin/pip install -q --disable-pip-version-check duckdb==$(DUCKDB_VERSION)

# The report test renders report.html in Debian's headless Chromium, and
# checks its Chinese labels render in a CJK font (not as empty boxes); the
# console's browser test drives the same Chromium.
chromium:
	@{ command -v chromium >/dev/null && fc-list | grep -qi "Noto Sans CJK"; } || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

wasm-target:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

plugins: wasm-target $(PY_SHIPPED:%=target/plugins/%.wasm)
	$(CARGO) build --release --target wasm32-wasip2 $(PLUGINS:%=-p %)
	@mkdir -p target/plugins
	@for p in $(PLUGINS); do cp $(WASM)/$${p//-/_}.wasm target/plugins/$$p.wasm; done

# The Python and JavaScript twins of Rust strategies.
polyglot: $(PY_TWINS:%=target/polyglot/python/%.wasm) $(JS_TWINS:%=target/polyglot/js/%.wasm)

$(COMPONENTIZE_PY):
	python3 -m venv $(PY_TOOLS)
	$(PY_TOOLS)/bin/pip install -q --disable-pip-version-check componentize-py==$(COMPONENTIZE_PY_VERSION)

$(COMPONENTIZE_JS): plugins/js/package.json plugins/js/package-lock.json
	cd plugins/js && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The entry module is the SDK's canvas_component.py, which exports app.py's
# Strategy through the component adapter (app.py itself stays plain Python).
PY_BUILD = $(COMPONENTIZE_PY) -d $(WIT_DIR) -w plugin componentize -p plugins/sdk-python -p plugins/python/$* \
	canvas_component -o $@

target/plugins/%.wasm: plugins/python/%/app.py $(PY_SDK) $(WIT) | $(COMPONENTIZE_PY)
	@mkdir -p $(@D)
	$(PY_BUILD) >/dev/null

target/polyglot/python/%.wasm: plugins/python/%/app.py $(PY_SDK) $(WIT) | $(COMPONENTIZE_PY)
	@mkdir -p $(@D)
	$(PY_BUILD) >/dev/null

# componentize-js resolves imports inside its working folder, hence `cd plugins`.
target/polyglot/js/%.wasm: plugins/js/%/app.js $(JS_SDK) $(WIT) | $(COMPONENTIZE_JS)
	@mkdir -p $(@D)
	cd plugins && js/node_modules/.bin/componentize-js js/$*/app.js --wit ../$(WIT_DIR) -n plugin \
		-o ../$@ -d http -d fetch-event >/dev/null

# The SDKs' and the Python/JavaScript strategies' own unit tests: plain
# python3 and node, no component build. The Python adapter's test runs over
# the bindings componentize-py generates for $(WIT_DIR).
PY_BINDINGS := target/sdk-python-bindings
sdk-tests: | $(COMPONENTIZE_PY)
	@rm -rf $(PY_BINDINGS) && $(COMPONENTIZE_PY) -d $(WIT_DIR) -w plugin bindings $(PY_BINDINGS) >/dev/null
	cd plugins/sdk-python && CANVAS_PY_BINDINGS=$(CURDIR)/$(PY_BINDINGS) python3 -m unittest discover -s tests -t tests -q
	@for p in plugins/python/*/; do (cd $$p && PYTHONPATH=$(CURDIR)/plugins/sdk-python python3 -m unittest -q) || exit 1; done
	node --test plugins/sdk-js/tests/ plugins/js/*/*.test.js

test-plugins: wasm-target
	$(CARGO) build --release --target wasm32-wasip2 $(TEST_PLUGINS:%=-p testing-%)
	@mkdir -p target/test-plugins
	@for p in $(TEST_PLUGINS); do cp $(WASM)/testing_$${p//-/_}.wasm target/test-plugins/$$p.wasm; done
	@# One plugin in two versions, for the upgrade and rollback tests.
	@for v in 0.1.0 0.2.0; do \
		CANVAS_TEST_VERSION=$$v $(CARGO) build --release --target wasm32-wasip2 -p testing-versioned && \
		cp $(WASM)/testing_versioned.wasm target/test-plugins/versioned-$$v.wasm; done
