# smbcim build.  `make` builds build/smbcim and build/libsmbcim.{a,so};
# `make check` builds and runs every test layer; `make SAN=1 check` does the
# same under AddressSanitizer + UndefinedBehaviorSanitizer in build-san/;
# `make fuzz` builds the libFuzzer targets (clang) into build-fuzz/.
# Sources are found by wildcard: a new module needs no Makefile edit.

CC      ?= cc
# Installation paths.  Every path compiled into a program (the PAM helper's
# directory, the configuration file) or written into smbcim.pc comes from
# these, through $(BUILD)/gen/paths.h, which is rewritten only when one of
# them changes: `make` then `make install PREFIX=/usr` rebuilds what it must.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
LIBEXECDIR ?= $(PREFIX)/libexec/smbcim
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
# bash-completion looks in $(DATADIR)/bash-completion/completions for
# /usr and /usr/local alike (its XDG_DATA_DIRS lookup).
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
SAN     ?=
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      = -O1
else
BUILD   ?= build
SANFLAGS =
OPT      = -O2
endif

# The version lives in include/smbcim.h (SMBCIM_VERSION_*), nowhere else.
VERSION_PART = $(shell sed -n 's/^\#define SMBCIM_VERSION_$(1) *\([0-9]*\).*/\1/p' include/smbcim.h)
MAJOR    = $(call VERSION_PART,MAJOR)
VERSION  = $(MAJOR).$(call VERSION_PART,MINOR).$(call VERSION_PART,PATCH)
CSTD     = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
# -Werror is for the project's own builds (CI, make check); packagers build
# with `make WERROR=` so that a newer compiler's new warning does not fail
# a distribution build.  CPPFLAGS, CFLAGS and LDFLAGS from the environment
# (dpkg-buildflags: _FORTIFY_SOURCE, -fstack-protector-strong, relro/now)
# are honoured by every compile and link, the PAM helper's included.
WERROR  ?= -Werror
WARN     = -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -fPIC -fvisibility=hidden \
             -Iinclude -Isrc -I$(BUILD)/gen
CMOCKA_LIBS  = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
LIBS     = -ltdb -lm -pthread

LIB_SRCS = $(filter-out src/cli/% src/server/% src/smbcimd/% src/smbcimd-auth/%,$(wildcard src/*/*.c src/*/*/*.c))
CLI_SRCS = $(wildcard src/cli/*.c)
# src/server/ is the smbcimd front end (CIM-XML, HTTP, auth); it is not part
# of libsmbcim, so the library does not pull in expat, libmicrohttpd or PAM.
SRV_SRCS = $(wildcard src/server/*.c)
SRV_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(SRV_SRCS))
SRV_LIBS = -lexpat
# src/smbcimd/ is the daemon: libmicrohttpd, PAM, GnuTLS.  Its pieces but
# main.c form an archive that the test_srvd_*.c unit tests link.
SRVD_SRCS = $(filter-out src/smbcimd/main.c,$(wildcard src/smbcimd/*.c))
SRVD_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(SRVD_SRCS))
SRVD_LIBS = $(SRV_LIBS) -lmicrohttpd -lgnutls -lcurl -lpthread
MOF      = $(sort $(wildcard schema/*.mof))
# root/interop: the shared qualifier declarations, then its own classes.
INTEROP_MOF = $(sort $(wildcard schema/interop/*.mof))
GEN_SRCS = $(BUILD)/gen/schema_data.c
LIB_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(BUILD)/obj/gen/schema_data.o
CLI_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)

SONAME   = libsmbcim.so.$(MAJOR)

.PHONY: all check unit install uninstall clean fuzz bench FORCE
all: $(BUILD)/smbcim $(BUILD)/smbcimd $(BUILD)/smbcimd-auth $(BUILD)/libsmbcim.a $(BUILD)/libsmbcim.so $(BUILD)/smbcim.pc

# The installation paths as C strings; touched only when they change.
$(BUILD)/gen/paths.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define SMBCIM_LIBEXECDIR "%s"\n#define SMBCIM_SYSCONFDIR "%s"\n#define SMBCIM_PATHS_KEY "%s"\n' \
	  '$(LIBEXECDIR)' '$(SYSCONFDIR)' '$(PREFIX)|$(LIBDIR)|$(INCLUDEDIR)|$(VERSION)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:
$(BUILD)/obj/src/smbcimd/auth.o $(BUILD)/obj/src/smbcimd/config.o: $(BUILD)/gen/paths.h

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -o $@ $<

# The MOF files are compiled into the library as text; the MOF parser reads
# them when a context opens (MOF stays the single source of truth).
$(BUILD)/gen/schema_data.c: $(MOF) $(INTEROP_MOF) $(BUILD)/tools/embed
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed --set sc_schema $(MOF) \
	  --set sc_interop_schema schema/00_qualifiers.mof $(INTEROP_MOF) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/schema_data.o: $(BUILD)/gen/schema_data.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libsmbcim.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

# Only what smbcim.h declares is exported: the objects are built with
# -fvisibility=hidden (the header pushes default visibility) and the
# version script names the public prefixes (tests/abi checks both).
$(BUILD)/libsmbcim.so.$(VERSION): $(LIB_OBJS) src/libsmbcim.map
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) \
	  -Wl,--version-script=src/libsmbcim.map -o $@ $(LIB_OBJS) $(LIBS)

$(BUILD)/libsmbcim.so: $(BUILD)/libsmbcim.so.$(VERSION)
	ln -sf libsmbcim.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

$(BUILD)/smbcim: $(CLI_OBJS) $(BUILD)/libsmbcim.a
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libsmbcim.a $(LIBS)

$(BUILD)/smbcim.pc: smbcim.pc.in $(BUILD)/gen/paths.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

$(BUILD)/libsmbcimsrv.a: $(SRV_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libsmbcimd.a: $(SRVD_OBJS)
	rm -f $@
	ar rcs $@ $^

# The PAM helper is never built with sanitizers: PAM loads its modules with
# RTLD_DEEPBIND, which the sanitizer runtimes cannot handle.
$(BUILD)/smbcimd-auth: src/smbcimd-auth/main.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CPPFLAGS) $(filter-out -fsanitize%,$(CFLAGS)) $(LDFLAGS) -o $@ $< -lpam

$(BUILD)/smbcimd: $(BUILD)/obj/src/smbcimd/main.o $(BUILD)/libsmbcimd.a $(BUILD)/libsmbcimsrv.a $(BUILD)/libsmbcim.a
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(SRVD_LIBS) $(LIBS)

# Unit tests of the daemon (test_srvd_*.c) link its archives.
$(BUILD)/tests/test_srvd_%: tests/unit/test_srvd_%.c $(BUILD)/libsmbcimd.a $(BUILD)/libsmbcimsrv.a $(BUILD)/libsmbcim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(BUILD)/libsmbcimd.a $(BUILD)/libsmbcimsrv.a $(BUILD)/libsmbcim.a $(CMOCKA_LIBS) $(SRVD_LIBS) $(LIBS)

# Unit tests of the server module (test_srv_*.c) link its archive too.
$(BUILD)/tests/test_srv_%: tests/unit/test_srv_%.c $(BUILD)/libsmbcimsrv.a $(BUILD)/libsmbcim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(BUILD)/libsmbcimsrv.a $(BUILD)/libsmbcim.a $(CMOCKA_LIBS) $(SRV_LIBS) $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsmbcim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(BUILD)/libsmbcim.a $(CMOCKA_LIBS) $(LIBS)

unit: $(UNIT_BINS)

check: all $(UNIT_BINS)
	BUILD=$(BUILD) tests/run-tests.sh

# libFuzzer targets: clang only.
FUZZ_CFLAGS = $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc -Ibuild-fuzz/gen
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libsmbcim.a build-fuzz/libsmbcimsrv.a build-fuzz/libsmbcimd.a
	@mkdir -p build-fuzz/fuzz
	for f in $(FUZZ_SRCS); do \
	  n=$$(basename $$f .c); \
	  clang $(FUZZ_CFLAGS) -o build-fuzz/fuzz/$$n $$f build-fuzz/libsmbcimd.a build-fuzz/libsmbcimsrv.a build-fuzz/libsmbcim.a $(SRVD_LIBS) $(LIBS) || exit 1; \
	done

bench: all
	bench/run.sh

# DESTDIR for staged installs (packages).  ldconfig runs after installing
# the shared library into a system directory, unless staged.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
	  $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(DATADIR)/smbcim/schema/interop \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(LIBEXECDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/smbcim $(DESTDIR)$(SYSCONFDIR)/pam.d $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(DATADIR)/doc/smbcim $(DESTDIR)$(BASHCOMPDIR) \
	  $(DESTDIR)$(DATADIR)/doc/smbcim/examples/prometheus
	install -m 755 $(BUILD)/smbcim $(DESTDIR)$(BINDIR)/smbcim
	install -m 644 dist/bash-completion/smbcim $(DESTDIR)$(BASHCOMPDIR)/smbcim
	install -m 644 $(BUILD)/libsmbcim.a $(DESTDIR)$(LIBDIR)/libsmbcim.a
	install -m 755 $(BUILD)/libsmbcim.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsmbcim.so.$(VERSION)
	ln -sf libsmbcim.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libsmbcim.so
	install -m 644 include/smbcim.h $(DESTDIR)$(INCLUDEDIR)/smbcim.h
	install -m 644 $(BUILD)/smbcim.pc $(DESTDIR)$(PKGCONFIGDIR)/smbcim.pc
	install -m 644 $(MOF) $(DESTDIR)$(DATADIR)/smbcim/schema/
	install -m 644 $(INTEROP_MOF) $(DESTDIR)$(DATADIR)/smbcim/schema/interop/
	install -m 644 man/smbcim.1 $(DESTDIR)$(MANDIR)/man1/smbcim.1
	install -m 755 $(BUILD)/smbcimd $(DESTDIR)$(SBINDIR)/smbcimd
	install -m 755 $(BUILD)/smbcimd-auth $(DESTDIR)$(LIBEXECDIR)/smbcimd-auth
	install -m 755 dist/smbcimd-mkcert $(DESTDIR)$(SBINDIR)/smbcimd-mkcert
	install -m 644 man/smbcimd.8 $(DESTDIR)$(MANDIR)/man8/smbcimd.8
	install -m 644 man/smbcimd-mkcert.8 $(DESTDIR)$(MANDIR)/man8/smbcimd-mkcert.8
	install -m 644 LICENSE README.md $(DESTDIR)$(DATADIR)/doc/smbcim/
	install -m 644 docs/*.md $(DESTDIR)$(DATADIR)/doc/smbcim/
	install -m 644 contrib/prometheus/*.yml $(DESTDIR)$(DATADIR)/doc/smbcim/examples/prometheus/
	[ -e $(DESTDIR)$(SYSCONFDIR)/smbcim/smbcimd.conf ] || install -m 644 dist/smbcimd.conf $(DESTDIR)$(SYSCONFDIR)/smbcim/smbcimd.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/pam.d/smbcimd ] || install -m 644 dist/pam.d/smbcimd $(DESTDIR)$(SYSCONFDIR)/pam.d/smbcimd
	sed -e 's|/usr/local/sbin|$(SBINDIR)|g' -e 's|/etc/smbcim|$(SYSCONFDIR)/smbcim|g' \
	  dist/systemd/smbcimd.service > $(DESTDIR)$(UNITDIR)/smbcimd.service
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi
	# smbcimd's worker runs as the system user smbcim (user = in smbcimd.conf);
	# a staged install (packages) leaves that to the package's scripts.
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent passwd smbcim >/dev/null; then \
	  useradd --system --user-group --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --comment "smbcim WBEM server" smbcim; fi
	# The worker keeps indication subscriptions in /var/lib/smbcim (state-dir).
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && [ ! -e /var/lib/smbcim ]; then \
	  install -d -m 700 -o smbcim -g smbcim /var/lib/smbcim; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/smbcim $(DESTDIR)$(LIBDIR)/libsmbcim.* \
	  $(DESTDIR)$(INCLUDEDIR)/smbcim.h $(DESTDIR)$(PKGCONFIGDIR)/smbcim.pc \
	  $(DESTDIR)$(MANDIR)/man1/smbcim.1 $(DESTDIR)$(SBINDIR)/smbcimd \
	  $(DESTDIR)$(SBINDIR)/smbcimd-mkcert $(DESTDIR)$(MANDIR)/man8/smbcimd.8 \
	  $(DESTDIR)$(MANDIR)/man8/smbcimd-mkcert.8 \
	  $(DESTDIR)$(UNITDIR)/smbcimd.service $(DESTDIR)$(BASHCOMPDIR)/smbcim
	rm -rf $(DESTDIR)$(DATADIR)/smbcim $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)/doc/smbcim

clean:
	rm -rf build build-san build-fuzz build-clang

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
