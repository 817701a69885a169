// Values exchanged between the GUI thread and the engine thread.
#pragma once

#include <QByteArray>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace sambalens {

// A loaded, validated model and where it runs.
struct ModelInfo {
  QString folder;
  QString name;
  QString backendRequested;    // "auto", "cpu", "cuda"
  QString backendDescription;  // "cpu (2 threads)", "cuda: NVIDIA H200 (139 GiB)"
  QString fallbackReason;      // why not the GPU, or empty
  QString tokenizerFamily;     // "sentencepiece"
  QString fingerprint;         // weights + config + tokenizer; keys model-state snapshots
  qint64 parameters = 0;
  qint64 weightBytes = 0;
  quint64 stateBytes = 0;      // size of one model-state snapshot
  int layers = 0;
  int dModel = 0;
  int window = 0;              // sliding-window attention span W
  int trainLength = 0;         // 0 = unknown
  int vocabSize = 0;
  bool onGpu() const { return backendDescription.startsWith(QLatin1String("cuda")); }
  // One line for a status bar: name, backend, and the CPU-fallback reason.
  QString summary() const;
};

struct GenerationRequest {
  // The documents part of the prompt. Its model state after reading can be
  // saved (snapshotTaken) and restored next time (`snapshot`).
  QString context;
  // What follows the documents (the preset's instruction, the question).
  // Never empty: generation starts from its last token.
  QString instruction;
  // Identifies `context` for snapshots (hash of its exact text).
  QString contextKey;
  // A saved state of `context` to restore instead of reading it; if it does
  // not fit this model the context is read again and the reason reported.
  QByteArray snapshot;
  bool wantSnapshot = true;

  int maxNewTokens = 512;
  float temperature = 0.0f;  // 0 = greedy
  int topK = 0;
  float topP = 1.0f;
  // A mild CTRL-style penalty over the last 64 tokens: greedy decoding of a
  // small model otherwise falls into loops ("2001 2001 2001 ...").
  float repetitionPenalty = 1.15f;
  quint64 seed = 0;
  QStringList stopStrings;
  int prefillChunk = 512;
};

struct PrefillProgress {
  qint64 done = 0;    // prompt tokens read so far (restored ones count as read)
  qint64 total = 0;   // prompt tokens in all
  qint64 reused = 0;  // of `total`, restored from a snapshot
  double tokensPerSecond = 0;
  double etaSeconds = -1;  // -1 = unknown yet
};

struct GenerationStats {
  QString text;
  qint64 contextTokens = 0;
  qint64 reusedTokens = 0;      // context tokens restored, not read
  qint64 instructionTokens = 0;
  qint64 outputTokens = 0;
  double prefillSeconds = 0;    // reading the prompt (context + instruction)
  double firstTokenSeconds = 0; // from the start of the run
  double decodeSeconds = 0;
  double decodeTokensPerSecond = 0;
  double prefillTokensPerSecond = 0;
  QString stopReason;           // "max tokens", "end of text", "stop string", "cancelled"
  bool cancelled = false;
  QString snapshotNote;         // why a given snapshot was not used, if so
  qint64 promptTokens() const { return contextTokens + instructionTokens; }
};

}  // namespace sambalens

Q_DECLARE_METATYPE(sambalens::ModelInfo)
Q_DECLARE_METATYPE(sambalens::GenerationRequest)
Q_DECLARE_METATYPE(sambalens::PrefillProgress)
Q_DECLARE_METATYPE(sambalens::GenerationStats)
