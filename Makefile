# Two commands on a fresh Debian 12 machine:
#   make run    install what is missing, build a release binary, start the gateway
#   make test   install what is missing, build with sanitizers, start PostgreSQL and Redis on
#               loopback, run every test
.PHONY: run test deps web build build-asan bench format tidy clean

JOBS ?= $(shell nproc)
CTEST_JOBS ?= 2
RUN_ARGS ?=

deps:
	@tools/install_deps.sh

web: deps
	@tools/build_web.sh

build: deps web
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

run: build
	./build/release/src/livery serve $(RUN_ARGS)

build-asan: deps web
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

test: build-asan
	tools/check_format.sh
	LIVERY_REQUIRE_SERVICES=1 tools/with_services.sh ctest --preset asan -j $(CTEST_JOBS)

bench: build
	bench/run_bench.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

tidy:
	cmake --preset tidy >/dev/null && cmake --build --preset tidy

clean:
	rm -rf build
