// SPDX-License-Identifier: MIT
// AttentionViewModel against a fake backend, with no widgets: debounce (a burst of edits gives
// one trace), stale results dropped, cancel, errors turned into failed(), a head change served
// from the trace in hand, and a layer change that reruns it.
#include "ui/models/attention_view_model.h"

#include <QtCore/QElapsedTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <cmath>
#include <memory>

#include "fake_trace_backend.h"
#include "test_wait.h"

namespace attn::ui::test {

namespace {
constexpr int kDebounceMs = 150;
const int kWaitMs = scaledWaitMs(5000);
}  // namespace

class AttentionViewModelTest : public QObject {
  Q_OBJECT

 private:
  std::shared_ptr<FakeControl> m_control;
  std::unique_ptr<AttentionViewModel> m_model;

  // Opens the fake checkpoint with `text` and waits for the first trace (if the text is empty,
  // only for the summary).
  void openWith(const QString& text) {
    m_model->setText(text);
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    m_model->openCheckpoint(QStringLiteral("/fake/ckpt"));
    QTRY_VERIFY_WITH_TIMEOUT(m_model->hasCheckpoint(), kWaitMs);
    if (!text.isEmpty()) QTRY_COMPARE_WITH_TIMEOUT(traced.count(), 1, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kWaitMs);
  }

 private Q_SLOTS:
  void init() {
    m_control = std::make_shared<FakeControl>();
    m_model = std::make_unique<AttentionViewModel>(std::make_unique<FakeTraceBackend>(m_control));
    m_model->setDebounceInterval(kDebounceMs);
  }

  void cleanup() {
    m_control->gate = false;
    m_model.reset();
  }

  void opensAndTraces() {
    QSignalSpy summary(m_model.get(), &AttentionViewModel::summaryChanged);
    openWith(QStringLiteral("the cat sat"));
    QCOMPARE(summary.count(), 1);
    QCOMPARE(m_model->layerCount(), kFakeLayers);
    QCOMPARE(m_model->headCount(), kFakeHeads);
    QCOMPARE(m_model->tokenCount(), 3);
    QCOMPARE(m_model->mapSize(), 3);
    QCOMPARE(m_model->mapLabels(), (QStringList{"the", "cat", "sat"}));
    const std::vector<float> map = m_model->headMap();
    QCOMPARE(map.size(), std::size_t{9});
    QCOMPARE(map[2 * 3 + 0], 1.0f / 3.0f);  // head 0, query 2 attends uniformly
    QVERIFY(std::isnan(map[0 * 3 + 1]));    // masked future
    QCOMPARE(m_model->panelStages(), (QStringList{"raw", "probs"}));  // raw next to processed
    QCOMPARE(m_model->profileStages(), (QStringList{"raw", "probs"}));
    for (int layer = 0; layer < kFakeLayers; ++layer) {
      const attn::StageMap* thumb = m_model->overviewMap(layer);
      QVERIFY(thumb != nullptr);
      QCOMPARE(thumb->stage, std::string("probs"));
      QCOMPARE(thumb->rows, int64_t{3});
    }
    const attn::StageMap* row = m_model->profileMap(QStringLiteral("raw"));
    QVERIFY(row != nullptr);
    QCOMPARE(row->q0, int64_t{2});  // no row chosen: the last token
    QCOMPARE(row->rows, int64_t{1});
    QCOMPARE(row->at(0, 0, 0), 2.0f);
    QCOMPARE(m_control->tracesStarted.load(), 1);
  }

  void burstOfEditsGivesOneTrace() {
    openWith(QString());
    QCOMPARE(m_control->tracesStarted.load(), 0);
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    // The burst lasts longer than the pause, but no gap in it does: a timer that is not
    // restarted by each edit would fire in the middle of it.
    QElapsedTimer sinceEdit;
    QString text;
    for (int k = 0; k < 8; ++k) {
      text += QStringLiteral("w ");
      m_model->setText(text.trimmed());
      sinceEdit.start();
      QTest::qWait(kDebounceMs / 4);
    }
    if (sinceEdit.elapsed() < kDebounceMs) QCOMPARE(m_control->tracesStarted.load(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(traced.count(), 1, kWaitMs);
    QTest::qWait(2 * kDebounceMs);
    QCOMPARE(m_control->tracesStarted.load(), 1);
    QCOMPARE(traced.count(), 1);
    QCOMPARE(m_control->text(), std::string("w w w w w w w w"));
    QCOMPARE(m_model->mapSize(), 8);
  }

  void staleResultIsDropped() {
    openWith(QString());
    m_control->honourCancel = false;  // the old job will come back with a result anyway
    m_control->gate = true;
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    m_model->setText(QStringLiteral("one two"));
    m_model->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(m_control->tracesStarted.load(), 1, kWaitMs);
    m_model->setText(QStringLiteral("one two three"));
    m_model->refresh();
    m_control->gate = false;
    QTRY_COMPARE_WITH_TIMEOUT(m_control->tracesFinished.load(), 2, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kWaitMs);
    QTest::qWait(50);  // let any late signal of the first job arrive
    QVERIFY2(m_control->sawCancel.load(), "the superseded job's cancel flag was not set");
    QCOMPARE(traced.count(), 1);
    QCOMPARE(m_model->mapSize(), 3);
    QCOMPARE(m_model->tokenCount(), 3);
  }

  void cancelStopsRunningTrace() {
    openWith(QString());
    m_control->gate = true;
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    QSignalSpy failed(m_model.get(), &AttentionViewModel::failed);
    QSignalSpy busy(m_model.get(), &AttentionViewModel::busyChanged);
    m_model->setText(QStringLiteral("long running text"));
    m_model->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(m_control->tracesStarted.load(), 1, kWaitMs);
    QVERIFY(m_model->isBusy());
    m_model->cancel();
    QVERIFY(!m_model->isBusy());
    QTRY_VERIFY_WITH_TIMEOUT(m_control->sawCancel.load(), kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_control->tracesFinished.load(), 1, kWaitMs);
    QTest::qWait(50);
    QCOMPARE(traced.count(), 0);
    QCOMPARE(failed.count(), 0);
    QVERIFY(m_model->currentTrace() == nullptr);
    QCOMPARE(busy.count(), 2);  // true, then false
    QCOMPARE(busy.at(1).at(0).toBool(), false);
  }

  void backendErrorsBecomeFailed_data() {
    QTest::addColumn<int>("failure");
    QTest::addColumn<QString>("expected");
    QTest::newRow("attn::Error") << int(Failure::AttnError) << QStringLiteral("boom");
    QTest::newRow("std::exception") << int(Failure::StdError) << QStringLiteral("bad_alloc-like");
    QTest::newRow("non-standard") << int(Failure::NonStandard) << QStringLiteral("unknown error");
  }

  void backendErrorsBecomeFailed() {
    QFETCH(int, failure);
    QFETCH(QString, expected);
    openWith(QString());
    m_control->traceFailure = static_cast<Failure>(failure);
    QSignalSpy failed(m_model.get(), &AttentionViewModel::failed);
    m_model->setText(QStringLiteral("x y"));
    m_model->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kWaitMs);
    const QString message = failed.at(0).at(0).toString();
    QVERIFY2(message.contains(expected), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("layer 0")), qPrintable(message));
    QVERIFY(!m_model->isBusy());
    QCOMPARE(m_model->errorText(), message);

    // Still usable: the next request succeeds and clears the error.
    m_control->traceFailure = Failure::None;
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    m_model->setLayer(1);
    QTRY_COMPARE_WITH_TIMEOUT(traced.count(), 1, kWaitMs);
    QVERIFY(m_model->errorText().isEmpty());
  }

  void failedOpenKeepsPreviousCheckpoint() {
    openWith(QStringLiteral("a b"));
    QSignalSpy failed(m_model.get(), &AttentionViewModel::failed);
    QSignalSpy openFailed(m_model.get(), &AttentionViewModel::openFailed);
    QSignalSpy summary(m_model.get(), &AttentionViewModel::summaryChanged);
    m_model->openCheckpoint(QStringLiteral("/bad/ckpt"));
    QVERIFY(m_model->isBusy());
    QTRY_COMPARE_WITH_TIMEOUT(openFailed.count(), 1, kWaitMs);
    QCOMPARE(failed.count(), 1);
    QVERIFY(openFailed.at(0).at(0).toString().contains(QStringLiteral("/bad/ckpt/config.json")));
    QVERIFY(!m_model->isBusy());
    QCOMPARE(summary.count(), 0);
    QVERIFY(m_model->hasCheckpoint());
    QCOMPARE(m_model->summary().dir, std::string("/fake/ckpt"));
    QCOMPARE(m_model->mapSize(), 2);  // the map on display stays
  }

  void openCancelsRunningTraceAndRetraces() {
    openWith(QString());
    m_control->gate = true;
    m_model->setText(QStringLiteral("a b c"));
    m_model->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(m_control->tracesStarted.load(), 1, kWaitMs);
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    m_model->openCheckpoint(QStringLiteral("/fake/other"));
    QTRY_VERIFY_WITH_TIMEOUT(m_control->sawCancel.load(), kWaitMs);
    m_control->gate = false;
    QTRY_VERIFY_WITH_TIMEOUT(m_model->mapSize() == 3, kWaitMs);
    QCOMPARE(m_control->tracesStarted.load(), 2);
    QCOMPARE(m_model->summary().dir, std::string("/fake/other"));
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kWaitMs);
  }

  void precisionGoesToTheBackendAndFollowsTheDevice() {
    QCOMPARE(m_model->precision(), QStringLiteral("float32"));
    QVERIFY(m_model->precisionAvailable(QStringLiteral("float32")));
    QVERIFY(!m_model->precisionAvailable(QStringLiteral("bfloat16")));  // on the CPU
    QSignalSpy precision(m_model.get(), &AttentionViewModel::precisionChanged);
    QSignalSpy device(m_model.get(), &AttentionViewModel::deviceChanged);
    QSignalSpy notice(m_model.get(), &AttentionViewModel::notice);
    // Half types on the CPU and unknown names are refused, with a notice saying why.
    m_model->setPrecision(QStringLiteral("bfloat16"));
    QCOMPARE(m_model->precision(), QStringLiteral("float32"));
    QCOMPARE(notice.count(), 1);
    QVERIFY2(notice.last().at(0).toString().contains(QStringLiteral("CUDA only")),
             qPrintable(notice.last().at(0).toString()));
    m_model->setDevice(QStringLiteral("tpu"));  // unknown: refused, like an unknown precision
    QCOMPARE(m_model->device(), QStringLiteral("cpu"));
    QCOMPARE(device.count(), 0);
    QVERIFY(notice.last().at(0).toString().contains(QStringLiteral("'tpu'")));
    m_model->setDevice(QStringLiteral("cuda"));
    QCOMPARE(device.count(), 1);
    m_model->setPrecision(QStringLiteral("half"));
    QCOMPARE(m_model->precision(), QStringLiteral("float32"));
    QVERIFY(notice.last().at(0).toString().contains(QStringLiteral("'half'")));
    QCOMPARE(precision.count(), 0);
    // On CUDA a half type is taken and reaches the backend with the device.
    QVERIFY(m_model->precisionAvailable(QStringLiteral("float16")));
    m_model->setPrecision(QStringLiteral("bfloat16"));
    QCOMPARE(precision.count(), 1);
    QCOMPARE(precision.last().at(0).toString(), QStringLiteral("bfloat16"));
    openWith(QString());
    QCOMPARE(m_model->summary().device, std::string("cuda"));
    QCOMPARE(m_model->summary().precision, std::string("bfloat16"));
    // Back to the CPU: float32 again, said in a notice.
    const int notices = notice.count();
    m_model->setDevice(QStringLiteral("cpu"));
    QCOMPARE(m_model->precision(), QStringLiteral("float32"));
    QCOMPARE(precision.count(), 2);
    QCOMPARE(notice.count(), notices + 1);
    QVERIFY(notice.last().at(0).toString().contains(QStringLiteral("float32")));
    m_model->openCheckpoint(QStringLiteral("/fake/ckpt"));
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy() && m_model->summary().device == "cpu", kWaitMs);
    QCOMPARE(m_model->summary().precision, std::string("float32"));
  }

  void headChangeNeedsNoRerun() {
    openWith(QStringLiteral("a b c"));
    QSignalSpy head(m_model.get(), &AttentionViewModel::headChanged);
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    m_model->setHead(1);
    QCOMPARE(head.count(), 1);
    QCOMPARE(head.at(0).at(0).toInt(), 1);
    const std::vector<float> map = m_model->headMap();
    QCOMPARE(map[1 * 3 + 1], 1.0f);  // head 1 attends to itself only
    QCOMPARE(map[1 * 3 + 0], 0.0f);
    QVERIFY(std::isnan(map[1 * 3 + 2]));
    m_model->setHead(7);  // out of range: clamped to the last head, which it already is
    QCOMPARE(head.count(), 1);
    QVERIFY(!m_model->isBusy());
    QTest::qWait(2 * kDebounceMs);
    QCOMPARE(m_control->tracesStarted.load(), 1);
    QCOMPARE(traced.count(), 0);
  }

  void queryRowRerunsOnlyTheProfile() {
    openWith(QStringLiteral("a b c d e"));
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    QSignalSpy profile(m_model.get(), &AttentionViewModel::profileChanged);
    QSignalSpy overview(m_model.get(), &AttentionViewModel::overviewChanged);
    m_model->setQueryRow(1);
    QTRY_COMPARE_WITH_TIMEOUT(profile.count(), 1, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kWaitMs);
    QCOMPARE(traced.count(), 0);
    QCOMPARE(overview.count(), 0);
    QCOMPARE(m_model->profileQuery(), 1);
    const attn::StageMap* row = m_model->profileMap(QStringLiteral("raw"));
    QVERIFY(row != nullptr);
    QCOMPARE(row->q0, int64_t{1});
    QCOMPARE(row->at(0, 0, 0), 1.0f);  // raw = i - j
    QVERIFY(std::isnan(row->at(0, 0, 2)));  // key after the query
    m_model->setQueryRow(99);  // clamped to the last token
    QCOMPARE(m_model->queryRow(), 4);
  }

  void panelsToggleBetweenRawAndProcessed() {
    openWith(QStringLiteral("a b c"));
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    m_model->toggleRawProcessed();
    QCOMPARE(m_model->panelStages(), (QStringList{"probs"}));
    m_model->toggleRawProcessed();
    QCOMPARE(m_model->panelStages(), (QStringList{"raw", "probs"}));
    m_model->setPanelStages({QStringLiteral("logits"), QStringLiteral("nonsense")});
    QCOMPARE(m_model->panelStages(), (QStringList{"logits"}));  // unknown stages dropped
    QTRY_VERIFY_WITH_TIMEOUT(traced.count() >= 1 && !m_model->isBusy(), kWaitMs);
    QVERIFY(m_model->panelMap(0) != nullptr);
    QCOMPARE(m_model->panelMap(0)->stage, std::string("logits"));
    QCOMPARE(m_model->overviewMap(0)->stage, std::string("logits"));  // follows the last panel
  }

  void longInputsArePooledAndZoomComputesTheExactRegion() {
    QStringList words;
    for (int i = 0; i < 3000; ++i) words << QStringLiteral("w%1").arg(i);
    openWith(words.join(QLatin1Char(' ')));
    const attn::StageMap* whole = m_model->panelMap(0);
    QVERIFY(whole != nullptr);
    QCOMPARE(whole->step, int64_t{3});  // 3000 tokens in at most 1024 cells a side
    QCOMPARE(whole->rows, int64_t{1000});
    QVERIFY(m_model->detailMap(0) == nullptr);
    QSignalSpy detail(m_model.get(), &AttentionViewModel::detailChanged);
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    m_model->setViewWindow({1000, 1400, 900, 1300});
    QTRY_COMPARE_WITH_TIMEOUT(detail.count(), 1, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kWaitMs);
    QCOMPARE(traced.count(), 0);  // the whole map is kept
    const attn::StageMap* exact = m_model->detailMap(0);
    QVERIFY(exact != nullptr);
    QCOMPARE(exact->step, int64_t{1});
    QVERIFY(exact->q0 <= 1000 && exact->q1 >= 1400 && exact->k0 <= 900 && exact->k1 >= 1300);
    const int started = m_control->tracesStarted.load();
    m_model->setViewWindow({1050, 1350, 950, 1250});  // inside what is there: no new job
    QTest::qWait(2 * kDebounceMs);
    QCOMPARE(m_control->tracesStarted.load(), started);
    m_model->setViewWindow({0, 3000, 0, 3000});  // zoomed out: the detail goes
    QVERIFY(m_model->detailMap(0) == nullptr);
  }

  void layerChangeReruns() {
    openWith(QStringLiteral("a b c"));
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    m_model->setLayer(2);
    QCOMPARE(m_model->layer(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(traced.count(), 1, kWaitMs);
    QCOMPARE(m_model->currentTrace()->layer, int64_t{2});
    QCOMPARE(m_control->tracesStarted.load(), 2);
    m_model->setLayer(9);  // clamped to 2: no change, no rerun
    QTest::qWait(2 * kDebounceMs);
    QCOMPARE(m_control->tracesStarted.load(), 2);
  }

  void progressIsReported() {
    openWith(QString());
    QSignalSpy progress(m_model.get(), &AttentionViewModel::progressChanged);
    m_model->setText(QStringLiteral("p q"));
    m_model->refresh();
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), kWaitMs);
    QList<double> seen;
    for (const auto& args : progress) seen << args.at(0).toDouble();
    QVERIFY2(seen.contains(0.5), qPrintable(QString::number(seen.size())));
    QCOMPARE(seen.last(), 1.0);
  }

  void emptyTextClearsTheMap() {
    openWith(QStringLiteral("a b"));
    QSignalSpy traced(m_model.get(), &AttentionViewModel::traceChanged);
    m_model->setText(QString());
    QTRY_COMPARE_WITH_TIMEOUT(traced.count(), 1, kWaitMs);
    QCOMPARE(m_model->mapSize(), 0);
    QCOMPARE(m_model->tokenCount(), 0);
    QCOMPARE(m_control->tracesStarted.load(), 1);
  }

  void destructionCancelsRunningTrace() {
    openWith(QString());
    m_control->gate = true;
    m_model->setText(QStringLiteral("a b"));
    m_model->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(m_control->tracesStarted.load(), 1, kWaitMs);
    QElapsedTimer clock;
    clock.start();
    m_model.reset();  // must not hang on the gated trace
    QVERIFY(clock.elapsed() < kWaitMs);
    QVERIFY(m_control->sawCancel.load());
  }
};

}  // namespace attn::ui::test

QTEST_GUILESS_MAIN(attn::ui::test::AttentionViewModelTest)
#include "attention_view_model_test.moc"
