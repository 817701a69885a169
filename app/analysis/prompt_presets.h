// Prompt presets (Summarize, Ask, Explain code, Review code): the templates
// in resources/prompts/*.txt, compiled into the binary. A template holds
// {document} once and may hold {question}. The text up to and including the
// documents is the "context" (read once; its model state can be saved and
// restored), the rest is the "instruction" read after it.
#pragma once

#include <QList>
#include <QString>
#include <optional>

namespace sambalens {

struct PromptPreset {
  QString id;            // file name without .txt: "summarize", "ask"...
  QString title;         // "Summarize", "Ask", "Explain code", "Review code"
  QString templateText;
  bool needsQuestion() const { return templateText.contains(QLatin1String("{question}")); }
};

struct RenderedPrompt {
  QString context;      // template text before {document}, then the documents
  QString instruction;  // the template after {document}, {question} filled in
};

// The presets in a stable order: the four above first, then any other
// template found, by name.
const QList<PromptPreset>& promptPresets();
std::optional<PromptPreset> findPromptPreset(const QString& id);

// Fills a template. Fails (with `error`) when the template lacks {document},
// when nothing follows it (the model would have no instruction), or when a
// question is required but empty.
std::optional<RenderedPrompt> renderPrompt(const PromptPreset& preset, const QString& documentText,
                                           const QString& question, QString* error);

}  // namespace sambalens
