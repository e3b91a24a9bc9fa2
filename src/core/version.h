#pragma once

namespace inferd {
// The engine version written into plans; a plan from another version is rejected.
inline constexpr const char* kEngineVersion = "0.1.0";
}  // namespace inferd
