// SPDX-License-Identifier: MIT
// ExtrapolationPlot: perplexity against evaluation length, one curve per checkpoint of a results
// file of attnscope-cli eval, on log-log axes with the training length marked. A thin view over
// the torch-free results reader; it also writes itself as a PNG or PDF figure.
#pragma once

#include <QtWidgets/QWidget>

#include "core/eval/eval_results.h"

class QCustomPlot;

namespace attn::ui {

class ExtrapolationPlot final : public QWidget {
  Q_OBJECT

 public:
  explicit ExtrapolationPlot(QWidget* parent = nullptr);
  ~ExtrapolationPlot() override;

  /// Shows the curves of `results` (perplexity of the last `tail` tokens).
  void setResults(const EvalResults& results);
  /// Removes the curves and shows `message` instead.
  void clear(const QString& message);
  int curveCount() const;
  QCustomPlot* plot() const { return m_plot; }
  /// Writes the figure (".png", ".pdf" or ".svg", from the name) at width x height pixels or
  /// points, or the curves' numbers (".csv": curve, variant, position, train_len, length,
  /// ppl_tail, ppl_window). Returns false with `error` set when the name or the write fails.
  bool exportTo(const QString& path, int width, int height, QString* error);
  const EvalResults& results() const { return m_results; }

 Q_SIGNALS:
  /// A point was clicked: the curve's name and the length.
  void pointClicked(const QString& curve, qint64 length);

 private:
  QCustomPlot* m_plot = nullptr;
  EvalResults m_results;
};

}  // namespace attn::ui
