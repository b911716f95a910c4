// SPDX-License-Identifier: MIT
// MainWindow's figure export: the figure of what is on display, writing it with the export
// dialog's size, font and DPI, and the dialog itself (its choices kept in QSettings).
#include "ui/widgets/main_window.h"

#include <QtCore/QDir>
#include <QtCore/QSettings>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QStatusBar>

#include "ui/models/attention_view_model.h"
#include "ui/widgets/attention_map_widget.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/export_dialog.h"
#include "ui/widgets/extrapolation_plot.h"
#include "ui/widgets/lengths_view.h"
#include "ui/widgets/map_panels.h"

namespace attn::ui {

Figure MainWindow::currentFigure(ExportContent content) const {
  if (content == ExportContent::Compare) return m_compareView->figure();
  if (content == ExportContent::Lengths) return m_lengthsView->figure();
  if (content == ExportContent::Curves) return {};  // drawn by the curves' own plot
  const attn::LayerTrace* trace = m_model->currentTrace();
  if (!trace) return {};
  // What is on display: the zoomed region's maps where there are some, and the profile rows.
  attn::LayerTrace shown;
  shown.layer = m_model->layer();
  shown.tokens = trace->tokens;
  for (int i = 0; i < static_cast<int>(m_model->panelStages().size()); ++i) {
    const attn::StageMap* m = m_model->detailMap(i);
    if (!m) m = m_model->panelMap(i);
    if (m) shown.maps.push_back(*m);
  }
  for (const QString& stage : m_model->profileStages()) {
    if (const attn::StageMap* m = m_model->profileMap(stage)) shown.maps.push_back(*m);
  }
  switch (content) {
    case ExportContent::Panels: {
      Figure f = panelsFigure(shown, m_model->layer(), m_model->head(), m_model->panelStages(),
                              m_colours);
      // Zoomed in: the figure shows the region in view.
      if (AttentionMapWidget* first = m_panels->panel(0); first && first->mapSize() > 0) {
        qint64 q0, q1, k0, k1;
        first->wantedWindow(&q0, &q1, &k0, &k1);
        const qint64 n = first->mapSize();
        if (!(q0 == 0 && k0 == 0 && q1 == n && k1 == n)) {
          for (auto& m : f.maps) m = cropFigureMap(m, q0, q1, k0, k1);
        }
      }
      return f;
    }
    case ExportContent::HeadGrid:
      return headGridFigure(shown, m_model->layer(), m_model->overviewStage(), m_colours);
    case ExportContent::Profile:
      return profileFigure(shown, m_model->layer(), m_model->profileStages());
    case ExportContent::Compare:
      return m_compareView->figure();
    case ExportContent::Lengths:
      return m_lengthsView->figure();
    case ExportContent::Curves:
      break;
  }
  return {};
}

bool MainWindow::exportFigure(ExportContent content, const QString& path,
                              const FigureStyle& style) {
  if (content == ExportContent::Curves) {
    // The curves are a QCustomPlot of their own: its size in points (pixels for PNG at the DPI).
    const double inchW = style.widthCm / 2.54, inchH = style.heightCm / 2.54;
    const bool png = path.endsWith(QLatin1String(".png"), Qt::CaseInsensitive);
    const int w = qRound(inchW * (png ? style.dpi : 72)), h = qRound(inchH * (png ? style.dpi : 72));
    QString error;
    if (m_curves->curveCount() == 0) {
      error = tr("No curves to export: open a results file or compute them first.");
    } else if (m_curves->exportTo(path, w, h, &error)) {
      statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 8000);
      return true;
    }
    showError(error);
    return false;
  }
  Figure figure = currentFigure(content);
  const QString title = figure.title;
  const FigureStyle colours = figure.style;
  figure.style = style;
  // The colour choices are the window's; size, font and DPI are the dialog's.
  figure.style.colourMap = colours.colourMap;
  figure.style.scale = colours.scale;
  figure.style.sharedRange = colours.sharedRange;
  figure.style.fixedRange = colours.fixedRange;
  figure.style.lo = colours.lo;
  figure.style.hi = colours.hi;
  figure.style.skipSink = colours.skipSink;
  figure.style.tokenLabels = colours.tokenLabels;
  if (figure.title.isEmpty()) figure.title = title;
  QString error;
  if (!writeFigure(figure, path, &error)) {
    showError(error);
    QMessageBox* box = new QMessageBox(QMessageBox::Warning, tr("Could not export the figure"),
                                       error, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setInformativeText(tr("Choose a folder you can write to and a name ending in .pdf, "
                               ".svg, .png, .npy or .csv."));
    box->open();
    return false;
  }
  statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 8000);
  return true;
}

void MainWindow::showExportDialog() {
  if (!m_model->currentTrace()) {
    showError(tr("Nothing to export yet: open a checkpoint and enter a text first."));
    return;
  }
  QSettings settings;
  FigureStyle style;
  style.widthCm = settings.value(QStringLiteral("export/widthCm"), style.widthCm).toDouble();
  style.heightCm = settings.value(QStringLiteral("export/heightCm"), style.heightCm).toDouble();
  style.fontPt = settings.value(QStringLiteral("export/fontPt"), style.fontPt).toDouble();
  style.dpi = settings.value(QStringLiteral("export/dpi"), style.dpi).toInt();
  const QString lastPath =
      settings.value(QStringLiteral("export/path"), QDir::home().filePath(QStringLiteral("attention.pdf")))
          .toString();
  auto* dialog = new ExportDialog({tr("Main view (the panels of this head)"),
                                   tr("All heads of this layer"), tr("Query profile"),
                                   tr("Compared checkpoints and their difference"),
                                   tr("Maps across lengths"), tr("Length-extrapolation curves")},
                                  lastPath, style, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this, [this, dialog] {
    const FigureStyle chosen = dialog->style();
    QSettings s;
    s.setValue(QStringLiteral("export/widthCm"), chosen.widthCm);
    s.setValue(QStringLiteral("export/heightCm"), chosen.heightCm);
    s.setValue(QStringLiteral("export/fontPt"), chosen.fontPt);
    s.setValue(QStringLiteral("export/dpi"), chosen.dpi);
    s.setValue(QStringLiteral("export/path"), dialog->path());
    exportFigure(static_cast<ExportContent>(dialog->content()), dialog->path(), chosen);
  });
  dialog->open();
}

}  // namespace attn::ui
