// SPDX-License-Identifier: MIT
// writeFigure: picks the format from the suffix, checks the figure and the folder, encodes the
// whole file in memory, then writes it atomically: `<path>.tmp.<pid>` in the same folder, then a
// rename over `path`, so a reader (LaTeX, a browser) never sees half a figure and a failed export
// leaves the old file as it was.
#include "ui/figure/figure.h"

#include <QtCore/QBuffer>
#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <cstdio>

#include "ui/figure/figure_data.h"
#include "ui/figure/figure_renderer.h"

namespace attn::ui {
namespace {

QByteArray encode(const Figure& f, FigureFormat format, QString* problem) {
  const bool profiles = f.kind == FigureKind::Profiles;
  switch (format) {
    case FigureFormat::Pdf:
      return renderFigurePdf(f);
    case FigureFormat::Svg:
      return renderFigureSvg(f);
    case FigureFormat::Png: {
      QByteArray bytes;
      QBuffer buffer(&bytes);
      buffer.open(QIODevice::WriteOnly);
      if (!renderFigureImage(f).save(&buffer, "PNG"))
        *problem = QStringLiteral("PNG encoding failed");
      return bytes;
    }
    case FigureFormat::Npy:
      return profiles ? profilesToNpy(f.profiles, problem) : mapsToNpy(f.maps, problem);
    case FigureFormat::Csv:
      return profiles ? profilesToCsv(f.profiles) : mapsToCsv(f.maps);
  }
  return {};
}

bool writeAtomically(const QString& path, const QByteArray& bytes, QString* problem) {
  const QString tmpPath =
      path + QStringLiteral(".tmp.") + QString::number(QCoreApplication::applicationPid());
  QFile tmp(tmpPath);
  if (!tmp.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    *problem = QStringLiteral("cannot create %1 (%2)").arg(tmpPath, tmp.errorString());
    return false;
  }
  const bool written = tmp.write(bytes) == bytes.size() && tmp.flush();
  const QString writeError = tmp.errorString();
  tmp.close();
  if (!written || tmp.error() != QFileDevice::NoError) {
    QFile::remove(tmpPath);
    *problem = QStringLiteral("writing %1 failed (%2); is the disk full?").arg(tmpPath, writeError);
    return false;
  }
  // std::rename replaces the target in one step on POSIX; QFile::rename refuses an existing one.
  if (std::rename(QFile::encodeName(tmpPath).constData(), QFile::encodeName(path).constData()) !=
      0) {
    QFile::remove(tmpPath);
    *problem = QStringLiteral(
        "renaming the temporary file over it failed; is it a folder or "
        "read-only?");
    return false;
  }
  return true;
}

}  // namespace

bool figureFormatFromPath(const QString& path, FigureFormat* format) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  FigureFormat f;
  if (suffix == QLatin1String("pdf"))
    f = FigureFormat::Pdf;
  else if (suffix == QLatin1String("svg"))
    f = FigureFormat::Svg;
  else if (suffix == QLatin1String("png"))
    f = FigureFormat::Png;
  else if (suffix == QLatin1String("npy"))
    f = FigureFormat::Npy;
  else if (suffix == QLatin1String("csv"))
    f = FigureFormat::Csv;
  else
    return false;
  if (format) *format = f;
  return true;
}

bool writeFigure(const Figure& figure, const QString& path, QString* error) {
  auto fail = [&](const QString& why) {
    if (error) *error = QStringLiteral("cannot write %1: %2").arg(path, why);
    return false;
  };
  FigureFormat format;
  if (!figureFormatFromPath(path, &format)) {
    const QString suffix = QFileInfo(path).suffix();
    return fail(
        suffix.isEmpty()
            ? QStringLiteral("the file name has no suffix; use .pdf, .svg, .png, .npy or .csv")
            : QStringLiteral("unknown figure format '.%1': use .pdf, .svg, .png, .npy or .csv")
                  .arg(suffix));
  }
  const QFileInfo info(path);
  const QString folder = QDir::toNativeSeparators(info.absolutePath());
  if (!info.absoluteDir().exists())
    return fail(QStringLiteral("the folder %1 does not exist").arg(folder));
  if (info.isDir()) return fail(QStringLiteral("it is a folder; give a file name"));
  if (!QFileInfo(info.absolutePath()).isWritable())
    return fail(QStringLiteral("the folder %1 is not writable").arg(folder));
  QString problem = checkFigure(figure, format);
  if (!problem.isEmpty()) return fail(problem);
  const QByteArray bytes = encode(figure, format, &problem);
  if (!problem.isEmpty()) return fail(problem);
  if (bytes.isEmpty()) return fail(QStringLiteral("rendering produced no data"));
  if (!writeAtomically(path, bytes, &problem)) return fail(problem);
  return true;
}

}  // namespace attn::ui
