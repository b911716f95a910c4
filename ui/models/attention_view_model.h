// SPDX-License-Identifier: MIT
// AttentionViewModel: the state behind the attention window (checkpoint summary, text, layer,
// head, current trace, busy, progress, error) and the logic around it: edits rerun the trace
// after a short pause, newer requests cancel older ones, and stale results are dropped by
// generation. Widgets only read it and call its slots; it never runs the model itself.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <atomic>
#include <memory>
#include <vector>

#include "ui/models/trace_backend.h"
#include "ui/workers/trace_worker.h"

namespace attn::ui {

class AttentionViewModel final : public QObject {
  Q_OBJECT
  Q_PROPERTY(bool busy READ isBusy NOTIFY busyChanged)
  Q_PROPERTY(int layer READ layer WRITE setLayer NOTIFY layerChanged)
  Q_PROPERTY(int head READ head WRITE setHead NOTIFY headChanged)

 public:
  /// The stage the first window shows.
  static constexpr const char* kStage = "probs";
  static constexpr int kDefaultDebounceMs = 300;
  static constexpr int kDefaultMaxTokens = 1024;

  /// Takes the backend over; it is used only on the model's worker thread from here on.
  explicit AttentionViewModel(std::unique_ptr<TraceBackend> backend, QObject* parent = nullptr);
  ~AttentionViewModel() override;

  bool hasCheckpoint() const { return m_hasCheckpoint; }
  const attn::ModelSummary& summary() const { return m_summary; }
  QStringList warnings() const { return m_warnings; }
  QString text() const { return m_text; }
  int layer() const { return m_layer; }
  int head() const { return m_head; }
  int layerCount() const { return static_cast<int>(m_summary.n_layer); }
  int headCount() const { return static_cast<int>(m_summary.n_head); }
  bool isBusy() const { return m_busy; }
  double progress() const { return m_progress; }
  QString errorText() const { return m_errorText; }

  /// Tokens of the whole text (-1 before the first tokenization).
  int tokenCount() const { return m_tokenCount; }
  /// The trace on display, or nullptr; it may cover fewer tokens than the text (max tokens).
  const attn::LayerTrace* currentTrace() const { return m_trace.get(); }
  /// Side n of the map on display (0 when none).
  int mapSize() const;
  bool isTruncated() const { return m_trace && m_trace->truncated; }
  /// Axis labels of the traced tokens.
  QStringList mapLabels() const;
  /// The chosen head's kStage map, n * n row-major (query i, key j); empty when none.
  std::vector<float> headMap() const;

  void setDebounceInterval(int ms) { m_debounce.setInterval(ms); }
  int debounceInterval() const { return m_debounce.interval(); }
  void setMaxTokens(int maxTokens) { m_maxTokens = maxTokens; }
  /// "cpu" or "cuda" (the core falls back to the CPU with a warning); used by the next open.
  void setDevice(const QString& device) { m_device = device; }
  QString device() const { return m_device; }
  int maxTokens() const { return m_maxTokens; }

 public Q_SLOTS:
  /// Loads a checkpoint on the worker, on device(); the old one stays in use if this fails.
  void openCheckpoint(const QString& dir);
  void setText(const QString& text);
  void setLayer(int layer);
  /// Only changes which head of the current trace is shown: no rerun.
  void setHead(int head);
  /// Traces now instead of after the pause.
  void refresh();
  /// Stops the running trace (the core sees the flag at its next check) and drops its result.
  void cancel();

 Q_SIGNALS:
  void summaryChanged();
  void textChanged(const QString& text);
  void layerChanged(int layer);
  void headChanged(int head);
  void tokensChanged(int count);
  void traceChanged();
  void busyChanged(bool busy);
  void progressChanged(double fraction);
  /// Any error (open or trace), as a message that says what failed.
  void failed(const QString& message);
  /// Opening a checkpoint failed (also reported through failed()); the old one stays loaded.
  void openFailed(const QString& message);

 private:
  void scheduleTrace();
  void requestTrace();
  void cancelRunningTrace();
  void clearTrace();
  void updateBusy();
  void setError(const QString& message);
  void clampSelection();
  const attn::StageMap* shownMap() const;
  bool isCurrentTrace(quint64 generation) const;

  void onOpened(quint64 generation, const attn::ui::OpenResult& result);
  void onOpenFailed(const QString& message);
  void onTokenized(quint64 generation, const attn::ui::TokenList& tokens);
  void onTraced(quint64 generation, const attn::ui::TracePtr& trace);
  void onProgressed(quint64 generation, double fraction);
  void onCancelled(quint64 generation);
  void onFailed(quint64 generation, const QString& message);

  QThread m_thread;
  TraceWorker* m_worker = nullptr;  // lives on m_thread; deleted after the thread has stopped
  QTimer m_debounce;

  attn::ModelSummary m_summary;
  QStringList m_warnings;
  bool m_hasCheckpoint = false;
  QString m_text;
  int m_layer = 0;
  int m_head = 0;
  int m_maxTokens = kDefaultMaxTokens;
  QString m_device = QStringLiteral("cpu");

  // Jobs: opens are applied in order and never dropped (each one changes the backend); traces
  // carry generations and only the latest one's results count.
  quint64 m_openGeneration = 0;
  int m_pendingOpens = 0;
  quint64 m_traceGeneration = 0;
  bool m_traceInFlight = false;
  bool m_traceWanted = false;  // text or layer changed (or model reloaded) since the last request
  std::shared_ptr<std::atomic<bool>> m_cancel;

  TracePtr m_trace;
  int m_tokenCount = -1;
  bool m_busy = false;
  double m_progress = 0.0;
  QString m_errorText;
};

}  // namespace attn::ui
