// SPDX-License-Identifier: MIT
// The comparison and lengths presentation models against the fake backend (no widgets): every
// compared model follows text, layer, head and stage; the difference of two maps against a
// hand-computed reference, with and without token alignment; a lengths job gives maps at each
// length that fits, statistics, skipped lengths, progress, and can be cancelled.
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <cmath>
#include <memory>

#include "fake_trace_backend.h"
#include "ui/models/compare_view_model.h"
#include "ui/models/lengths_view_model.h"
#include "ui/models/map_difference.h"
#include "test_wait.h"

namespace attn::ui::test {

namespace {
const int kWaitMs = scaledWaitMs(5000);

attn::StageMap exactMap(int n, int heads, float (*value)(int, int, int)) {
  attn::StageMap m;
  m.stage = "probs";
  m.n_head = heads;
  m.n = n;
  m.q1 = m.k1 = n;
  m.rows = m.cols = n;
  for (int h = 0; h < heads; ++h) {
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) m.values.push_back(j <= i ? value(h, i, j) : NAN);
    }
  }
  return m;
}

std::vector<attn::TokenInfo> spans(const std::vector<std::pair<int, int>>& s) {
  std::vector<attn::TokenInfo> out;
  for (const auto& [b, e] : s) out.push_back({0, "t", b, e});
  return out;
}
}  // namespace

class CompareLengthsTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void differenceMatchesAHandReference() {
    // A uniform over the past, B all on the diagonal.
    const auto a = exactMap(4, 1, [](int, int i, int) { return 1.0f / float(i + 1); });
    const auto b = exactMap(4, 1, [](int, int i, int j) { return i == j ? 1.0f : 0.0f; });
    const auto tokens = spans({{0, 1}, {1, 2}, {2, 3}, {3, 4}});
    const MapDifference d = mapDifference(a, tokens, b, tokens, 0, true);
    QVERIFY(d.valid);
    QVERIFY(!d.aligned);
    QCOMPARE(d.values[3 * 4 + 3], 0.25f - 1.0f);
    QCOMPARE(d.values[3 * 4 + 0], 0.25f);
    QVERIFY(std::isnan(d.values[0 * 4 + 1]));
    // KL(A_i || B_i) with B one-hot on i: sum over j < i of (1/(i+1)) log((1/(i+1)) / 1e-30)
    // plus (1/(i+1)) log(1/(i+1)); row 0 is 0.
    QCOMPARE(d.rowKl[0], 0.0);
    const double p = 0.25;
    const double want = 3 * p * (std::log(p) - std::log(1e-30)) + p * std::log(p);
    QVERIFY(std::abs(d.rowKl[3] - want) < 1e-9 * std::abs(want));
    QCOMPARE(d.topRows.front(), 3);  // the widest row differs most
    double sum = 0;
    int cells = 0;
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j <= i; ++j, ++cells) sum += std::abs(1.0 / (i + 1) - (i == j ? 1.0 : 0.0));
    }
    QVERIFY(std::abs(d.meanAbs - sum / cells) < 1e-7);
  }

  void differentTokenizersAreAlignedByTextPosition() {
    // A cuts "abcd" into a|b|c|d, B into ab|cd.
    const auto ta = spans({{0, 1}, {1, 2}, {2, 3}, {3, 4}});
    const auto tb = spans({{0, 2}, {2, 4}});
    QCOMPARE(alignTokens(ta, tb), (std::vector<int>{0, 0, 1, 1}));
    const auto a = exactMap(4, 1, [](int, int i, int) { return 1.0f / float(i + 1); });
    const auto b = exactMap(2, 1, [](int, int i, int j) { return i == 1 && j == 0 ? 0.7f : (i == j ? (i == 0 ? 1.0f : 0.3f) : 0.0f); });
    const MapDifference d = mapDifference(a, ta, b, tb, 0, true);
    QVERIFY(d.valid);
    QVERIFY(d.aligned);
    // A's (3, 0) is compared with B's (1, 0).
    QCOMPARE(d.values[3 * 4 + 0], 0.25f - 0.7f);
    QCOMPARE(d.values[2 * 4 + 1], 1.0f / 3.0f - 0.7f);  // A (2,1) -> B (1,0)
  }

  void pooledMapsHaveNoDifference() {
    auto a = exactMap(4, 1, [](int, int, int) { return 0.5f; });
    a.step = 2;
    const auto tokens = spans({{0, 1}, {1, 2}, {2, 3}, {3, 4}});
    const MapDifference d = mapDifference(a, tokens, a, tokens, 0, true);
    QVERIFY(!d.valid);
    QVERIFY(d.problem.contains(QStringLiteral("pooled")));
  }

  void comparedModelsMoveTogether() {
    std::vector<std::shared_ptr<FakeControl>> controls;
    CompareViewModel compare([&controls] {
      controls.push_back(std::make_shared<FakeControl>());
      return std::make_unique<FakeTraceBackend>(controls.back());
    });
    compare.setText(QStringLiteral("one two three four"));
    compare.setStage(QStringLiteral("probs"));
    QVERIFY(compare.addCheckpoint(QStringLiteral("/fake/a")));
    QVERIFY(compare.addCheckpoint(QStringLiteral("/fake/b")));
    QCOMPARE(compare.count(), 2);
    for (int i = 0; i < 2; ++i) compare.model(i)->setDebounceInterval(10);
    QTRY_VERIFY_WITH_TIMEOUT(compare.isReady(), kWaitMs);
    QCOMPARE(compare.name(1), QStringLiteral("b"));
    compare.setLayer(2);
    compare.setHead(1);
    compare.setStage(QStringLiteral("raw"));
    QTRY_VERIFY_WITH_TIMEOUT(compare.isReady() && compare.model(0)->panelMap(0)->stage == "raw" &&
                                 compare.model(1)->panelMap(0)->layer == 2,
                             kWaitMs);
    for (int i = 0; i < 2; ++i) {
      QCOMPARE(compare.model(i)->layer(), 2);
      QCOMPARE(compare.model(i)->head(), 1);
    }
    const MapDifference d = compare.difference(0, 1);
    QVERIFY2(d.valid, qPrintable(d.problem));
    QCOMPARE(d.meanAbs, 0.0);  // the same fake model twice
    QVERIFY(d.rowKl.empty());   // raw scores are not weights
    // A fifth checkpoint is refused with a message.
    QVERIFY(compare.addCheckpoint(QStringLiteral("/fake/c")));
    QVERIFY(compare.addCheckpoint(QStringLiteral("/fake/d")));
    QSignalSpy failed(&compare, &CompareViewModel::failed);
    QVERIFY(!compare.addCheckpoint(QStringLiteral("/fake/e")));
    QCOMPARE(failed.count(), 1);
    compare.removeCheckpoint(0);
    QCOMPARE(compare.count(), 3);
    for (auto& c : controls) c->gate = false;
  }

  void comparedCheckpointsFollowTheDeviceAndPrecision() {
    std::vector<std::shared_ptr<FakeControl>> controls;
    CompareViewModel compare([&controls] {
      controls.push_back(std::make_shared<FakeControl>());
      return std::make_unique<FakeTraceBackend>(controls.back());
    });
    compare.setText(QStringLiteral("one two three four"));
    compare.setDevice(QStringLiteral("cuda"), QStringLiteral("bfloat16"));
    QVERIFY(compare.addCheckpoint(QStringLiteral("/fake/a")));
    QTRY_VERIFY_WITH_TIMEOUT(compare.model(0)->hasCheckpoint(), kWaitMs);
    QCOMPARE(compare.model(0)->summary().device, std::string("cuda"));
    QCOMPARE(compare.model(0)->summary().precision, std::string("bfloat16"));
    QCOMPARE(controls.front()->opens.load(), 1);
    // A later choice reopens what is already compared on it.
    compare.setDevice(QStringLiteral("cpu"), QStringLiteral("float32"));
    QTRY_VERIFY_WITH_TIMEOUT(compare.model(0)->hasCheckpoint() &&
                                 compare.model(0)->summary().device == "cpu",
                             kWaitMs);
    QCOMPARE(compare.model(0)->summary().precision, std::string("float32"));
    QCOMPARE(controls.front()->opens.load(), 2);
    compare.setDevice(QStringLiteral("cpu"), QStringLiteral("float32"));  // no change: no reopen
    QTest::qWait(50);
    QCOMPARE(controls.front()->opens.load(), 2);
  }

  void lengthsJobGivesMapsAndStatistics() {
    auto control = std::make_shared<FakeControl>();
    LengthsViewModel lengths(std::make_unique<FakeTraceBackend>(control));
    lengths.openCheckpoint(QStringLiteral("/fake/ckpt"));
    QTRY_VERIFY_WITH_TIMEOUT(lengths.hasCheckpoint(), kWaitMs);
    QCOMPARE(LengthsViewModel::defaultLengths(4), (std::vector<int64_t>{4, 8, 16, 32, 64}));
    QSignalSpy finished(&lengths, &LengthsViewModel::finished);
    QSignalSpy progress(&lengths, &LengthsViewModel::progressChanged);
    LengthsJob job;
    QStringList words;
    for (int i = 0; i < 20; ++i) words << QStringLiteral("w%1").arg(i);
    job.text = words.join(QLatin1Char(' ')).toStdString();
    job.lengths = {4, 8, 16, 32};
    job.layer = 1;
    job.stages = {"probs"};
    lengths.run(job);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
    QVERIFY(!lengths.isBusy());
    const LengthsResult* r = lengths.result();
    QVERIFY(r);
    QCOMPARE(r->traces.size(), std::size_t{3});  // 32 > 20 tokens
    QCOMPARE(static_cast<int>(r->traces[1].tokens.size()), 8);
    QCOMPARE(r->traces[2].maps.front().layer, int64_t{1});
    QVERIFY(r->hasReport);
    QCOMPARE(r->report.points.size(), std::size_t{3});
    QCOMPARE(r->report.points[2].ppl_tail, 10.16);
    QCOMPARE(lengths.skippedLengths(), (std::vector<int64_t>{32}));
    QVERIFY(progress.count() >= 2);

    // Cancel: a held job ends without a result of its own.
    control->gate = true;
    lengths.run(job);
    QVERIFY(lengths.isBusy());
    lengths.cancel();
    QVERIFY(!lengths.isBusy());
    control->gate = false;
    QTest::qWait(100);
    QCOMPARE(finished.count(), 1);
  }
};

}  // namespace attn::ui::test

QTEST_GUILESS_MAIN(attn::ui::test::CompareLengthsTest)
#include "compare_lengths_test.moc"
