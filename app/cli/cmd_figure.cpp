// SPDX-License-Identifier: MIT
// attnscope-cli figure: the window's figures without a display, so that a paper's figures can
// be rebuilt by a script. It runs the model through the same Session and builds the figure with
// the same code as the window's export (ui/models/figure_builder, ui/figure), on Qt's offscreen
// platform when no display is set.
#include <QtCore/QFileInfo>
#include <QtGui/QGuiApplication>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress.h"
#include "core/api/session.h"
#include "ui/models/figure_builder.h"

namespace attn::cli {

namespace {
const char* kFigureUsage =
    "usage: attnscope-cli figure --checkpoint DIR (--text FILE | --text-string S) --out FILE\n"
    "                            [--kind maps|heads|profile] [--layer L] [--head H]\n"
    "                            [--stage S ...] [--query Q] [--window Q0,Q1,K0,K1]\n"
    "                            [--grid N] [--max-tokens N] [--device cpu|cuda]\n"
    "                            [--colour-map viridis|magma|cividis|grey] [--no-diverging]\n"
    "                            [--scale linear|log] [--range auto|shared|LO,HI] [--skip-sink]\n"
    "                            [--width-cm W] [--height-cm H] [--font-pt P] [--dpi D]\n"
    "                            [--title T]\n"
    "  Draws what the window's File > Export figure draws and writes it as .pdf or .svg (vector\n"
    "  axes and labels, each map an embedded image of one pixel per cell), .png at --dpi, or the\n"
    "  numbers as .npy or .csv (the suffix of --out decides).\n"
    "  --kind maps (default): head H of layer L, one panel per --stage (default: raw next to the\n"
    "  processed stages, as the window shows them); heads: every head of layer L for the first\n"
    "  --stage (default probs); profile: query Q's row (default: the last token) over all keys,\n"
    "  one curve per head, one panel per --stage (default: raw, bias, conv where offered).\n"
    "  --window Q0,Q1,K0,K1 draws only queries [Q0,Q1) x keys [K0,K1); maps larger than --grid\n"
    "  cells a side (default 2048) are pooled (each cell the entry of largest magnitude).\n";

double get_double(const Args& args, const std::string& name, double fallback) {
  if (!args.has(name)) return fallback;
  const std::string v = args.get(name);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') throw UsageError("--" + name + " wants a number, not '" + v + "'");
  return d;
}

QStringList toQt(const std::vector<std::string>& v) {
  QStringList out;
  for (const auto& s : v) out << QString::fromStdString(s);
  return out;
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

}  // namespace

int cmd_figure(int argc, char** argv, const CliContext& ctx) {
  Args args(argc, argv, 2,
            {"checkpoint", "text", "text-string", "out", "kind", "layer", "head", "stage", "query",
             "window", "grid", "max-tokens", "device", "colour-map", "scale", "range", "width-cm",
             "height-cm", "font-pt", "dpi", "title"},
            {"help", "skip-sink", "no-diverging"});
  if (args.has("help")) {
    std::fputs(kFigureUsage, stdout);
    return 0;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument " + args.positional()[0]);
  const std::string dir = args.required("checkpoint"), out = args.required("out");
  if (args.has("text") == args.has("text-string")) {
    throw UsageError("give exactly one of --text FILE and --text-string S");
  }
  ui::FigureFormat format;
  if (!ui::figureFormatFromPath(QString::fromStdString(out), &format)) {
    throw UsageError("--out " + out + ": the name must end in .pdf, .svg, .png, .npy or .csv");
  }
  const std::string kind = args.get("kind", "maps");
  if (kind != "maps" && kind != "heads" && kind != "profile") {
    throw UsageError("--kind '" + kind + "' is unknown: use maps, heads or profile");
  }
  const ui::ColourSettings colours = colour_settings(args);
  ui::FigureStyle size;
  size.widthCm = get_double(args, "width-cm", kind == "heads" ? 16.0 : size.widthCm);
  size.heightCm = get_double(args, "height-cm", kind == "heads" ? 9.0 : size.heightCm);
  size.fontPt = get_double(args, "font-pt", size.fontPt);
  size.dpi = static_cast<int>(args.get_int("dpi", size.dpi, 1));
  const std::string text =
      args.has("text") ? read_text_file(args.get("text")) : args.get("text-string");

  // Qt draws the figure; without a display it uses its offscreen platform.
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY") &&
      qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
  }
  int qtArgc = 1;
  char* qtArgv[] = {argv[0], nullptr};
  QGuiApplication app(qtArgc, qtArgv);

  auto session = Session::open(dir, args.get("device", "cpu"));
  for (const auto& w : session->warnings()) std::fprintf(stderr, "note: %s\n", w.c_str());
  const ModelSummary& s = session->summary();
  const QStringList offered = toQt(s.stages);
  QStringList stages = toQt(args.all("stage"));
  if (stages.isEmpty()) {
    stages = kind == "maps"    ? ui::defaultPanelStages(offered)
             : kind == "heads" ? QStringList{ui::defaultPanelStages(offered).last()}
                               : ui::defaultProfileStages(offered);
  }
  const int64_t layer = args.get_int("layer", 0, 0);
  const int64_t head = args.get_int("head", 0, 0);
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
    const int64_t q = args.get_int("query", -1, -1);
    map.q0 = q;
    map.q1 = q < 0 ? -1 : q + 1;
  } else {
    map.grid = args.get_int("grid", 2048, 1);
    const auto w = args.get_int_list("window");
    if (!w.empty()) {
      if (w.size() != 4) throw UsageError("--window wants Q0,Q1,K0,K1 (four numbers)");
      map.q0 = w[0];
      map.q1 = w[1];
      map.k0 = w[2];
      map.k1 = w[3];
    }
  }
  request.maps.push_back(map);
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
  figure.style.widthCm = size.widthCm;
  figure.style.heightCm = size.heightCm;
  figure.style.fontPt = size.fontPt;
  figure.style.dpi = size.dpi;
  if (args.has("title")) figure.title = QString::fromStdString(args.get("title"));
  QString error;
  if (!ui::writeFigure(figure, QString::fromStdString(out), &error)) {
    throw Error(error.toStdString());
  }
  std::printf("wrote %s (%s, layer %lld, %zu tokens)\n", out.c_str(), kind.c_str(),
              static_cast<long long>(layer), trace.tokens.size());
  return 0;
}

}  // namespace attn::cli
