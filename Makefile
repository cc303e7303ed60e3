# samverkan — `make run` starts the service on an embedded PostgreSQL,
# `make test` runs every test. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/samverkan
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help run build test test-short generate check-generated lint bench postgres chromium

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

run: postgres build ## Build and start the service (embedded PostgreSQL under ./var unless DATABASE_URL is set).
	./$(BIN) serve --seed-demo-if-empty

build: ## Build bin/samverkan.
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/samverkan

test: postgres chromium ## Run every test (a private PostgreSQL cluster per test binary; the web pages in headless Chromium).
	$(GO) test -count=1 -timeout 15m ./...
	cd deploy && $(GO) test -count=1 ./...

# Lists marshalled one element after the other rather than with a goroutine
# per element (cmd/gqlgen-post): only lists whose elements' loaders the list's
# resolver has already primed (a partnership's value base and contributors),
# or that need none (a signatory's organisation, read with the page; a history
# event's fields and actor; a contribution's). A field outside those that waits for a loader
# (an organisation's signatures under a contribution) waits once per element.
IN_ORDER_LISTS := SignatoryEdge,HistoryEventEdge,PartnershipEdge,Contribution

generate: ## Regenerate the gqlgen code (then cmd/gqlgen-post's rewrites) and the typed e2e client (genqlient) from graph/schema.
	$(GO) run github.com/99designs/gqlgen generate
	$(GO) run ./cmd/gqlgen-post -in-order $(IN_ORDER_LISTS) graph/generated.go
	$(GO) run github.com/Khan/genqlient cmd/samverkan/internal/e2e/client/genqlient.yaml

check-generated: generate ## Fail when the generated code is not what is committed.
	@git diff --exit-code -- graph/ cmd/samverkan/internal/e2e/client/ || (echo "generated code is stale: run 'make generate' and commit"; exit 1)

lint: ## gofmt, go vet and staticcheck.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

bench: postgres ## Micro-benchmarks, then seed a large dataset under ./var/bench and measure the service against plain SQL (BENCHFLAGS=... for samverkan bench).
	$(GO) test -count=1 -run '^$$' -bench . ./cmd/samverkan/internal/bench/ ./internal/store/ ./internal/token/ ./internal/registry/ ./internal/authz/
	$(GO) run ./cmd/samverkan bench $(BENCHFLAGS)

# The service and the tests start PostgreSQL from the installed server
# binaries. Install them when missing and we can (root with apt-get),
# otherwise say exactly what to run.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
		|| [ -x "$$(pg_config --bindir 2>/dev/null)/initdb" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "PostgreSQL server binaries are missing; installing the postgresql package"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "PostgreSQL server binaries are missing. Install them with:"; \
		echo "    sudo apt-get install -y postgresql"; exit 1; \
	fi

# The browser tests drive Debian's headless Chromium; install it the same way.
chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Chromium is missing (the browser tests need it); installing the chromium package"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Chromium is missing (the browser tests need it). Install it with:"; \
		echo "    sudo apt-get install -y chromium"; exit 1; \
	fi

.PHONY: test-race
test-race: postgres ## Every test under the race detector.
	$(GO) test -count=1 -race -timeout 25m ./...
