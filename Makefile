# smbcim build.  `make` builds build/smbcim and build/libsmbcim.{a,so};
# `make check` builds and runs every test layer; `make SAN=1 check` does the
# same under AddressSanitizer + UndefinedBehaviorSanitizer in build-san/;
# `make fuzz` builds the libFuzzer targets (clang) into build-fuzz/.
# Sources are found by wildcard: a new module needs no Makefile edit.

CC      ?= cc
PREFIX  ?= /usr/local
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

VERSION  = 0.1.0
CSTD     = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(SANFLAGS) -fPIC -Iinclude -Isrc -I$(BUILD)/gen
CMOCKA_LIBS  = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
LIBS     = -ltdb -lm

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
SRVD_LIBS = $(SRV_LIBS) -lmicrohttpd -lgnutls -lpthread
LIBEXECDIR = $(PREFIX)/libexec/smbcim
MOF      = $(sort $(wildcard schema/*.mof))
GEN_SRCS = $(BUILD)/gen/schema_data.c
LIB_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(BUILD)/obj/gen/schema_data.o
CLI_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all check unit install uninstall clean fuzz bench
all: $(BUILD)/smbcim $(BUILD)/smbcimd $(BUILD)/smbcimd-auth $(BUILD)/libsmbcim.a $(BUILD)/libsmbcim.so $(BUILD)/smbcim.pc

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -o $@ $<

# The MOF files are compiled into the library as text; the MOF parser reads
# them when a context opens (MOF stays the single source of truth).
$(BUILD)/gen/schema_data.c: $(MOF) $(BUILD)/tools/embed
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed $(MOF) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/schema_data.o: $(BUILD)/gen/schema_data.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libsmbcim.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libsmbcim.so: $(LIB_OBJS)
	$(CC) $(CFLAGS) $(SANFLAGS) -shared -Wl,-soname,libsmbcim.so.0 -o $@ $^ $(LIBS)

$(BUILD)/smbcim: $(CLI_OBJS) $(BUILD)/libsmbcim.a
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libsmbcim.a $(LIBS)

$(BUILD)/smbcim.pc: smbcim.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

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
	$(CC) $(CSTD) $(WARN) -O2 -g -o $@ $< -lpam

$(BUILD)/obj/src/smbcimd/auth.o: ALL_CFLAGS += -DSMBCIMD_LIBEXEC='"$(LIBEXECDIR)"'

$(BUILD)/smbcimd: $(BUILD)/obj/src/smbcimd/main.o $(BUILD)/libsmbcimd.a $(BUILD)/libsmbcimsrv.a $(BUILD)/libsmbcim.a
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(SRVD_LIBS) $(LIBS)

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

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/smbcim/schema \
	  $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/smbcim $(DESTDIR)$(PREFIX)/bin/smbcim
	install -m 644 $(BUILD)/libsmbcim.a $(DESTDIR)$(PREFIX)/lib/libsmbcim.a
	install -m 755 $(BUILD)/libsmbcim.so $(DESTDIR)$(PREFIX)/lib/libsmbcim.so.0
	ln -sf libsmbcim.so.0 $(DESTDIR)$(PREFIX)/lib/libsmbcim.so
	install -m 644 include/smbcim.h $(DESTDIR)$(PREFIX)/include/smbcim.h
	install -m 644 $(BUILD)/smbcim.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/smbcim.pc
	install -m 644 $(MOF) $(DESTDIR)$(PREFIX)/share/smbcim/schema/
	install -m 644 man/smbcim.1 $(DESTDIR)$(PREFIX)/share/man/man1/smbcim.1
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)/etc/smbcim $(DESTDIR)/etc/pam.d $(DESTDIR)/lib/systemd/system
	install -m 755 $(BUILD)/smbcimd $(DESTDIR)$(PREFIX)/sbin/smbcimd
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 755 $(BUILD)/smbcimd-auth $(DESTDIR)$(LIBEXECDIR)/smbcimd-auth
	install -m 755 dist/smbcimd-mkcert $(DESTDIR)$(PREFIX)/sbin/smbcimd-mkcert
	install -m 644 man/smbcimd.8 $(DESTDIR)$(PREFIX)/share/man/man8/smbcimd.8
	[ -e $(DESTDIR)/etc/smbcim/smbcimd.conf ] || install -m 644 dist/smbcimd.conf $(DESTDIR)/etc/smbcim/smbcimd.conf
	[ -e $(DESTDIR)/etc/pam.d/smbcimd ] || install -m 644 dist/pam.d/smbcimd $(DESTDIR)/etc/pam.d/smbcimd
	sed 's|/usr/local|$(PREFIX)|g' dist/systemd/smbcimd.service > $(DESTDIR)/lib/systemd/system/smbcimd.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/smbcim $(DESTDIR)$(PREFIX)/lib/libsmbcim.* \
	  $(DESTDIR)$(PREFIX)/include/smbcim.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/smbcim.pc \
	  $(DESTDIR)$(PREFIX)/share/man/man1/smbcim.1 $(DESTDIR)$(PREFIX)/sbin/smbcimd \
	  $(DESTDIR)$(PREFIX)/sbin/smbcimd-mkcert $(DESTDIR)$(PREFIX)/share/man/man8/smbcimd.8 \
	  $(DESTDIR)/lib/systemd/system/smbcimd.service
	rm -rf $(DESTDIR)$(PREFIX)/share/smbcim $(DESTDIR)$(LIBEXECDIR)

clean:
	rm -rf build build-san build-fuzz build-clang

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
