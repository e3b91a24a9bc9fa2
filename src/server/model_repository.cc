#include "server/model_repository.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "core/log.h"

namespace inferd {

namespace fs = std::filesystem;

Status check_model_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name.front() == '.')
    return invalid_argument("invalid model name '" + name + "'");
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return invalid_argument("invalid model name '" + name + "'");
  return Status::ok();
}

ModelRepository::ModelRepository(std::string root, ServeModelOptions options)
    : root_(std::move(root)), options_(std::move(options)) {}

// Every build goes through here: an exception from it (out of memory for an absurd model,
// a filesystem error) becomes the load's error instead of ending the server from the
// management thread or from SIGHUP's reload on the main thread.
Result<std::shared_ptr<ServedModel>> ModelRepository::build(const std::string& path) const {
  try {
    return ServedModel::load(path, options_);
  } catch (const std::exception& e) {
    log_error("model_build_threw").kv("path", path).kv("error", e.what());
    return internal_error(path + ": building the model failed: " + e.what());
  }
}

Status ModelRepository::install(std::shared_ptr<ServedModel> model, const std::string& source) {
  std::shared_ptr<ServedModel> old;
  {
    std::lock_guard lock(mu_);
    auto& slot = models_[model->name()];
    old = std::move(slot);
    slot = std::move(model);
    sources_[slot->name()] = source;
  }
  if (old) retire(std::move(old));
  return Status::ok();
}

bool ModelRepository::replace_if_current(std::shared_ptr<ServedModel> model, const std::weak_ptr<ServedModel>& expected) {
  std::shared_ptr<ServedModel> old;
  bool replaced = false;
  {
    std::lock_guard lock(mu_);
    auto it = models_.find(model->name());
    replaced = it != models_.end() && it->second == expected.lock();
    if (replaced) {
      old = std::move(it->second);
      it->second = std::move(model);
    } else {
      old = std::move(model);  // unloaded or replaced while it was built: the new one is not installed
    }
  }
  retire(std::move(old));
  return replaced;
}

void ModelRepository::retire(std::shared_ptr<ServedModel> model) {
  std::lock_guard lock(mu_);
  retired_.push_back(std::move(model));
  if (!reaper_.joinable()) {
    try {
      reaper_ = std::thread([this] { reap(); });
    } catch (const std::system_error& e) {
      // No thread now: the model waits in retired_ for a later retire() or the destructor.
      log_error("reaper_thread_failed").kv("error", e.what());
    }
  }
  reap_wake_.notify_one();
}

void ModelRepository::reap() {
  std::unique_lock lock(mu_);
  for (;;) {
    // Take the models no request holds any more; drain them outside the lock.
    std::vector<std::shared_ptr<ServedModel>> done;
    for (auto it = retired_.begin(); it != retired_.end();) {
      if (it->use_count() == 1) {
        done.push_back(std::move(*it));
        it = retired_.erase(it);
      } else {
        ++it;
      }
    }
    if (!done.empty()) {
      // Still counted by retired_count() until freed: its batcher thread lives until then.
      const size_t taken = done.size();
      reaping_ += taken;
      lock.unlock();
      for (auto& model : done) model->drain();
      done.clear();
      lock.lock();
      reaping_ -= taken;
      continue;
    }
    if (stopping_ && retired_.empty()) return;
    // Requests let go of a model without telling the repository: look again shortly.
    if (retired_.empty()) reap_wake_.wait(lock, [this] { return stopping_ || !retired_.empty(); });
    else reap_wake_.wait_for(lock, std::chrono::milliseconds(5));
  }
}

size_t ModelRepository::retired_count() const {
  std::lock_guard lock(mu_);
  return retired_.size() + reaping_;
}

ModelRepository::~ModelRepository() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  reap_wake_.notify_one();
  if (reaper_.joinable()) reaper_.join();
  for (auto& model : retired_) model->drain();  // only if the reaper never started
}

std::vector<std::string> ModelRepository::available() const {
  std::vector<std::string> names;
  std::error_code ec;
  if (root_.empty()) return names;
  // Non-throwing forms throughout: a symlink loop or an unreadable entry in the repository
  // folder is skipped, never an exception out of a load (which would end the server).
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    const std::string name = it->path().filename().string();
    if (it->is_directory(type_ec) && check_model_name(name).is_ok()) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status ModelRepository::load_all() {
  if (root_.empty()) return invalid_argument("no model repository configured");
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return not_found("model repository " + root_ + " is not a directory");
  const auto names = available();
  if (names.empty()) return not_found("model repository " + root_ + " has no model folders");
  for (const auto& name : names) RETURN_IF_ERROR(load(name));
  return Status::ok();
}

Status ModelRepository::load_path(const std::string& path) {
  ASSIGN_OR_RETURN(auto model, build(path));
  return install(std::move(model), path);
}

Status ModelRepository::load(const std::string& name) {
  RETURN_IF_ERROR(check_model_name(name));
  std::string path;
  {
    std::lock_guard lock(mu_);
    auto it = sources_.find(name);
    if (it != sources_.end()) path = it->second;
  }
  if (path.empty()) {
    if (root_.empty()) return not_found("unknown model '" + name + "'");
    path = (fs::path(root_) / name).string();
    std::error_code ec;
    if (!fs::is_directory(path, ec)) return not_found("unknown model '" + name + "' (no folder " + path + ")");
  }
  auto model = build(path);
  if (!model.is_ok()) return model.status();
  if ((*model)->name() != name && !root_.empty())
    return invalid_argument(path + ": config name '" + (*model)->name() + "' differs from its folder name '" + name + "'");
  return install(std::move(model).value(), path);
}

Status ModelRepository::unload(const std::string& name) {
  std::shared_ptr<ServedModel> old;
  {
    std::lock_guard lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return not_found("model '" + name + "' is not loaded");
    old = std::move(it->second);
    models_.erase(it);
  }
  retire(std::move(old));
  log_info("model_unloaded").kv("model", name);
  return Status::ok();
}

Status ModelRepository::reload_all() {
  // The models loaded now: one unloaded through the API stays unloaded until loaded again.
  struct Loaded {
    std::string name, path;
    std::weak_ptr<ServedModel> current;  // not held: an unloaded model must be free to go
  };
  std::vector<Loaded> loaded;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, path] : sources_)
      if (auto it = models_.find(name); it != models_.end()) loaded.push_back({name, path, it->second});
  }
  for (const auto& [name, path, current] : loaded) {
    auto model = build(path);
    if (!model.is_ok()) {
      // Keep serving the old version: a broken edit must not take a model down.
      log_error("model_reload_failed").kv("model", name).kv("error", model.status().message());
      continue;
    }
    // A model unloaded (or loaded anew) through the API while this one was built keeps
    // that state: the reload does not bring it back.
    if (!replace_if_current(std::move(model).value(), current)) {
      log_info("model_reload_skipped").kv("model", name).kv("reason", "unloaded or replaced during the reload");
      continue;
    }
    log_info("model_reloaded").kv("model", name);
  }
  return Status::ok();
}

std::shared_ptr<ServedModel> ModelRepository::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second;
}

std::shared_ptr<ServedModel> ModelRepository::only_model() const {
  std::lock_guard lock(mu_);
  return models_.size() == 1 ? models_.begin()->second : nullptr;
}

std::vector<std::shared_ptr<ServedModel>> ModelRepository::models() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<ServedModel>> out;
  for (const auto& [name, m] : models_) out.push_back(m);
  return out;
}

void ModelRepository::drain_all() {
  for (const auto& m : models()) m->drain();
}

size_t ModelRepository::abandon_queued_all(const Status& why) {
  size_t n = 0;
  for (const auto& m : models()) n += m->abandon_queued(why);
  return n;
}

}  // namespace inferd
