// Run-time choice of backend: CUDA when compiled in and usable, otherwise
// the CPU with the reason said out loud.
#include <string>

#include "samba/backend.h"
#include "samba/error.h"
#include "samba/weights.h"

#ifdef SAMBA_HAVE_CUDA
#include "cuda/cuda_backend.h"
#endif

namespace samba {

bool cuda_compiled() {
#ifdef SAMBA_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

const char* precision_name(Precision precision) { return precision == Precision::exact ? "exact" : "fast"; }

Precision parse_precision(const std::string& name) {
  if (name == "fast") return Precision::fast;
  if (name == "exact") return Precision::exact;
  throw Error(ErrorKind::InvalidArgument, "unknown precision '" + name + "' (use fast or exact)");
}

BackendChoice create_backend(const ModelFiles& files, const std::string& kind, int max_context_hint,
                             Precision precision) {
  if (kind != "auto" && kind != "cpu" && kind != "cuda")
    throw Error(ErrorKind::InvalidArgument, "unknown backend '" + kind + "' (use auto, cpu or cuda)");
  BackendChoice choice;
  if (kind == "cpu") {
    choice.backend = create_cpu_backend(files);
    return choice;
  }
  std::string reason;
#ifdef SAMBA_HAVE_CUDA
  choice.backend = create_cuda_backend(files, max_context_hint, &reason, precision);
  if (choice.backend) return choice;
#else
  (void)max_context_hint;
  (void)precision;
  reason = "this build has no CUDA backend (built without nvcc)";
#endif
  if (kind == "cuda") throw Error(ErrorKind::Device, "CUDA backend unavailable: " + reason);
  choice.fallback_reason = reason;
  choice.backend = create_cpu_backend(files);
  return choice;
}

}  // namespace samba
