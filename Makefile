# The two commands a newcomer needs (README.md): `make serve` and `make test`.
# Each installs what is missing on a fresh Debian machine with Swift.
SWIFT ?= swift

.PHONY: deps build serve test bench-filter clean

deps:
	@if ! pkg-config --exists openssl 2>/dev/null || ! command -v openssl >/dev/null; then \
		echo "installing libssl-dev, pkg-config, openssl"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libssl-dev pkg-config openssl >/dev/null; \
	fi

build: deps
	$(SWIFT) build

serve: deps
	$(SWIFT) run -c release herald serve

# Suites run one after another: the integration suites start real servers and hundreds of TLS
# connections, and on 2 cores running them all at once only measures the machine's queueing.
test: deps
	$(SWIFT) test --no-parallel

clean:
	rm -rf .build
