// The models a server serves, by name: loaded from a repository folder (one model
// folder per subfolder, docs/model-repository.md) or from a single model path (the short form).
//
// Threading: all methods may be called from any thread. find() returns a shared_ptr,
// so a request keeps its model alive across a concurrent unload or reload: the old
// model drains (finishes its queue) when its last request lets go of it.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/served_model.h"

namespace inferd {

class ModelRepository {
 public:
  // `root` = a repository folder, or "" when serving one model given by path.
  ModelRepository(std::string root, ServeModelOptions options);

  Status load_all();                             // every model folder under root
  Status load_path(const std::string& path);     // the short form: one model folder or file
  Status load(const std::string& name);          // (re)load root/name; swaps atomically
  Status unload(const std::string& name);
  Status reload_all();                           // SIGHUP: every loaded model, built anew
                                                 // (an unloaded one stays unloaded)

  std::shared_ptr<ServedModel> find(const std::string& name) const;
  std::shared_ptr<ServedModel> only_model() const;  // the model when exactly one is loaded
  std::vector<std::shared_ptr<ServedModel>> models() const;
  // Folders under root that look like models (for the repository index).
  std::vector<std::string> available() const;

  // Drains every model (graceful shutdown).
  void drain_all();
  // A drain out of time: every served model answers what it still has queued with `why`
  // instead of running it for clients that were answered already; returns how many.
  size_t abandon_queued_all(const Status& why);
  ~ModelRepository();  // waits for retired models to finish
  size_t retired_count() const;  // retired models not yet freed, being drained included (tests, metrics)

 private:
  Result<std::shared_ptr<ServedModel>> build(const std::string& path) const;  // ServedModel::load, never throws
  Status install(std::shared_ptr<ServedModel> model, const std::string& source);
  // Installs `model` in place of `expected` if that is still the one served under its name;
  // else `model` is retired unused. True when it was installed.
  bool replace_if_current(std::shared_ptr<ServedModel> model, const std::weak_ptr<ServedModel>& expected);
  // A model replaced or unloaded keeps answering the requests that hold it; one reaper
  // thread waits until the repository is a retired model's last owner, then drains and
  // frees it (never on a batcher thread, which could not join itself). One thread for all:
  // a thread per retired model, joined only at exit, grew VmSize by 8 MiB per reload.
  void retire(std::shared_ptr<ServedModel> model);
  void reap();
  std::vector<std::shared_ptr<ServedModel>> retired_;  // guarded by mu_
  size_t reaping_ = 0;  // taken from retired_ by the reaper, not yet freed; guarded by mu_
  std::condition_variable reap_wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread reaper_;     // started by the first retire()

  const std::string root_;
  const ServeModelOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<ServedModel>> models_;
  std::map<std::string, std::string> sources_;  // name -> path it was loaded from
};

// Model names travel in URLs: letters, digits, '-', '_', '.', not starting with '.'.
Status check_model_name(const std::string& name);

}  // namespace inferd
