# clp: Core LivePatch. `make demo` and `make test` are the two commands a new
# machine needs; both install the system packages they need first.

PREFIX   ?= /usr
DESTDIR  ?=
SYSCONFDIR ?= /etc
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)

# go-alpm's default build fits libalpm 13 (pacman 6.0, Debian); libalpm 14 and
# newer (pacman 6.1 to 7.1, Vincent OS) need -tags next.
ALPM_VERSION := $(shell pkg-config --modversion libalpm 2>/dev/null)
ALPM_MAJOR   := $(firstword $(subst ., ,$(ALPM_VERSION)))
GOTAGS       ?= $(shell [ -n "$(ALPM_MAJOR)" ] && [ "$(ALPM_MAJOR)" -ge 14 ] && echo next)
GOFLAGS_TAGS := $(if $(GOTAGS),-tags $(GOTAGS))

# Vincent OS runs pacman 7.1 / libalpm 16. Where the machine's own pacman is
# older than 6.1 (Debian 12 has 6.0), `make deps` also builds pacman 7.1
# from Debian's source package into PACMAN71 (scripts/pacman71.sh), and
# `make test` runs the whole suite on it as well as on the machine's pacman.
# ENV71 selects it: its pacman first on PATH, its libalpm's headers and
# library for cgo (go-alpm ignores pkg-config), its makepkg.conf.
PACMAN71  ?= /opt/clp-pacman-7.1
LEG71     := $(if $(ALPM_MAJOR),$(shell [ "$(ALPM_MAJOR)" -lt 14 ] && echo yes))
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
LIB71     := $(PACMAN71)/lib/$(MULTIARCH)
# clp does not link libalpm: go-alpm's trampolines (third_party/go-alpm)
# dlopen libalpm.so.N on its first use, N fixed at build time. N is the
# soname the linker takes for -lalpm (scripts/libalpm-somajor.sh), given
# to the C compiler as GO_ALPM_SOMAJOR (without it, go-alpm's build tag
# decides: 13 by default, 16 with -tags next).
SOMAJOR   := $(shell ./scripts/libalpm-somajor.sh 2>/dev/null)
SOMAJOR71 := $(if $(LEG71),$(shell CGO_LDFLAGS="-L$(LIB71)" ./scripts/libalpm-somajor.sh 2>/dev/null))
export CGO_CFLAGS := $(or $(CGO_CFLAGS),-O2 -g)$(if $(SOMAJOR), -DGO_ALPM_SOMAJOR=$(SOMAJOR))
ENV71     := PATH="$(PACMAN71)/bin:$$PATH" CGO_CFLAGS="-I$(PACMAN71)/include$(if $(SOMAJOR71), -DGO_ALPM_SOMAJOR=$(SOMAJOR71))" \
	CGO_LDFLAGS="-L$(LIB71)" PKG_CONFIG_PATH="$(LIB71)/pkgconfig" MAKEPKG_CONF="$(PACMAN71)/etc/makepkg.conf"
TESTFLAGS ?= -race -timeout 40m -count=1
# -s -w: what makepkg's strip gives the package too; a smaller binary starts
# faster, which the pacman hooks feel on every transaction.
LDFLAGS      := -s -w -X main.version=$(VERSION)

# What the tests and the demo need on the machine.
DEBIAN_PKGS := libalpm-dev libarchive-dev pacman-package-manager makepkg \
	libarchive-tools fakeroot zstd xz-utils gzip minisign pkg-config gcc \
	btrfs-progs snapper scdoc systemd util-linux curl ca-certificates man-db \
	bash-completion zsh fish systemd-container mmdebstrap jq patch
ARCH_PKGS   := pacman go gcc pkgconf libarchive fakeroot zstd xz minisign \
	btrfs-progs snapper scdoc curl man-db jq patch
NEEDED_CMDS := pacman pacman-conf makepkg repo-add bsdtar fakeroot zstd minisign \
	pkg-config gcc mkfs.btrfs snapper scdoc systemd-analyze losetup curl man \
	systemd-nspawn mmdebstrap jq patch

.PHONY: all build deps deps-check test test-short vet demo bench install man completions clean fmt dist

all: build

build: deps-check
	$(GO) build $(GOFLAGS_TAGS) -trimpath -ldflags '$(LDFLAGS)' -o clp ./cmd/clp
	$(HOOK_BUILD) -o clp-hook ./cmd/clp-hook

# clp-hook: the hook handlers alone (what pacman's hook files run, from
# /usr/lib/clp), without cgo: no libalpm, no shared library to load on each
# of the three hooks of every transaction.
HOOK_BUILD = CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w'

# deps installs the system packages with the distribution's package manager.
deps:
	@if command -v apt-get >/dev/null 2>&1; then \
		echo "==> installing with apt-get: $(DEBIAN_PKGS)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		if [ ! -f /var/lib/apt/periodic/clp-updated ] || ! apt-cache show libalpm-dev >/dev/null 2>&1; then \
			apt-get update -qq && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/clp-updated; fi; \
		apt-get install -y -qq --no-install-recommends $(DEBIAN_PKGS) >/dev/null; \
		if [ "$$(pkg-config --modversion libalpm | cut -d. -f1)" -lt 14 ]; then \
			./scripts/pacman71.sh "$(PACMAN71)" >/dev/null; fi; \
	elif command -v pacman >/dev/null 2>&1; then \
		pacman -S --needed --noconfirm $(ARCH_PKGS); \
	else \
		echo "make deps: no apt-get or pacman here; install: $(DEBIAN_PKGS)" >&2; exit 1; \
	fi

# deps-check runs deps only when something is missing, so repeated runs are quick.
deps-check:
	@missing=""; for c in $(NEEDED_CMDS); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	pkg-config --modversion libalpm >/dev/null 2>&1 || missing="$$missing libalpm-dev"; \
	if [ -n "$(LEG71)" ] && ! [ -x "$(PACMAN71)/bin/pacman" ]; then missing="$$missing pacman-7.1"; fi; \
	if [ -n "$$missing" ]; then echo "==> missing:$$missing"; $(MAKE) --no-print-directory deps; fi

vet: deps-check
	$(GO) vet $(GOFLAGS_TAGS) ./...
ifeq ($(LEG71),yes)
	$(ENV71) $(GO) vet -tags next ./...
endif

# test: vet, then every test with the race detector, real-pacman tests
# included (they need root; as another user they skip and say why): on
# pacman 7.1 / libalpm 16 where the machine's pacman is older (see ENV71),
# then on the machine's own pacman.
test: deps-check vet
ifeq ($(LEG71),yes)
	@echo "==> tests on pacman 7.1 / libalpm 16 ($(PACMAN71)): $$($(ENV71) pacman --version | grep -o 'Pacman v.*')"
	$(ENV71) $(GO) test -tags next $(TESTFLAGS) ./...
endif
	@echo "==> tests on this machine's pacman: $$(pacman --version | grep -o 'Pacman v.*')"
	$(GO) test $(GOFLAGS_TAGS) $(TESTFLAGS) ./...
	@# The snapshot disk-use goal (1,000 snapshots under 5 MB) skips under
	@# -race, which only slows it down: check it once without.
	$(GO) test $(GOFLAGS_TAGS) -count=1 -run 'TestDiskUsage1000' -v ./snapshot

test-short: deps-check
	$(GO) test $(GOFLAGS_TAGS) -count=1 ./...

demo: build
	CLP=$(CURDIR)/clp ./scripts/demo.sh

# bench: Go benchmarks, then clp against pacman on the same data, side by
# side; on pacman 7.1 (what Vincent OS runs) where the tests run on it too.
ifeq ($(LEG71),yes)
BENCH_ENV  := $(ENV71)
BENCH_TAGS := -tags next
else
BENCH_TAGS := $(GOFLAGS_TAGS)
endif
# The whole output goes to clp.bench.log too, and the table at the end
# (scripts/bench-table.sh, README's speed table) is read from it: a missing
# baseline or figure fails make bench instead of leaving a gap.
bench: SHELL := /bin/bash
bench: .SHELLFLAGS := -o pipefail -c
bench: deps-check
	./scripts/bench-table.sh --check
	$(BENCH_ENV) $(GO) build $(BENCH_TAGS) -trimpath -ldflags '$(LDFLAGS)' -o clp.bench ./cmd/clp
	$(HOOK_BUILD) -o clp-hook.bench ./cmd/clp-hook
	@echo "==> benchmarks on $$($(BENCH_ENV) pacman --version | grep -o 'Pacman v.*')" | tee clp.bench.log
	$(BENCH_ENV) $(GO) test $(BENCH_TAGS) -run '^$$' -bench . -benchtime 3x ./... 2>&1 | { grep -E '^(Benchmark|ok|FAIL|---)' || true; } | tee -a clp.bench.log
	$(BENCH_ENV) CLP=$(CURDIR)/clp.bench ./scripts/bench.sh | tee -a clp.bench.log
	$(BENCH_ENV) CLP=$(CURDIR)/clp.bench CLP_HOOK=$(CURDIR)/clp-hook.bench ./scripts/bench-hooks.sh | tee -a clp.bench.log
	$(BENCH_ENV) CLP=$(CURDIR)/clp.bench ./scripts/bench-verify.sh | tee -a clp.bench.log
	$(BENCH_ENV) CLP=$(CURDIR)/clp.bench ./scripts/bench-cache.sh | tee -a clp.bench.log
	$(BENCH_ENV) CLP=$(CURDIR)/clp.bench ./scripts/bench-update.sh | tee -a clp.bench.log
	@echo "==> the table (README's speed table), from clp.bench.log"
	./scripts/bench-table.sh clp.bench.log

# man renders the scdoc sources; the pages are not committed (.gitignore).
# dist/man/clp.1.scd's COMMANDS section is generated from the command
# registry: 'go test ./cmd/clp -run TestManPage -update' rewrites it.
MAN_SRC   := $(wildcard dist/man/*.scd)
MAN_PAGES := $(MAN_SRC:.scd=)

man: $(MAN_PAGES)

$(MAN_PAGES): %: %.scd
	scdoc < $< > $@.tmp && mv $@.tmp $@

# completions regenerates the committed shell completions from the command
# registry (TestCompletions fails when they are stale).
completions: build
	./clp completion bash > dist/completions/clp.bash
	./clp completion zsh  > dist/completions/_clp
	./clp completion fish > dist/completions/clp.fish

# install lays out the tree the package ships; the PKGBUILD's package() runs
# exactly this (with NOBUILD=1: build() already made clp with Arch's flags,
# and package() runs under fakeroot, where nothing should be compiled).
# DESTDIR and PREFIX as usual; the configuration goes to $(SYSCONFDIR).
install: $(if $(filter 1,$(NOBUILD)),,build) man
	install -Dm755 clp $(DESTDIR)$(PREFIX)/bin/clp
	install -Dm755 clp-hook $(DESTDIR)$(PREFIX)/lib/clp/clp-hook
	install -Dm644 -t $(DESTDIR)$(PREFIX)/lib/systemd/system \
		dist/systemd/core-livepatch-update.service dist/systemd/core-livepatch-update.timer \
		dist/systemd/clp-boot-guard.service dist/systemd/clp-boot-check.service
	install -Dm644 -t $(DESTDIR)$(PREFIX)/share/libalpm/hooks hooks/files/*.hook
	@if [ -f dist/clp.conf ]; then \
		echo "install -Dm644 dist/clp.conf $(DESTDIR)$(SYSCONFDIR)/clp/clp.conf"; \
		install -Dm644 dist/clp.conf $(DESTDIR)$(SYSCONFDIR)/clp/clp.conf; \
	else echo "note: dist/clp.conf does not exist: no $(SYSCONFDIR)/clp/clp.conf installed"; fi
	install -dm755 $(DESTDIR)$(SYSCONFDIR)/clp/keys
	@if [ -f dist/feed/root.json ]; then \
		echo "install -Dm644 dist/feed/root.json $(DESTDIR)$(PREFIX)/share/clp/feed/root.json"; \
		install -Dm644 dist/feed/root.json $(DESTDIR)$(PREFIX)/share/clp/feed/root.json; \
	else echo "note: dist/feed/root.json does not exist: no feed root of trust installed"; fi
	install -Dm644 -t $(DESTDIR)$(PREFIX)/share/man/man1 $(filter %.1,$(MAN_PAGES))
	install -Dm644 -t $(DESTDIR)$(PREFIX)/share/man/man5 $(filter %.5,$(MAN_PAGES))
	install -Dm644 -t $(DESTDIR)$(PREFIX)/share/doc/clp docs/clp-format.md
	install -Dm644 dist/completions/clp.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/clp
	install -Dm644 dist/completions/_clp $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_clp
	install -Dm644 dist/completions/clp.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/clp.fish
	install -Dm644 LICENSE $(DESTDIR)$(PREFIX)/share/licenses/clp/LICENSE

# dist writes a release into DISTDIR, as Arch builds it: the source tarball
# (git archive of the tree, uncommitted changes to tracked files included),
# the PKGBUILD with pkgver and the tarball's sha256 filled in, and its
# install scriptlet. 'cd $(DISTDIR) && makepkg' builds the package.
# PKGVER: the PKGBUILD's version, then .r<commits>.g<commit> (Arch's VCS
# style), or the tag when HEAD is tagged v<version>.
DISTDIR  ?= dist-out
PKGBASE  := $(shell sed -n 's/^pkgver=//p' PKGBUILD)
PKGVER   ?= $(shell t=$$(git describe --tags --exact-match 2>/dev/null) && echo $${t\#v} || \
	echo $(PKGBASE).r$$(git rev-list --count HEAD 2>/dev/null || echo 0).g$$(git rev-parse --short HEAD 2>/dev/null || echo 0))

dist:
	@command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1 || { echo "make dist: needs a git checkout" >&2; exit 1; }
	mkdir -p $(DISTDIR)
	tree=$$(git stash create 2>/dev/null); \
	git archive --format=tar.gz --prefix=clp-$(PKGVER)/ -o $(DISTDIR)/clp-$(PKGVER).tar.gz $${tree:-HEAD}
	sum=$$(sha256sum $(DISTDIR)/clp-$(PKGVER).tar.gz | cut -d' ' -f1); \
	sed -e "s/^pkgver=.*/pkgver=$(PKGVER)/" -e "s/^sha256sums=.*/sha256sums=('$$sum')/" \
		-e "/^# 'make dist' writes the tarball's sum here.$$/d" PKGBUILD > $(DISTDIR)/PKGBUILD
	install -m644 dist/clp.install $(DISTDIR)/clp.install
	@echo "==> $(DISTDIR): clp-$(PKGVER).tar.gz, PKGBUILD, clp.install ('cd $(DISTDIR) && makepkg' builds the package)"

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -f clp clp.bench clp-hook clp-hook.bench clp.bench.log
	$(GO) clean -testcache
