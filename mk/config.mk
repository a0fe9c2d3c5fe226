# Compiler, flags and libraries shared by every target.

CC      ?= cc
PYTHON  := /usr/bin/python3
PKGS    := libevent libevent_pthreads jansson libcurl sqlite3 dqlite openssl \
           libsystemd ldns yaml-0.1 libarchive

# The dependencies are checked (and installed when missing) before anything
# is compiled; until then pkg-config may not know the packages.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -MMD -MP -Icommon/include \
             -DDCOS_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
LDLIBS   := -Wl,--as-needed $(PKG_LIBS) -lnng -lpthread -lm

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
