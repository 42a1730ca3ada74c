# The two commands of the README, and a few more for developers.
#   make demo   install what is needed, build, run the whole system on music it generates (scripts/demo.sh)
#   make test   install what is needed, build, run every test (under tests/pg/with_postgres.sh: a PostgreSQL
#               server of its own for the catalog's PostgreSQL tests, stopped after)
#   make bench  install what is needed and the baselines' packages (python3-torch), build, run every benchmark
#   make fuzz   install clang too, build the libFuzzer harnesses (fuzz preset), run each for FUZZ_SECONDS
#               (default 600; FUZZ_ONLY="npy model" runs only those)
#   make test PRESET=asan   every test under AddressSanitizer and UndefinedBehaviorSanitizer
PRESET ?= release
BUILD  := build/$(PRESET)
JOBS   ?= $(shell nproc)
DEMO   ?= demo-out
FUZZ_SECONDS ?= 600
FUZZ_ONLY    ?=

.PHONY: all deps build demo test bench fuzz format clean

all: build

deps:
	./scripts/install-deps.sh

build: deps
	cmake --preset $(PRESET)
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./scripts/demo.sh $(BUILD)/src/tunelens $(DEMO)

# Under a throwaway PostgreSQL server for the catalog's PostgreSQL tests (skipped, saying so, where none starts).
test: build
	./tests/pg/with_postgres.sh ctest --preset $(PRESET) -j $(JOBS)

bench: build
	./scripts/install-deps.sh --bench || echo "make bench: python3-torch could not be installed; the tagging benchmark runs tunelens's side only"
	./scripts/bench.sh $(BUILD)

fuzz:
	./scripts/install-deps.sh --fuzz
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)
	./fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_ONLY)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf build $(DEMO)
