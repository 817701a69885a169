#include "prompt_presets.h"

#include <QDir>
#include <QFile>

namespace sambalens {

namespace {
QString titleFor(const QString& id) {
  if (id == QLatin1String("summarize")) return QStringLiteral("Summarize");
  if (id == QLatin1String("ask")) return QStringLiteral("Ask");
  if (id == QLatin1String("explain_code")) return QStringLiteral("Explain code");
  if (id == QLatin1String("review_code")) return QStringLiteral("Review code");
  QString t = id;
  t.replace(QLatin1Char('_'), QLatin1Char(' '));
  if (!t.isEmpty()) t[0] = t[0].toUpper();
  return t;
}

QList<PromptPreset> loadPresets() {
  const QStringList preferred = {"summarize", "ask", "explain_code", "review_code"};
  QStringList names = QDir(QStringLiteral(":/prompts")).entryList({QStringLiteral("*.txt")}, QDir::Files, QDir::Name);
  QList<PromptPreset> presets;
  const auto add = [&](const QString& fileName) {
    QFile file(QStringLiteral(":/prompts/") + fileName);
    if (!file.open(QIODevice::ReadOnly)) return;
    const QString id = fileName.chopped(4);
    presets.append(PromptPreset{id, titleFor(id), QString::fromUtf8(file.readAll())});
  };
  for (const QString& id : preferred) {
    if (names.removeOne(id + QStringLiteral(".txt"))) add(id + QStringLiteral(".txt"));
  }
  for (const QString& name : names) add(name);
  return presets;
}
}  // namespace

const QList<PromptPreset>& promptPresets() {
  static const QList<PromptPreset> presets = loadPresets();
  return presets;
}

std::optional<PromptPreset> findPromptPreset(const QString& id) {
  for (const PromptPreset& p : promptPresets()) {
    if (p.id == id) return p;
  }
  return std::nullopt;
}

std::optional<RenderedPrompt> renderPrompt(const PromptPreset& preset, const QString& documentText,
                                           const QString& question, QString* error) {
  static const QString kDocument = QStringLiteral("{document}");
  const int at = preset.templateText.indexOf(kDocument);
  if (at < 0 || preset.templateText.indexOf(kDocument, at + 1) >= 0) {
    if (error) *error = QStringLiteral("prompt preset %1: the template must contain {document} exactly once").arg(preset.id);
    return std::nullopt;
  }
  QString instruction = preset.templateText.mid(at + kDocument.size());
  if (instruction.trimmed().isEmpty()) {
    if (error) *error = QStringLiteral("prompt preset %1: nothing follows {document}, so the model has no instruction").arg(preset.id);
    return std::nullopt;
  }
  if (preset.needsQuestion()) {
    const QString q = question.simplified();
    if (q.isEmpty()) {
      if (error) *error = QStringLiteral("the %1 preset needs a question").arg(preset.title);
      return std::nullopt;
    }
    instruction.replace(QStringLiteral("{question}"), q);
  }
  return RenderedPrompt{preset.templateText.left(at) + documentText, instruction};
}

}  // namespace sambalens
