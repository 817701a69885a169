// Colour scales and the legend bar shared by the insight charts.
#pragma once

#include <QColor>
#include <QFont>
#include <QRectF>
#include <QString>
#include <functional>

class QPainter;

namespace sambalens {

// Passkey accuracy 0..1: red (0) through yellow (0.5) to green (1).
QColor accuracyColour(double accuracy);
// Entropy scaled to 0..1 (t = H / scale top): a viridis-like ramp, dark
// violet for focused attention (low entropy) to yellow for uniform.
QColor entropyColour(double t);
// Token surprisal scaled to 0..1: a transparent-to-red highlight that keeps
// dark text readable (t = 0 paints nothing).
QColor surprisalColour(double t);
// Rows and cells that have no value (Mamba layers, missing cells).
QColor notApplicableColour();

// A vertical colour bar with its range and title, top = `top` value.
struct LegendSpec {
  std::function<QColor(double)> colour;  // of t in 0..1
  double bottom = 0;
  double top = 1;
  QString title;    // drawn above the bar
  QString format;   // "%1%" or "%1 nats"; %1 is the value
  int ticks = 5;
  double tickScale = 1.0;  // multiply values for the labels (100 for %)
  int decimals = 1;
};
void paintLegend(QPainter& painter, const QRectF& bar, const LegendSpec& spec, const QFont& font, const QColor& text);

// Width a legend needs to the right of its bar for labels.
qreal legendLabelWidth(const LegendSpec& spec, const QFont& font);
// Width of the whole legend column: bar, labels and title.
qreal legendWidth(const LegendSpec& spec, const QFont& font, qreal barWidth);

// "512", "4K", "1M": powers of two and other lengths in tokens, short.
QString shortTokenCount(qint64 tokens);

}  // namespace sambalens
