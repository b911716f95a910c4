// SPDX-License-Identifier: MIT
// The device and precision a run saved are used by the next start, as app/gui/main.cpp builds it
// (model, window, restoreSettings, then the first open), with the fake backend so that "cuda"
// means the same on a machine without a GPU: a command-line choice wins over the saved one, and a
// saved value the model cannot use falls back to cpu / float32 and is said in the status bar.
#include <QtCore/QSettings>
#include <QtCore/QStandardPaths>
#include <QtGui/QAction>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWidgets/QStatusBar>
#include <memory>

#include "fake_trace_backend.h"
#include "ui/models/attention_view_model.h"
#include "ui/widgets/main_window.h"
#include "test_wait.h"

namespace attn::ui::test {

namespace {
const int kWaitMs = scaledWaitMs(20000);

void save(const QString& device, const QString& precision) {
  QSettings settings;
  settings.setValue(QStringLiteral("device"), device);
  settings.setValue(QStringLiteral("precision"), precision);
}
}  // namespace

class MainWindowSettingsTest : public QObject {
  Q_OBJECT

 private:
  std::shared_ptr<FakeControl> m_control;
  std::unique_ptr<AttentionViewModel> m_model;
  std::unique_ptr<MainWindow> m_window;

  // A new start with these command-line choices (empty: not given); nothing is opened yet.
  void start(const QString& device = QString(), const QString& precision = QString()) {
    m_window.reset();
    m_model = std::make_unique<AttentionViewModel>(std::make_unique<FakeTraceBackend>(m_control));
    m_model->setDebounceInterval(10);
    auto control = m_control;
    m_window = std::make_unique<MainWindow>(
        m_model.get(), QString(), [control] { return std::make_unique<FakeTraceBackend>(control); });
    m_window->restoreSettings(device, precision);
    m_window->show();
  }

  bool checked(const char* action) const {
    const auto* a = m_window->findChild<QAction*>(QString::fromLatin1(action));
    return a && a->isChecked();
  }

  // The first open, once it and its trace are done.
  void openFirst() {
    m_model->setText(QStringLiteral("a b c d"));
    m_model->openCheckpoint(QStringLiteral("/fake/ckpt"));
    QTRY_VERIFY_WITH_TIMEOUT(m_model->hasCheckpoint() && !m_model->isBusy(), kWaitMs);
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // settings go to a test location
    QCoreApplication::setOrganizationName(QStringLiteral("AttnScopeTest"));
  }

  void init() {
    QSettings().clear();
    m_control = std::make_shared<FakeControl>();
  }

  void cleanup() {
    m_window.reset();
    m_model.reset();
  }

  void savedDeviceAndPrecisionAreUsedAtStart() {
    start();  // nothing saved: the defaults
    QCOMPARE(m_model->device(), QStringLiteral("cpu"));
    QCOMPARE(m_model->precision(), QStringLiteral("float32"));
    m_window->findChild<QAction*>(QStringLiteral("deviceCudaAction"))->trigger();
    m_window->findChild<QAction*>(QStringLiteral("precisionBFloat16Action"))->trigger();
    m_window->close();  // saves

    start();
    QCOMPARE(m_model->device(), QStringLiteral("cuda"));
    QCOMPARE(m_model->precision(), QStringLiteral("bfloat16"));
    QVERIFY(checked("deviceCudaAction") && checked("precisionBFloat16Action"));  // the menu follows
    QCOMPARE(m_control->opens.load(), 0);  // restoring opens nothing
    QSignalSpy opened(m_model.get(), &AttentionViewModel::summaryChanged);
    openFirst();
    QCOMPARE(opened.count(), 1);  // the first checkpoint opens once, on the saved choice
    QCOMPARE(m_model->summary().device, std::string("cuda"));
    QCOMPARE(m_model->summary().precision, std::string("bfloat16"));
  }

  void commandLineWinsOverSavedValues() {
    save(QStringLiteral("cuda"), QStringLiteral("bfloat16"));
    start(QStringLiteral("cuda"), QStringLiteral("float16"));
    QCOMPARE(m_model->device(), QStringLiteral("cuda"));
    QCOMPARE(m_model->precision(), QStringLiteral("float16"));
    QVERIFY(checked("precisionFloat16Action"));

    save(QStringLiteral("cpu"), QStringLiteral("bfloat16"));
    start(QStringLiteral("cuda"));  // --device only: the saved precision is kept
    QCOMPARE(m_model->device(), QStringLiteral("cuda"));
    QCOMPARE(m_model->precision(), QStringLiteral("bfloat16"));

    save(QStringLiteral("cuda"), QStringLiteral("float32"));
    start(QStringLiteral("cpu"), QStringLiteral("float32"));
    QCOMPARE(m_model->device(), QStringLiteral("cpu"));
    QVERIFY(checked("deviceCpuAction"));
    openFirst();
    QCOMPARE(m_model->summary().device, std::string("cpu"));
  }

  void unusableSavedValuesFallBackAndAreSaid() {
    save(QStringLiteral("tpu"), QStringLiteral("float16"));
    start();
    QCOMPARE(m_model->device(), QStringLiteral("cpu"));
    QCOMPARE(m_model->precision(), QStringLiteral("float32"));
    QVERIFY(checked("deviceCpuAction") && checked("precisionFloat32Action"));
    QString status = m_window->statusBar()->currentMessage();
    QVERIFY2(status.contains(QStringLiteral("'tpu'")) && status.contains(QStringLiteral("float16")),
             qPrintable(status));
    // Still said once the first checkpoint has loaded ("Computing…" came in between).
    openFirst();
    QCOMPARE(m_model->summary().device, std::string("cpu"));
    status = m_window->statusBar()->currentMessage();
    QVERIFY2(status.contains(QStringLiteral("'tpu'")), qPrintable(status));

    save(QStringLiteral("cuda"), QStringLiteral("half"));  // an unknown precision
    start();
    QCOMPARE(m_model->device(), QStringLiteral("cuda"));
    QCOMPARE(m_model->precision(), QStringLiteral("float32"));
    status = m_window->statusBar()->currentMessage();
    QVERIFY2(status.contains(QStringLiteral("'half'")), qPrintable(status));

    save(QStringLiteral("cuda"), QStringLiteral("bfloat16"));  // --device cpu: no half types
    start(QStringLiteral("cpu"));
    QCOMPARE(m_model->precision(), QStringLiteral("float32"));
    status = m_window->statusBar()->currentMessage();
    QVERIFY2(status.contains(QStringLiteral("CUDA only")), qPrintable(status));
  }
};

}  // namespace attn::ui::test

QTEST_MAIN(attn::ui::test::MainWindowSettingsTest)
#include "main_window_settings_test.moc"
