// A quick look at a folder the user chose as a model, before the engine
// loads it: the Hugging Face layout (config.json, *.safetensors, a
// tokenizer). The engine then validates every tensor; this catches the
// common mistakes (wrong folder, missing tokenizer) with a plain message.
#pragma once

#include <QString>

namespace sambalens::ui {

// An empty string when the folder looks like a model folder, otherwise
// one message naming the folder and what is wrong.
QString checkModelFolder(const QString& folder);

}  // namespace sambalens::ui
