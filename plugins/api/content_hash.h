// Content hashes: the key of the import cache ("re-importing an unchanged
// file is free") and part of the model-state snapshot key.
#pragma once

#include <QByteArray>
#include <QString>
#include <atomic>

namespace sambalens {

// Hex SHA-256 of a file's bytes, read in 1 MiB blocks. Returns an empty
// string (and sets `error`) when the file cannot be read, or when `cancel`
// becomes true.
QString fileSha256(const QString& path, QString* error = nullptr,
                   const std::atomic<bool>* cancel = nullptr);

QString bytesSha256(const QByteArray& bytes);

}  // namespace sambalens
