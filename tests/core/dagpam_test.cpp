// SPDX-License-Identifier: MIT
// Placeholder: the dagpam tests are being written.
