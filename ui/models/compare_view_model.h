// SPDX-License-Identifier: MIT
// CompareViewModel: two to four checkpoints on the same text, kept in step: one
// AttentionViewModel per checkpoint (each with its own worker thread and tokenizer), all given
// the same text, layer, head, stage and zoom. It offers the difference of any two (A - B, the
// per-row divergence and summary numbers; see map_difference.h).
#pragma once

#include <QtCore/QObject>
#include <QtCore/QStringList>
#include <functional>
#include <memory>
#include <vector>

#include "ui/models/attention_view_model.h"
#include "ui/models/map_difference.h"

namespace attn::ui {

class CompareViewModel final : public QObject {
  Q_OBJECT

 public:
  using BackendFactory = std::function<std::unique_ptr<TraceBackend>()>;
  static constexpr int kMaxCheckpoints = 4;

  explicit CompareViewModel(BackendFactory factory, QObject* parent = nullptr);
  ~CompareViewModel() override;

  int count() const { return static_cast<int>(m_models.size()); }
  AttentionViewModel* model(int index) const;
  /// The checkpoint folders, in order.
  QStringList checkpoints() const;
  /// A short name for checkpoint `index` (its folder's name).
  QString name(int index) const;
  QString stage() const { return m_stage; }
  int layer() const { return m_layer; }
  int head() const { return m_head; }
  QString text() const { return m_text; }
  bool isBusy() const;
  /// Whether every checkpoint has its map of the current stage.
  bool isReady() const;
  /// A - B for the current head and stage (invalid with a reason when it cannot be formed).
  MapDifference difference(int a, int b) const;

 public Q_SLOTS:
  /// Adds a checkpoint (opened on its own worker); false when four are compared already.
  bool addCheckpoint(const QString& dir);
  void removeCheckpoint(int index);
  void clear();
  void setText(const QString& text);
  void setLayer(int layer);
  void setHead(int head);
  void setStage(const QString& stage);
  /// The device and precision the compared checkpoints run on (as the Device menu sets them for
  /// the main view); those already open are reopened on them.
  void setDevice(const QString& device, const QString& precision);
  void setViewWindow(const attn::ui::MapWindowRequest& window);

 Q_SIGNALS:
  void checkpointsChanged();
  /// Any compared map changed (new trace, detail, head).
  void mapsChanged();
  void busyChanged(bool busy);
  void failed(const QString& message);

 private:
  void configure(AttentionViewModel* model);

  BackendFactory m_factory;
  std::vector<std::unique_ptr<AttentionViewModel>> m_models;
  QString m_text;
  int m_layer = 0;
  int m_head = 0;
  QString m_stage = QStringLiteral("probs");
  QString m_device = QStringLiteral("cpu");
  QString m_precision = QStringLiteral("float32");
  bool m_busy = false;
};

}  // namespace attn::ui
