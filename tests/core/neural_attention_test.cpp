// SPDX-License-Identifier: MIT
// Placeholder: the neural_attention tests are being written.
