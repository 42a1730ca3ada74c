# The two commands of the README, and a few more for developers.
#   make demo   install what is needed, build, run the whole system on music it generates (scripts/demo.sh)
#   make test   install what is needed, build, run every test
#   make bench  install what is needed and the baselines' packages (python3-torch), build, run every benchmark
PRESET ?= release
BUILD  := build/$(PRESET)
JOBS   ?= $(shell nproc)
DEMO   ?= demo-out

.PHONY: all deps build demo test bench format clean

all: build

deps:
	./scripts/install-deps.sh

build: deps
	cmake --preset $(PRESET)
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./scripts/demo.sh $(BUILD)/src/tunelens $(DEMO)

test: build
	ctest --preset $(PRESET) -j $(JOBS)

bench: build
	./scripts/install-deps.sh --bench || echo "make bench: python3-torch could not be installed; the tagging benchmark runs tunelens's side only"
	./scripts/bench.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf build $(DEMO)
