// Binding an entry point of a library loaded at run time (NVML, nvJPEG: they ship with the
// driver or the toolkit's runtime, so a binary with the CUDA backend starts without them).
#pragma once

#include <dlfcn.h>

#include <cstring>

namespace inferd::cuda {

// Sets `fn` to `symbol` of `library`; false when the library lacks it. dlsym gives an
// object pointer; copying its bits is the portable way to a function pointer (POSIX
// guarantees they have the same representation).
template <typename Fn>
bool bind_symbol(void* library, const char* symbol, Fn& fn) {
  void* address = dlsym(library, symbol);
  if (!address) return false;
  static_assert(sizeof(fn) == sizeof(address));
  std::memcpy(&fn, &address, sizeof(fn));
  return true;
}

}  // namespace inferd::cuda
