// External tensor data (ONNX "external data" convention: data_location = EXTERNAL,
// external_data keys location / offset / length). The location is untrusted: it must
// stay inside the model's folder.
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>

#include "import/onnx/onnx_tensor.h"

namespace inferd::onnx_import {
namespace {

namespace fs = std::filesystem;

struct ExternalRef {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
};

Result<uint64_t> parse_size(const std::string& text, const std::string& key, const std::string& what) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return invalid_argument(what + ": external data " + key + " '" + text + "' is not a non-negative integer");
  return value;
}

Result<ExternalRef> parse_ref(const onnx::TensorProto& p, const std::string& what) {
  ExternalRef ref;
  bool has_location = false;
  for (const auto& entry : p.external_data()) {
    if (entry.key() == "location") {
      ref.location = entry.value();
      has_location = true;
    } else if (entry.key() == "offset") {
      ASSIGN_OR_RETURN(ref.offset, parse_size(entry.value(), "offset", what));
    } else if (entry.key() == "length") {
      ASSIGN_OR_RETURN(ref.length, parse_size(entry.value(), "length", what));
    }  // "checksum" and other keys do not change what is read
  }
  if (!has_location || ref.location.empty()) return invalid_argument(what + ": external data has no location");
  return ref;
}

// The file `location` names, which must lie inside `base_dir` (also after resolving
// symlinks).
Result<fs::path> resolve_location(const std::string& location, const std::string& base_dir, const std::string& what) {
  if (base_dir.empty())
    return failed_precondition(what + ": uses external data, but the model was not loaded from a folder");
  if (location.find('\0') != std::string::npos) return invalid_argument(what + ": external data location has a NUL byte");
  const fs::path rel = fs::path(location).lexically_normal();
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    return invalid_argument(what + ": external data location '" + location +
                            "' is absolute; it must be relative to the model's folder");
  if (!rel.empty() && *rel.begin() == "..")
    return invalid_argument(what + ": external data location '" + location + "' is outside the model's folder");
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(fs::path(base_dir), ec);
  if (ec) return not_found(what + ": cannot resolve the model folder '" + base_dir + "': " + ec.message());
  const fs::path full = fs::weakly_canonical(base / rel, ec);
  if (ec) return not_found(what + ": cannot resolve external data '" + location + "': " + ec.message());
  const fs::path inside = full.lexically_relative(base);
  if (inside.empty() || *inside.begin() == "..")
    return invalid_argument(what + ": external data location '" + location + "' leads outside the model's folder");
  return full;
}

}  // namespace

Result<std::vector<uint8_t>> read_external_data(const onnx::TensorProto& p, const std::string& what,
                                                const std::string& base_dir, uint64_t expected_bytes) {
  ASSIGN_OR_RETURN(ExternalRef ref, parse_ref(p, what));
  ASSIGN_OR_RETURN(fs::path file, resolve_location(ref.location, base_dir, what));
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    return not_found(what + ": external data file '" + ref.location + "' does not exist in the model's folder");
  const uint64_t file_size = fs::file_size(file, ec);
  if (ec) return not_found(what + ": cannot read external data file '" + ref.location + "': " + ec.message());
  if (ref.offset > file_size)
    return data_loss(what + ": external data offset " + std::to_string(ref.offset) + " is past the end of '" +
                     ref.location + "' (" + std::to_string(file_size) + " bytes)");
  const uint64_t length = ref.length.value_or(file_size - ref.offset);
  if (length != expected_bytes)
    return data_loss(what + ": external data length " + std::to_string(length) + " does not match the " +
                     std::to_string(expected_bytes) + " bytes its shape needs");
  if (length > file_size - ref.offset)
    return data_loss(what + ": external data '" + ref.location + "' is truncated (" + std::to_string(length) +
                     " bytes wanted at offset " + std::to_string(ref.offset) + ", file has " +
                     std::to_string(file_size) + ")");
  std::vector<uint8_t> bytes(static_cast<size_t>(length));
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(ref.offset));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(length));
  if (!in) return data_loss(what + ": reading external data '" + ref.location + "' failed");
  return bytes;
}

}  // namespace inferd::onnx_import
