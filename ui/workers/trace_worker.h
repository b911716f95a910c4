// SPDX-License-Identifier: MIT
// TraceWorker: lives on a QThread and runs the backend (the model) there, so the GUI thread never
// computes. It only forwards calls: every result, error and progress step leaves as a queued
// signal tagged with the job's generation, so the presentation model can drop stale ones.
#pragma once

#include <QtCore/QMetaType>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "ui/models/trace_backend.h"

namespace attn::ui {

using TracePtr = std::shared_ptr<const attn::LayerTrace>;
using TokenList = std::vector<attn::TokenInfo>;

/// One trace request. The cancel flag belongs to this job alone: the model sets it when a newer
/// request supersedes the job, and the core checks it between layers and query chunks.
struct TraceJob {
  quint64 generation = 0;
  std::string text;
  int layer = 0;
  int maxTokens = 0;  // 0: no limit
  std::vector<std::string> stages;
  std::vector<attn::MapRequest> maps;  // when not empty, replaces layer and stages
  std::shared_ptr<std::atomic<bool>> cancel;
};

/// A job over several input lengths of one text: the maps of a layer at each length (the first
/// `length` tokens), and/or perplexity and attention statistics at each length.
struct LengthsJob {
  quint64 generation = 0;
  std::string text;
  std::vector<int64_t> lengths;
  bool maps = true;
  int layer = 0;
  std::vector<std::string> stages;
  int grid = 256;
  bool stats = true;
  int windows = 1;
  std::shared_ptr<std::atomic<bool>> cancel;
};

struct LengthsResult {
  std::vector<attn::LayerTrace> traces;  // one per length that fits the text (maps jobs)
  attn::LengthReport report;             // stats jobs
  bool hasReport = false;
};
using LengthsResultPtr = std::shared_ptr<const LengthsResult>;

class TraceWorker final : public QObject {
  Q_OBJECT

 public:
  explicit TraceWorker(std::unique_ptr<TraceBackend> backend, QObject* parent = nullptr);
  ~TraceWorker() override;

 public Q_SLOTS:
  void openCheckpoint(quint64 generation, const QString& dir, const QString& device,
                      const QString& precision);
  /// Tokenizes the text (tokenized), then traces the layer (traced). A job whose flag is already
  /// set when it is dequeued is skipped, so a burst of superseded jobs drains at once.
  void runTrace(const attn::ui::TraceJob& job);
  /// Runs a lengths job (lengthsDone, or cancelled / failed with its generation).
  void runLengths(const attn::ui::LengthsJob& job);

 Q_SIGNALS:
  void opened(quint64 generation, const attn::ui::OpenResult& result);
  void openFailed(quint64 generation, const QString& message);
  void tokenized(quint64 generation, const attn::ui::TokenList& tokens);
  void traced(quint64 generation, const attn::ui::TracePtr& trace);
  void progressed(quint64 generation, double fraction);
  void cancelled(quint64 generation);
  /// A trace job failed (anything thrown but attn::Cancelled).
  void failed(quint64 generation, const QString& message);
  void lengthsDone(quint64 generation, const attn::ui::LengthsResultPtr& result);

 private:
  std::unique_ptr<TraceBackend> m_backend;
};

}  // namespace attn::ui

Q_DECLARE_METATYPE(attn::ui::OpenResult)
Q_DECLARE_METATYPE(attn::ui::TracePtr)
Q_DECLARE_METATYPE(attn::ui::TokenList)
Q_DECLARE_METATYPE(attn::ui::LengthsResultPtr)
