// SPDX-License-Identifier: MIT
#include "ui/models/figure_builder.h"

#include <algorithm>
#include <cmath>

namespace attn::ui {

QStringList defaultPanelStages(const QStringList& offered) {
  auto has = [&offered](const char* s) { return offered.contains(QLatin1String(s)); };
  QStringList panels;
  if (has("raw")) panels << QStringLiteral("raw");
  if (has("conv")) panels << QStringLiteral("conv");
  if (has("probs")) {
    panels << QStringLiteral("probs");
  } else if (has("logits")) {
    panels << QStringLiteral("logits");
  } else if (!offered.isEmpty() && !panels.contains(offered.last())) {
    panels << offered.last();
  }
  if (panels.isEmpty()) panels << QStringLiteral("probs");
  return panels;
}

QStringList defaultProfileStages(const QStringList& offered) {
  QStringList profile;
  for (const char* s : {"raw", "bias", "conv"}) {
    if (offered.contains(QLatin1String(s))) profile << QString::fromLatin1(s);
  }
  if (profile.size() < 2 && offered.contains(QStringLiteral("probs"))) {
    profile << QStringLiteral("probs");
  }
  return profile.isEmpty() ? defaultPanelStages(offered) : profile;
}

QStringList tokenLabels(const attn::LayerTrace& trace) {
  QStringList labels;
  for (const auto& t : trace.tokens) labels << QString::fromStdString(t.label);
  return labels;
}

FigureMap headFigureMap(const attn::StageMap& map, int head, const QStringList& tokens,
                        const QString& title) {
  FigureMap out;
  out.title = title;
  out.rows = static_cast<int>(map.rows);
  out.cols = static_cast<int>(map.cols);
  out.q0 = static_cast<long>(map.q0);
  out.k0 = static_cast<long>(map.k0);
  out.step = static_cast<long>(map.step);
  out.tokens = tokens;
  if (head >= 0 && head < map.n_head) out.values = map.head(head);
  return out;
}

FigureMap cropFigureMap(const FigureMap& map, long q0, long q1, long k0, long k1) {
  if (map.step != 1) return map;
  const long r0 = std::max(0L, q0 - map.q0), r1 = std::min<long>(map.rows, q1 - map.q0);
  const long c0 = std::max(0L, k0 - map.k0), c1 = std::min<long>(map.cols, k1 - map.k0);
  if (r1 <= r0 || c1 <= c0) return map;
  FigureMap out = map;
  out.rows = static_cast<int>(r1 - r0);
  out.cols = static_cast<int>(c1 - c0);
  out.q0 = map.q0 + r0;
  out.k0 = map.k0 + c0;
  out.values.clear();
  out.values.reserve(static_cast<std::size_t>(out.rows) * static_cast<std::size_t>(out.cols));
  for (long r = r0; r < r1; ++r) {
    const auto row = map.values.begin() + r * map.cols;
    out.values.insert(out.values.end(), row + c0, row + c1);
  }
  return out;
}

QString mapTitle(const QString& stage, int layer, int head) {
  return QStringLiteral("%1, layer %2, head %3").arg(stage).arg(layer).arg(head);
}

bool hasNegative(const std::vector<float>& values) {
  return std::any_of(values.begin(), values.end(), [](float v) { return v < 0.0f; });
}

ColourMap colourMapFor(const ColourSettings& settings, const std::vector<float>& values) {
  return settings.divergingForSigned && hasNegative(values) ? ColourMap::Diverging
                                                            : settings.sequential;
}

ColourRange colourRangeFor(const ColourSettings& settings, ColourMap map,
                           const std::vector<const FigureMap*>& maps) {
  // A log scale has no room for signed data: such maps fall back to linear.
  const bool log = settings.scale == ColourScale::Log && !isDiverging(map);
  if (settings.fixedRange && settings.hi > settings.lo && (!log || settings.lo > 0)) {
    return {settings.lo, settings.hi, log ? ColourScale::Log : ColourScale::Linear};
  }
  std::vector<float> values;
  std::vector<bool> skip;
  for (const FigureMap* m : maps) {
    if (!m) continue;
    values.insert(values.end(), m->values.begin(), m->values.end());
    for (int r = 0; r < m->rows; ++r) {
      for (int c = 0; c < m->cols; ++c) skip.push_back(settings.skipSink && m->k0 + c * m->step == 0);
    }
  }
  return autoRange(values, map, log ? ColourScale::Log : ColourScale::Linear, 0.995,
                   settings.skipSink ? skip : std::vector<bool>{});
}

FigureStyle figureStyle(const ColourSettings& settings) {
  FigureStyle style;
  style.colourMap = settings.sequential;
  style.scale = settings.scale;
  style.sharedRange = settings.sharedRange;
  style.fixedRange = settings.fixedRange;
  style.lo = settings.lo;
  style.hi = settings.hi;
  style.skipSink = settings.skipSink;
  return style;
}

namespace {

const attn::StageMap* findWhole(const attn::LayerTrace& trace, const std::string& stage,
                                int layer) {
  for (const auto& m : trace.maps) {
    if (m.stage == stage && m.layer == layer && m.rows > 1) return &m;
  }
  return trace.find(stage, layer);
}

}  // namespace

Figure panelsFigure(const attn::LayerTrace& trace, int layer, int head, const QStringList& stages,
                    const ColourSettings& settings) {
  Figure f;
  f.kind = FigureKind::Maps;
  f.style = figureStyle(settings);
  const QStringList tokens = tokenLabels(trace);
  for (const auto& stage : stages) {
    const attn::StageMap* m = findWhole(trace, stage.toStdString(), layer);
    if (!m) continue;
    FigureMap fm = headFigureMap(*m, head, tokens, stage);
    if (settings.divergingForSigned && hasNegative(fm.values)) fm.colourMap = static_cast<int>(ColourMap::Diverging);
    f.maps.push_back(std::move(fm));
  }
  f.title = QStringLiteral("layer %1, head %2").arg(layer).arg(head);
  return f;
}

Figure headGridFigure(const attn::LayerTrace& trace, int layer, const QString& stage,
                      const ColourSettings& settings) {
  Figure f;
  f.kind = FigureKind::HeadGrid;
  f.style = figureStyle(settings);
  f.style.sharedRange = true;
  f.style.tokenLabels = false;
  const attn::StageMap* m = findWhole(trace, stage.toStdString(), layer);
  if (!m) return f;
  const QStringList tokens = tokenLabels(trace);
  bool negative = false;
  for (int h = 0; h < m->n_head; ++h) {
    f.maps.push_back(headFigureMap(*m, h, tokens, QStringLiteral("head %1").arg(h)));
    negative = negative || hasNegative(f.maps.back().values);
  }
  if (settings.divergingForSigned && negative) f.style.colourMap = ColourMap::Diverging;
  f.title = QStringLiteral("%1, layer %2").arg(stage).arg(layer);
  return f;
}

Figure profileFigure(const attn::LayerTrace& trace, int layer, const QStringList& stages) {
  Figure f;
  f.kind = FigureKind::Profiles;
  f.xLabel = QStringLiteral("key position");
  const QStringList tokens = tokenLabels(trace);
  long query = -1;
  for (const auto& stage : stages) {
    const attn::StageMap* m = nullptr;
    for (const auto& cand : trace.maps) {
      if (cand.stage == stage.toStdString() && cand.layer == layer && cand.rows == 1) m = &cand;
    }
    if (!m) continue;
    query = static_cast<long>(m->q0);
    FigureProfile p;
    p.title = stage;
    p.yLabel = stage;
    for (int h = 0; h < m->n_head; ++h) {
      FigureCurve curve;
      curve.name = QStringLiteral("head %1").arg(h);
      for (int c = 0; c < m->cols; ++c) {
        const float v = m->at(h, 0, c);
        if (!std::isfinite(v)) continue;
        curve.x.push_back(static_cast<double>(m->k0 + c * m->step));
        curve.y.push_back(v);
      }
      p.curves.push_back(std::move(curve));
    }
    f.profiles.push_back(std::move(p));
  }
  if (query >= 0) {
    f.title = QStringLiteral("layer %1, query %2 \"%3\"")
                  .arg(layer)
                  .arg(query)
                  .arg(query < tokens.size() ? tokens[query] : QString());
  }
  return f;
}

}  // namespace attn::ui
