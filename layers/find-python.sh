#!/bin/sh
# Prints the path of a CPython of the version given (default 3.13, the Lambda runtime's), or nothing.
# Looks on PATH first (python3.13), then in pyenv's versions (as `pyenv prefix` would), so a fresh
# machine with pyenv needs no shell set-up. Each candidate must run and report that very version.
version="${1:-3.13}"
root="${PYENV_ROOT:-$HOME/.pyenv}"
for candidate in "$(command -v "python$version" 2>/dev/null)" \
    "$(pyenv prefix "$version" 2>/dev/null | head -n 1)/bin/python$version" \
    $(ls -d "$root"/versions/"$version".*/bin/"python$version" 2>/dev/null | sort -t. -k3 -n -r); do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$version" ]; then
        "$candidate" -c 'import sys; print(sys.executable)'
        exit 0
    fi
done
exit 1
