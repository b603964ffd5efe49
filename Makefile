# clp: Core LivePatch. `make demo` and `make test` are the two commands a new
# machine needs; both install the system packages they need first.

PREFIX   ?= /usr
DESTDIR  ?=
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)

# go-alpm's default build fits libalpm 13 (pacman 6.0, Debian); libalpm 14 and
# newer (pacman 6.1 to 7.1, Vincent OS) need -tags next.
ALPM_VERSION := $(shell pkg-config --modversion libalpm 2>/dev/null)
ALPM_MAJOR   := $(firstword $(subst ., ,$(ALPM_VERSION)))
GOTAGS       ?= $(shell [ -n "$(ALPM_MAJOR)" ] && [ "$(ALPM_MAJOR)" -ge 14 ] && echo next)
GOFLAGS_TAGS := $(if $(GOTAGS),-tags $(GOTAGS))
LDFLAGS      := -X main.version=$(VERSION)

# What the tests and the demo need on the machine.
DEBIAN_PKGS := libalpm-dev libarchive-dev pacman-package-manager makepkg \
	libarchive-tools fakeroot zstd xz-utils gzip minisign pkg-config gcc \
	btrfs-progs snapper scdoc systemd util-linux curl ca-certificates
ARCH_PKGS   := pacman go gcc pkgconf libarchive fakeroot zstd xz minisign \
	btrfs-progs snapper scdoc curl
NEEDED_CMDS := pacman pacman-conf makepkg repo-add bsdtar fakeroot zstd minisign \
	pkg-config gcc mkfs.btrfs snapper scdoc systemd-analyze losetup curl

.PHONY: all build deps deps-check test test-short vet demo bench install clean fmt

all: build

build: deps-check
	$(GO) build $(GOFLAGS_TAGS) -trimpath -ldflags '$(LDFLAGS)' -o clp ./cmd/clp

# deps installs the system packages with the distribution's package manager.
deps:
	@if command -v apt-get >/dev/null 2>&1; then \
		echo "==> installing with apt-get: $(DEBIAN_PKGS)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		if [ ! -f /var/lib/apt/periodic/clp-updated ] || ! apt-cache show libalpm-dev >/dev/null 2>&1; then \
			apt-get update -qq && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/clp-updated; fi; \
		apt-get install -y -qq --no-install-recommends $(DEBIAN_PKGS) >/dev/null; \
	elif command -v pacman >/dev/null 2>&1; then \
		pacman -S --needed --noconfirm $(ARCH_PKGS); \
	else \
		echo "make deps: no apt-get or pacman here; install: $(DEBIAN_PKGS)" >&2; exit 1; \
	fi

# deps-check runs deps only when something is missing, so repeated runs are quick.
deps-check:
	@missing=""; for c in $(NEEDED_CMDS); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	pkg-config --exists libalpm 2>/dev/null || missing="$$missing libalpm-dev"; \
	if [ -n "$$missing" ]; then echo "==> missing:$$missing"; $(MAKE) --no-print-directory deps; fi

vet: deps-check
	$(GO) vet $(GOFLAGS_TAGS) ./...

# test: vet, then every test with the race detector, real-pacman tests
# included (they need root; as another user they skip and say why).
test: deps-check vet
	$(GO) test $(GOFLAGS_TAGS) -race -timeout 40m -count=1 ./...

test-short: deps-check
	$(GO) test $(GOFLAGS_TAGS) -count=1 ./...

demo: build
	CLP=$(CURDIR)/clp ./scripts/demo.sh

# bench: Go benchmarks, then clp against pacman on the same data, side by side.
bench: build
	$(GO) test $(GOFLAGS_TAGS) -run '^$$' -bench . -benchtime 3x ./... 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)' || true
	CLP=$(CURDIR)/clp ./scripts/bench.sh

install: build
	install -Dm755 clp $(DESTDIR)$(PREFIX)/bin/clp

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -f clp
	$(GO) clean -testcache
