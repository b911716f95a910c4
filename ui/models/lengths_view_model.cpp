// SPDX-License-Identifier: MIT
#include "ui/models/lengths_view_model.h"

#include <algorithm>

namespace attn::ui {

LengthsViewModel::LengthsViewModel(std::unique_ptr<TraceBackend> backend, QObject* parent)
    : QObject(parent), m_worker(new TraceWorker(std::move(backend))) {
  qRegisterMetaType<attn::ui::LengthsJob>();
  m_thread.setObjectName(QStringLiteral("attn-lengths-worker"));
  m_worker->moveToThread(&m_thread);
  connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
  connect(m_worker, &TraceWorker::opened, this, [this](quint64, const OpenResult& r) {
    --m_pendingOpens;
    m_summary = r.summary;
    m_hasCheckpoint = true;
    m_error.clear();
    setBusy(m_running || m_pendingOpens > 0);
    Q_EMIT opened();
  });
  connect(m_worker, &TraceWorker::openFailed, this, [this](quint64, const QString& message) {
    --m_pendingOpens;
    m_error = message;
    setBusy(m_running || m_pendingOpens > 0);
    Q_EMIT failed(message);
  });
  connect(m_worker, &TraceWorker::progressed, this, [this](quint64 g, double f) {
    if (!m_running || g != m_generation) return;
    m_progress = f;
    Q_EMIT progressChanged(f);
  });
  connect(m_worker, &TraceWorker::lengthsDone, this,
          [this](quint64 g, const LengthsResultPtr& result) {
            if (!m_running || g != m_generation) return;
            m_result = result;
            m_error.clear();
            finish();
            Q_EMIT finished();
          });
  connect(m_worker, &TraceWorker::cancelled, this, [this](quint64 g) {
    if (m_running && g == m_generation) finish();
  });
  connect(m_worker, &TraceWorker::failed, this, [this](quint64 g, const QString& message) {
    if (!m_running || g != m_generation) return;
    m_error = message;
    finish();
    Q_EMIT failed(message);
  });
  m_thread.start();
}

LengthsViewModel::~LengthsViewModel() {
  if (m_cancel) m_cancel->store(true);
  m_thread.quit();
  m_thread.wait();
}

std::vector<int64_t> LengthsViewModel::defaultLengths(int64_t trainLen) {
  const int64_t base = std::max<int64_t>(1, trainLen);
  return {base, 2 * base, 4 * base, 8 * base, 16 * base};
}

std::vector<int64_t> LengthsViewModel::skippedLengths() const {
  if (!m_result) return {};
  if (m_result->hasReport) return m_result->report.skipped;
  std::vector<int64_t> skipped;
  for (int64_t len : m_asked) {
    const bool shown = std::any_of(m_result->traces.begin(), m_result->traces.end(),
                                   [len](const attn::LayerTrace& t) {
                                     return static_cast<int64_t>(t.tokens.size()) == len;
                                   });
    if (!shown) skipped.push_back(len);
  }
  return skipped;
}

void LengthsViewModel::openCheckpoint(const QString& dir, const QString& device,
                                      const QString& precision) {
  m_dir = dir;
  ++m_pendingOpens;
  setBusy(true);
  TraceWorker* worker = m_worker;
  QMetaObject::invokeMethod(
      worker,
      [worker, dir, device, precision] { worker->openCheckpoint(0, dir, device, precision); },
      Qt::QueuedConnection);
}

void LengthsViewModel::run(const LengthsJob& wanted) {
  if (m_cancel) m_cancel->store(true);
  LengthsJob job = wanted;
  job.generation = ++m_generation;
  job.cancel = std::make_shared<std::atomic<bool>>(false);
  m_cancel = job.cancel;
  m_asked = job.lengths;
  m_running = true;
  m_progress = 0.0;
  Q_EMIT progressChanged(0.0);
  setBusy(true);
  TraceWorker* worker = m_worker;
  QMetaObject::invokeMethod(
      worker, [worker, job] { worker->runLengths(job); }, Qt::QueuedConnection);
}

void LengthsViewModel::cancel() {
  if (m_cancel) m_cancel->store(true);
  if (m_running) finish();
}

void LengthsViewModel::finish() {
  m_running = false;
  m_cancel.reset();
  setBusy(m_pendingOpens > 0);
}

void LengthsViewModel::setBusy(bool busy) {
  if (busy == m_busy) return;
  m_busy = busy;
  Q_EMIT busyChanged(busy);
}

}  // namespace attn::ui
