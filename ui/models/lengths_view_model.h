// SPDX-License-Identifier: MIT
// LengthsViewModel: one checkpoint over several input lengths of one text, on its own worker
// thread: the same layer and head at each length (the first `length` tokens of the text, the
// training length and multiples of it by default), and perplexity and attention statistics
// (entropy, distance, sink mass per head) at each length. Jobs start on request only (they are
// long), show progress and can be cancelled; a newer job supersedes an older one.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QThread>
#include <atomic>
#include <memory>
#include <vector>

#include "ui/models/trace_backend.h"
#include "ui/workers/trace_worker.h"

namespace attn::ui {

class LengthsViewModel final : public QObject {
  Q_OBJECT

 public:
  explicit LengthsViewModel(std::unique_ptr<TraceBackend> backend, QObject* parent = nullptr);
  ~LengthsViewModel() override;

  /// The training length times 1, 2, 4, 8 and 16.
  static std::vector<int64_t> defaultLengths(int64_t trainLen);

  bool hasCheckpoint() const { return m_hasCheckpoint; }
  const attn::ModelSummary& summary() const { return m_summary; }
  QString checkpointDir() const { return m_dir; }
  bool isBusy() const { return m_busy; }
  double progress() const { return m_progress; }
  QString errorText() const { return m_error; }
  /// The last finished job's result, or nullptr.
  const LengthsResult* result() const { return m_result.get(); }
  /// The lengths of the last finished job that the text was too short for.
  std::vector<int64_t> skippedLengths() const;

 public Q_SLOTS:
  /// Loads the checkpoint (on the worker, on `device` in `precision`); `opened` or `failed`
  /// follows.
  void openCheckpoint(const QString& dir, const QString& device = QStringLiteral("cpu"),
                      const QString& precision = QStringLiteral("float32"));
  /// Starts a job (cancelling a running one).
  void run(const attn::ui::LengthsJob& job);
  void cancel();

 Q_SIGNALS:
  void opened();
  void busyChanged(bool busy);
  void progressChanged(double fraction);
  void finished();
  void failed(const QString& message);

 private:
  void setBusy(bool busy);
  void finish();

  QThread m_thread;
  TraceWorker* m_worker = nullptr;
  bool m_hasCheckpoint = false;
  attn::ModelSummary m_summary;
  QString m_dir;
  quint64 m_generation = 0;
  bool m_running = false;
  std::shared_ptr<std::atomic<bool>> m_cancel;
  LengthsResultPtr m_result;
  std::vector<int64_t> m_asked;
  bool m_busy = false;
  int m_pendingOpens = 0;
  double m_progress = 0.0;
  QString m_error;
};

}  // namespace attn::ui

Q_DECLARE_METATYPE(attn::ui::LengthsJob)
