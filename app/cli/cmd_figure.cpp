// SPDX-License-Identifier: MIT
// attnscope-cli figure: the window's figures without a display, so that a paper's figures can
// be rebuilt by a script. It runs the model through the same Session and builds the figure with
// the same code as the window's export (ui/models/figure_builder, ui/figure), on Qt's offscreen
// platform when no display is set.
#include <QtCore/QFileInfo>
#include <QtGui/QGuiApplication>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/api/session.h"
#include "core/workspace/workspace.h"
#include "ui/models/figure_builder.h"
#include "ui/models/map_difference.h"
#include "ui/models/string_convert.h"
#include "ui/models/workspace_state.h"

namespace attn::cli {

namespace {
const char* kFigureUsage =
    "usage: attnscope-cli figure --checkpoint DIR (--text FILE | --text-string S) --out FILE\n"
    "                            [--kind maps|heads|profile|compare|lengths]\n"
    "                            [--layer L] [--head H]\n"
    "                            [--stage S ...] [--query Q] [--window Q0,Q1,K0,K1]\n"
    "                            [--grid N] [--max-tokens N] [--device cpu|cuda]\n"
    "                            [--precision float32|bfloat16|float16]\n"
    "                            [--colour-map viridis|magma|cividis|grey] [--no-diverging]\n"
    "                            [--scale linear|log] [--range auto|shared|LO,HI] [--skip-sink]\n"
    "                            [--width-cm W] [--height-cm H] [--font-pt P] [--dpi D]\n"
    "                            [--title T]\n"
    "       attnscope-cli figure --workspace FILE --out FILE [size, colour and kind options]\n"
    "  Draws what the window's File > Export figure draws and writes it as .pdf or .svg (vector\n"
    "  axes and labels, each map an embedded image of one pixel per cell), .png at --dpi, or the\n"
    "  numbers as .npy or .csv (the suffix of --out decides).\n"
    "  --kind maps (default): head H of layer L, one panel per --stage (default: raw next to the\n"
    "  processed stages, as the window shows them); heads: every head of layer L for the first\n"
    "  --stage (default probs); profile: query Q's row (default: the last token) over all keys,\n"
    "  one curve per head, one panel per --stage (default: raw, bias, conv where offered).\n"
    "  --window Q0,Q1,K0,K1 draws only queries [Q0,Q1) x keys [K0,K1); maps larger than --grid\n"
    "  cells a side (default 2048) are pooled (each cell the entry of largest magnitude).\n"
    "  --workspace FILE rebuilds the figure of a workspace saved by the window (File > Save\n"
    "  workspace): its checkpoint, text, layer, head, stages, zoom and colours; its tab picks\n"
    "  the figure (explore: the panels; compare: the compared maps and the difference of the\n"
    "  first two; lengths: the processed maps at each length). Options given here override it.\n"
    "  --precision runs the model in float32 (default, or the workspace's), bfloat16 or float16\n"
    "  (half types on CUDA only; where CUDA falls back to the CPU, float32 with a note).\n";

double get_double(const Args& args, const std::string& name, double fallback) {
  if (!args.has(name)) return fallback;
  const std::string v = args.get(name);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') throw UsageError("--" + name + " wants a number, not '" + v + "'");
  return d;
}

ui::ColourSettings colour_settings(const Args& args) {
  ui::ColourSettings c;
  if (args.has("colour-map")) {
    ui::ColourMap map;
    const QString name = QString::fromStdString(args.get("colour-map"));
    if (!ui::parseColourMap(name, &map) || ui::isDiverging(map)) {
      throw UsageError("--colour-map '" + args.get("colour-map") +
                       "' is unknown: use viridis, magma, cividis or grey (signed stages use the "
                       "diverging map unless --no-diverging)");
    }
    c.sequential = map;
  }
  c.divergingForSigned = !args.has("no-diverging");
  const std::string scale = args.get("scale", "linear");
  if (scale != "linear" && scale != "log") {
    throw UsageError("--scale '" + scale + "' is unknown: use linear or log");
  }
  c.scale = scale == "log" ? ui::ColourScale::Log : ui::ColourScale::Linear;
  const std::string range = args.get("range", "auto");
  if (range == "shared") {
    c.sharedRange = true;
  } else if (range != "auto") {
    const auto comma = range.find(',');
    char* end = nullptr;
    const std::string lo = range.substr(0, comma);
    c.lo = std::strtod(lo.c_str(), &end);
    const bool loOk = comma != std::string::npos && !lo.empty() && *end == '\0';
    const std::string hi = comma == std::string::npos ? "" : range.substr(comma + 1);
    c.hi = std::strtod(hi.c_str(), &end);
    if (!loOk || hi.empty() || *end != '\0' || !(c.hi > c.lo)) {
      throw UsageError("--range '" + range + "' is not auto, shared or LO,HI with LO < HI");
    }
    c.fixedRange = true;
  }
  c.skipSink = args.has("skip-sink");
  return c;
}

int write_figure(ui::Figure figure, const ui::FigureStyle& size, const Args& args,
                 const std::string& out) {
  figure.style.widthCm = size.widthCm;
  figure.style.heightCm = size.heightCm;
  figure.style.fontPt = size.fontPt;
  figure.style.dpi = size.dpi;
  if (args.has("title")) figure.title = QString::fromStdString(args.get("title"));
  QString error;
  if (!ui::writeFigure(figure, QString::fromStdString(out), &error)) {
    throw Error(error.toStdString());
  }
  std::printf("wrote %s (%zu maps, %zu profiles)\n", out.c_str(), figure.maps.size(),
              figure.profiles.size());
  return 0;
}

/// The compared checkpoints of a workspace (or just `dir`) on the text, one map each on one
/// scale, and the difference of the first two.
/// The others open on the device and precision asked of the first.
ui::Figure compare_figure(const Workspace& ws, const std::string& dir, const Session& first,
                          TraceRequest request, const QString& stage, int head,
                          const ui::ColourSettings& colours, const CliContext& ctx,
                          const std::string& device, const std::string& precision) {
  std::vector<std::unique_ptr<Session>> others;
  std::vector<const Session*> sessions = {&first};
  for (size_t i = 1; i < ws.checkpoints.size(); ++i) {
    if (check_checkpoint(ws.checkpoints[i]) == CheckpointState::Missing) continue;
    others.push_back(Session::open(ws.checkpoints[i].path, device, precision));
    sessions.push_back(others.back().get());
  }
  request.maps.front().stages = {stage.toStdString()};
  request.maps.front().grid = 1024;
  request.cancel = ctx.cancel;
  std::vector<LayerTrace> traces;
  ui::Figure f;
  f.kind = ui::FigureKind::Maps;
  f.style = ui::figureStyle(colours);
  f.style.sharedRange = true;
  std::vector<float> all;
  for (const Session* s : sessions) {
    traces.push_back(s->trace(request));
    const auto name = QString::fromStdString(std::filesystem::path(s->summary().dir).filename().string());
    f.maps.push_back(ui::headFigureMap(traces.back().maps.front(), head,
                                       ui::tokenLabels(traces.back()), name));
    all.insert(all.end(), f.maps.back().values.begin(), f.maps.back().values.end());
  }
  f.style.colourMap = ui::colourMapFor(colours, all);
  if (traces.size() >= 2) {
    const ui::MapDifference d = ui::mapDifference(traces[0].maps.front(), traces[0].tokens,
                                                  traces[1].maps.front(), traces[1].tokens, head,
                                                  stage == QLatin1String("probs"));
    if (d.valid) {
      ui::FigureMap diff;
      diff.title = f.maps[0].title + QStringLiteral(" − ") + f.maps[1].title;
      diff.rows = diff.cols = d.n;
      diff.values = d.values;
      diff.tokens = f.maps[0].tokens;
      diff.colourMap = static_cast<int>(ui::ColourMap::Diverging);
      f.maps.push_back(std::move(diff));
      std::fprintf(stderr, "note: mean |difference| %.4g; rows that differ most:", d.meanAbs);
      for (int r : d.topRows) std::fprintf(stderr, " %d", r);
      std::fprintf(stderr, "\n");
    } else {
      std::fprintf(stderr, "note: no difference map: %s\n", d.problem.toStdString().c_str());
    }
  }
  f.title = ui::mapTitle(stage, static_cast<int>(request.maps.front().layer), head);
  (void)dir;
  return f;
}

/// The processed stage of the layer at each of the workspace's lengths (the first N tokens).
ui::Figure lengths_figure(const Workspace& ws, const Session& session, TraceRequest request,
                          int head, const ui::ColourSettings& colours) {
  std::vector<int64_t> lengths = ws.lengths;
  const int64_t train = session.summary().train_len;
  if (lengths.empty()) lengths = {train, 2 * train, 4 * train, 8 * train, 16 * train};
  ui::Figure f;
  f.kind = ui::FigureKind::Maps;
  f.style = ui::figureStyle(colours);
  f.style.sharedRange = true;
  request.maps.front().grid = 256;
  if (request.maps.front().stages.size() > 1) {
    request.maps.front().stages = {request.maps.front().stages.back()};
  }
  std::vector<float> all;
  const auto total = int64_t(session.tokenize(request.text).size());
  for (int64_t len : lengths) {
    if (len > total) {
      std::fprintf(stderr, "note: length %lld skipped: the text has %lld tokens\n",
                   static_cast<long long>(len), static_cast<long long>(total));
      continue;
    }
    request.max_tokens = len;
    const LayerTrace t = session.trace(request);
    f.maps.push_back(ui::headFigureMap(t.maps.front(), head, ui::tokenLabels(t),
                                       QStringLiteral("%1 tokens").arg(len)));
    all.insert(all.end(), f.maps.back().values.begin(), f.maps.back().values.end());
  }
  f.style.colourMap = ui::colourMapFor(colours, all);
  if (!f.maps.empty()) {
    f.title = QStringLiteral("%1, layer %2, head %3")
                  .arg(QString::fromStdString(request.maps.front().stages.front()))
                  .arg(request.maps.front().layer)
                  .arg(head);
  }
  return f;
}

}  // namespace

int cmd_figure(int argc, char** argv, const CliContext& ctx) {
  Args args(argc, argv, 2,
            {"checkpoint", "text", "text-string", "out", "kind", "layer", "head", "stage", "query",
             "window", "grid", "max-tokens", "device", "precision", "colour-map", "scale", "range",
             "width-cm", "height-cm", "font-pt", "dpi", "title", "workspace"},
            {"help", "skip-sink", "no-diverging"});
  if (args.has("help")) {
    std::fputs(kFigureUsage, stdout);
    return 0;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument " + args.positional()[0]);
  const std::string out = args.required("out");
  Workspace ws;
  const bool fromWorkspace = args.has("workspace");
  if (fromWorkspace) {
    ws = read_workspace(args.get("workspace"));
    for (const QString& problem : ui::checkpointProblems(ws)) {
      std::fprintf(stderr, "note: %s\n", problem.toStdString().c_str());
    }
  } else if (args.has("text") == args.has("text-string")) {
    throw UsageError("give exactly one of --text FILE and --text-string S");
  }
  const std::string dir = fromWorkspace && !args.has("checkpoint") ? ws.checkpoints.front().path
                                                                  : args.required("checkpoint");
  ui::FigureFormat format;
  if (!ui::figureFormatFromPath(QString::fromStdString(out), &format)) {
    throw UsageError("--out " + out + ": the name must end in .pdf, .svg, .png, .npy or .csv");
  }
  const std::string defaultKind =
      fromWorkspace ? (ws.tab == "compare" ? "compare" : ws.tab == "lengths" ? "lengths" : "maps")
                    : "maps";
  const std::string kind = args.get("kind", defaultKind);
  if (kind != "maps" && kind != "heads" && kind != "profile" && kind != "compare" &&
      kind != "lengths") {
    throw UsageError("--kind '" + kind + "' is unknown: use maps, heads, profile, compare or lengths");
  }
  const bool colourOptions = args.has("colour-map") || args.has("scale") || args.has("range") ||
                             args.has("skip-sink") || args.has("no-diverging");
  const ui::ColourSettings colours = fromWorkspace && !colourOptions
                                         ? ui::coloursFromWorkspace(ws.colours)
                                         : colour_settings(args);
  ui::FigureStyle size;
  size.widthCm = get_double(args, "width-cm", kind == "heads" ? 16.0 : size.widthCm);
  size.heightCm = get_double(args, "height-cm", kind == "heads" ? 9.0 : size.heightCm);
  size.fontPt = get_double(args, "font-pt", size.fontPt);
  size.dpi = static_cast<int>(args.get_int("dpi", size.dpi, 1));
  const std::string text = args.has("text")          ? read_text_file(args.get("text"))
                           : args.has("text-string") ? args.get("text-string")
                                                     : ws.text;

  // Qt draws the figure; without a display it uses its offscreen platform.
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY") &&
      qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
  }
  int qtArgc = 1;
  char* qtArgv[] = {argv[0], nullptr};
  QGuiApplication app(qtArgc, qtArgv);

  const std::string device = args.get("device", fromWorkspace ? ws.device : "cpu");
  // A workspace's half precision goes with its CUDA device, not with a CPU asked for here.
  const bool onCuda = device.rfind("cuda", 0) == 0;
  const std::string precision =
      args.get("precision", fromWorkspace && onCuda ? ws.precision : "float32");
  auto session = Session::open(dir, device, precision);
  for (const auto& w : session->warnings()) std::fprintf(stderr, "note: %s\n", w.c_str());
  const ModelSummary& s = session->summary();
  const QStringList offered = ui::toQStringList(s.stages);
  QStringList stages = ui::toQStringList(args.all("stage"));
  if (stages.isEmpty() && fromWorkspace) {
    stages = kind == "profile"   ? ui::toQStringList(ws.profile_stages)
             : kind == "compare" ? QStringList{QString::fromStdString(ws.compare_stage)}
                                 : ui::toQStringList(ws.panel_stages);
  }
  if (stages.isEmpty()) {
    stages = kind == "maps" || kind == "lengths" ? ui::defaultPanelStages(offered)
             : kind == "profile"                 ? ui::defaultProfileStages(offered)
                                                 : QStringList{ui::defaultPanelStages(offered).last()};
  }
  const int64_t layer = args.get_int("layer", fromWorkspace ? ws.layer : 0, 0);
  const int64_t head = args.get_int("head", fromWorkspace ? ws.head : 0, 0);
  if (head >= s.n_head) {
    throw UsageError("--head " + std::to_string(head) + " does not exist: the model has " +
                     std::to_string(s.n_head) + " heads (0.." + std::to_string(s.n_head - 1) + ")");
  }
  TraceRequest request;
  request.text = text;
  request.max_tokens = args.get_int("max-tokens", 0, 1);
  request.cancel = ctx.cancel;
  MapRequest map;
  map.layer = layer;
  for (const auto& st : stages) map.stages.push_back(st.toStdString());
  if (kind == "heads") map.stages.resize(1);
  if (kind == "profile") {
    const int64_t q = args.get_int("query", fromWorkspace ? ws.query : -1, -1);
    map.q0 = q;
    map.q1 = q < 0 ? -1 : q + 1;
  } else {
    map.grid = args.get_int("grid", 2048, 1);
    auto w = args.get_int_list("window");
    if (w.empty() && fromWorkspace && ws.view.q1 >= 0 && ws.view.k1 >= 0 && kind == "maps") {
      w = {ws.view.q0, ws.view.q1, ws.view.k0, ws.view.k1};
    }
    if (!w.empty()) {
      if (w.size() != 4) throw UsageError("--window wants Q0,Q1,K0,K1 (four numbers)");
      map.q0 = w[0];
      map.q1 = w[1];
      map.k0 = w[2];
      map.k1 = w[3];
    }
  }
  request.maps.push_back(map);
  if (kind == "compare" || kind == "lengths") {
    ui::Figure figure = kind == "compare"
                            ? compare_figure(ws, dir, *session, request, stages.front(),
                                             static_cast<int>(head), colours, ctx, device,
                                             precision)
                            : lengths_figure(ws, *session, request, static_cast<int>(head),
                                             colours);
    return write_figure(figure, size, args, out);
  }
  ProgressBar bar("figure");
  request.progress = [&bar](double f) { bar.update(f, "", -1); };
  const LayerTrace trace = session->trace(request);
  bar.finish();
  if (trace.truncated) {
    std::fprintf(stderr, "note: the text was cut to its first %zu tokens (--max-tokens)\n",
                 trace.tokens.size());
  }

  ui::Figure figure;
  if (kind == "maps") {
    figure = ui::panelsFigure(trace, static_cast<int>(layer), static_cast<int>(head), stages,
                              colours);
  } else if (kind == "heads") {
    figure = ui::headGridFigure(trace, static_cast<int>(layer), stages.front(), colours);
  } else {
    figure = ui::profileFigure(trace, static_cast<int>(layer), stages);
  }
  // The region in view of a zoomed workspace, as the window exports it.
  if (kind == "maps" && fromWorkspace && !args.has("window") && ws.view.q1 >= 0 && ws.view.k1 >= 0) {
    for (auto& m : figure.maps) {
      m = ui::cropFigureMap(m, static_cast<long>(ws.view.q0), static_cast<long>(ws.view.q1),
                            static_cast<long>(ws.view.k0), static_cast<long>(ws.view.k1));
    }
  }
  return write_figure(figure, size, args, out);
}

}  // namespace attn::cli
