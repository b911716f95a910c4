// SPDX-License-Identifier: MIT
// figure_builder: the default stages per variant, colours for signed and non-negative stages,
// the sink left out of the range, and figures built from plain StageMaps.
#include "ui/models/figure_builder.h"

#include <QtTest/QTest>
#include <cmath>

namespace attn::ui::test {

namespace {

/// A one-head n x n map: value(i, j) below the diagonal, NaN above it.
attn::StageMap squareMap(const std::string& stage, int n, float (*value)(int, int)) {
  attn::StageMap m;
  m.stage = stage;
  m.n_head = 1;
  m.n = n;
  m.q1 = m.k1 = n;
  m.rows = m.cols = n;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) m.values.push_back(j <= i ? value(i, j) : NAN);
  }
  return m;
}

}  // namespace

class FigureBuilderTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void defaultStagesFollowTheVariant() {
    const QStringList dapeV2{"raw", "bias", "logits", "probs", "conv"};
    QCOMPARE(defaultPanelStages(dapeV2), (QStringList{"raw", "conv", "probs"}));
    QCOMPARE(defaultProfileStages(dapeV2), (QStringList{"raw", "bias", "conv"}));
    const QStringList rope{"raw", "logits", "probs"};
    QCOMPARE(defaultPanelStages(rope), (QStringList{"raw", "probs"}));
    QCOMPARE(defaultProfileStages(rope), (QStringList{"raw", "probs"}));
    const QStringList dagpam{"raw", "bias", "logits_pos", "logits_neg", "probs"};
    QCOMPARE(defaultPanelStages(dagpam), (QStringList{"raw", "probs"}));
  }

  void signedStagesGetTheDivergingMap() {
    ColourSettings s;
    QCOMPARE(colourMapFor(s, {0.1f, 0.5f}), ColourMap::Viridis);
    QCOMPARE(colourMapFor(s, {-0.1f, 0.5f}), ColourMap::Diverging);
    s.divergingForSigned = false;
    s.sequential = ColourMap::Cividis;
    QCOMPARE(colourMapFor(s, {-0.1f, 0.5f}), ColourMap::Cividis);
  }

  void theSinkCanBeLeftOutOfTheRange() {
    // Key 0 holds 1.0 in every row (a sink); the rest is at most 0.05.
    const auto m = squareMap("probs", 40, [](int, int j) { return j == 0 ? 1.0f : 0.05f * j / 40; });
    const FigureMap fm = headFigureMap(m, 0, {}, QStringLiteral("probs"));
    ColourSettings s;
    const ColourRange with = colourRangeFor(s, ColourMap::Viridis, {&fm});
    s.skipSink = true;
    const ColourRange without = colourRangeFor(s, ColourMap::Viridis, {&fm});
    QCOMPARE(with.hi, 1.0);
    QVERIFY2(without.hi <= 0.05, qPrintable(QString::number(without.hi)));
    s.fixedRange = true;
    s.lo = 0.2;
    s.hi = 0.4;
    const ColourRange fixed = colourRangeFor(s, ColourMap::Viridis, {&fm});
    QCOMPARE(fixed.lo, 0.2);
    QCOMPARE(fixed.hi, 0.4);
  }

  void figuresAreBuiltFromTheTrace() {
    attn::LayerTrace trace;
    for (int t = 0; t < 6; ++t) trace.tokens.push_back({t, "t" + std::to_string(t), t, t + 1});
    trace.maps.push_back(squareMap("raw", 6, [](int i, int j) { return float(j - i); }));
    trace.maps.push_back(squareMap("probs", 6, [](int i, int) { return 1.0f / float(i + 1); }));
    attn::StageMap row = squareMap("raw", 6, [](int i, int j) { return float(10 * i + j); });
    row.q0 = 4;
    row.q1 = 5;
    row.rows = 1;
    row.values.assign(row.values.begin() + 4 * 6, row.values.begin() + 5 * 6);
    trace.maps.push_back(row);

    const Figure panels =
        panelsFigure(trace, 0, 0, {QStringLiteral("raw"), QStringLiteral("probs")}, {});
    QCOMPARE(panels.maps.size(), std::size_t{2});
    QCOMPARE(panels.maps[0].colourMap, static_cast<int>(ColourMap::Diverging));  // signed
    QCOMPARE(panels.maps[1].colourMap, -1);                                        // the style's
    QCOMPARE(panels.maps[1].tokens.size(), 6);
    QCOMPARE(panels.maps[0].rows, 6);

    const Figure profile = profileFigure(trace, 0, {QStringLiteral("raw")});
    QCOMPARE(profile.profiles.size(), std::size_t{1});
    const FigureCurve& curve = profile.profiles[0].curves[0];
    QCOMPARE(curve.x.size(), std::size_t{5});  // keys 0..4; the future is left out
    QCOMPARE(curve.y[3], 43.0);
    QVERIFY(profile.title.contains(QStringLiteral("query 4")));

    const Figure grid = headGridFigure(trace, 0, QStringLiteral("probs"), {});
    QCOMPARE(grid.maps.size(), std::size_t{1});
    QCOMPARE(grid.kind, FigureKind::HeadGrid);
  }
};

}  // namespace attn::ui::test

QTEST_GUILESS_MAIN(attn::ui::test::FigureBuilderTest)
#include "figure_builder_test.moc"
