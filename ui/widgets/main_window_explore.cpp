// SPDX-License-Identifier: MIT
// MainWindow's Explore views: the stage toggles of the panels and the profile, and drawing the
// model's maps, overview thumbnails and query profile into their widgets.
#include "ui/widgets/main_window.h"

#include <QtCore/QMetaObject>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLayoutItem>
#include <QtWidgets/QToolButton>
#include <vector>

#include "ui/figure/map_image.h"
#include "ui/models/attention_view_model.h"
#include "ui/widgets/map_panels.h"
#include "ui/widgets/overview_widget.h"
#include "ui/widgets/profile_plot.h"

namespace attn::ui {

void MainWindow::showStageChoices() {
  // One toggle button per stage the variant offers, for the panels and for the profile.
  auto rebuild = [this](QHBoxLayout* rowLayout, const QStringList& chosen, bool panels) {
    while (rowLayout->count() > (panels ? 1 : 2)) {
      QLayoutItem* item = rowLayout->takeAt(panels ? 0 : 1);
      delete item->widget();
      delete item;
    }
    int at = panels ? 0 : 1;
    for (const QString& stage : m_model->stages()) {
      auto* button = new QToolButton(this);
      button->setText(stage);
      button->setCheckable(true);
      button->setChecked(chosen.contains(stage));
      button->setObjectName((panels ? QStringLiteral("panelStage_") : QStringLiteral("profileStage_")) + stage);
      rowLayout->insertWidget(at++, button);
      connect(button, &QToolButton::toggled, this, [this, stage, panels](bool on) {
        QStringList now = panels ? m_model->panelStages() : m_model->profileStages();
        if (on && !now.contains(stage)) {
          // Keep the core's stage order: raw before processed.
          QStringList ordered;
          for (const QString& s : m_model->stages()) {
            if (now.contains(s) || s == stage) ordered << s;
          }
          now = ordered;
        } else if (!on) {
          now.removeAll(stage);
        }
        if (panels) {
          m_model->setPanelStages(now);
        } else {
          m_model->setProfileStages(now);
        }
        QMetaObject::invokeMethod(this, &MainWindow::showStageChoices, Qt::QueuedConnection);
      });
    }
  };
  rebuild(m_stageRow, m_model->panelStages(), true);
  rebuild(m_profileStageRow, m_model->profileStages(), false);
}

void MainWindow::showMaps() {
  const int n = m_model->mapSize();
  if (n == 0) {
    m_panels->clear(m_model->hasCheckpoint() ? tr("No map yet") : tr("No checkpoint loaded"));
    return;
  }
  const QStringList tokens = m_model->mapLabels();
  const QStringList stages = m_model->panelStages();
  std::vector<PanelContent> panels;
  for (int i = 0; i < stages.size(); ++i) {
    const attn::StageMap* whole = m_model->panelMap(i);
    if (!whole) continue;
    PanelContent p;
    QString title = mapTitle(stages[i], m_model->layer(), m_model->head());
    if (!m_model->summary().trained) title += tr("  (untrained model)");
    p.whole = headFigureMap(*whole, m_model->head(), tokens, title);
    if (const attn::StageMap* detail = m_model->detailMap(i)) {
      p.detail = headFigureMap(*detail, m_model->head(), tokens, title);
      p.hasDetail = true;
    }
    p.colourMap = colourMapFor(m_colours, p.whole.values);
    panels.push_back(std::move(p));
  }
  // Ranges: per map, or one for all panels of the same colour map.
  for (auto& p : panels) {
    std::vector<const FigureMap*> maps;
    if (m_colours.sharedRange) {
      for (const auto& o : panels) {
        if (o.colourMap == p.colourMap) maps.push_back(&o.whole);
      }
    } else {
      maps.push_back(p.hasDetail ? &p.detail : &p.whole);
    }
    p.range = colourRangeFor(m_colours, p.colourMap, maps);
  }
  m_panels->setPanels(panels);
  m_errorLabel->hide();
}

void MainWindow::showOverview() {
  const QString stage = m_model->overviewStage();
  std::vector<std::vector<QImage>> images;
  std::vector<const FigureMap*> all;
  std::vector<std::vector<FigureMap>> maps(static_cast<std::size_t>(m_model->layerCount()));
  for (int l = 0; l < m_model->layerCount(); ++l) {
    const attn::StageMap* m = m_model->overviewMap(l);
    if (!m) continue;
    for (int h = 0; h < m->n_head; ++h) {
      maps[static_cast<std::size_t>(l)].push_back(headFigureMap(*m, h, {}, QString()));
    }
  }
  std::vector<float> values;
  for (const auto& layer : maps) {
    for (const auto& m : layer) {
      all.push_back(&m);
      values.insert(values.end(), m.values.begin(), m.values.end());
    }
  }
  if (all.empty()) {
    m_overview->clear();
    return;
  }
  const ColourMap map = colourMapFor(m_colours, values);
  for (const auto& layer : maps) {
    images.emplace_back();
    for (const auto& m : layer) {
      // Each thumbnail on its own range: the point is the pattern of every head.
      images.back().push_back(mapImage(m, map, colourRangeFor(m_colours, map, {&m})));
    }
  }
  m_overview->setThumbnails(std::move(images), stage);
  m_overview->setCurrent(m_model->layer(), m_model->head());
}

void MainWindow::showProfile() {
  const attn::LayerTrace* trace = m_model->currentTrace();
  if (!trace) {
    m_profile->clear(tr("No profile yet"));
    return;
  }
  attn::LayerTrace shown;
  shown.tokens = trace->tokens;
  for (const QString& stage : m_model->profileStages()) {
    if (const attn::StageMap* m = m_model->profileMap(stage)) shown.maps.push_back(*m);
  }
  const Figure f = profileFigure(shown, m_model->layer(), m_model->profileStages());
  m_profile->setProfiles(f.profiles, f.title + tr("   (click a row of the map to choose)"));
}

}  // namespace attn::ui
