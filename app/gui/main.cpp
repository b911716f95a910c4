// SPDX-License-Identifier: MIT
// attnscope: the window's composition root. Parses the command line, finds the bundled
// resources, builds the presentation model over a real Session backend and the main window, and
// runs. --screenshot grabs the window once the first map is shown, for tests and the README.
#include <QtCore/QCommandLineParser>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QTimer>
#include <QtWidgets/QApplication>
#include <QtWidgets/QStatusBar>
#include <cstdio>
#include <memory>

#include "ui/models/attention_view_model.h"
#include "ui/models/resources.h"
#include "ui/models/session_backend.h"
#include "ui/widgets/extrapolation_plot.h"
#include "ui/widgets/main_window.h"

namespace {

constexpr int kUsageError = 2;
constexpr int kScreenshotTimeoutMs = 300000;

int fail(const QString& message, int code) {
  std::fprintf(stderr, "attnscope: %s\n", qPrintable(message));
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("AttnScope"));
  QApplication::setOrganizationName(QStringLiteral("AttnScope"));
  QApplication::setApplicationVersion(QStringLiteral(ATTN_VERSION));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Attention maps of a transformer checkpoint."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption checkpointOption(
      QStringLiteral("checkpoint"), QStringLiteral("Checkpoint directory (default: bundled)."),
      QStringLiteral("DIR"));
  const QCommandLineOption textOption(
      QStringLiteral("text-file"), QStringLiteral("UTF-8 text to trace."), QStringLiteral("FILE"));
  const QCommandLineOption deviceOption(QStringLiteral("device"),
                                        QStringLiteral("cpu or cuda (default: cpu)."),
                                        QStringLiteral("DEVICE"), QStringLiteral("cpu"));
  const QCommandLineOption precisionOption(
      QStringLiteral("precision"),
      QStringLiteral("float32, bfloat16 or float16 (default: float32; half types with --device "
                     "cuda)."),
      QStringLiteral("PRECISION"), QStringLiteral("float32"));
  const QCommandLineOption screenshotOption(
      QStringLiteral("screenshot"),
      QStringLiteral("Save the window as PNG once the first map is shown, then quit."),
      QStringLiteral("PNG"));
  const QCommandLineOption resultsOption(
      QStringLiteral("results"),
      QStringLiteral("Results of attnscope-cli eval to show as length-extrapolation curves "
                     "(default: resources/results/extrapolation.json)."),
      QStringLiteral("FILE"));
  const QCommandLineOption exportCurvesOption(
      QStringLiteral("export-curves"),
      QStringLiteral("Write the length-extrapolation curves as a figure (.png, .pdf, .svg) or "
                     "their numbers (.csv), then quit."),
      QStringLiteral("FILE"));
  const QCommandLineOption workspaceOption(
      QStringLiteral("workspace"),
      QStringLiteral("Open a workspace file saved by File > Save workspace."), QStringLiteral("FILE"));
  parser.addOptions({checkpointOption, textOption, deviceOption, precisionOption,
                     screenshotOption, resultsOption, exportCurvesOption, workspaceOption});
  parser.process(app);  // exits on --help, --version and unknown options

  const QString device = parser.value(deviceOption);
  if (device != QLatin1String("cpu") && device != QLatin1String("cuda")) {
    return fail(QStringLiteral("--device must be cpu or cuda, not '%1'").arg(device), kUsageError);
  }
  const QString precision = parser.value(precisionOption);
  if (precision != QLatin1String("float32") && precision != QLatin1String("bfloat16") &&
      precision != QLatin1String("float16")) {
    return fail(QStringLiteral("--precision must be float32, bfloat16 or float16, not '%1'")
                    .arg(precision),
                kUsageError);
  }
  // Without --device the window runs on the last run's device (restoreSettings below; a
  // screenshot on the default), so a half precision is checked against that one.
  const bool restoring = !parser.isSet(screenshotOption);
  const QString runDevice = parser.isSet(deviceOption) || !restoring
                                ? device
                                : attn::ui::MainWindow::savedDevice(device);
  if (precision != QLatin1String("float32") && runDevice != QLatin1String("cuda")) {
    return fail(parser.isSet(deviceOption) || !restoring
                    ? QStringLiteral("--precision %1 runs on CUDA only: add --device cuda")
                          .arg(precision)
                    : QStringLiteral("--precision %1 runs on CUDA only, and the last run was on "
                                     "%2: add --device cuda")
                          .arg(precision, runDevice),
                kUsageError);
  }
  const QString resources = attn::ui::findResourcesDir(qEnvironmentVariable("ATTNSCOPE_RESOURCES"),
                                                       QCoreApplication::applicationDirPath());
  QString checkpoint = parser.value(checkpointOption);
  if (checkpoint.isEmpty()) checkpoint = attn::ui::defaultCheckpointDir(resources);
  QString text = attn::ui::defaultSampleText(resources);
  if (parser.isSet(textOption)) {
    QFile file(parser.value(textOption));
    if (!file.open(QIODevice::ReadOnly)) {
      return fail(
          QStringLiteral("cannot read --text-file %1: %2").arg(file.fileName(), file.errorString()),
          kUsageError);
    }
    text = QString::fromUtf8(file.readAll());
  }

  attn::ui::AttentionViewModel model(std::make_unique<attn::ui::SessionBackend>());
  model.setDevice(runDevice);  // the device the precision was checked against
  model.setPrecision(precision);
  attn::ui::MainWindow window(&model, resources);
  // Layout, colours, the recent list, device and precision of the last run (--device and
  // --precision win), before anything is opened; a screenshot uses the fixed defaults so that it
  // does not depend on who ran the program before.
  if (restoring) {
    window.restoreSettings(parser.isSet(deviceOption) ? device : QString(),
                           parser.isSet(precisionOption) ? precision : QString());
  }
  QString results = parser.value(resultsOption);
  if (results.isEmpty() && !resources.isEmpty() &&
      QFileInfo::exists(resources + QStringLiteral("/results/extrapolation.json"))) {
    results = resources + QStringLiteral("/results/extrapolation.json");
  }
  const bool shown = !results.isEmpty() && window.showResults(results);
  if (!shown && parser.isSet(resultsOption)) {
    std::fprintf(stderr, "attnscope: %s\n", qPrintable(window.statusBar()->currentMessage()));
  }
  if (parser.isSet(exportCurvesOption)) {
    if (!shown) return fail(QStringLiteral("no results to draw: give --results FILE"), 1);
    QString error;
    if (!window.extrapolationPlot()->exportTo(parser.value(exportCurvesOption), 900, 560, &error)) {
      return fail(error, 1);
    }
    return 0;
  }
  model.setText(text);
  if (parser.isSet(workspaceOption)) {
    if (!window.openWorkspace(parser.value(workspaceOption))) {
      return fail(window.statusBar()->currentMessage(), 1);
    }
  } else if (checkpoint.isEmpty()) {
    const QString message =
        QStringLiteral(
            "no bundled checkpoint found (resources/checkpoints/*/config.json under %1); open one "
            "with File > Open checkpoint directory, or pass --checkpoint DIR")
            .arg(resources.isEmpty() ? QStringLiteral("any resources folder") : resources);
    std::fprintf(stderr, "attnscope: %s\n", qPrintable(message));
    window.statusBar()->showMessage(message);
  } else {
    model.openCheckpoint(checkpoint);
  }
  window.show();

  int exitCode = 0;
  bool shot = false;
  if (parser.isSet(screenshotOption)) {
    const QString png = parser.value(screenshotOption);
    auto shoot = [&window, &exitCode, &shot, png](int code) {
      if (shot) return;  // the first outcome (map, error or timeout) decides
      shot = true;
      if (!window.screenshot().save(png, "PNG")) {
        std::fprintf(stderr, "attnscope: cannot write %s\n", qPrintable(png));
        code = 1;
      }
      exitCode = code;
      QApplication::quit();
    };
    // A short delay lets the window finish its layout before it is grabbed.
    // Shot once everything the open tab shows has arrived and nothing is computing.
    auto* poll = new QTimer(&window);
    QObject::connect(poll, &QTimer::timeout, &window, [&window, poll, shoot] {
      if (!window.isIdle()) return;
      poll->stop();
      QTimer::singleShot(300, [shoot] { shoot(0); });
    });
    poll->start(200);
    QObject::connect(&model, &attn::ui::AttentionViewModel::failed, &window,
                     [shoot](const QString& message) {
                       std::fprintf(stderr, "attnscope: %s\n", qPrintable(message));
                       QTimer::singleShot(100, [shoot] { shoot(1); });
                     });
    if (checkpoint.isEmpty()) QTimer::singleShot(100, [shoot] { shoot(1); });
    QTimer::singleShot(kScreenshotTimeoutMs, [shoot] { shoot(1); });
  }
  const int code = app.exec();
  return exitCode != 0 ? exitCode : code;
}
