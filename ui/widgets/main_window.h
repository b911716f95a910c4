// SPDX-License-Identifier: MIT
// MainWindow: the first AttnScope window. It only builds widgets (a left dock with the checkpoint
// summary, text, layer/head selectors and job progress; the attention map in the centre; a bottom
// dock with the length-extrapolation curves of a results file) and
// connects them to an AttentionViewModel, which holds all state and runs nothing on this thread.
#pragma once

#include <QtCore/QPointer>
#include <QtGui/QPixmap>
#include <QtWidgets/QMainWindow>

class QDockWidget;
class QLabel;
class QMessageBox;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace attn::ui {

class AttentionMapWidget;
class AttentionViewModel;
class ExtrapolationPlot;

class MainWindow final : public QMainWindow {
  Q_OBJECT

 public:
  /// The model must outlive the window.
  explicit MainWindow(AttentionViewModel* model, QWidget* parent = nullptr);
  ~MainWindow() override;

  AttentionMapWidget* mapWidget() const { return m_map; }
  ExtrapolationPlot* extrapolationPlot() const { return m_curves; }
  /// Loads a results file of attnscope-cli eval into the length-extrapolation panel; on a bad
  /// file shows the error (naming file and field) and returns false.
  bool showResults(const QString& path);
  /// The window as it looks now, with the map freshly drawn (for --screenshot and tests).
  QPixmap screenshot();

 private:
  void buildMenus();
  QWidget* buildSidePanel();
  void connectModel();

  void chooseCheckpoint();
  void showSummary();
  void showMap();
  void showTokenCount();
  void showBusy(bool busy);
  void showError(const QString& message);
  void showOpenError(const QString& message);
  void syncEditor(const QString& text);

  AttentionViewModel* m_model = nullptr;
  AttentionMapWidget* m_map = nullptr;
  ExtrapolationPlot* m_curves = nullptr;
  QDockWidget* m_curvesDock = nullptr;
  QLabel* m_summaryLabel = nullptr;
  QLabel* m_untrainedLabel = nullptr;
  QPlainTextEdit* m_textEdit = nullptr;
  QLabel* m_tokenLabel = nullptr;
  QSpinBox* m_layerSpin = nullptr;
  QSpinBox* m_headSpin = nullptr;
  QProgressBar* m_progress = nullptr;
  QPushButton* m_cancelButton = nullptr;
  QLabel* m_errorLabel = nullptr;
  QPointer<QMessageBox> m_errorBox;
};

}  // namespace attn::ui
