// SPDX-License-Identifier: MIT
// Figures for papers: colour maps and ranges, then every export format checked from the written
// file (PNG pixels and DPI, PDF through pdftoppm, SVG structure and its embedded cell-resolution
// images, .npy header and bits, .csv rows), the error messages and the atomic replace.
// Set ATTN_FIGURE_TEST_OUT to a folder to keep a copy of the rendered figures for a look.
#include "ui/figure/figure.h"

#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtCore/QXmlStreamReader>
#include <QtCore/QtEndian>
#include <QtGui/QImage>
#include <QtSvg/QSvgRenderer>
#include <QtTest/QtTest>
#include <cmath>
#include <cstring>
#include <set>

#include "ui/figure/colour_map.h"
#include "ui/figure/figure_renderer.h"

using namespace attn::ui;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// A causal map: cell (r, c) = (r * T + c + 1) / T^2 below the diagonal, NaN above.
FigureMap causalMap(int T, const QString& title, double scale = 1.0) {
  FigureMap m;
  m.title = title;
  m.rows = m.cols = T;
  for (int r = 0; r < T; ++r)
    for (int c = 0; c < T; ++c)
      m.values.push_back(c <= r ? float(scale * (r * T + c + 1) / double(T * T)) : kNaN);
  for (int i = 0; i < T; ++i) m.tokens << QStringLiteral("tok%1").arg(i);
  return m;
}

Figure mapsFigure(int T = 12) {
  Figure f;
  f.title = QStringLiteral("layer 0, head 1");
  f.maps = {causalMap(T, QStringLiteral("raw")), causalMap(T, QStringLiteral("probs"), 0.5)};
  f.style.widthCm = 12;
  f.style.heightCm = 6;
  f.style.dpi = 150;
  return f;
}

Figure profilesFigure() {
  Figure f;
  f.kind = FigureKind::Profiles;
  f.title = QStringLiteral("query 19");
  for (int p = 0; p < 2; ++p) {
    FigureProfile prof;
    prof.title = p == 0 ? QStringLiteral("raw scores") : QStringLiteral("position bias");
    prof.yLabel = QStringLiteral("score");
    for (int h = 0; h < 3; ++h) {
      FigureCurve c;
      c.name = QStringLiteral("head %1").arg(h);
      for (int k = 0; k < 20; ++k) {
        c.x.push_back(k);
        c.y.push_back(std::sin(0.3 * k + h) * (p + 1) - 0.1 * h);
      }
      prof.curves.push_back(c);
    }
    f.profiles.push_back(prof);
  }
  return f;
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Fraction of pixels that are not white, and the number of distinct colours.
std::pair<double, size_t> inkAndColours(const QImage& image, const QRect& area = QRect()) {
  const QRect r = area.isNull() ? image.rect() : area;
  size_t ink = 0;
  std::set<QRgb> colours;
  for (int y = r.top(); y <= r.bottom(); ++y)
    for (int x = r.left(); x <= r.right(); ++x) {
      const QRgb c = image.pixel(x, y) | 0xff000000u;
      if (c != 0xffffffffu) ++ink;
      colours.insert(c);
    }
  return {double(ink) / (r.width() * r.height()), colours.size()};
}

bool closeColour(const QColor& a, const QColor& b, int tol = 2) {
  return std::abs(a.red() - b.red()) <= tol && std::abs(a.green() - b.green()) <= tol &&
         std::abs(a.blue() - b.blue()) <= tol;
}

struct SvgSummary {
  bool ok = false;
  QString root;
  int paths = 0;
  int texts = 0;
  std::vector<QImage> images;
  QString allText;
};

SvgSummary parseSvg(const QByteArray& bytes) {
  SvgSummary s;
  QXmlStreamReader xml(bytes);
  while (!xml.atEnd()) {
    if (xml.readNext() != QXmlStreamReader::StartElement) {
      if (xml.isCharacters()) s.allText += xml.text();
      continue;
    }
    if (s.root.isEmpty()) s.root = xml.name().toString();
    if (xml.name() == QLatin1String("path")) ++s.paths;
    if (xml.name() == QLatin1String("text")) ++s.texts;
    if (xml.name() == QLatin1String("image")) {
      QString href;
      for (const QXmlStreamAttribute& a : xml.attributes())
        if (a.name() == QLatin1String("href")) href = a.value().toString();
      const int comma = href.indexOf(QLatin1Char(','));
      s.images.push_back(QImage::fromData(QByteArray::fromBase64(href.mid(comma + 1).toLatin1())));
    }
  }
  s.ok = !xml.hasError();
  return s;
}

QStringList leftovers(const QString& dir) {
  return QDir(dir).entryList({QStringLiteral("*.tmp.*")}, QDir::Files | QDir::Hidden);
}

}  // namespace

class FigureTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString path(const QString& name) const { return m_dir.filePath(name); }
  void keep(const QString& file) const {
    const QString out = qEnvironmentVariable("ATTN_FIGURE_TEST_OUT");
    if (!out.isEmpty()) {
      QFile::remove(out + QLatin1Char('/') + QFileInfo(file).fileName());
      QFile::copy(file, out + QLatin1Char('/') + QFileInfo(file).fileName());
    }
  }
  bool write(const Figure& f, const QString& name, QString* error = nullptr) {
    QString e;
    const bool ok = writeFigure(f, path(name), &e);
    if (error) *error = e;
    if (!ok && !error) qWarning() << e;
    if (ok) keep(path(name));
    return ok;
  }

 private Q_SLOTS:
  void colourStopsAreSortedWithEndpoints() {
    for (const QString& name : colourMapNames()) {
      ColourMap map;
      QVERIFY(parseColourMap(name, &map));
      QCOMPARE(colourMapName(map), name);
      const auto& stops = colourStops(map);
      QVERIFY2(stops.size() >= 2, qPrintable(name));
      QCOMPARE(stops.front().first, 0.0);
      QCOMPARE(stops.back().first, 1.0);
      for (size_t i = 1; i < stops.size(); ++i) QVERIFY(stops[i].first > stops[i - 1].first);
      QCOMPARE(colourAt(map, 0.0), stops.front().second);
      QCOMPARE(colourAt(map, 1.0), stops.back().second);
      QCOMPARE(colourAt(map, -3.0), stops.front().second);  // clamped
      QCOMPARE(colourAt(map, 7.0), stops.back().second);
      // Halfway between two stops is the mean of their colours.
      const auto& a = stops[0];
      const auto& b = stops[1];
      const QColor mid = colourAt(map, (a.first + b.first) / 2);
      const QColor want((a.second.red() + b.second.red()) / 2,
                        (a.second.green() + b.second.green()) / 2,
                        (a.second.blue() + b.second.blue()) / 2);
      QVERIFY2(closeColour(mid, want, 1), qPrintable(name));
    }
    QCOMPARE(colourMapNames().size(), 5);
    QCOMPARE(colourAt(ColourMap::Viridis, 0.0), QColor(68, 1, 84));
    QCOMPARE(colourAt(ColourMap::Viridis, 1.0), QColor(253, 231, 37));
    QCOMPARE(colourAt(ColourMap::Viridis, 0.5), QColor(33, 145, 140));  // the published middle
    QCOMPARE(colourAt(ColourMap::Grey, 0.0), QColor(0, 0, 0));
    QCOMPARE(colourAt(ColourMap::Grey, 1.0), QColor(255, 255, 255));
    const QColor white = colourAt(ColourMap::Diverging, 0.5);
    QVERIFY(white.red() >= 240 && white.green() >= 240 && white.blue() >= 240);
    QVERIFY(colourAt(ColourMap::Diverging, 0.0).blue() > colourAt(ColourMap::Diverging, 0.0).red());
    QVERIFY(colourAt(ColourMap::Diverging, 1.0).red() > colourAt(ColourMap::Diverging, 1.0).blue());
    QCOMPARE(maskedColour(), QColor(225, 225, 225));
  }

  void parsesNamesCaseInsensitively() {
    ColourMap map = ColourMap::Viridis;
    QVERIFY(parseColourMap(QStringLiteral(" Magma "), &map));
    QCOMPARE(map, ColourMap::Magma);
    QVERIFY(!parseColourMap(QStringLiteral("jet"), &map));
    QCOMPARE(map, ColourMap::Magma);  // unchanged on failure
    QVERIFY(isDiverging(ColourMap::Diverging));
    QVERIFY(!isDiverging(ColourMap::Cividis));
  }

  void autoRangeTakesTheQuantile() {
    std::vector<float> v;
    for (int i = 0; i < 1000; ++i) v.push_back(float(i));
    v.push_back(kNaN);
    const ColourRange r = autoRange(v, ColourMap::Viridis, ColourScale::Linear, 0.995);
    QCOMPARE(r.lo, 0.0);
    QCOMPARE(r.hi, 994.0);  // round(0.995 * 999)
    QCOMPARE(r.position(0.0), 0.0);
    QCOMPARE(r.position(994.0), 1.0);
    QCOMPARE(r.position(5000.0), 1.0);
    QCOMPARE(r.position(497.0), 0.5);
    QVERIFY(std::isnan(r.position(std::nan(""))));
    const ColourRange full = autoRange(v, ColourMap::Viridis, ColourScale::Linear, 1.0);
    QCOMPARE(full.hi, 999.0);
  }

  void autoRangeIsSymmetricForDiverging() {
    const std::vector<float> v = {-8.f, -1.f, 0.f, 2.f, 3.f, kNaN};
    const ColourRange r = autoRange(v, ColourMap::Diverging, ColourScale::Linear, 1.0);
    QCOMPARE(r.lo, -8.0);
    QCOMPARE(r.hi, 8.0);
    QCOMPARE(r.position(0.0), 0.5);
  }

  void autoRangeHonoursTheSkipMask() {
    const std::vector<float> v = {100.f, 1.f, 2.f, 3.f};
    const ColourRange r =
        autoRange(v, ColourMap::Viridis, ColourScale::Linear, 1.0, {true, false, false, false});
    QCOMPARE(r.lo, 1.0);
    QCOMPARE(r.hi, 3.0);
  }

  void autoRangeLogStartsAtTheSmallestPositive() {
    const std::vector<float> v = {0.f, -1.f, 0.01f, 0.1f, 1.f};
    const ColourRange r = autoRange(v, ColourMap::Magma, ColourScale::Log, 1.0);
    QCOMPARE(r.scale, ColourScale::Log);
    QCOMPARE(r.lo, double(0.01f));
    QCOMPARE(r.hi, 1.0);
    QCOMPARE(r.position(0.0), 0.0);
    QVERIFY(std::abs(r.position(0.1) - 0.5) < 1e-6);
  }

  void autoRangeWidensDegenerateData() {
    struct Case {
      const char* what;
      std::vector<float> values;
      ColourMap map;
      ColourScale scale;
    };
    const std::vector<Case> cases = {
        {"empty", {}, ColourMap::Viridis, ColourScale::Linear},
        {"all NaN", {kNaN, kNaN}, ColourMap::Viridis, ColourScale::Linear},
        {"constant", {0.5f, 0.5f, 0.5f}, ColourMap::Viridis, ColourScale::Linear},
        {"constant negative", {-2.f, -2.f}, ColourMap::Viridis, ColourScale::Linear},
        {"zeros", {0.f, 0.f}, ColourMap::Grey, ColourScale::Linear},
        {"log no positive", {0.f, -1.f}, ColourMap::Viridis, ColourScale::Log},
        {"log constant", {0.25f, 0.25f}, ColourMap::Viridis, ColourScale::Log},
        {"diverging zeros", {0.f, 0.f}, ColourMap::Diverging, ColourScale::Linear},
        {"diverging empty", {}, ColourMap::Diverging, ColourScale::Linear},
    };
    for (const Case& c : cases) {
      const ColourRange r = autoRange(c.values, c.map, c.scale);
      QVERIFY2(std::isfinite(r.lo) && std::isfinite(r.hi) && r.hi > r.lo, c.what);
      if (r.scale == ColourScale::Log) QVERIFY2(r.lo > 0.0, c.what);
      for (float v : c.values)
        if (std::isfinite(v) && (c.scale == ColourScale::Linear || v > 0))
          QVERIFY2(v >= r.lo && v <= r.hi, c.what);
    }
    const ColourRange logConst = autoRange({0.25f}, ColourMap::Viridis, ColourScale::Log);
    QCOMPARE(logConst.lo, 0.25);
  }

  void pngHasTheRequestedSizeDpiAndCells() {
    const Figure f = mapsFigure();
    QVERIFY(write(f, QStringLiteral("maps.png")));
    QImage image(path(QStringLiteral("maps.png")));
    QVERIFY(!image.isNull());
    QVERIFY(std::abs(image.width() - 12 / 2.54 * 150) <= 1);
    QVERIFY(std::abs(image.height() - 6 / 2.54 * 150) <= 1);
    QVERIFY(std::abs(image.dotsPerMeterX() - 150 / 0.0254) <= 0.01 * 150 / 0.0254);
    QVERIFY(std::abs(image.dotsPerMeterY() - 150 / 0.0254) <= 0.01 * 150 / 0.0254);

    const FigureLayout layout = layoutFigure(f, QSizeF(image.size()), 150 / 72.0, &image);
    QCOMPARE(layout.plots.size(), size_t(2));
    QCOMPARE(layout.colourBars.size(), size_t(1));  // shared range: one bar
    std::vector<float> all = f.maps[0].values;
    all.insert(all.end(), f.maps[1].values.begin(), f.maps[1].values.end());
    const ColourRange range = autoRange(all, ColourMap::Viridis, ColourScale::Linear);
    for (size_t i = 0; i < 2; ++i) {
      const FigureMap& m = f.maps[i];
      const QRectF r = layout.plots[i];
      QVERIFY(QRectF(image.rect()).contains(r));
      auto cell = [&](int row, int col) {
        const QPointF c(r.left() + (col + 0.5) * r.width() / m.cols,
                        r.top() + (row + 0.5) * r.height() / m.rows);
        return image.pixelColor(c.toPoint());
      };
      QCOMPARE(cell(0, m.cols - 1), maskedColour());
      QCOMPARE(cell(2, 7), maskedColour());
      for (auto [row, col] : {std::pair{m.rows - 1, 0}, {5, 3}, {m.rows - 1, m.cols - 1}}) {
        const QColor want =
            colourAt(ColourMap::Viridis, range.position(m.values[size_t(row) * m.cols + col]));
        QVERIFY2(closeColour(cell(row, col), want),
                 qPrintable(QStringLiteral("map %1 cell %2,%3").arg(i).arg(row).arg(col)));
      }
      const auto [ink, colours] = inkAndColours(image, r.toAlignedRect().adjusted(3, 3, -3, -3));
      QVERIFY(ink > 0.9);
      QVERIFY(colours > 20);
    }
  }

  void pdfRendersThroughPdftoppm() {
    const Figure f = mapsFigure();
    QVERIFY(write(f, QStringLiteral("maps.pdf")));
    QVERIFY(readAll(path(QStringLiteral("maps.pdf"))).startsWith("%PDF"));
    const QString pdftoppm = QStandardPaths::findExecutable(QStringLiteral("pdftoppm"));
    if (pdftoppm.isEmpty()) QSKIP("pdftoppm (poppler-utils) is not installed");
    QProcess proc;
    proc.start(pdftoppm, {QStringLiteral("-r"), QStringLiteral("72"), QStringLiteral("-png"),
                          QStringLiteral("-singlefile"), path(QStringLiteral("maps.pdf")),
                          path(QStringLiteral("pdf_page"))});
    QVERIFY(proc.waitForFinished(60000));
    QCOMPARE(proc.exitCode(), 0);
    const QImage page(path(QStringLiteral("pdf_page.png")));
    QVERIFY(!page.isNull());
    QVERIFY(std::abs(page.width() - 12 / 2.54 * 72) <= 2);
    QVERIFY(std::abs(page.height() - 6 / 2.54 * 72) <= 2);
    const auto [ink, colours] = inkAndColours(page);
    QVERIFY(ink > 0.05);
    QVERIFY(colours > 20);
    // The maps are embedded losslessly: the masked cells keep their exact grey (JPEG would not).
    int masked = 0;
    for (int y = 0; y < page.height(); ++y)
      for (int x = 0; x < page.width(); ++x) masked += page.pixelColor(x, y) == maskedColour();
    QVERIFY2(masked > 1000, qPrintable(QString::number(masked)));
  }

  void svgHasVectorAxesAndOneCellImagePerMap() {
    Figure f = mapsFigure();
    f.maps[1] = causalMap(9, QStringLiteral("conv"));
    f.style.sharedRange = false;  // two bars, still no extra images
    QVERIFY(write(f, QStringLiteral("maps.svg")));
    const QByteArray bytes = readAll(path(QStringLiteral("maps.svg")));
    const SvgSummary svg = parseSvg(bytes);
    QVERIFY(svg.ok);
    QCOMPARE(svg.root, QStringLiteral("svg"));
    QVERIFY(svg.paths > 0);
    QVERIFY(svg.texts > 0);
    QCOMPARE(svg.images.size(), size_t(2));
    QCOMPARE(svg.images[0].size(), QSize(12, 12));
    QCOMPARE(svg.images[1].size(), QSize(9, 9));
    QCOMPARE(svg.images[0].pixelColor(11, 0), maskedColour());
    QVERIFY(QSvgRenderer(bytes).isValid());
  }

  void longInputsEmbedEveryCell() {
    Figure f;
    f.maps = {causalMap(1024, QStringLiteral("1024 tokens"))};
    QElapsedTimer timer;
    timer.start();
    QVERIFY(write(f, QStringLiteral("long.svg")));
    const SvgSummary svg = parseSvg(readAll(path(QStringLiteral("long.svg"))));
    QCOMPARE(svg.images.size(), size_t(1));
    QCOMPARE(svg.images[0].size(), QSize(1024, 1024));
    QCOMPARE(svg.images[0].pixelColor(1023, 0), maskedColour());
    QVERIFY(!svg.allText.contains("tok5"));  // numbers, not 1024 token labels
    QVERIFY(write(f, QStringLiteral("long.png")));
    QVERIFY2(timer.elapsed() < 20000, qPrintable(QString::number(timer.elapsed())));
  }

  void tokenLabelsOnlyWhereTheyFitAtStepOne() {
    Figure f = mapsFigure(8);
    f.style.widthCm = f.style.heightCm = 16;
    f.maps.resize(1);
    QVERIFY(write(f, QStringLiteral("tokens.svg")));
    QVERIFY(parseSvg(readAll(path(QStringLiteral("tokens.svg")))).allText.contains("tok5"));
    QVERIFY(write(f, QStringLiteral("tokens.png")));
    f.maps[0].step = 2;  // a downsampled view has no per-token cells
    QVERIFY(write(f, QStringLiteral("tokens2.svg")));
    QVERIFY(!parseSvg(readAll(path(QStringLiteral("tokens2.svg")))).allText.contains("tok5"));
    f.maps[0] = causalMap(200, QStringLiteral("long"));  // 200 labels do not fit in 16 cm
    QVERIFY(write(f, QStringLiteral("tokens3.svg")));
    QVERIFY(!parseSvg(readAll(path(QStringLiteral("tokens3.svg")))).allText.contains("tok5"));
  }

  void npyRoundTripsMapsBitExactly() {
    Figure f = mapsFigure(5);
    f.maps[1].values[3] = -0.0f;
    QVERIFY(write(f, QStringLiteral("maps.npy")));
    const QByteArray b = readAll(path(QStringLiteral("maps.npy")));
    QVERIFY(b.startsWith(QByteArray("\x93NUMPY\x01\x00", 8)));
    const quint16 len = qFromLittleEndian<quint16>(b.constData() + 8);
    QCOMPARE((10 + len) % 64, 0);
    const QByteArray header = b.mid(10, len);
    QVERIFY(header.endsWith('\n'));
    QVERIFY(header.contains("'descr': '<f4'"));
    QVERIFY(header.contains("'fortran_order': False"));
    QVERIFY(header.contains("'shape': (2, 5, 5)"));
    QCOMPARE(b.size(), 10 + len + 2 * 25 * 4);
    for (int m = 0; m < 2; ++m)
      QVERIFY(std::memcmp(b.constData() + 10 + len + m * 100, f.maps[m].values.data(), 100) == 0);
  }

  void npyWritesProfilesAsFloat64() {
    const Figure f = profilesFigure();
    QVERIFY(write(f, QStringLiteral("profiles.npy")));
    const QByteArray b = readAll(path(QStringLiteral("profiles.npy")));
    const quint16 len = qFromLittleEndian<quint16>(b.constData() + 8);
    QVERIFY(b.mid(10, len).contains("'descr': '<f8'"));
    QVERIFY(b.mid(10, len).contains("'shape': (2, 3, 20)"));
    QCOMPARE(b.size(), 10 + len + 2 * 3 * 20 * 8);
    double v;
    std::memcpy(&v, b.constData() + 10 + len + (1 * 60 + 2 * 20 + 7) * 8, 8);
    QCOMPARE(v, f.profiles[1].curves[2].y[7]);
  }

  void csvHasOneLinePerCell() {
    const Figure f = mapsFigure(4);
    QVERIFY(write(f, QStringLiteral("maps.csv")));
    const QList<QByteArray> lines = readAll(path(QStringLiteral("maps.csv"))).trimmed().split('\n');
    QCOMPARE(lines.size(), 1 + 2 * 16);
    QCOMPARE(lines[0], QByteArray("map,query,key,value"));
    QCOMPARE(lines[1 + 0 * 4 + 3], QByteArray("0,0,3,"));                 // masked: empty value
    const QList<QByteArray> cell = lines[1 + 16 + 3 * 4 + 1].split(',');  // map 1, (3, 1)
    QCOMPARE(cell.size(), 4);
    QCOMPARE(cell[0], QByteArray("1"));
    QCOMPARE(cell[1], QByteArray("3"));
    QCOMPARE(cell[2], QByteArray("1"));
    QCOMPARE(cell[3].toFloat(), f.maps[1].values[3 * 4 + 1]);

    const Figure p = profilesFigure();
    QVERIFY(write(p, QStringLiteral("profiles.csv")));
    const QList<QByteArray> rows =
        readAll(path(QStringLiteral("profiles.csv"))).trimmed().split('\n');
    QCOMPARE(rows.size(), 1 + 2 * 3 * 20);
    QCOMPARE(rows[0], QByteArray("panel,curve,key,value"));
    const QList<QByteArray> last = rows.back().split(',');
    QCOMPARE(last[0] + ',' + last[1] + ',' + last[2], QByteArray("1,2,19"));
    QCOMPARE(last[3].toDouble(), p.profiles[1].curves[2].y[19]);
  }

  void errorsNameThePathAndLeaveNoFile() {
    const Figure f = mapsFigure();
    QString e;
    QVERIFY(!write(f, QStringLiteral("fig.jpg"), &e));
    QVERIFY2(e.contains(path(QStringLiteral("fig.jpg"))) && e.contains("'.jpg'") &&
                 e.contains(".pdf, .svg, .png, .npy or .csv"),
             qPrintable(e));

    const QString missing = path(QStringLiteral("no_such_folder/fig.pdf"));
    QVERIFY(!writeFigure(f, missing, &e));
    QVERIFY2(e.contains(missing) && e.contains("no_such_folder") && e.contains("does not exist"),
             qPrintable(e));

    Figure mixed = mapsFigure();
    mixed.maps[1] = causalMap(7, QStringLiteral("other"));
    QVERIFY(!write(mixed, QStringLiteral("mixed.npy"), &e));
    QVERIFY2(e.contains(path(QStringLiteral("mixed.npy"))) && e.contains("7 x 7"), qPrintable(e));

    Figure badDpi = mapsFigure();
    badDpi.style.dpi = 5;
    QVERIFY(!write(badDpi, QStringLiteral("dpi.png"), &e));
    QVERIFY2(e.contains(path(QStringLiteral("dpi.png"))) && e.contains("DPI 5") &&
                 e.contains("30 to 2400"),
             qPrintable(e));

    Figure badSize = mapsFigure();
    badSize.style.widthCm = 0.2;
    QVERIFY(!write(badSize, QStringLiteral("size.pdf"), &e));
    QVERIFY2(e.contains("0.2 cm"), qPrintable(e));

    Figure empty;
    QVERIFY(!write(empty, QStringLiteral("empty.svg"), &e));
    QVERIFY2(e.contains("nothing to draw: the figure has no maps"), qPrintable(e));

    Figure wrongCount = mapsFigure();
    wrongCount.maps[0].values.pop_back();
    QVERIFY(!write(wrongCount, QStringLiteral("count.png"), &e));
    QVERIFY2(e.contains("143 values"), qPrintable(e));

    for (const char* name :
         {"fig.jpg", "mixed.npy", "dpi.png", "size.pdf", "empty.svg", "count.png"})
      QVERIFY2(!QFile::exists(path(QLatin1String(name))), name);
    QVERIFY(leftovers(m_dir.path()).isEmpty());
  }

  void writingReplacesAnExistingFileAtomically() {
    const QString target = path(QStringLiteral("replace.png"));
    {
      QFile old(target);
      QVERIFY(old.open(QIODevice::WriteOnly));
      old.write("old contents");
    }
    QVERIFY(write(mapsFigure(), QStringLiteral("replace.png")));
    QVERIFY(readAll(target).startsWith("\x89PNG"));
    QVERIFY(leftovers(m_dir.path()).isEmpty());
    // A failed write leaves the old file as it was.
    Figure bad = mapsFigure();
    bad.style.dpi = 99999;
    QString e;
    QVERIFY(!write(bad, QStringLiteral("replace.png"), &e));
    QVERIFY(readAll(target).startsWith("\x89PNG"));
  }

  void profilesRender() {
    const Figure f = profilesFigure();
    QVERIFY(write(f, QStringLiteral("profiles.png")));
    QImage image(path(QStringLiteral("profiles.png")));
    QVERIFY(!image.isNull());
    const auto [ink, colours] = inkAndColours(image);
    QVERIFY(ink > 0.01);
    QVERIFY(colours > 5);
    const FigureLayout layout = layoutFigure(f, QSizeF(image.size()), 150 / 72.0, &image);
    QCOMPARE(layout.plots.size(), size_t(2));
    QVERIFY(layout.plots[0].bottom() < layout.plots[1].top());  // stacked
    QCOMPARE(layout.plots[0].left(), layout.plots[1].left());   // one shared key axis
    QVERIFY(write(f, QStringLiteral("profiles.svg")));
    const SvgSummary svg = parseSvg(readAll(path(QStringLiteral("profiles.svg"))));
    QVERIFY(svg.ok && svg.paths > 0 && svg.images.empty());
    QVERIFY(svg.allText.contains("head 2"));
    QVERIFY(write(f, QStringLiteral("profiles.pdf")));
  }

  void headGridRenders() {
    Figure f;
    f.kind = FigureKind::HeadGrid;
    f.title = QStringLiteral("layer 1: all heads");
    for (int h = 0; h < 6; ++h)
      f.maps.push_back(causalMap(16, QStringLiteral("head %1").arg(h), h + 1));
    f.style.colourMap = ColourMap::Magma;
    f.style.sharedRange = false;  // ignored: a grid has one bar
    QVERIFY(write(f, QStringLiteral("grid.png")));
    QImage image(path(QStringLiteral("grid.png")));
    QVERIFY(inkAndColours(image).first > 0.1);
    const FigureLayout layout = layoutFigure(f, QSizeF(image.size()), f.style.dpi / 72.0, &image);
    QCOMPARE(layout.plots.size(), size_t(6));
    QCOMPARE(layout.colourBars.size(), size_t(1));
    QVERIFY(write(f, QStringLiteral("grid.svg")));
    const SvgSummary svg = parseSvg(readAll(path(QStringLiteral("grid.svg"))));
    QVERIFY(svg.ok);
    QCOMPARE(svg.images.size(), size_t(6));
    for (const QImage& im : svg.images) QCOMPARE(im.size(), QSize(16, 16));
    f.gridColumns = 6;
    const FigureLayout row = layoutFigure(f, QSizeF(image.size()), f.style.dpi / 72.0, &image);
    QCOMPARE(row.plots[0].top(), row.plots[5].top());
  }

  void perMapColourMapsGetTheirOwnBars() {
    Figure f = mapsFigure();
    for (float& v : f.maps[0].values)
      if (std::isfinite(v)) v = 2.f * v - 1.f;  // signed raw scores beside weights
    f.maps[0].colourMap = int(ColourMap::Diverging);
    QVERIFY(write(f, QStringLiteral("mixed.png")));
    QImage image(path(QStringLiteral("mixed.png")));
    const FigureLayout layout = layoutFigure(f, QSizeF(image.size()), 150 / 72.0, &image);
    QCOMPARE(layout.colourBars.size(), size_t(2));  // shared range, but two kinds of map
    const ColourRange signedRange =
        autoRange(f.maps[0].values, ColourMap::Diverging, ColourScale::Linear);
    QCOMPARE(signedRange.lo, -signedRange.hi);
    const QRectF r = layout.plots[0];
    const int row = 11, col = 0;
    const QPointF centre(r.left() + (col + 0.5) * r.width() / 12,
                         r.top() + (row + 0.5) * r.height() / 12);
    const QColor want =
        colourAt(ColourMap::Diverging, signedRange.position(f.maps[0].values[row * 12 + col]));
    QVERIFY(closeColour(image.pixelColor(centre.toPoint()), want));

    f.maps[1].colourMap = 9;
    QString e;
    QVERIFY(!write(f, QStringLiteral("badmap.png"), &e));
    QVERIFY2(e.contains("colour map 9"), qPrintable(e));
  }

  void signedAndLogScalesRender() {
    Figure f = mapsFigure();
    for (float& v : f.maps[0].values)
      if (std::isfinite(v)) v = v - 0.5f;
    f.style.colourMap = ColourMap::Diverging;
    f.style.skipSink = true;
    QVERIFY(write(f, QStringLiteral("diverging.png")));
    f.style.colourMap = ColourMap::Cividis;
    f.style.scale = ColourScale::Log;
    f.style.fixedRange = true;
    f.style.lo = 1e-3;
    f.style.hi = 1.0;
    QVERIFY(write(f, QStringLiteral("log.pdf")));
    f.style.lo = 0.0;
    QString e;
    QVERIFY(!write(f, QStringLiteral("log0.pdf"), &e));
    QVERIFY2(e.contains("lo > 0"), qPrintable(e));
  }
};

QTEST_MAIN(FigureTest)
#include "figure_test.moc"
