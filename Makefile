# lattice - top-level build.  `make` builds src/lattice-server; `make run` installs
# missing dependencies, builds and starts a server on 127.0.0.1:6379; `make test`
# builds and runs every suite; `make fuzz` runs the fuzz targets under libFuzzer
# (FUZZ_SECONDS each, default 60; see tests/Makefile).
CC      ?= cc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS+= -D_GNU_SOURCE
LDLIBS  := -lev -lm -pthread

SRCS    := $(wildcard src/*.c)
OBJS    := $(SRCS:.c=.o)
SERVER  := src/lattice-server

.PHONY: all run deps deps-test deps-fuzz test unit integration redis-test fuzz bench clean

all: $(SERVER)

$(SERVER): $(OBJS)
	$(CC) $(CFLAGS) -o $@ $(OBJS) $(LDFLAGS) $(LDLIBS)

src/%.o: src/%.c $(wildcard src/*.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

deps:
	@sh deps/install.sh build

deps-test:
	@sh deps/install.sh test

deps-fuzz:
	@sh deps/install.sh fuzz

run: deps
	@$(MAKE) --no-print-directory all
	./$(SERVER) --port 6379 --bind 127.0.0.1

test: deps-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C tests
	@sh redis-tests/run.sh

unit: deps-test
	@$(MAKE) --no-print-directory -C tests unit

integration: deps-test all
	@$(MAKE) --no-print-directory -C tests integration

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory -C tests fuzz

redis-test: deps-test all
	@sh redis-tests/run.sh

bench: deps-test all
	@sh bench/run.sh

clean:
	rm -f src/*.o $(SERVER)
	@$(MAKE) --no-print-directory -C tests clean
