// SPDX-License-Identifier: MIT
// Placeholder: the mgk tests are being written.
