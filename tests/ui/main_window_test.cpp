// SPDX-License-Identifier: MIT
// The window end to end on the offscreen platform: the real Session backend loads the bundled
// tiny checkpoint, the map appears with one cell per token and rows that sum to one over the
// visible (causal) keys, and a bad checkpoint directory gives a visible error, not a crash.
#include "ui/widgets/main_window.h"

#include <QtCore/QDir>
#include <QtCore/QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWidgets/QApplication>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QStatusBar>
#include <cmath>
#include <memory>

#include "ui/models/attention_view_model.h"
#include "ui/models/session_backend.h"
#include "ui/widgets/attention_map_widget.h"
#include "ui/widgets/qcustomplot_include.h"

namespace attn::ui::test {

namespace {
constexpr int kLoadTimeoutMs = 60000;
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
