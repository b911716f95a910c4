// SPDX-License-Identifier: MIT
// .npy and .csv bytes for a figure's numbers. The .npy layout follows NumPy's format
// specification, version 1.0: "\x93NUMPY", 1, 0, a little-endian uint16 header length, then an
// ASCII dict padded with spaces and ended by '\n' so that the data starts on a 64-byte boundary.
#include "ui/figure/figure_data.h"

#include <QtCore/QtEndian>
#include <cmath>
#include <cstring>

namespace attn::ui {
namespace {

void appendFloat(QByteArray* out, float v) {
  quint32 bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits = qToLittleEndian(bits);
  out->append(reinterpret_cast<const char*>(&bits), sizeof bits);
}

void appendDouble(QByteArray* out, double v) {
  quint64 bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits = qToLittleEndian(bits);
  out->append(reinterpret_cast<const char*>(&bits), sizeof bits);
}

// Shortest text that reads back to the same value; empty for NaN.
QByteArray number(double v, int digits) {
  if (std::isnan(v)) return {};
  return QByteArray::number(v, 'g', digits);
}

}  // namespace

QByteArray npyHeader(const QString& descr, const std::vector<long long>& shape) {
  QByteArray dims;
  for (long long d : shape) dims += QByteArray::number(d) + ", ";
  dims.chop(shape.size() == 1 ? 1 : 2);  // "(2, 3)" but "(2,)"
  QByteArray dict =
      "{'descr': '" + descr.toLatin1() + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const int prefix = 10;  // magic (6) + version (2) + header length (2)
  const int total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict += QByteArray(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  QByteArray out("\x93NUMPY\x01\x00", 8);
  const quint16 len = qToLittleEndian(static_cast<quint16>(dict.size()));
  out.append(reinterpret_cast<const char*>(&len), sizeof len);
  out += dict;
  return out;
}

QByteArray mapsToNpy(const std::vector<FigureMap>& maps, QString* problem) {
  if (maps.empty()) {
    *problem = QStringLiteral("the figure has no maps");
    return {};
  }
  const FigureMap& first = maps.front();
  for (size_t i = 1; i < maps.size(); ++i) {
    if (maps[i].rows != first.rows || maps[i].cols != first.cols) {
      *problem = QStringLiteral(
                     "map %1 is %2 x %3 but map 0 is %4 x %5; .npy holds maps of one "
                     "shape (export them one at a time, or use .csv)")
                     .arg(i)
                     .arg(maps[i].rows)
                     .arg(maps[i].cols)
                     .arg(first.rows)
                     .arg(first.cols);
      return {};
    }
  }
  QByteArray out = npyHeader(QStringLiteral("<f4"),
                             {static_cast<long long>(maps.size()), first.rows, first.cols});
  out.reserve(out.size() + static_cast<int>(maps.size()) * first.rows * first.cols * 4);
  for (const FigureMap& m : maps)  // (maps, rows, cols), row-major
    for (float v : m.values) appendFloat(&out, v);
  return out;
}

QByteArray profilesToNpy(const std::vector<FigureProfile>& profiles, QString* problem) {
  if (profiles.empty() || profiles.front().curves.empty()) {
    *problem = QStringLiteral("the figure has no profile curves");
    return {};
  }
  const size_t curves = profiles.front().curves.size();
  const size_t points = profiles.front().curves.front().y.size();
  for (size_t p = 0; p < profiles.size(); ++p) {
    if (profiles[p].curves.size() != curves) {
      *problem = QStringLiteral(
                     "panel %1 has %2 curves but panel 0 has %3; .npy holds panels "
                     "of one shape (use .csv)")
                     .arg(p)
                     .arg(profiles[p].curves.size())
                     .arg(curves);
      return {};
    }
    for (size_t c = 0; c < curves; ++c) {
      if (profiles[p].curves[c].y.size() != points) {
        *problem = QStringLiteral(
                       "curve %1 of panel %2 has %3 points but curve 0 of panel 0 has "
                       "%4; .npy holds curves of one length (use .csv)")
                       .arg(c)
                       .arg(p)
                       .arg(profiles[p].curves[c].y.size())
                       .arg(points);
        return {};
      }
    }
  }
  QByteArray out = npyHeader(QStringLiteral("<f8"),
                             {static_cast<long long>(profiles.size()),
                              static_cast<long long>(curves), static_cast<long long>(points)});
  for (const FigureProfile& p : profiles)  // (panels, curves, points)
    for (const FigureCurve& c : p.curves)
      for (double v : c.y) appendDouble(&out, v);
  return out;
}

QByteArray mapsToCsv(const std::vector<FigureMap>& maps) {
  QByteArray out = "map,query,key,value\n";
  for (size_t i = 0; i < maps.size(); ++i) {
    const FigureMap& m = maps[i];
    const QByteArray index = QByteArray::number(static_cast<qulonglong>(i)) + ',';
    for (int r = 0; r < m.rows; ++r) {
      const QByteArray query = QByteArray::number(static_cast<qlonglong>(m.q0 + r * m.step));
      for (int c = 0; c < m.cols; ++c) {
        const size_t k = static_cast<size_t>(r) * m.cols + c;
        const double v = k < m.values.size() ? m.values[k] : std::nan("");
        out += index + query + ',' + QByteArray::number(static_cast<qlonglong>(m.k0 + c * m.step)) +
               ',' + number(v, 9) + '\n';  // 9 digits read back to the same float
      }
    }
  }
  return out;
}

QByteArray profilesToCsv(const std::vector<FigureProfile>& profiles) {
  QByteArray out = "panel,curve,key,value\n";
  for (size_t p = 0; p < profiles.size(); ++p) {
    for (size_t c = 0; c < profiles[p].curves.size(); ++c) {
      const FigureCurve& curve = profiles[p].curves[c];
      const QByteArray prefix = QByteArray::number(static_cast<qulonglong>(p)) + ',' +
                                QByteArray::number(static_cast<qulonglong>(c)) + ',';
      const size_t n = std::min(curve.x.size(), curve.y.size());
      for (size_t i = 0; i < n; ++i)
        out += prefix + number(curve.x[i], 17) + ',' + number(curve.y[i], 17) + '\n';
    }
  }
  return out;
}

}  // namespace attn::ui
