# The two commands of the README:
#   make demo   build the plugins and the host, simulate over sample-data/, print a summary
#   make test   everything CI checks
# Both install what they need (the wasm32-wasip2 target) themselves.

SHELL := bash
CARGO ?= cargo
WASM := target/wasm32-wasip2/release

# Strategy plugins shipped with the host; `make demo` copies them to target/plugins.
PLUGINS := birthday-tiered first-purchase-nudge second-purchase-nudge dormant-recall category-recommendation group-buy-referral coupon-reminder
# Misbehaving plugins for the sandbox tests; copied to target/test-plugins.
TEST_PLUGINS := forever-loop memory-hog trap flood wrong-world future-api clock-reader

DEMO_FROM ?= 2026-08-01
DEMO_TO ?= 2026-10-24

.PHONY: demo test plugins test-plugins host wasm-target chromium

demo: plugins host
	target/release/canvas simulate --data sample-data --from $(DEMO_FROM) --to $(DEMO_TO) --out target/demo

test: plugins test-plugins chromium
	$(CARGO) fmt --all -- --check
	$(CARGO) test --release --workspace

host:
	$(CARGO) build --release --workspace

# The report test renders report.html in Debian's headless Chromium.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

wasm-target:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

plugins: wasm-target
	$(CARGO) build --release --target wasm32-wasip2 $(PLUGINS:%=-p %)
	@mkdir -p target/plugins
	@for p in $(PLUGINS); do cp $(WASM)/$${p//-/_}.wasm target/plugins/$$p.wasm; done

test-plugins: wasm-target
	$(CARGO) build --release --target wasm32-wasip2 $(TEST_PLUGINS:%=-p testing-%)
	@mkdir -p target/test-plugins
	@for p in $(TEST_PLUGINS); do cp $(WASM)/testing_$${p//-/_}.wasm target/test-plugins/$$p.wasm; done
	@# One plugin in two versions, for the upgrade and rollback tests.
	@for v in 0.1.0 0.2.0; do \
		CANVAS_TEST_VERSION=$$v $(CARGO) build --release --target wasm32-wasip2 -p testing-versioned && \
		cp $(WASM)/testing_versioned.wasm target/test-plugins/versioned-$$v.wasm; done
