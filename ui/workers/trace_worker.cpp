// SPDX-License-Identifier: MIT
// TraceWorker: runs backend calls on its thread and turns every outcome into a signal. This is a
// boundary in the sense of the house style: nothing thrown here may reach the event loop.
#include "ui/workers/trace_worker.h"

#include <exception>
#include <utility>

#include "core/util/error.h"

namespace attn::ui {
namespace {

// Progress arrives from inside the core as often as it likes; one signal per percent is plenty
// for a progress bar and keeps the GUI thread's queue short.
constexpr double kProgressStep = 0.01;

QString describe(const std::exception& e) { return QString::fromStdString(e.what()); }

}  // namespace

TraceWorker::TraceWorker(std::unique_ptr<TraceBackend> backend, QObject* parent)
    : QObject(parent), m_backend(std::move(backend)) {
  qRegisterMetaType<attn::ui::OpenResult>();
  qRegisterMetaType<attn::ui::TracePtr>();
  qRegisterMetaType<attn::ui::TokenList>();
  qRegisterMetaType<attn::ui::LengthsResultPtr>();
}

TraceWorker::~TraceWorker() = default;

void TraceWorker::openCheckpoint(quint64 generation, const QString& dir, const QString& device,
                                 const QString& precision) {
  try {
    OpenResult result =
        m_backend->open(dir.toStdString(), device.toStdString(), precision.toStdString());
    Q_EMIT opened(generation, result);
  } catch (const std::exception& e) {
    Q_EMIT openFailed(generation, tr("Could not open checkpoint %1: %2").arg(dir, describe(e)));
  } catch (...) {
    Q_EMIT openFailed(generation, tr("Could not open checkpoint %1: unknown error").arg(dir));
  }
}

void TraceWorker::runTrace(const attn::ui::TraceJob& job) {
  const quint64 generation = job.generation;
  if (job.cancel && job.cancel->load()) {
    Q_EMIT cancelled(generation);
    return;
  }
  try {
    const TokenList tokens = m_backend->tokenize(job.text);
    Q_EMIT tokenized(generation, tokens);

    attn::TraceRequest request;
    request.text = job.text;
    request.layer = job.layer;
    request.stages = job.stages;
    request.maps = job.maps;
    request.max_tokens = job.maxTokens;
    request.cancel = job.cancel.get();
    double lastSent = -1.0;
    request.progress = [this, generation, &lastSent](double fraction) {
      if (fraction >= 1.0 || fraction - lastSent >= kProgressStep) {
        lastSent = fraction;
        Q_EMIT progressed(generation, fraction);
      }
    };
    auto trace = std::make_shared<const attn::LayerTrace>(m_backend->trace(request));
    Q_EMIT traced(generation, trace);
  } catch (const attn::Cancelled&) {
    Q_EMIT cancelled(generation);
  } catch (const std::exception& e) {
    Q_EMIT failed(generation,
                  tr("Trace of layer %1 failed: %2").arg(QString::number(job.layer), describe(e)));
  } catch (...) {
    Q_EMIT failed(generation, tr("Trace of layer %1 failed: unknown error").arg(job.layer));
  }
}

void TraceWorker::runLengths(const attn::ui::LengthsJob& job) {
  const quint64 generation = job.generation;
  if (job.cancel && job.cancel->load()) {
    Q_EMIT cancelled(generation);
    return;
  }
  try {
    auto result = std::make_shared<LengthsResult>();
    const int64_t tokens = static_cast<int64_t>(m_backend->tokenize(job.text).size());
    // Maps and statistics share the progress bar: maps first, weighted by their share.
    const double mapShare = job.maps ? (job.stats ? 0.3 : 1.0) : 0.0;
    double lastSent = -1.0;
    auto report = [this, generation, &lastSent](double fraction) {
      if (fraction >= 1.0 || fraction - lastSent >= kProgressStep) {
        lastSent = fraction;
        Q_EMIT progressed(generation, fraction);
      }
    };
    if (job.maps) {
      std::vector<int64_t> fit;
      for (int64_t len : job.lengths) {
        if (len <= tokens) fit.push_back(len);
      }
      for (std::size_t i = 0; i < fit.size(); ++i) {
        attn::TraceRequest request;
        request.text = job.text;
        request.max_tokens = fit[i];
        attn::MapRequest map;
        map.layer = job.layer;
        map.stages = job.stages;
        map.grid = job.grid;
        request.maps.push_back(map);
        request.cancel = job.cancel.get();
        result->traces.push_back(m_backend->trace(request));
        report(mapShare * static_cast<double>(i + 1) / static_cast<double>(fit.size()));
      }
    }
    if (job.stats) {
      attn::LengthRequest request;
      request.text = job.text;
      request.lengths = job.lengths;
      request.windows = job.windows;
      request.cancel = job.cancel.get();
      request.progress = [&report, mapShare](double f) { report(mapShare + (1 - mapShare) * f); };
      result->report = m_backend->evaluate(request);
      result->hasReport = true;
    }
    Q_EMIT lengthsDone(generation, result);
  } catch (const attn::Cancelled&) {
    Q_EMIT cancelled(generation);
  } catch (const std::exception& e) {
    Q_EMIT failed(generation, tr("Evaluation over lengths failed: %1").arg(describe(e)));
  } catch (...) {
    Q_EMIT failed(generation, tr("Evaluation over lengths failed: unknown error"));
  }
}

}  // namespace attn::ui
