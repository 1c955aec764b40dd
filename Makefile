# libsmtp: build, install, demo and test.
#   make                      release build of libsmtp.so and libsmtp.a
#   make install PREFIX=/usr/local DESTDIR=
#   make uninstall PREFIX=... DESTDIR=...
#   make docs                 man pages (section 3) and HTML reference in build/docs
#   make dist                 into dist/: the C source release (builds offline) and the
#                             packages of the bindings in DIST_BINDINGS, bundling libsmtp.so
#   make dist-c               only dist/libsmtp-VERSION.tar.gz
#   make demo                 build, start a local server, send a message, show it
#   make test                 every suite through scripts/run_tests.py (installs what it needs)

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
CARGO      ?= cargo
CC         ?= cc
STRIP      ?= strip
OBJCOPY    ?= objcopy

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR   := $(firstword $(subst ., ,$(VERSION)))
MINOR   := $(word 2,$(subst ., ,$(VERSION)))
# What the static library needs besides libc: `make check-libs-private`
# compares it with rustc's --print native-static-libs. One deliberate
# difference: rustc names the unwinder -lgcc_s, which exists only as a shared
# library, so `cc -static` fails on it ("cannot find -lgcc_s"). The C
# compiler driver links an unwinder itself, the right one for the link:
# libgcc_s (as needed) for a dynamic program, libgcc_eh for `cc -static`
# (gcc -dumpspecs, *libgcc; clang does the same).
LIBS_PRIVATE := -lutil -lrt -lpthread -lm -ldl -lc
LIBS_BY_DRIVER := -lgcc_s
# The same for CMake's smtp::smtp_static (names without -l; libc is implied).
CMAKE_LIBS_PRIVATE := $(subst $(eval) ,;,$(patsubst -l%,%,$(filter-out -lc,$(LIBS_PRIVATE))))
CMAKEDIR := $(LIBDIR)/cmake/smtp

RELEASE := target/release
STAGE   := $(CURDIR)/build/stage

.PHONY: docs install-man uninstall-man
.PHONY: all build install install-debug uninstall stage examples demo test check-libs-private dist dist-c clean

all: build

build:
	$(CARGO) build --release --lib

# The installed libraries carry no debug info (the release build keeps line
# tables: 21 MiB of the .so's 22); its debug info goes to
# build/libsmtp.so.debug, which the installed .so names (gnu-debuglink), and
# `make install-debug` puts beside it for debuggers. The symbol table stays
# (backtraces and valgrind suppressions need the names).
build/libsmtp.so.debug: $(RELEASE)/libsmtp.so
	mkdir -p build
	$(OBJCOPY) --only-keep-debug $(RELEASE)/libsmtp.so $@

install: build build/libsmtp.so.debug
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(RELEASE)/libsmtp.so $(DESTDIR)$(LIBDIR)/libsmtp.so.$(VERSION)
	$(STRIP) --strip-debug $(DESTDIR)$(LIBDIR)/libsmtp.so.$(VERSION)
	$(OBJCOPY) --add-gnu-debuglink=build/libsmtp.so.debug $(DESTDIR)$(LIBDIR)/libsmtp.so.$(VERSION)
	ln -sf libsmtp.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsmtp.so.$(MAJOR)
	ln -sf libsmtp.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsmtp.so
	install -m 644 $(RELEASE)/libsmtp.a $(DESTDIR)$(LIBDIR)/libsmtp.a
	$(STRIP) --strip-debug $(DESTDIR)$(LIBDIR)/libsmtp.a
	install -m 644 include/smtp.h $(DESTDIR)$(INCLUDEDIR)/smtp.h
	install -m 644 include/smtp.hpp $(DESTDIR)$(INCLUDEDIR)/smtp.hpp
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' \
	    smtp.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/smtp.pc
	install -d $(DESTDIR)$(CMAKEDIR)
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' -e 's|@CMAKE_LIBS_PRIVATE@|$(CMAKE_LIBS_PRIVATE)|' \
	    -e "s|@REL_INCLUDEDIR@|$$(realpath -m --relative-to=$(CMAKEDIR) $(INCLUDEDIR))|" \
	    cmake/smtpConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/smtpConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' -e 's|@MINOR@|$(MINOR)|g' \
	    -e "s|@SIZEOF_VOID_P@|$$(getconf LONG_BIT | awk '{print $$1 / 8}')|g" \
	    cmake/smtpConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/smtpConfigVersion.cmake

# The debug info of the installed library, where gdb looks for it (the
# library's own directory, by its gnu-debuglink).
install-debug: install
	install -m 644 build/libsmtp.so.debug $(DESTDIR)$(LIBDIR)/libsmtp.so.debug

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsmtp.so.debug
	rm -f $(DESTDIR)$(LIBDIR)/libsmtp.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsmtp.so.$(MAJOR) \
	      $(DESTDIR)$(LIBDIR)/libsmtp.so $(DESTDIR)$(LIBDIR)/libsmtp.a \
	      $(DESTDIR)$(INCLUDEDIR)/smtp.h $(DESTDIR)$(INCLUDEDIR)/smtp.hpp $(DESTDIR)$(LIBDIR)/pkgconfig/smtp.pc
	rm -f $(DESTDIR)$(CMAKEDIR)/smtpConfig.cmake $(DESTDIR)$(CMAKEDIR)/smtpConfigVersion.cmake
	rmdir $(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(LIBDIR)/cmake 2>/dev/null || true

# The reference, from the header's doc comments: build/docs/man3 (a page
# per function and libsmtp.3) and build/docs/html/index.html.
docs:
	python3 docs/mkdocs.py build/docs

install: install-man
uninstall: uninstall-man

install-man: docs
	install -d $(DESTDIR)$(MANDIR)/man3
	install -m 644 build/docs/man3/*.3 $(DESTDIR)$(MANDIR)/man3/

uninstall-man:
	python3 docs/mkdocs.py --list-pages | sed 's|^|$(DESTDIR)$(MANDIR)/man3/|' | xargs rm -f

# An install in build/stage, which the C tests and examples use through
# PKG_CONFIG_PATH only.
stage:
	$(MAKE) install PREFIX=$(STAGE) DESTDIR=

examples: stage
	mkdir -p build/bin
	for src in examples-c/*.c; do \
	  PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig $(CC) -Wall -Wextra -Werror -std=c99 -pthread -o build/bin/$$(basename $$src .c) $$src \
	    $$(PKG_CONFIG_PATH=$(STAGE)/lib/pkgconfig pkg-config --cflags --libs smtp) -Wl,-rpath,$(STAGE)/lib || exit 1; \
	done

# The demo needs aiosmtpd only (no valgrind, g++ or Postfix).
demo:
	sh scripts/deps.sh demo
	$(MAKE) examples
	python3 scripts/run_tests.py --serve sink -- sh scripts/demo.sh

# scripts/run_tests.py runs scripts/deps.sh itself, once.
test:
	python3 scripts/run_tests.py

check-libs-private:
	@want=$$($(CARGO) rustc -q --release --lib --crate-type staticlib -- --print native-static-libs 2>&1 \
	  | sed -n 's/.*native-static-libs: //p' | tail -n 1); \
	for lib in $$want; do case " $(LIBS_PRIVATE) $(LIBS_BY_DRIVER) " in *" $$lib "*) ;; *) echo "Libs.private lacks $$lib (rustc: $$want)"; exit 1;; esac; done; \
	for lib in $(LIBS_PRIVATE); do case " $$want " in *" $$lib "*) ;; *) echo "Libs.private has $$lib, which rustc does not name (rustc: $$want)"; exit 1;; esac; done; \
	echo "Libs.private covers: $$want ($(LIBS_BY_DRIVER) left to the C compiler driver: libgcc_eh under cc -static)"

# A source release: `git archive` of HEAD (committed files only) plus every
# crate of Cargo.lock vendored, and .cargo/config.toml pointing cargo at
# them, so that `make` builds it with no network (CARGO_NET_OFFLINE=true).
DIST := libsmtp-$(VERSION)
dist-c:
	rm -rf build/dist && mkdir -p build/dist dist
	git archive --format=tar --prefix=$(DIST)/ HEAD | tar -x -C build/dist
	mkdir -p build/dist/$(DIST)/.cargo
	cd build/dist/$(DIST) && $(CARGO) vendor --locked vendor > .cargo/config.toml 2>../vendor.log \
	  || { cat build/dist/vendor.log; exit 1; }
	grep -q vendored-sources build/dist/$(DIST)/.cargo/config.toml
	tar -C build/dist -czf dist/$(DIST).tar.gz $(DIST)
	rm -rf build/dist
	@echo "dist/$(DIST).tar.gz: $$(du -h dist/$(DIST).tar.gz | cut -f1)"

# The language packages, each bundling the staged (stripped) libsmtp.so.0:
# bindings/LANG/dist.sh OUTDIR builds one (Go's writes nothing: a Go module is its
# source; bindings/go/README.md shows the static link).
DIST_BINDINGS := python go ruby node
dist: dist-c stage
	for lang in $(DIST_BINDINGS); do sh bindings/$$lang/dist.sh dist || exit 1; done
	@ls -l dist

clean:
	$(CARGO) clean
	rm -rf build dist
