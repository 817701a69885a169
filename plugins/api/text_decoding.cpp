#include "text_decoding.h"

#include <QStringDecoder>

namespace sambalens {

namespace {
bool hasUtf16Bom(const QByteArray& b) {
  return b.size() >= 2 && ((uchar(b[0]) == 0xFF && uchar(b[1]) == 0xFE) ||
                           (uchar(b[0]) == 0xFE && uchar(b[1]) == 0xFF));
}

QString normaliseLineEndings(QString text) {
  if (text.contains(QLatin1Char('\r'))) {
    text.replace(QLatin1String("\r\n"), QLatin1String("\n"));
    text.replace(QLatin1Char('\r'), QLatin1Char('\n'));
  }
  return text;
}
}  // namespace

bool looksBinary(const QByteArray& head) {
  if (hasUtf16Bom(head)) return false;
  return head.left(8000).contains('\0');
}

DecodedText decodeText(const QByteArray& bytes) {
  DecodedText out;
  if (hasUtf16Bom(bytes)) {
    const bool little = uchar(bytes[0]) == 0xFF;
    QStringDecoder decoder(little ? QStringDecoder::Utf16LE : QStringDecoder::Utf16BE,
                           QStringDecoder::Flag::Stateless);
    out.text = decoder.decode(bytes.mid(2));
    out.encoding = little ? QStringLiteral("UTF-16LE") : QStringLiteral("UTF-16BE");
  } else {
    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QByteArray body = bytes;
    if (body.startsWith("\xEF\xBB\xBF")) body.remove(0, 3);
    out.text = utf8.decode(body);
    out.encoding = QStringLiteral("UTF-8");
    if (utf8.hasError()) {
      out.text = QString::fromLatin1(body);
      out.encoding = QStringLiteral("Latin-1");
      out.fallback = true;
    }
  }
  out.text = normaliseLineEndings(std::move(out.text));
  return out;
}

}  // namespace sambalens
