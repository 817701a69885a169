// Errors the engine reports. Every failure the user can cause (a bad model
// file, a wrong config, no memory) becomes a samba::Error with a message that
// names the file and the thing that is wrong; the engine never aborts on input.
#pragma once

#include <stdexcept>
#include <string>

namespace samba {

enum class ErrorKind {
  InvalidModel,   // config.json / safetensors / tokenizer content is wrong
  Io,             // a file could not be opened, read, written or mapped
  OutOfMemory,    // host or device allocation failed
  Device,         // CUDA runtime / driver failure
  Cancelled,      // the caller asked to stop
  InvalidArgument // a caller passed something that makes no sense
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace samba
