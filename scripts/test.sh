#!/usr/bin/env bash
# Sets up a fresh machine and runs every test suite: unit, integration
# (the drive over loopback with the project's host library) and guest
# (Debian's Linux kernel in QEMU as the NVMe/TCP host), all built with
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/test.sh [SUITE...]     SUITE: unit, integration, guest (default: all)
#
# Ends with "tests: N passed, M failed" counting individual test cases.
set -uo pipefail
cd "$(dirname "$0")/.."

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit integration guest)

./scripts/deps.sh || { echo "dependency installation failed"; echo "tests: 0 passed, 1 failed"; exit 1; }
if [[ " ${suites[*]} " == *" guest "* ]] && [ -x scripts/guest-deps.sh ]; then
	./scripts/guest-deps.sh || echo "warning: guest dependencies incomplete; the guest suite reports what it cannot run"
fi

BUILD=${FDR_TEST_BUILD:-build-test}
if [ ! -d "$BUILD" ]; then
	meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null ||
		{ echo "meson setup failed"; echo "tests: 0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$BUILD"; then
	echo "build failed"
	echo "tests: 0 passed, 1 failed"
	exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CMOCKA_MESSAGE_OUTPUT=TAP

status=0
for s in "${suites[@]}"; do
	echo "=== suite: $s"
	meson test -C "$BUILD" --suite "$s" --print-errorlogs --logbase "testlog-$s" || status=1
done

# Count test cases from the logs: TAP lines where a program speaks TAP,
# otherwise the program's own result.
python3 - "$BUILD" "${suites[@]}" <<'PY'
import json, re, sys, os
build, suites = sys.argv[1], sys.argv[2:]
passed = failed = skipped = 0
for s in suites:
    path = os.path.join(build, "meson-logs", f"testlog-{s}.json")
    if not os.path.exists(path):
        continue
    for line in open(path):
        t = json.loads(line)
        out = t.get("stdout") or ""
        oks = re.findall(r"^(not ok|ok)\b[^\n]*", out, re.M)
        if oks:
            for m in re.finditer(r"^(not ok|ok)\b([^\n]*)", out, re.M):
                # Name every real-host test, and every failure anywhere.
                if s == "guest" or m.group(1) == "not ok":
                    print(f"{s}: {m.group(0)}")
                if m.group(1) == "ok":
                    if re.search(r"#\s*skip", m.group(2), re.I):
                        skipped += 1
                    else:
                        passed += 1
                else:
                    failed += 1
            # A program that died after some TAP lines still failed.
            if t["result"] not in ("OK", "EXPECTEDFAIL", "SKIP") and "not ok" not in out:
                failed += 1
        elif t["result"] == "SKIP":
            skipped += 1
        elif t["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
line = f"tests: {passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
PY
rc=$?
[ $status -eq 0 ] || rc=1
exit $rc
