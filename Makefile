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

# Suites run one after another. They no longer interfere (descriptor checks count per port, waits
# poll conditions): `swift test` in parallel passed 5 of 5 runs here in 25-29 s against 33 s serial.
# Serial stays the default because a few tests check real time on purpose (a heartbeat closes an
# idle peer within 1.5-6 intervals, a handshake times out no earlier than set, an alias bomb is
# refused within seconds) and CI's 2 cores are shared with the build; 8 s is not worth a flake.
# The crash tests start the `herald` executable as a child process: build it first.
test: deps
	$(SWIFT) build --product herald
	$(SWIFT) test --no-parallel

clean:
	rm -rf .build
