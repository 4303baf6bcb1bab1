# Convenience targets; each is one script under scripts/ (see README.md).
.PHONY: all build test serve demo
all: build
build:
	bash scripts/build.sh
test:
	bash scripts/test.sh
serve:
	bash scripts/serve.sh
demo:
	bash scripts/demo.sh
