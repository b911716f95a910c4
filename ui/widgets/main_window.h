// SPDX-License-Identifier: MIT
// MainWindow: the AttnScope window. It only builds widgets and connects them to an
// AttentionViewModel, which holds all state and runs nothing on this thread: the main view (raw
// and processed maps side by side, zoom and crosshair in step) in the centre; a left dock with
// the checkpoint summary, text, tokens, layer, head, stages and colours; an overview dock
// (layers x heads thumbnails); a query-profile dock; the length-extrapolation curves; menus with
// shortcuts, recent and bundled checkpoints, drag and drop, figure export, and settings kept
// between runs.
#pragma once

#include <QtCore/QPointer>
#include <QtCore/QStringList>
#include <QtGui/QPixmap>
#include <QtWidgets/QMainWindow>

#include <functional>
#include <memory>
#include <vector>

#include "core/workspace/workspace.h"
#include "ui/models/attention_view_model.h"
#include "ui/models/figure_builder.h"
#include "ui/models/trace_backend.h"

class QCheckBox;
class QComboBox;
class QDockWidget;
class QDoubleSpinBox;
class QLabel;
class QMenu;
class QMessageBox;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTextBrowser;
class QHBoxLayout;
class QTabWidget;

namespace attn::ui {

class AttentionMapWidget;
class AttentionViewModel;
class CompareView;
class CompareViewModel;
class ExtrapolationPlot;
class LengthsView;
class LengthsViewModel;
class MapPanels;
class OverviewWidget;
class ProfilePlot;

class MainWindow final : public QMainWindow {
  Q_OBJECT

 public:
  /// What File > Export figure writes.
  enum class ExportContent { Panels, HeadGrid, Profile, Compare, Lengths, Curves };
  enum class Tab { Explore = 0, Compare = 1, Lengths = 2 };
  using BackendFactory = std::function<std::unique_ptr<TraceBackend>()>;

  /// The model must outlive the window. `resourcesDir` (may be empty) lists the bundled
  /// checkpoints in File > Open bundled and holds the corpus for the lengths views.
  /// `backends` makes the backends of the compared checkpoints and the lengths jobs (default:
  /// the real core).
  explicit MainWindow(AttentionViewModel* model, const QString& resourcesDir = QString(),
                      BackendFactory backends = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  /// The device the last run saved (restoreSettings uses it when no device is given), or
  /// `fallback` when none was saved.
  static QString savedDevice(const QString& fallback);

  /// The primary (last) panel of the main view.
  AttentionMapWidget* mapWidget() const;
  MapPanels* mapPanels() const { return m_panels; }
  OverviewWidget* overview() const { return m_overview; }
  ProfilePlot* profilePlot() const { return m_profile; }
  ExtrapolationPlot* extrapolationPlot() const { return m_curves; }
  CompareViewModel* compareModel() const { return m_compare.get(); }
  CompareView* compareView() const { return m_compareView; }
  LengthsViewModel* lengthsModel() const { return m_lengths.get(); }
  LengthsView* lengthsView() const { return m_lengthsView; }
  void showTab(Tab tab);
  /// Whether what the open tab shows has arrived and nothing is being computed.
  bool isIdle() const;
  Tab currentTab() const;
  /// Computes the extrapolation curves of the compared checkpoints (or the explored one) on the
  /// corpus text, on workers, and shows them when all are done.
  void computeCurves();
  const ColourSettings& colourSettings() const { return m_colours; }
  void setColourSettings(const ColourSettings& settings);
  /// Loads a results file of attnscope-cli eval into the length-extrapolation panel; on a bad
  /// file shows the error (naming file and field) and returns false.
  bool showResults(const QString& path);
  /// The window as it looks now, with the maps freshly drawn (for --screenshot and tests).
  QPixmap screenshot();
  /// Builds the figure of `content` from what is on display (the zoomed region's exact maps
  /// when there are some). Empty (no maps, no profiles) when nothing is shown.
  Figure currentFigure(ExportContent content) const;
  /// Writes the figure of `content` to `path` (format from the suffix) with `style`'s size,
  /// font and DPI; errors go to a dialog and the status bar. Returns whether it was written.
  bool exportFigure(ExportContent content, const QString& path, const FigureStyle& style);
  /// The state of the window as a workspace (checkpoints with fingerprints, text, selection,
  /// stages, zoom, colours, tab, compared checkpoints, lengths).
  attn::Workspace workspace() const;
  /// Writes workspace() to `path` (atomically); errors are shown. Returns whether it was saved.
  bool saveWorkspace(const QString& path);
  /// Opens a workspace file: everything it names is applied; a checkpoint that moved or changed
  /// is reported (workspaceProblems()) and the rest is still opened. Returns false (with the
  /// error shown) only when the file cannot be read.
  bool openWorkspace(const QString& path);
  QStringList workspaceProblems() const { return m_workspaceProblems; }
  /// Restores the window layout, colours and recent list saved by the last run, and its device
  /// and precision where `device` / `precision` are empty (else they were chosen on the command
  /// line and win). A saved value the model refuses (unknown, a half precision on the CPU) leaves
  /// the default, said in the status bar and again once the first checkpoint has loaded. Call it
  /// before that first open: the device and precision are used by the next open.
  void restoreSettings(const QString& device = QString(), const QString& precision = QString());
  /// Loads a UTF-8 text file (.gz too) into the editor; errors are shown.
  bool loadTextFile(const QString& path);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildMenus();
  void buildDeviceMenu();
  QWidget* buildSidePanel();
  QWidget* buildColourBox(QWidget* parent);
  void buildDocks();
  void buildTabs();
  QWidget* buildCurvesPanel();
  void showCurvesProgress();
  void connectModel();
  void saveSettings() const;
  void restoreDevice(const QString& device, const QString& precision);

  void chooseCheckpoint();
  void openCheckpoint(const QString& dir);
  void rememberRecent(const QString& dir);
  void rebuildRecentMenu();
  void rebuildBundledMenu();
  void chooseTextFile();
  void showExportDialog();
  void showSummary();
  void showStageChoices();
  void showMaps();
  void showOverview();
  void showProfile();
  void showTokens();
  void showBusy(bool busy);
  void showError(const QString& message);
  void showOpenError(const QString& message);
  void syncEditor(const QString& text);
  void readColourControls();
  void stepHead(int delta);
  void stepLayer(int delta);

  AttentionViewModel* m_model = nullptr;
  QString m_resourcesDir;
  BackendFactory m_backends;
  QString m_corpusText;
  std::unique_ptr<CompareViewModel> m_compare;
  std::unique_ptr<LengthsViewModel> m_lengths;
  std::vector<std::unique_ptr<LengthsViewModel>> m_curveJobs;
  QTabWidget* m_tabs = nullptr;
  CompareView* m_compareView = nullptr;
  LengthsView* m_lengthsView = nullptr;
  QStringList m_workspaceProblems;
  // Parts of an opened workspace applied once the model is ready for them.
  bool m_pendingStages = false;
  QStringList m_pendingPanels, m_pendingProfile;
  int m_pendingQuery = -1;
  MapWindowRequest m_pendingView;
  bool m_pendingLengthsRun = false;
  QProgressBar* m_curvesProgress = nullptr;
  QPushButton* m_curvesButton = nullptr;
  QPushButton* m_curvesCancel = nullptr;
  ColourSettings m_colours;
  MapPanels* m_panels = nullptr;
  OverviewWidget* m_overview = nullptr;
  ProfilePlot* m_profile = nullptr;
  ExtrapolationPlot* m_curves = nullptr;
  QDockWidget* m_sideDock = nullptr;
  QDockWidget* m_overviewDock = nullptr;
  QDockWidget* m_profileDock = nullptr;
  QDockWidget* m_curvesDock = nullptr;
  QMenu* m_recentMenu = nullptr;
  QMenu* m_bundledMenu = nullptr;
  QStringList m_recent;
  QStringList m_startNotes;  // saved settings not applied; repeated with the first summary
  QLabel* m_summaryLabel = nullptr;
  QLabel* m_untrainedLabel = nullptr;
  QPlainTextEdit* m_textEdit = nullptr;
  QLabel* m_tokenLabel = nullptr;
  QWidget* m_truncatedBar = nullptr;
  QLabel* m_truncatedLabel = nullptr;
  bool m_truncationDismissed = false;
  QTextBrowser* m_tokenView = nullptr;
  QSpinBox* m_layerSpin = nullptr;
  QSpinBox* m_headSpin = nullptr;
  QHBoxLayout* m_stageRow = nullptr;
  QHBoxLayout* m_profileStageRow = nullptr;
  QComboBox* m_colourMapBox = nullptr;
  QCheckBox* m_divergingBox = nullptr;
  QComboBox* m_scaleBox = nullptr;
  QComboBox* m_rangeBox = nullptr;
  QDoubleSpinBox* m_loSpin = nullptr;
  QDoubleSpinBox* m_hiSpin = nullptr;
  QCheckBox* m_sinkBox = nullptr;
  QComboBox* m_overviewModeBox = nullptr;
  QProgressBar* m_progress = nullptr;
  QPushButton* m_cancelButton = nullptr;
  QLabel* m_errorLabel = nullptr;
  QPointer<QMessageBox> m_errorBox;
};

}  // namespace attn::ui
