#include "runtime/model_config.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <set>

#include "core/file.h"
#include "core/toml.h"

namespace inferd {

const char* to_string(ChannelOrder order) {
  return order == ChannelOrder::kBgr ? "bgr" : "rgb";
}

namespace {

namespace fs = std::filesystem;

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// "an integer", "a string": the value's type for a message.
std::string a_type(const toml::Value& v) {
  const bool vowel = v.is_integer() || v.is_array();
  return std::string(vowel ? "an " : "a ") + v.type_name();
}

// One table of config.toml. Each read_* leaves *out at its default when the key is absent
// and records the key as known, so that whatever is left afterwards is an unknown key (a
// typo such as "widht" must not silently fall back to the default).
class Section {
 public:
  Section(const toml::Table& table, std::string prefix, const std::string& file)
      : table_(table), prefix_(std::move(prefix)), file_(file) {}

  Status read_int(std::string_view key, int64_t lo, int64_t hi, int* out) {
    int64_t v = *out;
    RETURN_IF_ERROR(read_int64(key, lo, hi, &v));
    *out = static_cast<int>(v);  // fits: [lo, hi] lies within int for every caller
    return Status::ok();
  }

  Status read_int64(std::string_view key, int64_t lo, int64_t hi, int64_t* out) {
    const toml::Value* v = find(key);
    if (v == nullptr) return Status::ok();
    if (!v->is_integer()) return wrong_type(key, "an integer", *v);
    if (v->as_integer() < lo || v->as_integer() > hi) return out_of_range(key, lo, hi, v->as_integer());
    *out = v->as_integer();
    return Status::ok();
  }

  Status read_float(std::string_view key, float* out) {
    const toml::Value* v = find(key);
    if (v == nullptr) return Status::ok();
    return to_float(key, *v, out);
  }

  Status read_bool(std::string_view key, bool* out) {
    const toml::Value* v = find(key);
    if (v == nullptr) return Status::ok();
    if (!v->is_bool()) return wrong_type(key, "a boolean (true or false)", *v);
    *out = v->as_bool();
    return Status::ok();
  }

  Status read_string(std::string_view key, std::string* out) {
    const toml::Value* v = find(key);
    if (v == nullptr) return Status::ok();
    if (!v->is_string()) return wrong_type(key, "a string", *v);
    *out = v->as_string();
    return Status::ok();
  }

  Status read_choice(std::string_view key, std::initializer_list<const char*> choices, std::string* out) {
    std::string v = *out;
    RETURN_IF_ERROR(read_string(key, &v));
    std::string list;
    for (const char* c : choices) {
      if (v == c) {
        *out = v;
        return Status::ok();
      }
      list += list.empty() ? c : std::string(" | ") + c;
    }
    return error(key, "must be one of " + list + ", got \"" + v + "\"");
  }

  Status read_float3(std::string_view key, std::array<float, 3>* out) {
    const toml::Value* v = find(key);
    if (v == nullptr) return Status::ok();
    if (!v->is_array()) return wrong_type(key, "an array of 3 numbers", *v);
    const toml::Array& items = v->as_array();
    if (items.size() != 3)
      return error(key, "must be an array of 3 numbers (one per channel), got " + std::to_string(items.size()));
    for (size_t i = 0; i < 3; ++i) RETURN_IF_ERROR(to_float(key, items[i], &(*out)[i], i));
    return Status::ok();
  }

  Status read_int_array(std::string_view key, std::vector<int>* out) {
    const toml::Value* v = find(key);
    if (v == nullptr) return Status::ok();
    if (!v->is_array()) return wrong_type(key, "an array of integers", *v);
    out->clear();
    for (const toml::Value& item : v->as_array()) {
      const int64_t max = std::numeric_limits<int>::max();
      if (!item.is_integer()) return error(key, "must hold integers, got " + a_type(item));
      if (item.as_integer() < 0 || item.as_integer() > max) return out_of_range(key, 0, max, item.as_integer());
      out->push_back(static_cast<int>(item.as_integer()));
    }
    return Status::ok();
  }

  Status read_string_array(std::string_view key, std::vector<std::string>* out) {
    const toml::Value* v = find(key);
    if (v == nullptr) return Status::ok();
    if (!v->is_array()) return wrong_type(key, "an array of strings", *v);
    out->clear();
    for (const toml::Value& item : v->as_array()) {
      if (!item.is_string()) return error(key, "must hold strings, got " + a_type(item));
      out->push_back(item.as_string());
    }
    return Status::ok();
  }

  bool has(std::string_view key) const { return table_.contains(key); }

  // A nested table ([input] or input.x = ...); nullptr when absent.
  Result<const toml::Table*> table(std::string_view key) {
    const toml::Value* v = find(key);
    if (v == nullptr) return static_cast<const toml::Table*>(nullptr);
    if (!v->is_table()) return wrong_type(key, "a table", *v);
    return &v->as_table();
  }

  Status check_no_unknown_keys() const {
    for (size_t i = 0; i < table_.size(); ++i) {
      if (known_.contains(table_.key(i))) continue;
      std::string list;
      for (const std::string& k : known_) list += (list.empty() ? "" : ", ") + k;
      const std::string where = prefix_.empty() ? "top-level keys" : "keys of [" + prefix_ + "]";
      return invalid_argument(file_ + ": unknown key '" + path(table_.key(i)) + "' (" + where + ": " + list + ")");
    }
    return Status::ok();
  }

  std::string path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  Status error(std::string_view key, const std::string& what) const {
    return invalid_argument(file_ + ": '" + path(key) + "' " + what);
  }

 private:
  const toml::Value* find(std::string_view key) {
    known_.emplace(key);
    return table_.find(key);
  }

  Status wrong_type(std::string_view key, const std::string& expected, const toml::Value& v) const {
    return error(key, "must be " + expected + ", got " + a_type(v));
  }

  Status out_of_range(std::string_view key, int64_t lo, int64_t hi, int64_t got) const {
    return error(key, "must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(got));
  }

  // element < 0: a scalar; otherwise the index within an array (for the message).
  Status to_float(std::string_view key, const toml::Value& v, float* out, int64_t element = -1) const {
    const std::string which = element < 0 ? "" : " (element " + std::to_string(element) + ")";
    const std::optional<double> d = v.as_number();
    if (!d) return error(key, (element < 0 ? "must be a number, got " : "must hold numbers, got ") + a_type(v) + which);
    if (std::fabs(*d) > FLT_MAX)
      return error(key, "value " + format_number(*d) + which + " does not fit in a 32-bit float");
    *out = static_cast<float>(*d);
    return Status::ok();
  }

  const toml::Table& table_;
  std::string prefix_;
  const std::string& file_;
  std::set<std::string, std::less<>> known_;
};

// Reads [name] into fill(section) and rejects its unknown keys; absent tables keep defaults.
template <typename Fill>
Status read_table(Section& root, const char* name, const std::string& file, Fill fill) {
  ASSIGN_OR_RETURN(const toml::Table* table, root.table(name));
  if (table == nullptr) return Status::ok();
  Section section(*table, name, file);
  RETURN_IF_ERROR(fill(section));
  return section.check_no_unknown_keys();
}

Status read_input(Section& s, InputConfig& in) {
  RETURN_IF_ERROR(s.read_int("width", 0, 16384, &in.width));
  RETURN_IF_ERROR(s.read_int("height", 0, 16384, &in.height));
  RETURN_IF_ERROR(s.read_int("resize", 0, 16384, &in.resize));
  std::string order = to_string(in.channel_order);
  RETURN_IF_ERROR(s.read_choice("channel_order", {"rgb", "bgr"}, &order));
  in.channel_order = order == "bgr" ? ChannelOrder::kBgr : ChannelOrder::kRgb;
  RETURN_IF_ERROR(s.read_float("scale", &in.scale));
  if (in.scale == 0.0f) return s.error("scale", "must not be 0 (it would erase every pixel)");
  RETURN_IF_ERROR(s.read_float3("mean", &in.mean));
  RETURN_IF_ERROR(s.read_float3("std", &in.std));
  RETURN_IF_ERROR(s.read_string("mean_file", &in.mean_file));
  for (float v : in.std) {
    if (v == 0.0f) return s.error("std", "must not contain 0 (pixels are divided by it)");
  }
  return Status::ok();
}

Status read_output(Section& s, OutputConfig& out) {
  RETURN_IF_ERROR(s.read_string("labels", &out.labels));
  RETURN_IF_ERROR(s.read_bool("softmax", &out.softmax));
  return s.read_int("top_k", 1, std::numeric_limits<int>::max(), &out.top_k);
}

Status read_batching(Section& s, BatchingConfig& b, int max_batch) {
  // Bounded so that "now + delay" can never overflow a clock (one minute is plenty).
  RETURN_IF_ERROR(s.read_int64("max_queue_delay_us", 0, 60'000'000, &b.max_queue_delay_us));
  RETURN_IF_ERROR(s.read_int_array("preferred_batch", &b.preferred_batch));
  for (int size : b.preferred_batch) {
    if (size < 1 || size > max_batch)
      return s.error("preferred_batch", "entries must be in 1..max_batch (" + std::to_string(max_batch) + "), got " +
                                            std::to_string(size));
  }
  return s.read_int("max_queue", 1, 1'000'000, &b.max_queue);
}

Status read_instances(Section& s, InstancesConfig& in) {
  RETURN_IF_ERROR(s.read_int("count", 1, 64, &in.count));
  RETURN_IF_ERROR(s.read_string("gpus", &in.gpus));
  // Only the form is checked here; which GPUs exist is known when the model loads.
  const bool list = !in.gpus.empty() && in.gpus.find_first_not_of("0123456789,") == std::string::npos &&
                    in.gpus.front() != ',' && in.gpus.back() != ',' && in.gpus.find(",,") == std::string::npos;
  if (!in.gpus.empty() && in.gpus != "all" && !list)
    return s.error("gpus", "must be \"all\" or GPU indices such as \"0,1\"");
  RETURN_IF_ERROR(s.read_choice("backend", {"auto", "cpu", "cuda"}, &in.backend));
  RETURN_IF_ERROR(s.read_choice("decode", {"auto", "cpu", "gpu"}, &in.decode));
  return s.read_choice("precision", {"fp32", "tf32", "fp16", "bf16", "int8", "fp8"}, &in.precision);
}

Status read_quantization(Section& s, QuantizationConfig& q) {
  RETURN_IF_ERROR(s.read_string("calibration", &q.calibration));
  RETURN_IF_ERROR(s.read_choice("int8_layers", {"timed", "all"}, &q.int8_layers));
  return s.read_string_array("float_layers", &q.float_layers);
}

Status read_name(Section& s, std::string& name) {
  RETURN_IF_ERROR(s.read_string("name", &name));
  if (name.empty() && s.has("name")) return s.error("name", "must not be empty (leave it out to use the folder name)");
  for (unsigned char c : name) {
    // The name appears in URLs (/v2/models/NAME) and in key=value log lines.
    if (c <= 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '"')
      return s.error("name", "must not contain spaces, control characters, '/', '\\' or '\"'");
  }
  return Status::ok();
}

}  // namespace

Result<ModelConfig> parse_model_config(std::string_view toml_text, const std::string& file_name) {
  ASSIGN_OR_RETURN(toml::Table doc, toml::parse(toml_text, file_name));
  ModelConfig config;
  Section root(doc, "", file_name);
  RETURN_IF_ERROR(read_name(root, config.name));
  RETURN_IF_ERROR(root.read_int("max_batch", 1, 4096, &config.max_batch));
  RETURN_IF_ERROR(read_table(root, "input", file_name, [&](Section& s) { return read_input(s, config.input); }));
  RETURN_IF_ERROR(read_table(root, "output", file_name, [&](Section& s) { return read_output(s, config.output); }));
  RETURN_IF_ERROR(read_table(root, "batching", file_name,
                             [&](Section& s) { return read_batching(s, config.batching, config.max_batch); }));
  RETURN_IF_ERROR(
      read_table(root, "instances", file_name, [&](Section& s) { return read_instances(s, config.instances); }));
  RETURN_IF_ERROR(read_table(root, "quantization", file_name,
                             [&](Section& s) { return read_quantization(s, config.quantization); }));
  RETURN_IF_ERROR(root.check_no_unknown_keys());
  return config;
}

namespace {

// "models/squeezenet/" and "models/squeezenet" both name "squeezenet"; "." names the
// current folder.
std::string folder_name(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(dir), ec);
  if (ec) p = fs::path(dir);
  p = p.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  const std::string name = p.filename().string();
  return name.empty() ? "model" : name;
}

// A canonical decimal folder name ("1", "12"; not "01" or "1a"), or -1.
int version_number(const std::string& name) {
  if (name.empty() || name.size() > 9 || (name.size() > 1 && name[0] == '0')) return -1;
  int v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

Result<int> highest_version(const std::string& dir) {
  std::error_code ec;
  int best = -1;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    best = std::max(best, version_number(it->path().filename().string()));
  }
  if (ec) return not_found(dir + ": cannot list the model folder: " + ec.message());
  if (best < 0)
    return not_found(dir + ": no version folder; put the model at " + (fs::path(dir) / "1" / "model.onnx").string());
  return best;
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// A model folder is untrusted input (it may come from an upload or a shared volume): every
// path it names must resolve inside it, symlinks included, or the server would read, and
// serve as class names, a file the operator never meant to expose ("labels =
// ../../secret.txt", an absolute path, a labels.txt symlink to /etc/passwd).
Result<fs::path> resolve_inside(const fs::path& dir, const fs::path& relative, const std::string& what) {
  if (relative.is_absolute())
    return invalid_argument(what + " '" + relative.string() +
                            "' is an absolute path: name a file inside the model folder");
  std::error_code ec;
  const fs::path root = fs::canonical(dir, ec);
  if (ec) return not_found(dir.string() + ": cannot resolve the model folder: " + ec.message());
  const fs::path target = fs::weakly_canonical(dir / relative, ec);
  if (ec) return not_found(what + " '" + relative.string() + "': cannot resolve: " + ec.message());
  const auto [r, t] = std::mismatch(root.begin(), root.end(), target.begin(), target.end());
  if (r != root.end())
    return invalid_argument(what + " '" + relative.string() + "' resolves to " + target.string() +
                            ", outside the model folder " + root.string() + ": refused");
  return target;
}

Result<ModelConfig> read_config_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > toml::kMaxDocumentBytes)
    return resource_exhausted(path.string() + ": " + std::to_string(size) + " bytes; a config.toml may have at most " +
                              std::to_string(toml::kMaxDocumentBytes));
  ASSIGN_OR_RETURN(std::string text, read_text_file(path.string()));
  return parse_model_config(text, path.string());
}

// input.mean_file inside the folder: its path, or "" when it is the default and absent.
Result<std::string> find_mean_file(const std::string& dir, const std::string& mean_file, const fs::path& config_path) {
  if (mean_file.empty()) return std::string();
  std::error_code ec;
  const bool is_default = mean_file == InputConfig().mean_file;
  if (is_default && !fs::exists(fs::symlink_status(fs::path(dir) / mean_file, ec))) return std::string();
  Result<fs::path> inside = resolve_inside(dir, mean_file, "input.mean_file");
  if (!inside.is_ok()) return inside.status().with_context(config_path.string());
  if (!is_file(*inside)) return not_found(config_path.string() + ": input.mean_file '" + mean_file + "' is not a file");
  return inside->string();
}

}  // namespace

Result<ModelFolder> load_model_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return not_found(dir + ": no such model folder");
  ModelFolder folder;
  folder.dir = dir;
  const fs::path config_path = fs::path(dir) / "config.toml";
  if (fs::exists(fs::symlink_status(config_path, ec))) {
    ASSIGN_OR_RETURN(const fs::path inside, resolve_inside(dir, "config.toml", "config.toml"));
    ASSIGN_OR_RETURN(folder.config, read_config_file(inside));
  }
  if (folder.config.name.empty()) folder.config.name = folder_name(dir);

  ASSIGN_OR_RETURN(folder.version, highest_version(dir));
  const fs::path version_dir = fs::path(dir) / std::to_string(folder.version);
  // A model before a plan: a plan is tied to one engine build and GPU, the model is not.
  for (const char* file : {"model.onnx", "deploy.prototxt", "model.plan"}) {
    if (is_file(version_dir / file)) {
      const fs::path relative = fs::path(std::to_string(folder.version)) / file;
      RETURN_IF_ERROR(resolve_inside(dir, relative, "model file").status());
      folder.model_path = (version_dir / file).string();
      break;
    }
  }
  if (folder.model_path.empty())
    return not_found(version_dir.string() +
                     ": no model.onnx, deploy.prototxt (with model.caffemodel) or model.plan in the highest version "
                     "folder");
  if (folder.model_path.ends_with("deploy.prototxt")) {
    const fs::path weights = fs::path(std::to_string(folder.version)) / "model.caffemodel";
    if (!is_file(fs::path(dir) / weights))
      return not_found(folder.model_path + " has no model.caffemodel beside it (the Caffe weights)");
    ASSIGN_OR_RETURN(const fs::path inside, resolve_inside(dir, weights, "Caffe weights"));
    folder.weights_path = inside.string();
  }

  ASSIGN_OR_RETURN(folder.mean_path, find_mean_file(dir, folder.config.input.mean_file, config_path));
  if (const std::string& calibration = folder.config.quantization.calibration; !calibration.empty()) {
    Result<fs::path> inside = resolve_inside(dir, calibration, "quantization.calibration");
    if (!inside.is_ok()) return inside.status().with_context(config_path.string());
    // It may not exist yet: `inferd build --calibration` writes it; an INT8 load reads it.
    std::error_code exists_ec;
    if (fs::exists(*inside, exists_ec) && !is_file(*inside))
      return invalid_argument(config_path.string() + ": quantization.calibration '" + calibration +
                              "' is not a regular file");
    folder.calibration_path = inside->string();
  }

  const std::string& labels = folder.config.output.labels;
  if (!labels.empty()) {
    const fs::path labels_path = fs::path(dir) / labels;
    const bool is_default = labels == OutputConfig().labels;
    if (!is_default || fs::exists(fs::symlink_status(labels_path, ec))) {
      Result<fs::path> inside = resolve_inside(dir, labels, "output.labels");
      if (!inside.is_ok()) return inside.status().with_context(config_path.string());
      Result<std::vector<std::string>> read = read_labels(inside->string());
      if (!read.is_ok() && !is_default) return read.status().with_context(config_path.string() + ": output.labels");
      if (!read.is_ok()) return read.status();
      folder.labels = std::move(read).value();
    }
  }
  return folder;
}

Result<ModelFolder> model_from_file(const std::string& model_path, const std::string& labels_path) {
  if (!is_file(model_path)) return not_found(model_path + ": no such model file");
  ModelFolder folder;
  const fs::path path(model_path);
  folder.dir = path.has_parent_path() ? path.parent_path().string() : ".";
  folder.model_path = model_path;
  folder.version = 0;
  folder.config.name = path.stem().string();
  folder.config.output.labels = labels_path;
  if (!labels_path.empty()) {
    ASSIGN_OR_RETURN(folder.labels, read_labels(labels_path));
  }
  return folder;
}

Result<ModelFolder> load_model(const std::string& path, const std::string& labels_path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return not_found(path + ": no such model folder or model file");
  if (!fs::is_directory(path, ec)) return model_from_file(path, labels_path);
  ASSIGN_OR_RETURN(ModelFolder folder, load_model_folder(path));
  if (!labels_path.empty()) {
    ASSIGN_OR_RETURN(folder.labels, read_labels(labels_path));
    folder.config.output.labels = labels_path;
  }
  return folder;
}

Result<std::vector<std::string>> read_labels(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  std::string_view rest(text);
  if (rest.starts_with("\xef\xbb\xbf")) rest.remove_prefix(3);  // byte-order mark
  std::vector<std::string> lines;
  while (!rest.empty()) {
    const size_t end = std::min(rest.find('\n'), rest.size());
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    // Trailing spaces and "\r" (files written on Windows) are invisible and not part of a name.
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    lines.emplace_back(line);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return invalid_argument(path + ": no labels (the file is empty; write one class per line)");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty())
      return invalid_argument(path + ":" + std::to_string(i + 1) +
                              ": blank line between labels (line k names class k-1, so a gap would shift every "
                              "class after it)");
  }
  return lines;
}

}  // namespace inferd
