// SPDX-License-Identifier: MIT
// The window end to end on the offscreen platform: the real Session backend loads the bundled
// tiny checkpoint, the map appears with one cell per token and rows that sum to one over the
// visible (causal) keys, and a bad checkpoint directory gives a visible error, not a crash.
#include "ui/widgets/main_window.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QSettings>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtCore/QXmlStreamReader>
#include <QtGui/QAction>
#include <QtGui/QImage>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWidgets/QApplication>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QStatusBar>
#include <cmath>
#include <memory>

#include "ui/models/attention_view_model.h"
#include "ui/models/session_backend.h"
#include "ui/widgets/attention_map_widget.h"
#include "core/workspace/workspace.h"
#include "ui/models/compare_view_model.h"
#include "ui/models/lengths_view_model.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/lengths_view.h"
#include "ui/widgets/map_panels.h"
#include "ui/widgets/overview_widget.h"
#include "ui/widgets/profile_plot.h"
#include "ui/widgets/qcustomplot_include.h"
#include "test_wait.h"

namespace attn::ui::test {

namespace {
const int kLoadTimeoutMs = scaledWaitMs(60000);
// The bundled checkpoint, or another one named by $ATTNSCOPE_TEST_CHECKPOINT.
QString checkpointDir() {
  return qEnvironmentVariable("ATTNSCOPE_TEST_CHECKPOINT", QStringLiteral(ATTN_TEST_CHECKPOINT));
}
const QString kText =
    QStringLiteral("The quick brown fox jumps over the lazy dog. It was not amused.");
}  // namespace

class MainWindowTest : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<AttentionViewModel> m_model;
  std::unique_ptr<MainWindow> m_window;

  // Checks the map on display against the model: n x n cells, causal rows summing to one.
  void checkMap() {
    const int n = m_window->mapWidget()->mapSize();
    QVERIFY(n > 0);
    QCOMPARE(n, m_model->tokenCount());
    QCPColorMapData* data = m_window->mapWidget()->colorMap()->data();
    QCOMPARE(data->keySize(), n);
    QCOMPARE(data->valueSize(), n);
    for (int i = 0; i < n; ++i) {
      double sum = 0.0;
      for (int j = 0; j <= i; ++j) {
        const double p = data->cell(j, i);
        QVERIFY2(std::isfinite(p) && p >= 0.0,
                 qPrintable(QStringLiteral("cell %1,%2").arg(j).arg(i)));
        sum += p;
      }
      QVERIFY2(std::abs(sum - 1.0) < 1e-3,
               qPrintable(QStringLiteral("row %1 sums to %2").arg(i).arg(sum)));
      for (int j = i + 1; j < n; ++j) QVERIFY(std::isnan(data->cell(j, i)));  // masked
    }
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // settings go to a test location
    QCoreApplication::setOrganizationName(QStringLiteral("AttnScopeTest"));
    QSettings().clear();
    const QString dir = checkpointDir();
    QVERIFY2(QDir(dir).exists(QStringLiteral("config.json")),
             qPrintable(QStringLiteral("bundled checkpoint missing: %1").arg(dir)));
    m_model = std::make_unique<AttentionViewModel>(std::make_unique<SessionBackend>());
    m_window = std::make_unique<MainWindow>(m_model.get());
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
  }

  void cleanupTestCase() {
    m_window.reset();
    m_model.reset();
  }

  void showsMapOfBundledCheckpoint() {
    m_model->setText(kText);
    m_model->openCheckpoint(checkpointDir());
    QTRY_VERIFY_WITH_TIMEOUT(m_window->mapWidget()->mapSize() > 0, kLoadTimeoutMs);
    QVERIFY2(m_model->errorText().isEmpty(), qPrintable(m_model->errorText()));
    checkMap();
    auto* editor = m_window->findChild<QPlainTextEdit*>(QStringLiteral("textEdit"));
    QVERIFY(editor);
    QCOMPARE(editor->toPlainText(), kText);
    auto* untrained = m_window->findChild<QLabel*>(QStringLiteral("untrainedLabel"));
    QVERIFY(untrained);
    QCOMPARE(untrained->isVisible(), !m_model->summary().trained);
    const QImage shot = m_window->screenshot().toImage();
    QVERIFY(!shot.isNull());

    // Typing reruns the trace after the pause.
    const int before = m_model->tokenCount();
    editor->moveCursor(QTextCursor::End);
    QTest::keyClicks(editor, QStringLiteral(" Then it left."));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->mapWidget()->mapSize() > before, kLoadTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kLoadTimeoutMs);
    checkMap();
  }

  void rawAndProcessedPanelsMoveTogether() {
    MapPanels* panels = m_window->mapPanels();
    // DAPE V2: raw, the convolution's output and the weights side by side.
    QCOMPARE(m_model->panelStages(), (QStringList{"raw", "conv", "probs"}));
    QTRY_COMPARE_WITH_TIMEOUT(panels->panelCount(), 3, kLoadTimeoutMs);
    const int n = m_model->mapSize();
    for (int i = 0; i < 3; ++i) QCOMPARE(panels->panel(i)->mapSize(), n);
    // Raw scores are signed: drawn on the diverging map, centred at zero.
    const QCPRange raw = panels->panel(0)->colorMap()->dataRange();
    QVERIFY2(std::abs(raw.lower + raw.upper) < 1e-6 * std::abs(raw.upper),
             qPrintable(QStringLiteral("%1 .. %2").arg(raw.lower).arg(raw.upper)));
    // A zoom in one panel moves the others.
    QCustomPlot* first = panels->panel(0)->plot();
    first->xAxis->setRange(2.5, 9.5);
    first->yAxis->setRange(4.5, 11.5);
    for (int i = 1; i < 3; ++i) {
      const QCPRange x = panels->panel(i)->plot()->xAxis->range();
      QVERIFY2(std::abs(x.lower - 2.5) < 1e-9,
               qPrintable(QStringLiteral("panel %1 x %2").arg(i).arg(x.lower)));
      QCOMPARE(panels->panel(i)->plot()->yAxis->range().lower, 4.5);
    }
    // The tooltip's value is the model's.
    const attn::StageMap* probs = m_model->panelMap(2);
    QVERIFY(probs && probs->step == 1);
    QCOMPARE(panels->panel(2)->valueAt(7, 3), static_cast<double>(probs->at(m_model->head(), 7, 3)));
    QVERIFY(std::isnan(panels->panel(2)->valueAt(3, 7)));  // the future
    panels->resetView();
  }

  void overviewPicksLayerAndHead() {
    OverviewWidget* overview = m_window->overview();
    QTRY_COMPARE_WITH_TIMEOUT(overview->layerCount(), m_model->layerCount(), kLoadTimeoutMs);
    const QRect cell = overview->thumbnailRect(2, 3);
    QVERIFY(!cell.isEmpty());
    QTest::mouseClick(overview, Qt::LeftButton, Qt::NoModifier, cell.center());
    QCOMPARE(m_model->layer(), 2);
    QCOMPARE(m_model->head(), 3);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->panelMap(0) &&
                                 m_model->panelMap(0)->layer == 2, kLoadTimeoutMs);
    // Keyboard: next head and previous layer.
    QTest::keyClick(m_window.get(), Qt::Key_BracketRight, Qt::ControlModifier);
    QCOMPARE(m_model->head(), 4);
    QTest::keyClick(m_window.get(), Qt::Key_PageUp, Qt::ControlModifier);
    QCOMPARE(m_model->layer(), 1);
    QTest::keyClick(m_window.get(), Qt::Key_R, Qt::ControlModifier);
    QCOMPARE(m_model->panelStages(), (QStringList{"probs"}));
    QTest::keyClick(m_window.get(), Qt::Key_R, Qt::ControlModifier);
    QCOMPARE(m_model->panelStages().size(), 3);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kLoadTimeoutMs);
  }

  void clickingARowShowsItsProfile() {
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->mapSize() > 8, kLoadTimeoutMs);
    AttentionMapWidget* map = m_window->mapWidget();
    map->resetView();
    QCustomPlot* plot = map->plot();
    plot->replot(QCustomPlot::rpImmediateRefresh);
    const QPoint at(static_cast<int>(plot->xAxis->coordToPixel(2)),
                    static_cast<int>(plot->yAxis->coordToPixel(6)));
    QTest::mouseClick(plot, Qt::LeftButton, Qt::NoModifier, at);
    QCOMPARE(m_model->queryRow(), 6);
    QTRY_VERIFY_WITH_TIMEOUT(m_model->profileMap(QStringLiteral("raw")) &&
                                 m_model->profileMap(QStringLiteral("raw"))->q0 == 6,
                             kLoadTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->profilePlot()->panelCount(),
                              static_cast<int>(m_model->profileStages().size()), kLoadTimeoutMs);
    QCOMPARE(m_window->profilePlot()->curveCount(),
             m_model->headCount() * static_cast<int>(m_model->profileStages().size()));
  }

  void exportsPdfSvgPngAndNumbers() {
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kLoadTimeoutMs);
    QTemporaryDir dir;
    FigureStyle style;
    style.dpi = 150;
    style.widthCm = 15;
    style.heightCm = 6;
    const QString png = dir.filePath(QStringLiteral("panels.png"));
    QVERIFY(m_window->exportFigure(MainWindow::ExportContent::Panels, png, style));
    QImage image(png);
    QCOMPARE(image.width(), qRound(15 / 2.54 * 150));
    QVERIFY(std::abs(image.dotsPerMeterX() * 0.0254 - 150) < 1.5);
    const QString pdf = dir.filePath(QStringLiteral("grid.pdf"));
    QVERIFY(m_window->exportFigure(MainWindow::ExportContent::HeadGrid, pdf, style));
    if (!QStandardPaths::findExecutable(QStringLiteral("pdftoppm")).isEmpty()) {
      QCOMPARE(QProcess::execute(QStringLiteral("pdftoppm"),
                                 {QStringLiteral("-r"), QStringLiteral("40"), QStringLiteral("-png"),
                                  QStringLiteral("-singlefile"), pdf, dir.filePath("grid")}),
               0);
      QVERIFY(!QImage(dir.filePath(QStringLiteral("grid.png"))).isNull());
    }
    const QString svg = dir.filePath(QStringLiteral("profile.svg"));
    QVERIFY(m_window->exportFigure(MainWindow::ExportContent::Profile, svg, style));
    QFile file(svg);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&file);
    int paths = 0;
    while (!xml.atEnd()) {
      if (xml.readNext() == QXmlStreamReader::StartElement && xml.name() == QLatin1String("path")) {
        ++paths;
      }
    }
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    QVERIFY(paths > 0);
    const QString npy = dir.filePath(QStringLiteral("panels.npy"));
    QVERIFY(m_window->exportFigure(MainWindow::ExportContent::Panels, npy, style));
    QVERIFY(QFileInfo(npy).size() > 128);
    // An export path that cannot be written: a message naming it, no crash, nothing written.
    const QString bad = dir.filePath(QStringLiteral("no/such/folder/x.pdf"));
    QVERIFY(!m_window->exportFigure(MainWindow::ExportContent::Panels, bad, style));
    QVERIFY(m_window->statusBar()->currentMessage().contains(dir.filePath(QStringLiteral("no"))));
    QVERIFY(!QFileInfo::exists(bad));
    if (auto* box = m_window->findChild<QMessageBox*>()) box->close();
  }

  void longInputsArePooledAndZoomShowsExactCells() {
    QString text;
    for (int i = 0; i < 140; ++i) text += QStringLiteral("Sentence number %1 goes on. ").arg(i);
    m_model->setText(text);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->tokenCount() > 1100, kLoadTimeoutMs);
    const attn::StageMap* whole = m_model->panelMap(0);
    QVERIFY(whole);
    QCOMPARE(whole->step, int64_t{2});  // > 1024 tokens: pooled two by two
    AttentionMapWidget* map = m_window->mapWidget();
    QCOMPARE(map->colorMap()->data()->keySize(), static_cast<int>(whole->cols));
    // Zoom to 200 tokens: the exact cells arrive and are drawn.
    map->plot()->xAxis->setRange(400, 600);
    map->plot()->yAxis->setRange(500, 700);
    QTRY_VERIFY_WITH_TIMEOUT(m_model->detailMap(2) != nullptr && !m_model->isBusy(),
                             kLoadTimeoutMs);
    const attn::StageMap* exact = m_model->detailMap(2);
    QCOMPARE(exact->step, int64_t{1});
    QVERIFY(exact->q0 <= 500 && exact->q1 >= 700 && exact->k0 <= 400 && exact->k1 >= 600);
    QCOMPARE(map->valueAt(650, 420),
             static_cast<double>(exact->at(m_model->head(), 650 - exact->q0, 420 - exact->k0)));
    m_model->setText(kText);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->tokenCount() < 100, kLoadTimeoutMs);
  }

  void aTextTooLongIsOfferedInFull() {
    m_model->setMaxTokens(40);
    m_model->setText(kText.repeated(4));
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->isTruncated(), kLoadTimeoutMs);
    auto* bar = m_window->findChild<QWidget*>(QStringLiteral("truncatedBar"));
    QVERIFY(bar && bar->isVisible());
    QCOMPARE(m_model->mapSize(), 40);
    auto* showAll = m_window->findChild<QPushButton*>(QStringLiteral("showAllTokens"));
    QVERIFY(showAll);
    QTest::mouseClick(showAll, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->mapSize() == m_model->tokenCount(),
                             kLoadTimeoutMs);
    QVERIFY(!bar->isVisible());
    m_model->setMaxTokens(AttentionViewModel::kDefaultMaxTokens);
    m_model->setText(kText);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && !m_model->isTruncated(), kLoadTimeoutMs);
  }

  void deviceMenuChoosesThePrecision() {
    auto action = [this](const char* name) {
      return m_window->findChild<QAction*>(QString::fromLatin1(name));
    };
    QAction* cpu = action("deviceCpuAction");
    QAction* cuda = action("deviceCudaAction");
    QAction* f32 = action("precisionFloat32Action");
    QAction* bf16 = action("precisionBFloat16Action");
    QAction* f16 = action("precisionFloat16Action");
    QVERIFY(cpu && cuda && f32 && bf16 && f16);
    QVERIFY(cpu->isChecked() && f32->isChecked());
    QVERIFY(f32->isEnabled() && !bf16->isEnabled() && !f16->isEnabled());  // CUDA only
    QVERIFY(bf16->toolTip().contains(QStringLiteral("CUDA only")));

    QSignalSpy opened(m_model.get(), &AttentionViewModel::summaryChanged);
    cuda->trigger();
    QCOMPARE(m_model->device(), QStringLiteral("cuda"));
    QVERIFY(bf16->isEnabled() && f16->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() >= 1 && !m_model->isBusy(), kLoadTimeoutMs);
    opened.clear();
    bf16->trigger();
    QCOMPARE(m_model->precision(), QStringLiteral("bfloat16"));
    QVERIFY(bf16->isChecked() && !f32->isChecked());
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() >= 1 && !m_model->isBusy(), kLoadTimeoutMs);
    const attn::ModelSummary& s = m_model->summary();
    if (s.device == "cpu") {  // no GPU here: CUDA and the precision fell back, and it says so
      QCOMPARE(s.precision, std::string("float32"));
      QVERIFY2(m_model->warnings().join(' ').contains(QStringLiteral("bfloat16")),
               qPrintable(m_model->warnings().join(' ')));
      QVERIFY(m_window->statusBar()->currentMessage().contains(QStringLiteral("bfloat16")));
    } else {
      QCOMPARE(s.precision, std::string("bfloat16"));
    }
    QTRY_VERIFY_WITH_TIMEOUT(m_window->mapWidget()->mapSize() > 0 && !m_model->isBusy(),
                             kLoadTimeoutMs);
    QCOMPARE(m_window->workspace().precision, std::string("bfloat16"));
    m_window->close();  // saves the settings
    QCOMPARE(QSettings().value(QStringLiteral("precision")).toString(), QStringLiteral("bfloat16"));
    m_window->show();

    // A workspace brings its device and precision, and the menu of its window follows.
    QTemporaryDir dir;
    const QString ws = dir.filePath(QStringLiteral("half.json"));
    QVERIFY(m_window->saveWorkspace(ws));
    AttentionViewModel model(std::make_unique<SessionBackend>());
    MainWindow window(&model);
    QVERIFY(window.openWorkspace(ws));
    QCOMPARE(model.device(), QStringLiteral("cuda"));
    QCOMPARE(model.precision(), QStringLiteral("bfloat16"));
    QVERIFY(window.findChild<QAction*>(QStringLiteral("precisionBFloat16Action"))->isChecked());
    QTRY_VERIFY_WITH_TIMEOUT(model.hasCheckpoint() && !model.isBusy(), kLoadTimeoutMs);

    // The CPU sets the precision back to float32 and disables the half types.
    opened.clear();
    cpu->trigger();
    QCOMPARE(m_model->device(), QStringLiteral("cpu"));
    QCOMPARE(m_model->precision(), QStringLiteral("float32"));
    QVERIFY(f32->isChecked() && !bf16->isChecked() && !bf16->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() >= 1 && !m_model->isBusy(), kLoadTimeoutMs);
    QCOMPARE(m_model->summary().precision, std::string("float32"));
    QVERIFY(m_model->warnings().isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(m_window->mapWidget()->mapSize() > 0 && !m_model->isBusy(),
                             kLoadTimeoutMs);
  }

  void settingsAreRemembered() {
    ColourSettings colours;
    colours.sequential = ColourMap::Magma;
    colours.scale = ColourScale::Log;
    colours.skipSink = true;
    m_window->setColourSettings(colours);
    QCOMPARE(m_window->mapWidget()->colorMap()->dataScaleType(), QCPAxis::stLogarithmic);
    m_window->close();  // saves
    MainWindow second(m_model.get());
    second.restoreSettings();
    QCOMPARE(second.colourSettings().sequential, ColourMap::Magma);
    QCOMPARE(second.colourSettings().scale, ColourScale::Log);
    QVERIFY(second.colourSettings().skipSink);
    m_window->setColourSettings(ColourSettings{});
    m_window->show();
  }

  void workspaceRoundTripReproducesTheFigure() {
    m_model->setText(kText);
    m_model->setLayer(1);
    m_model->setHead(3);
    m_model->setPanelStages({QStringLiteral("raw"), QStringLiteral("probs")});
    ColourSettings colours;
    colours.sequential = ColourMap::Magma;
    colours.skipSink = true;
    m_window->setColourSettings(colours);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->panelMap(1) &&
                                 m_model->panelMap(0)->layer == 1, kLoadTimeoutMs);
    m_window->mapPanels()->setViewWindow(2, 12, 0, 10);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kLoadTimeoutMs);
    QTemporaryDir dir;
    FigureStyle style;
    style.widthCm = 12;
    style.heightCm = 6;
    style.dpi = 100;
    const QString before = dir.filePath(QStringLiteral("before.png"));
    QVERIFY(m_window->exportFigure(MainWindow::ExportContent::Panels, before, style));
    const QString ws = dir.filePath(QStringLiteral("ws.json"));
    QVERIFY(m_window->saveWorkspace(ws));

    AttentionViewModel model(std::make_unique<SessionBackend>());
    MainWindow window(&model);
    window.show();
    QVERIFY(window.openWorkspace(ws));
    QVERIFY2(window.workspaceProblems().isEmpty(), qPrintable(window.workspaceProblems().join('\n')));
    QTRY_VERIFY_WITH_TIMEOUT(!model.isBusy() && model.panelMap(1) && model.layer() == 1 &&
                                 model.head() == 3 && model.panelMap(0)->layer == 1,
                             kLoadTimeoutMs);
    QCOMPARE(model.panelStages(), (QStringList{"raw", "probs"}));
    QCOMPARE(window.colourSettings().sequential, ColourMap::Magma);
    QTRY_VERIFY_WITH_TIMEOUT(window.workspace().view.q0 == 2, kLoadTimeoutMs);
    const QString after = dir.filePath(QStringLiteral("after.png"));
    QVERIFY(window.exportFigure(MainWindow::ExportContent::Panels, after, style));
    QFile a(before), b(after);
    QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
    const QByteArray bytesA = a.readAll(), bytesB = b.readAll();
    QVERIFY(bytesA.size() > 1000);
    QVERIFY2(bytesA == bytesB, "the reopened workspace draws a different figure");
    // The cropped region: 10 x 10 cells.
    QCOMPARE(window.currentFigure(MainWindow::ExportContent::Panels).maps.front().rows, 10);
    m_window->setColourSettings(ColourSettings{});
    m_window->mapPanels()->resetView();
  }

  void workspaceWithMovedOrChangedCheckpointsOpensTheRest() {
    QTemporaryDir dir;
    // A copy of the bundled checkpoint, fingerprinted, then changed by one byte.
    const QString copy = dir.filePath(QStringLiteral("ckpt"));
    QVERIFY(QDir().mkpath(copy));
    for (const QString& f : QDir(checkpointDir()).entryList(QDir::Files)) {
      QVERIFY(QFile::copy(QDir(checkpointDir()).filePath(f), QDir(copy).filePath(f)));
    }
    attn::Workspace w;
    w.checkpoints.push_back({copy.toStdString(), attn::checkpoint_fingerprint(copy.toStdString())});
    w.checkpoints.push_back({dir.filePath(QStringLiteral("gone")).toStdString(), ""});
    w.text = "A moved checkpoint and a changed one.";
    w.tab = "compare";
    {
      QFile model(QDir(copy).filePath(QStringLiteral("model.safetensors")));
      QVERIFY(model.open(QIODevice::ReadWrite));
      model.seek(model.size() - 1);
      char last = 0;
      model.getChar(&last);
      model.seek(model.size() - 1);
      model.putChar(static_cast<char>(last ^ 1));
    }
    const QString ws = dir.filePath(QStringLiteral("ws.json"));
    attn::write_workspace(ws.toStdString(), w);
    QVERIFY(m_window->openWorkspace(ws));
    const QStringList problems = m_window->workspaceProblems();
    QCOMPARE(problems.size(), 2);
    QVERIFY2(problems[0].contains(QStringLiteral("changed")), qPrintable(problems[0]));
    QVERIFY2(problems[1].contains(QStringLiteral("missing")) &&
                 problems[1].contains(dir.filePath(QStringLiteral("gone"))),
             qPrintable(problems[1]));
    QCOMPARE(m_model->text(), QStringLiteral("A moved checkpoint and a changed one."));
    QCOMPARE(m_window->currentTab(), MainWindow::Tab::Compare);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->mapSize() > 0, kLoadTimeoutMs);
    QCOMPARE(m_window->compareModel()->count(), 1);  // the missing one is left out
    for (auto* box : m_window->findChildren<QMessageBox*>()) box->close();
    // A corrupt workspace: an error naming the file, nothing changed.
    const QString bad = dir.filePath(QStringLiteral("bad.json"));
    QFile file(bad);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{\"format\": \"attnscope-workspace\", \"format_version\": 1, \"checkpoints\": 3}");
    file.close();
    QVERIFY(!m_window->openWorkspace(bad));
    QVERIFY(m_window->statusBar()->currentMessage().contains(bad));
    QCOMPARE(m_model->text(), QStringLiteral("A moved checkpoint and a changed one."));
    for (auto* box : m_window->findChildren<QMessageBox*>()) box->close();
    m_window->showTab(MainWindow::Tab::Explore);
    m_window->compareModel()->clear();
    // Back to the bundled checkpoint for the tests that follow.
    m_model->openCheckpoint(checkpointDir());
    m_model->setText(kText);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->mapSize() > 0, kLoadTimeoutMs);
  }

  void compareAndLengthsTabsShowMaps() {
    m_window->showTab(MainWindow::Tab::Compare);
    CompareViewModel* compare = m_window->compareModel();
    QTRY_COMPARE_WITH_TIMEOUT(compare->count(), 1, kLoadTimeoutMs);  // the explored one
    const QString other = QDir(checkpointDir()).filePath(QStringLiteral("../kerple"));
    QVERIFY(compare->addCheckpoint(QDir::cleanPath(other)));
    QTRY_VERIFY_WITH_TIMEOUT(compare->isReady() && compare->count() == 2, kLoadTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->compareView()->panels()->panelCount(), 3, kLoadTimeoutMs);
    const MapDifference d = compare->difference(0, 1);
    QVERIFY2(d.valid, qPrintable(d.problem));
    QVERIFY(d.meanAbs > 0);  // two different models
    QVERIFY(!d.rowKl.empty());
    QVERIFY(m_window->compareView()->summaryText().contains(QStringLiteral("mean |difference|")));
    compare->clear();

    m_window->showTab(MainWindow::Tab::Lengths);
    m_model->setText(kText.repeated(6));  // about 100 tokens: long enough for every length
    LengthsView* lengths = m_window->lengthsView();
    lengths->setLengths({16, 32, 64});
    QSignalSpy done(m_window->lengthsModel(), &LengthsViewModel::finished);
    lengths->run();
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, kLoadTimeoutMs);
    QVERIFY(lengths->mapCount() >= 3);
    QCOMPARE(lengths->map(0, 2)->mapSize(), 64);
    QVERIFY(m_window->lengthsModel()->result()->hasReport);
    QCOMPARE(lengths->statsPlot()->graphCount(), 1 + 3 * m_model->headCount());
    m_window->showTab(MainWindow::Tab::Explore);
    m_model->setText(kText);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kLoadTimeoutMs);
  }

  void runningOutOfMemoryIsSaidAndAnsweredWithSmallerChunks() {
    // Long enough for smaller work tensors to mean fewer query rows a chunk.
    m_model->setText(kText.repeated(20));
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->mapSize() > 250, kLoadTimeoutMs);
    const int n = m_model->mapSize();
    QSignalSpy notice(m_model.get(), &AttentionViewModel::notice);
    struct Injected {  // chunks of more than 20 query rows fail as an allocation would
      explicit Injected(int n) { qputenv("ATTN_TEST_OOM_ABOVE", QByteArray::number(8 * 20 * n)); }
      ~Injected() { qunsetenv("ATTN_TEST_OOM_ABOVE"); }
    } injected(n);
    m_model->refresh();
    QTRY_VERIFY_WITH_TIMEOUT(notice.count() >= 1 && !m_model->isBusy(), kLoadTimeoutMs);
    QVERIFY(m_window->statusBar()->currentMessage().contains(QStringLiteral("ran out of memory")));
    QVERIFY2(m_model->errorText().isEmpty(), qPrintable(m_model->errorText()));
    QCOMPARE(m_model->mapSize(), n);
    m_model->setText(kText);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->mapSize() < 100, kLoadTimeoutMs);
  }

  void textFilesAreCheckedForUtf8() {
    QTemporaryDir dir;
    const QString good = dir.filePath(QStringLiteral("good.txt"));
    const QString bad = dir.filePath(QStringLiteral("bad.txt"));
    QFile g(good), b(bad);
    QVERIFY(g.open(QIODevice::WriteOnly) && b.open(QIODevice::WriteOnly));
    g.write("Caf\xc3\xa9 au lait.");
    b.write("Caf\xe9 au lait.");  // Latin-1
    g.close();
    b.close();
    QVERIFY(!m_window->loadTextFile(bad));
    QVERIFY(m_window->statusBar()->currentMessage().contains(QStringLiteral("not valid UTF-8")));
    QVERIFY(m_window->statusBar()->currentMessage().contains(bad));
    QCOMPARE(m_model->text(), kText);  // unchanged
    QVERIFY(m_window->loadTextFile(good));
    QCOMPARE(m_model->text(), QString::fromUtf8("Caf\xc3\xa9 au lait."));
    m_model->setText(kText);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->mapSize() > 0, kLoadTimeoutMs);
  }

  void badCheckpointShowsErrorAndStaysUsable() {
    QVERIFY(m_model->hasCheckpoint());
    QTemporaryDir empty;
    QVERIFY(empty.isValid());
    QSignalSpy openFailed(m_model.get(), &AttentionViewModel::openFailed);
    m_model->openCheckpoint(empty.path());
    QTRY_COMPARE_WITH_TIMEOUT(openFailed.count(), 1, kLoadTimeoutMs);
    QVERIFY(m_window->isVisible());
    const QString status = m_window->statusBar()->currentMessage();
    QVERIFY2(status.contains(empty.path()), qPrintable(status));
    auto* box = m_window->findChild<QMessageBox*>();
    QVERIFY(box);
    QVERIFY(box->isVisible());
    box->close();

    // Still usable: the previous checkpoint answers a head and a layer change.
    QVERIFY(m_model->hasCheckpoint());
    auto* headSpin = m_window->findChild<QSpinBox*>(QStringLiteral("headSpin"));
    auto* layerSpin = m_window->findChild<QSpinBox*>(QStringLiteral("layerSpin"));
    QVERIFY(headSpin && layerSpin);
    headSpin->setValue(headSpin->maximum());
    QCOMPARE(m_model->head(), headSpin->maximum());
    const int lastLayer = m_model->layerCount() - 1;
    layerSpin->setValue(lastLayer);
    QTRY_VERIFY_WITH_TIMEOUT(m_model->currentTrace() && m_model->currentTrace()->layer == lastLayer,
                             kLoadTimeoutMs);
    QVERIFY2(m_model->errorText().isEmpty(), qPrintable(m_model->errorText()));
    checkMap();
  }
};

}  // namespace attn::ui::test

QTEST_MAIN(attn::ui::test::MainWindowTest)
#include "main_window_test.moc"
