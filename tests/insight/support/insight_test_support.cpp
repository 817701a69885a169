#include "insight_test_support.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QUuid>
#include <cmath>
#include <stdexcept>

#include "samba/safetensors.h"
#include "samba/weights.h"
#include "test_support.h"

namespace sambalens_insight_test {

QString uniformAttentionModel(const QString& modelFolder) {
  const QString folder = modelFolder + QStringLiteral("-uniform-attention");
  if (QFileInfo::exists(folder + QStringLiteral("/model.safetensors"))) return folder;
  const QString tmp = folder + QStringLiteral(".tmp-") + QUuid::createUuid().toString(QUuid::Id128);
  QDir().mkpath(tmp);
  auto files = samba::ModelFiles::open(modelFolder.toStdString());
  const auto expected = samba::expected_tensors(files->config());
  std::vector<std::vector<float>> data;
  std::vector<samba::TensorToWrite> tensors;
  data.reserve(expected.size());
  for (const auto& [name, shape] : expected) {
    data.push_back(files->get(name).to_f32());
    if (name.find("q_proj") != std::string::npos) std::fill(data.back().begin(), data.back().end(), 0.0f);
    tensors.push_back({name, shape, data.back().data()});
  }
  samba::write_safetensors((tmp + QStringLiteral("/model.safetensors")).toStdString(), tensors, samba::DType::F32);
  for (const char* f : {"config.json", "tokenizer.model"}) {
    if (!QFile::copy(modelFolder + QLatin1Char('/') + QLatin1String(f), tmp + QLatin1Char('/') + QLatin1String(f))) {
      throw std::runtime_error(std::string("cannot copy ") + f);
    }
  }
  if (!QDir().rename(tmp, folder)) QDir(tmp).removeRecursively();  // another test made it meanwhile
  return folder;
}

sambalens::PasskeySweepRecord makeSweep(const std::function<int(int, int)>& correctOutOf4) {
  sambalens::PasskeySweepRecord s;
  s.model.folder = QStringLiteral("/models/test");
  s.model.name = QStringLiteral("test-model");
  s.model.layers = 4;
  s.model.heads = 2;
  s.model.window = 2048;
  s.model.trainLength = 4096;
  s.settings.lengths = {1024, 2048, 4096};
  s.settings.depths = {0.0, 0.5, 1.0};
  s.settings.trials = 4;
  s.createdAt = QDateTime::currentDateTimeUtc();
  for (int li = 0; li < 3; ++li) {
    for (int di = 0; di < 3; ++di) {
      const int correct = correctOutOf4(li, di);
      for (int t = 0; t < 4; ++t) {
        sambalens::PasskeyTrialRecord trial;
        trial.length = s.settings.lengths[li];
        trial.depth = s.settings.depths[di];
        trial.trial = t;
        trial.key = 10000 + 100 * li + 10 * di + t;
        trial.correct = t < correct;
        trial.answer = trial.correct ? QStringLiteral(" %1.").arg(trial.key) : QStringLiteral(" 4242%1 is").arg(t);
        s.trials.append(trial);
      }
    }
  }
  return s;
}

sambalens::EntropyRunRecord makeEntropyRun(const std::function<double(int, int, int)>& value) {
  sambalens::EntropyRunRecord r;
  r.model.folder = QStringLiteral("/models/test");
  r.model.name = QStringLiteral("test-model");
  r.model.layers = 4;
  r.model.heads = 2;
  r.model.window = 8;
  r.document = QStringLiteral("/docs/known.txt");
  r.createdAt = QDateTime::currentDateTimeUtc();
  const int n = 40;
  for (int i = 0; i < n; ++i) {
    r.tokenStart.push_back(qint32(r.text.size()));
    r.text += QStringLiteral("w%1 ").arg(i);
    r.surprisal.push_back(i == 0 ? 0.0f : float(i % 10));
  }
  r.bucketWidth = 1;
  r.buckets = n;
  for (int s = 0; s < 2; ++s) {
    for (int h = 0; h < 2; ++h) {
      for (int b = 0; b < n; ++b) {
        const float v = float(value(s, h, b));
        r.stats.push_back(sambalens::EntropyBucketStat{v, v, v, 1});
      }
    }
  }
  return r;
}

QColor cornerColour(const QImage& image, const QRectF& rect) {
  const QRect r(int(std::ceil(rect.left())) + 3, int(std::ceil(rect.top())) + 3, 6, 6);
  qint64 red = 0, green = 0, blue = 0, n = 0;
  for (int y = r.top(); y <= r.bottom(); ++y) {
    for (int x = r.left(); x <= r.right(); ++x) {
      if (!image.rect().contains(x, y)) continue;
      const QColor c = image.pixelColor(x, y);
      red += c.red();
      green += c.green();
      blue += c.blue();
      ++n;
    }
  }
  if (n == 0) return QColor();
  return QColor(int(red / n), int(green / n), int(blue / n));
}

}  // namespace sambalens_insight_test
