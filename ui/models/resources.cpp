// SPDX-License-Identifier: MIT
// Resource lookup for the window: plain file-system checks, no Qt resource system, because the
// checkpoints are directories of large files that users may also open from the CLI.
#include "ui/models/resources.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QStringList>

namespace attn::ui {

QString findResourcesDir(const QString& envValue, const QString& exeDir) {
  QStringList candidates;
  if (!envValue.isEmpty()) candidates << envValue;
  if (!exeDir.isEmpty()) {
    candidates << exeDir + QStringLiteral("/../resources")
               << exeDir + QStringLiteral("/../../resources");
  }
#ifdef ATTN_RESOURCES_DIR
  candidates << QStringLiteral(ATTN_RESOURCES_DIR);
#endif
  for (const QString& candidate : candidates) {
    const QFileInfo info(candidate);
    if (info.isDir()) return QDir::cleanPath(info.absoluteFilePath());
  }
  return QString();
}

QString defaultCheckpointDir(const QString& resourcesDir) {
  if (resourcesDir.isEmpty()) return QString();
  const QDir checkpoints(resourcesDir + QStringLiteral("/checkpoints"));
  QStringList names = checkpoints.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
  QFile preferred(checkpoints.filePath(QStringLiteral("DEFAULT")));
  if (preferred.open(QIODevice::ReadOnly)) {
    names.prepend(QString::fromUtf8(preferred.readAll()).trimmed());
  }
  for (const QString& name : names) {
    const QString dir = checkpoints.filePath(name);
    if (QFileInfo(dir + QStringLiteral("/config.json")).isFile()) return dir;
  }
  return QString();
}

QString defaultSampleText(const QString& resourcesDir) {
  if (!resourcesDir.isEmpty()) {
    QFile file(resourcesDir + QStringLiteral("/text/sample.txt"));
    if (file.open(QIODevice::ReadOnly)) {
      const QString text = QString::fromUtf8(file.readAll()).trimmed();
      if (!text.isEmpty()) return text;
    }
  }
  return QStringLiteral(
      "The cat sat on the mat because it was warm, and the dog watched it from the door.");
}

}  // namespace attn::ui
