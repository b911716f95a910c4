// SPDX-License-Identifier: MIT
// The length-extrapolation panel computed on demand, with the fake backend for every model: the
// explored checkpoint's curve appears with a point per length the corpus text allows, clicking
// a point opens the Lengths tab at that length, and the curves export as SVG and CSV.
#include <QtCore/QFile>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <memory>

#include "fake_trace_backend.h"
#include "ui/models/attention_view_model.h"
#include "ui/models/lengths_view_model.h"
#include "ui/widgets/extrapolation_plot.h"
#include "ui/widgets/lengths_view.h"
#include "ui/widgets/main_window.h"
#include "test_wait.h"

namespace attn::ui::test {

namespace {
const int kWaitMs = scaledWaitMs(20000);
}

class CurvesTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void curvesAreComputedAndOpenTheirMaps() {
    QStandardPaths::setTestModeEnabled(true);
    auto control = std::make_shared<FakeControl>();
    AttentionViewModel model(std::make_unique<FakeTraceBackend>(control));
    model.setDebounceInterval(10);
    MainWindow window(&model, QStringLiteral(ATTN_RESOURCES_DIR),
                      [control] { return std::make_unique<FakeTraceBackend>(control); });
    window.show();
    model.setText(QStringLiteral("a b c d e f g h"));
    model.openCheckpoint(QStringLiteral("/fake/ckpt"));
    QTRY_VERIFY_WITH_TIMEOUT(model.hasCheckpoint() && !model.isBusy(), kWaitMs);

    ExtrapolationPlot* curves = window.extrapolationPlot();
    window.computeCurves();
    QTRY_COMPARE_WITH_TIMEOUT(curves->curveCount(), 1, kWaitMs);
    const EvalResults& r = curves->results();
    QCOMPARE(r.curves.size(), std::size_t{1});
    QCOMPARE(r.curves[0].train_len, int64_t{4});
    // The fake's training length 4 times 1, 2, 4, 8 and 16; its perplexity 10 + length / 100.
    QCOMPARE(r.curves[0].points.size(), std::size_t{5});
    QCOMPARE(r.curves[0].points[4].length, int64_t{64});
    QCOMPARE(r.curves[0].points[4].ppl_tail, 10.64);

    QTemporaryDir dir;
    QString error;
    QVERIFY2(curves->exportTo(dir.filePath("c.svg"), 600, 400, &error), qPrintable(error));
    QVERIFY(curves->exportTo(dir.filePath("c.csv"), 600, 400, &error));
    QFile csv(dir.filePath("c.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QCOMPARE(csv.readAll().count('\n'), 6);  // header and five points
    QVERIFY(!curves->exportTo(dir.filePath("c.jpg"), 600, 400, &error));
    QVERIFY(error.contains(QStringLiteral(".csv")));

    // A click on the point at 32 opens the Lengths tab there and runs it.
    QSignalSpy done(window.lengthsModel(), &LengthsViewModel::finished);
    Q_EMIT curves->pointClicked(QStringLiteral("ckpt"), 32);
    QCOMPARE(window.currentTab(), MainWindow::Tab::Lengths);
    const std::vector<int64_t> lengths = window.lengthsView()->lengths();
    QVERIFY(std::find(lengths.begin(), lengths.end(), 32) != lengths.end());
    QTRY_VERIFY_WITH_TIMEOUT(done.count() >= 1, kWaitMs);
  }
};

}  // namespace attn::ui::test

QTEST_MAIN(attn::ui::test::CurvesTest)
#include "curves_test.moc"
