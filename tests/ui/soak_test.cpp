// SPDX-License-Identifier: MIT
// Soak test of the presentation model with the real core: 3,000 seeded random actions (text
// edits, layer and head changes, checkpoint switches including a broken folder, cancels) with
// no waiting between most of them. The model must stay usable (a final trace for the final
// text), and the resident memory after the run may exceed that after a warm-up by at most
// kGrowthBoundMb.
#include <QtCore/QCoreApplication>
#include <QtCore/QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <cstdio>
#include <memory>
#include <random>
#include <unistd.h>

#include "ui/models/attention_view_model.h"
#include "ui/models/session_backend.h"

namespace attn::ui::test {

namespace {
constexpr int kActions = 3000;
constexpr int kWarmup = 500;
constexpr double kGrowthBoundMb = 64.0;
constexpr int kIdleTimeoutMs = 120000;

double rss_mb() {
  long pages = 0, resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return double(resident) * double(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

const char* kWords[] = {"the", "cat", "sat", "on", "a", "mat", "while", "rain", "fell", "over",
                        "quiet", "hills", ",", ".", "and", "then", "3", "é", "σ", "numbers"};
}  // namespace

class SoakTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void randomActionsKeepTheModelUsableAndMemoryBounded() {
    QTemporaryDir broken;
    const QString checkpoints[] = {QStringLiteral(ATTN_CHECKPOINTS "/alibi"),
                                   QStringLiteral(ATTN_CHECKPOINTS "/kerple-dape-v2"),
                                   broken.path()};
    AttentionViewModel model(std::make_unique<SessionBackend>());
    model.setDebounceInterval(1);
    model.setMaxTokens(64);
    model.setDevice(QStringLiteral("cpu"));
    model.setText(QStringLiteral("The cat sat on the mat."));
    model.openCheckpoint(checkpoints[0]);
    QTRY_VERIFY_WITH_TIMEOUT(model.hasCheckpoint() && !model.isBusy(), kIdleTimeoutMs);

    std::mt19937 rng(20261122);
    auto pick = [&](int n) { return int(rng() % unsigned(n)); };
    QString text;
    double warm = 0;
    int switches = 0;
    for (int i = 0; i < kActions; ++i) {
      const int what = pick(100);
      if (what < 50) {
        text.clear();
        for (int w = 0, n = 1 + pick(40); w < n; ++w) {
          text += QString::fromUtf8(kWords[pick(20)]) + QLatin1Char(' ');
        }
        model.setText(text);
      } else if (what < 70) {
        model.setLayer(pick(std::max(1, model.layerCount())));
      } else if (what < 85) {
        model.setHead(pick(std::max(1, model.headCount())));
      } else if (what < 93) {
        model.openCheckpoint(checkpoints[pick(3)]);
        ++switches;
      } else {
        model.cancel();
      }
      QCoreApplication::processEvents();
      if (i % 50 == 49) QTRY_VERIFY_WITH_TIMEOUT(!model.isBusy(), kIdleTimeoutMs);
      if (i == kWarmup) warm = rss_mb();
    }
    // Usable at the end: one more edit gives a map of the final text.
    model.setText(QStringLiteral("A last sentence to check the model still answers."));
    QTRY_VERIFY_WITH_TIMEOUT(!model.isBusy() && model.currentTrace(), kIdleTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(model.mapSize() == model.tokenCount() && model.mapSize() > 0,
                             kIdleTimeoutMs);
    const double end = rss_mb();
    std::printf("soak: %d actions (%d checkpoint switches), RSS %.1f MB after warm-up, %.1f MB "
                "at the end (bound +%.0f MB)\n",
                kActions, switches, warm, end, kGrowthBoundMb);
    QVERIFY2(end - warm <= kGrowthBoundMb,
             qPrintable(QStringLiteral("RSS grew by %1 MB").arg(end - warm)));
  }
};

}  // namespace attn::ui::test

QTEST_MAIN(attn::ui::test::SoakTest)
#include "soak_test.moc"
