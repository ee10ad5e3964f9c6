#!/usr/bin/env bash
# The C compiler of tools/test.sh's thread-safety build (CC for --config=tsa). Clang's
# -Wthread-safety is a semantic-analysis warning, so a compile action stops after it
# (-fsyntax-only: no code generation, roughly half of a compile's time) and leaves an empty
# object file where Bazel expects one; the dependency file (-MD) is still written, so Bazel's
# check of undeclared headers still runs. Everything else (the toolchain's probes, links) goes
# to clang unchanged. Nothing this build produces is ever linked or run. /usr/bin/clang by its
# full name: the actions' PATH starts with /bin, and a clang found there names its headers
# /bin/../include/..., which the toolchain (configured with /usr/bin/clang) does not declare.
set -u
compile=0 out=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    -c) compile=1 ;;
    -o) out="${args[i + 1]:-}" ;;
  esac
done
if ((compile == 0)) || [[ -z "$out" || "$out" != *.o ]]; then exec /usr/bin/clang "$@"; fi
/usr/bin/clang "$@" -fsyntax-only || exit $?
: >"$out"
