// SPDX-License-Identifier: MIT
// The length-extrapolation curves: the shipped results file gives one curve per default
// checkpoint over its lengths, the figure export writes PNG and PDF and refuses other names,
// and the window reports a bad results file instead of failing.
#include "ui/widgets/extrapolation_plot.h"

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>
#include <QtTest/QTest>
#include <QtWidgets/QApplication>

#include "core/util/error.h"
#include "ui/models/attention_view_model.h"
#include "ui/models/session_backend.h"
#include "ui/widgets/main_window.h"
#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui::test {

class ExtrapolationPlotTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void shippedResultsGiveOneCurvePerCheckpoint() {
    const auto results = read_eval_results(ATTN_RESULTS_FILE);
    QCOMPARE(int(results.curves.size()), 12);
    ExtrapolationPlot plot;
    plot.setResults(results);
    QCOMPARE(plot.curveCount(), 12);
    QCPGraph* g = plot.plot()->graph(0);
    QCOMPARE(g->dataCount(), int(results.lengths.size()));
    QCOMPARE(g->data()->begin()->key, double(results.lengths.front()));
    QCOMPARE(g->data()->begin()->value, results.curves[0].points[0].ppl_tail);
  }

  void exportsPngAndPdf() {
    ExtrapolationPlot plot;
    plot.setResults(read_eval_results(ATTN_RESULTS_FILE));
    QTemporaryDir dir;
    QString error;
    QVERIFY(plot.exportTo(dir.filePath("c.png"), 600, 400, &error));
    const QImage image(dir.filePath("c.png"));
    QCOMPARE(image.width(), 1200);  // twice the size: sharp in papers
    QVERIFY(plot.exportTo(dir.filePath("c.pdf"), 600, 400, &error));
    QFile pdf(dir.filePath("c.pdf"));
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QVERIFY(pdf.read(5) == "%PDF-");
    QVERIFY(plot.exportTo(dir.filePath("c.svg"), 600, 400, &error));
    QFile svg(dir.filePath("c.svg"));
    QVERIFY(svg.open(QIODevice::ReadOnly));
    QVERIFY(svg.readAll().contains("<svg"));
    QVERIFY(!plot.exportTo(dir.filePath("c.svgz"), 600, 400, &error));
    QVERIFY(error.contains(QLatin1String(".png, .pdf, .svg or .csv")));
  }

  void windowReportsABadFile() {
    QTemporaryDir dir;
    QFile f(dir.filePath("bad.json"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"format": "attnscope-eval", "format_version": 9})");
    f.close();
    AttentionViewModel model(std::make_unique<SessionBackend>());
    MainWindow window(&model);
    QVERIFY(!window.showResults(dir.filePath("bad.json")));
    QCOMPARE(window.extrapolationPlot()->curveCount(), 0);
    QVERIFY(window.showResults(ATTN_RESULTS_FILE));
    QCOMPARE(window.extrapolationPlot()->curveCount(), 12);
  }
};

}  // namespace attn::ui::test

QTEST_MAIN(attn::ui::test::ExtrapolationPlotTest)
#include "extrapolation_plot_test.moc"
