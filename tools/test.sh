#!/usr/bin/env bash
# Installs what is missing (apt), builds, and runs every test. The last line is
# "N passed, N failed", counted from the test cases Bazel actually ran; the exit status is
# non-zero when anything failed.
#
#   tools/test.sh                 # everything
#   tools/test.sh //leasing/...   # a subset (any bazel target patterns)
#   TRIBUTARY_ASAN=1 tools/test.sh   # the same under AddressSanitizer + UBSan
#   TRIBUTARY_TSA=0 tools/test.sh    # without the clang thread-safety build (below)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tools/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

failed_checks=0

# Time is injected (STYLE.md section 7): only common/ and *_main.cc may read the real clock or
# sleep. tools/ (benchmarks measure wall time) is exempt.
clock_pattern='system_clock::now|steady_clock::now|high_resolution_clock::now|absl::Now\(\)|absl::SleepFor|sleep_for|sleep_until|usleep\(|nanosleep\(|[^_a-zA-Z]sleep\(|gettimeofday\(|clock_gettime\(|time\(nullptr\)|time\(NULL\)'
clock_hits=$(grep -rnE "$clock_pattern" --include='*.cc' --include='*.h' \
  aws etcd nats shard_store leasing stream_tracker poller tests examples 2>/dev/null | grep -vE '_main\.cc:' || true)
if [[ -n "$clock_hits" ]]; then
  echo "FAIL clock check: real time read or sleep outside common/ and *_main.cc:"
  echo "$clock_hits"
  failed_checks=$((failed_checks + 1))
fi

disk_cache="${HOME}/.cache/tributary/bazel-disk"
mkdir -p "$disk_cache"
bep=$(mktemp /tmp/tributary-bep.XXXXXX.json)
trap 'rm -f "$bep"' EXIT

bazel_args=(test --disk_cache="$disk_cache" --build_event_json_file="$bep" --keep_going)
ci_args=()
if [[ -n "${CI:-}" ]]; then ci_args=(--show_progress_rate_limit=30 --curses=no); fi
if [[ "${TRIBUTARY_ASAN:-0}" == "1" ]]; then bazel_args+=(--config=asan); fi
bazel_args+=("${ci_args[@]}")
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(//...); fi

# Locks the compiler checks (STYLE.md section 6): every C++ target the requested ones depend on,
# checked by clang with -Wthread-safety -Werror (--config=tsa): semantic analysis only, through
# tools/tsa/clang_syntax_only.sh (no code generated, nothing linked or run). Clang gets an output
# base of its own, one per checkout, so that neither build evicts the other's toolchain, analysis
# cache or objects; the disk cache is shared.
tsa_failed=0
if [[ "${TRIBUTARY_TSA:-1}" != "0" ]]; then
  tsa_output_base="${HOME}/.cache/tributary/tsa-output/$(printf '%s' "$root" | md5sum | cut -c1-32)"
  tsa_log=$(mktemp /tmp/tributary-tsa.XXXXXX.log)
  tsa_labels=$(mktemp /tmp/tributary-tsa-labels.XXXXXX)
  # //... is named as the top-level folders: it would also walk into the gcc output base through
  # the bazel-<folder> convenience symlink (a server skips only symlinks into its own output base).
  top_level=(//:all)
  for d in */; do
    d=${d%/}
    if [[ ! -L "$d" && -n "$(find "$d" -name BUILD -print -quit)" ]]; then top_level+=("//$d/..."); fi
  done
  echo "thread-safety build (clang, --config=tsa, semantic analysis only):"
  tsa_rc=0
  if [[ "${targets[*]}" == "//..." ]]; then
    universe=$(printf ' + %s' "${top_level[@]}") && universe=${universe# + }
  else
    # A cc_test's compilation_outputs are its own sources' objects only: the C++ libraries the
    # targets depend on are named too (--noimplicit_deps: the query must not configure a
    # toolchain without clang).
    universe=""
    for t in "${targets[@]}"; do
      if [[ "$t" == "//..." ]]; then t=$(printf ' + %s' "${top_level[@]}") && t=${t# + }; fi
      if [[ "$t" == -* ]]; then universe+=" - ${t#-}"; else universe+="${universe:+ + }$t"; fi
    done
    universe="deps($universe)"
  fi
  # Generated code (protoc's output, tagged generated_code) holds no lock annotations: its
  # objects are not compiled here, only the headers our sources include are generated.
  bazel --output_base="$tsa_output_base" query --noimplicit_deps --keep_going \
    "kind('cc_(library|binary|test) rule', $universe) except attr(tags, '\bgenerated_code\b', $universe) except //third_party/..." \
    >"$tsa_labels" 2>"$tsa_log" || { cat "$tsa_log"; tsa_rc=1; }
  if ((tsa_rc == 0)); then
    bazel --output_base="$tsa_output_base" build --config=tsa \
      --repo_env=CC="$root/tools/tsa/clang_syntax_only.sh" --disk_cache="$disk_cache" \
      --keep_going --output_groups=compilation_outputs "${ci_args[@]}" \
      --target_pattern_file="$tsa_labels" 2>&1 | tee -a "$tsa_log"
    tsa_rc=${PIPESTATUS[0]}
  fi
  if [[ "$tsa_rc" -ne 0 ]]; then
    tsa_failed=1
    failed_checks=$((failed_checks + 1))
    echo "FAIL thread-safety build (bazel build --config=tsa); full log: $tsa_log"
  else
    rm -f "$tsa_log"
  fi
  rm -f "$tsa_labels"
  bazel --output_base="$tsa_output_base" shutdown >/dev/null 2>&1 || true
fi

bazel "${bazel_args[@]}" -- "${targets[@]}"
bazel_rc=$?

# Count test cases from each target's JUnit XML as reported in this run's build events; a
# target that failed without XML (crash, timeout, build failure) counts as one failure.
counts=$(/usr/bin/python3 - "$bep" "$bazel_rc" <<'PY'
import json, sys, urllib.parse, xml.etree.ElementTree as ET
bep, bazel_rc = sys.argv[1], int(sys.argv[2])
passed = failed = 0
targets = {}
for line in open(bep):
    ev = json.loads(line)
    eid = ev.get("id", {})
    if "testResult" in eid:
        # One event per shard and run of a target (and per attempt: the last one counts).
        tr = eid["testResult"]
        key = (tr["label"], tr.get("shard", 1), tr.get("run", 1))
        res = ev.get("testResult", {})
        xml = None
        for out in res.get("testActionOutput", []):
            if out.get("name") == "test.xml":
                xml = urllib.parse.unquote(out["uri"][len("file://"):])
        targets[key] = (res.get("status", "NO_STATUS"), xml)
    elif "targetCompleted" in eid:
        # A target that did not build has no testResult; "success" is omitted when false.
        if "aborted" in ev or not ev.get("completed", {}).get("success", False):
            label = eid["targetCompleted"]["label"]
            if not any(k[0] == label for k in targets):
                targets[(label, 1, 1)] = ("FAILED_TO_BUILD", None)
for (label, shard, run), (status, xml) in sorted(targets.items()):
    cases = fails = 0
    if xml:
        try:
            for tc in ET.parse(xml).getroot().iter("testcase"):
                if tc.get("status", "run") != "run":
                    continue
                cases += 1
                if tc.find("failure") is not None or tc.find("error") is not None:
                    fails += 1
        except Exception:
            pass
    if status == "PASSED" and fails == 0:
        passed += max(cases, 1)
    else:
        if cases == 0 or fails == 0:
            fails = max(fails, 1)
        passed += cases - min(cases, fails)
        failed += fails
        print("FAILED target %s shard %d run %d (%s)" % (label, shard, run, status),
              file=sys.stderr)
if bazel_rc != 0 and failed == 0:
    failed = 1
    print("bazel exited %d without a failed test: counting one failure" % bazel_rc, file=sys.stderr)
print(passed, failed)
PY
)
read -r passed failed <<<"$counts"
failed=$((failed + failed_checks))

bazel shutdown >/dev/null 2>&1 || true
if ((tsa_failed)); then
  echo "FAIL thread-safety build: clang's errors (full log: $tsa_log):"
  grep -E "error:|^ERROR:" "$tsa_log" | sort -u | head -50
fi
echo "${passed} passed, ${failed} failed"
[[ "$failed" -eq 0 ]]
