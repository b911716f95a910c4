// SPDX-License-Identifier: MIT
// How long a window test waits for work: the given time, times $ATTN_TEST_SLOWDOWN when it is set
// (scripts/sanitize.sh sets it, because the window's real core runs several times slower under
// AddressSanitizer). A missing, unreadable or non-positive value leaves the wait unchanged.
#pragma once

#include <QtCore/QtGlobal>

namespace attn::ui::test {

inline int scaledWaitMs(int ms) {
  bool ok = false;
  const int factor = qEnvironmentVariableIntValue("ATTN_TEST_SLOWDOWN", &ok);
  return ok && factor > 1 ? ms * factor : ms;
}

}  // namespace attn::ui::test
