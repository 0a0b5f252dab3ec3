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

test: deps
	$(SWIFT) test

clean:
	rm -rf .build
