# SPDX-License-Identifier: MIT
# Shared by the end-to-end shell tests: sourced after `work` (a scratch folder) and `fails` (the
# failure count) are set.

# expect CODE DESCRIPTION -- COMMAND...: runs the command, checks its exit code.
expect() {
  local want=$1 what=$2; shift 3
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: exit $got, expected $want"; sed 's/^/  stderr: /' "$work/err" | head -5
    fails=$((fails + 1))
  else
    echo "ok: $what"
  fi
}

# stderr_has TEXT DESCRIPTION: the last command's stderr mentions TEXT.
stderr_has() {
  if grep -qF -- "$1" "$work/err"; then echo "ok: $2"; else
    echo "FAIL: $2: stderr lacks '$1'"; sed 's/^/  stderr: /' "$work/err" | head -5
    fails=$((fails + 1)); fi
}

# check DESCRIPTION COMMAND...: a check that must succeed.
check() {
  local what=$1; shift
  if "$@" >"$work/check" 2>&1; then echo "ok: $what"; else
    echo "FAIL: $what"; sed 's/^/  /' "$work/check" | head -5; fails=$((fails + 1)); fi
}
