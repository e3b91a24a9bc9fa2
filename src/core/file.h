// Whole-file reads and writes with errors that name the path.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd {

Result<std::vector<uint8_t>> read_file(const std::string& path);
Result<std::string> read_text_file(const std::string& path);
// Writes to a temporary name and renames, so readers never see a half-written file.
Status write_file(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace inferd
