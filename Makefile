# The two commands a newcomer needs (README.md): `make serve` and `make test`.
# Each installs what is missing on a fresh Debian machine with Swift. Run them as yourself:
# the one step that needs root (apt-get) asks for it through sudo.
SWIFT ?= swift
# apt-get needs root: sudo only when not root already.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The real AWS CLI, boto3 and prometheus_client the compatibility and metrics tests drive: a
# virtual environment under .build when the machine's python3 lacks them (they are on PyPI).
TOOLS_VENV := $(CURDIR)/.build/test-tools
export PATH := $(TOOLS_VENV)/bin:$(PATH)

.PHONY: deps test-tools build serve test own-build clean

deps:
	@if ! pkg-config --exists openssl 2>/dev/null || ! command -v openssl >/dev/null; then \
		echo "installing libssl-dev, pkg-config, openssl"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libssl-dev pkg-config openssl >/dev/null; \
	fi

# Best effort: without network the affected tests are skipped, each saying what is missing.
test-tools:
	@if ! python3 -c 'import boto3, prometheus_client' 2>/dev/null || ! command -v aws >/dev/null; then \
		echo "installing the AWS CLI, boto3 and prometheus_client into $(TOOLS_VENV)"; \
		if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then \
			$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv python3-pip >/dev/null; \
		fi; \
		mkdir -p .build; \
		{ [ -x $(TOOLS_VENV)/bin/pip ] || python3 -m venv --system-site-packages $(TOOLS_VENV); } && \
		$(TOOLS_VENV)/bin/pip install -q awscli boto3 prometheus_client \
		|| echo "warning: could not install the AWS CLI/boto3/prometheus_client; the tests that drive them will be skipped"; \
	fi

build: deps
	$(SWIFT) build
	@$(MAKE) --no-print-directory own-build

serve: deps
	$(SWIFT) run -c release herald serve

# Suites run one after another. They no longer interfere (descriptor checks count per port, waits
# poll conditions): `swift test` in parallel passed 5 of 5 runs here in 25-29 s against 33 s serial.
# Serial stays the default because a few tests check real time on purpose (a heartbeat closes an
# idle peer within 1.5-6 intervals, a handshake times out no earlier than set, an alias bomb is
# refused within seconds) and CI's 2 cores are shared with the build; 8 s is not worth a flake.
# The crash tests start the `herald` executable as a child process: build it first.
test: deps test-tools
	$(SWIFT) build --product herald
	$(SWIFT) test --no-parallel
	@$(MAKE) --no-print-directory own-build

# After `sudo make …`, give .build back to the user who ran sudo (no root-owned build tree).
own-build:
	@if [ -n "$$SUDO_UID" ] && [ -d .build ]; then chown -R "$$SUDO_UID:$$SUDO_GID" .build; fi

clean:
	rm -rf .build
