# What every layer's Makefile shares (sam build runs them: Metadata: BuildMethod: makefile).
#
# - Wheels: pip fetches the python3.13 / manylinux aarch64 wheels of a complete lock itself, hence
#   --no-deps (the layer holds exactly the pinned set the tests run against), and no Docker.
# - Bytecode: Lambda mounts layers read-only at /opt, so a module without a usable .pyc is compiled
#   anew at every cold start. A CPython 3.13 compiles the layer here, with unchecked-hash pycs (PEP 552):
#   the interpreter loads them without comparing them to their source, so neither the source's
#   timestamps after the zip round trip nor the read-only /opt matter ("Cached bytecode invalidation"
#   in the import system reference; py_compile.PycInvalidationMode.UNCHECKED_HASH). Hash-based pycs
#   are also reproducible: the same sources give the same layer.
# - Where: the layer's root holds python/, which Lambda puts on sys.path ("Packaging your layer
#   content: Layer paths for each Lambda runtime").
# - Left out: the console scripts (bin/) and the test suites some wheels carry inside their package
#   (simplejson/tests, 0.6 MB): nothing on Lambda runs them.
LAYERS_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
LAMBDA_PYTHON_VERSION := 3.13
# The interpreter that compiles the bytecode: python3.13 on PATH, else pyenv's (layers/find-python.sh).
LAMBDA_PYTHON ?= $(shell sh "$(LAYERS_DIR)/find-python.sh" $(LAMBDA_PYTHON_VERSION))
# pip only downloads and unpacks wheels for another platform: any recent pip does, 3.13's or not.
PIP_PYTHON ?= $(or $(LAMBDA_PYTHON),python3)
SITE = $(ARTIFACTS_DIR)/python

# $(call install_wheels,requirements file)
define install_wheels
	$(PIP_PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
		--requirement $(1) \
		--platform manylinux2014_aarch64 --only-binary=:all: \
		--python-version $(LAMBDA_PYTHON_VERSION) --implementation cp \
		--target "$(SITE)"
	rm -rf "$(SITE)/bin"
	find "$(SITE)" -mindepth 2 -maxdepth 2 -type d \( -name tests -o -name test \) -prune -exec rm -rf {} +
endef

# $(call compile_bytecode,folder,path on Lambda): every module in the folder, for the runtime's
# interpreter. The pycs record the path Lambda will see (/opt, /var/task), not the build's.
define compile_bytecode
	@if [ -z "$(LAMBDA_PYTHON)" ]; then \
		echo "WARNING: no Python $(LAMBDA_PYTHON_VERSION) on this machine: $(notdir $(ARTIFACTS_DIR)) ships without" \
			"bytecode, and every cold start on Lambda compiles its modules (install python$(LAMBDA_PYTHON_VERSION)," \
			"e.g. with pyenv, and build again)." >&2; \
	else \
		"$(LAMBDA_PYTHON)" -m compileall -q -j 0 --invalidation-mode unchecked-hash \
			-s "$(ARTIFACTS_DIR)" -p $(2) "$(1)" > /dev/null; \
	fi
endef
