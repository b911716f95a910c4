// SPDX-License-Identifier: MIT
// The resource lookup of the window: the order of the candidate folders, the choice of the
// default checkpoint (first folder with a config.json) and the sample-text fallback.
#include "ui/models/resources.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

namespace attn::ui::test {

class ResourcesTest : public QObject {
  Q_OBJECT

 private:
  static void write(const QString& path, const QByteArray& bytes) {
    QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(bytes);
  }

 private Q_SLOTS:
  void environmentComesFirst() {
    QTemporaryDir env, root;
    QVERIFY(QDir(root.path()).mkpath(QStringLiteral("resources")));
    QVERIFY(QDir(root.path()).mkpath(QStringLiteral("bin")));
    const QString exeDir = root.path() + QStringLiteral("/bin");
    QCOMPARE(findResourcesDir(env.path(), exeDir), QDir::cleanPath(env.path()));
    QCOMPARE(findResourcesDir(QString(), exeDir), QDir::cleanPath(root.path() + "/resources"));
    // A missing environment folder falls through to the next candidate.
    QCOMPARE(findResourcesDir(env.path() + "/nope", exeDir),
             QDir::cleanPath(root.path() + "/resources"));
  }

  void twoLevelsUpAndCompiledFallback() {
    QTemporaryDir root;
    QVERIFY(QDir(root.path()).mkpath(QStringLiteral("resources")));
    QVERIFY(QDir(root.path()).mkpath(QStringLiteral("app/gui")));
    QCOMPARE(findResourcesDir(QString(), root.path() + "/app/gui"),
             QDir::cleanPath(root.path() + "/resources"));
    QCOMPARE(findResourcesDir(QString(), QStringLiteral("/nonexistent/bin")),
             QDir::cleanPath(QStringLiteral(ATTN_RESOURCES_DIR)));
  }

  void defaultCheckpointNeedsConfig() {
    QTemporaryDir res;
    QVERIFY(QDir(res.path()).mkpath(QStringLiteral("checkpoints/a-empty")));
    write(res.path() + "/checkpoints/b-model/config.json", "{}");
    write(res.path() + "/checkpoints/c-model/config.json", "{}");
    QCOMPARE(defaultCheckpointDir(res.path()), res.path() + "/checkpoints/b-model");
    QVERIFY(defaultCheckpointDir(QString()).isEmpty());
    // checkpoints/DEFAULT names the preferred one; a name without a config.json is passed over.
    write(res.path() + "/checkpoints/DEFAULT", "c-model\n");
    QCOMPARE(defaultCheckpointDir(res.path()), res.path() + "/checkpoints/c-model");
    write(res.path() + "/checkpoints/DEFAULT", "a-empty\n");
    QCOMPARE(defaultCheckpointDir(res.path()), res.path() + "/checkpoints/b-model");
  }

  void bundledDefaultIsTrained() {
    const QString dir = defaultCheckpointDir(QStringLiteral(ATTN_RESOURCES_DIR));
    QVERIFY(dir.endsWith(QStringLiteral("/kerple-dape-v2")));
  }

  void sampleTextOrBuiltIn() {
    QTemporaryDir res;
    QVERIFY(!defaultSampleText(res.path()).isEmpty());
    write(res.path() + "/text/sample.txt", "Hello, map.\n");
    QCOMPARE(defaultSampleText(res.path()), QStringLiteral("Hello, map."));
  }
};

}  // namespace attn::ui::test

QTEST_GUILESS_MAIN(attn::ui::test::ResourcesTest)
#include "resources_test.moc"
