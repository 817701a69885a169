// A fingerprint of a model folder that changes when the weights, the config
// or the tokenizer change, so a saved model state is never restored into a
// different model (the engine's config fingerprint alone would not notice
// retrained weights of the same shape).
#pragma once

#include <QString>

namespace sambalens {

// SHA-256 over the config fingerprint, each *.safetensors file's name, size
// and its first and last MiB (hashing all of a multi-GB model would cost
// seconds at every load), and the whole tokenizer file. Hex.
QString modelFingerprint(const QString& folder, quint64 configFingerprint);

}  // namespace sambalens
