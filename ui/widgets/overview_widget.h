// SPDX-License-Identifier: MIT
// OverviewWidget: thumbnails of one stage for every head, either the heads of the current layer
// as small multiples or the whole layers x heads grid. Each thumbnail is a small image drawn
// once (never N^2 cells); clicking one picks that layer and head. A thin view over images.
#pragma once

#include <QtGui/QImage>
#include <QtWidgets/QWidget>
#include <vector>

namespace attn::ui {

class OverviewWidget final : public QWidget {
  Q_OBJECT

 public:
  enum class Mode { HeadsOfLayer, LayersByHeads };

  explicit OverviewWidget(QWidget* parent = nullptr);

  /// thumbnails[layer][head]; a layer without images shows empty boxes.
  void setThumbnails(std::vector<std::vector<QImage>> thumbnails, const QString& stage);
  void clear();
  void setCurrent(int layer, int head);
  void setMode(Mode mode);
  Mode mode() const { return m_mode; }
  int layerCount() const { return static_cast<int>(m_images.size()); }
  /// The layer and head under a point (false when none), for tests.
  bool cellAt(const QPoint& pos, int* layer, int* head) const;
  /// The rectangle of a thumbnail.
  QRect thumbnailRect(int layer, int head) const;
  QSize sizeHint() const override { return {320, 320}; }

 Q_SIGNALS:
  void headPicked(int layer, int head);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  int rowsShown() const;
  int headCount() const;
  int firstLayer() const;

  std::vector<std::vector<QImage>> m_images;
  QString m_stage;
  Mode m_mode = Mode::LayersByHeads;
  int m_layer = 0;
  int m_head = 0;
};

}  // namespace attn::ui
