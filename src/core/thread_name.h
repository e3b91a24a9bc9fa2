// Names the calling thread as `top -H`, `ps -L`, gdb and /proc/<pid>/task/*/comm show it,
// so an operator (and bench/layer_cost.sh) can tell the server's I/O, decode and execution
// threads apart. Threads a named thread creates (OpenMP's workers) inherit its name.
#pragma once

#include <string>

namespace inferd {

// Linux keeps 15 bytes: longer names are truncated. Elsewhere it does nothing.
void set_thread_name(const std::string& name);

}  // namespace inferd
