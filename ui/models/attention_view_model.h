// SPDX-License-Identifier: MIT
// AttentionViewModel: the state behind the attention window (checkpoint summary, text, layer,
// head, the stages shown side by side, the query row of the profile, the zoom window, current
// maps, busy, progress, error) and the logic around it: edits rerun the model after a short
// pause, newer requests cancel older ones, stale results are dropped by generation, and each
// job computes only what went stale (the layer's panels, the layers x heads overview, the
// query-row profile, or the exact maps of a zoomed region). Widgets only read it and call its
// slots; it never runs the model itself.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QRect>
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

/// A token window [q0, q1) x [k0, k1) of a map.
struct MapWindowRequest {
  qint64 q0 = 0, q1 = 0, k0 = 0, k1 = 0;
  bool isEmpty() const { return q1 <= q0 || k1 <= k0; }
  bool contains(const MapWindowRequest& o) const {
    return q0 <= o.q0 && o.q1 <= q1 && k0 <= o.k0 && o.k1 <= k1;
  }
};

class AttentionViewModel final : public QObject {
  Q_OBJECT
  Q_PROPERTY(bool busy READ isBusy NOTIFY busyChanged)
  Q_PROPERTY(int layer READ layer WRITE setLayer NOTIFY layerChanged)
  Q_PROPERTY(int head READ head WRITE setHead NOTIFY headChanged)

 public:
  /// The stage shown when the variant offers no better choice.
  static constexpr const char* kStage = "probs";
  static constexpr int kDefaultDebounceMs = 300;
  static constexpr int kDefaultMaxTokens = 4096;
  /// Most cells a side of a panel's map; longer inputs are pooled (and exact on zoom).
  static constexpr int kPanelGrid = 1024;
  /// Cells a side of an overview thumbnail.
  static constexpr int kOverviewGrid = 48;

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

  /// Stages the loaded variant offers, in the core's order.
  QStringList stages() const;
  /// The stages shown side by side (raw next to processed by default).
  QStringList panelStages() const { return m_panelStages; }
  /// The stage of the overview thumbnails (the last panel's).
  QString overviewStage() const;
  /// Stages of the query-row profile (raw scores, position bias and learned correction, as in
  /// the DAPE paper's figures, where the variant offers them).
  QStringList profileStages() const { return m_profileStages; }
  /// The query of the profile (-1: none chosen yet; the last token is used).
  int queryRow() const { return m_queryRow; }
  /// The query the profile shows now (queryRow(), or the last traced token).
  int profileQuery() const;

  /// Tokens of the whole text (-1 before the first tokenization).
  int tokenCount() const { return m_tokenCount; }
  /// The trace of the panels on display, or nullptr; it may cover fewer tokens than the text.
  const attn::LayerTrace* currentTrace() const { return m_trace.get(); }
  /// Tokens traced (0 when none).
  int mapSize() const;
  bool isTruncated() const { return m_trace && m_trace->truncated; }
  /// Labels of the traced tokens.
  QStringList mapLabels() const;
  /// The whole map of panel `panel` (pooled for long inputs), or nullptr.
  const attn::StageMap* panelMap(int panel) const;
  /// The exact (or finer) map of the zoomed region for panel `panel`, or nullptr.
  const attn::StageMap* detailMap(int panel) const;
  /// The overview thumbnail map of `layer` (all heads), or nullptr.
  const attn::StageMap* overviewMap(int layer) const;
  /// The profile row of `stage` (all heads, one query over keys 0..query), or nullptr.
  const attn::StageMap* profileMap(const QString& stage) const;
  /// The chosen head's map of the last panel (the primary stage), rows * cols values.
  std::vector<float> headMap() const;

  void setDebounceInterval(int ms) { m_debounce.setInterval(ms); }
  int debounceInterval() const { return m_debounce.interval(); }
  void setMaxTokens(int maxTokens) { m_maxTokens = maxTokens; }
  /// "cpu" or "cuda" (the core falls back to the CPU with a warning); used by the next open.
  /// The CPU sets a half precision back to float32 (with a notice): those run on CUDA only.
  /// Any other name is refused with a notice.
  void setDevice(const QString& device);
  QString device() const { return m_device; }
  /// "float32", "bfloat16" or "float16"; used by the next open. A half precision while the
  /// CPU is chosen, or an unknown name, is refused with a notice saying why.
  void setPrecision(const QString& precision);
  QString precision() const { return m_precision; }
  /// Whether `precision` can be chosen on device(): float32 always, half types on CUDA.
  bool precisionAvailable(const QString& precision) const;
  int maxTokens() const { return m_maxTokens; }

 public Q_SLOTS:
  /// Loads a checkpoint on the worker, on device() in precision(); the old one stays in use if
  /// this fails.
  void openCheckpoint(const QString& dir);
  void setText(const QString& text);
  void setLayer(int layer);
  /// Only changes which head of the current maps is shown: no rerun.
  void setHead(int head);
  /// Shows these stages side by side (unknown ones are dropped; at least one is kept).
  void setPanelStages(const QStringList& stages);
  /// Switches the panels between raw and processed: one panel of the primary stage, or the
  /// default side-by-side set.
  void toggleRawProcessed();
  void setProfileStages(const QStringList& stages);
  /// Chooses the query of the profile (clamped to the traced tokens).
  void setQueryRow(int query);
  /// The part of the map in view; when it needs finer cells than the whole map has, its exact
  /// maps are computed after a short pause. An empty window drops the detail.
  void setViewWindow(const attn::ui::MapWindowRequest& window);
  /// Traces now instead of after the pause.
  void refresh();
  /// Stops the running job (the core sees the flag at its next check) and drops its result.
  void cancel();

 Q_SIGNALS:
  void summaryChanged();
  void textChanged(const QString& text);
  void layerChanged(int layer);
  void headChanged(int head);
  void deviceChanged(const QString& device);
  void precisionChanged(const QString& precision);
  void panelStagesChanged(const QStringList& stages);
  void profileStagesChanged(const QStringList& stages);
  void queryRowChanged(int query);
  void tokensChanged(int count);
  /// New panel maps (and possibly overview and profile).
  void traceChanged();
  void overviewChanged();
  void profileChanged();
  void detailChanged();
  void busyChanged(bool busy);
  void progressChanged(double fraction);
  /// Something the user should know about a finished job (e.g. it was redone in smaller chunks
  /// after the device ran out of memory).
  void notice(const QString& message);
  /// Any error (open or trace), as a message that says what failed.
  void failed(const QString& message);
  /// Opening a checkpoint failed (also reported through failed()); the old one stays loaded.
  void openFailed(const QString& message);

 private:
  enum Part { Panels = 1, Overview = 2, Profile = 4, Detail = 8, All = 7 };
  void markStale(int parts);
  void scheduleTrace();
  void requestTrace();
  void cancelRunningTrace();
  void clearTrace();
  void updateBusy();
  void setError(const QString& message);
  void clampSelection();
  void chooseDefaultStages();
  bool isCurrentTrace(quint64 generation) const;
  /// The job's requests, each with the part it serves.
  std::vector<std::pair<Part, attn::MapRequest>> buildRequests(int parts) const;
  void applyResult(int parts, const attn::LayerTrace& trace);

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
  QStringList m_panelStages;
  QStringList m_defaultPanels;
  QStringList m_profileStages;
  int m_queryRow = -1;
  MapWindowRequest m_view;
  int m_maxTokens = kDefaultMaxTokens;
  QString m_device = QStringLiteral("cpu");
  QString m_precision = QStringLiteral("float32");

  // Jobs: opens are applied in order and never dropped (each one changes the backend); traces
  // carry generations and only the latest one's results count.
  quint64 m_openGeneration = 0;
  int m_pendingOpens = 0;
  quint64 m_traceGeneration = 0;
  bool m_traceInFlight = false;
  int m_stale = 0;         // parts to compute at the next request
  int m_inFlightParts = 0;  // parts the running job computes
  std::vector<std::pair<Part, attn::MapRequest>> m_inFlightRequests;
  std::shared_ptr<std::atomic<bool>> m_cancel;

  TracePtr m_trace;  // the panels' job (tokens and panel maps)
  std::vector<attn::StageMap> m_panels, m_detail, m_overview, m_profile;
  int m_tokenCount = -1;
  bool m_busy = false;
  double m_progress = 0.0;
  QString m_errorText;
};

}  // namespace attn::ui

Q_DECLARE_METATYPE(attn::ui::MapWindowRequest)
