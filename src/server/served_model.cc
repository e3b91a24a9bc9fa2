#include "server/served_model.h"

#include "backends/api/registry.h"
#include "core/log.h"
#include "runtime/model_config.h"
#include "server/instance_executor.h"

namespace inferd {
namespace {

// Before any execution context allocates its arena.
Status check_instance_memory(const LoadedModel& model, int64_t limit) {
  const int64_t bytes = model.engine->memory_plan().arena_bytes;
  if (limit <= 0 || bytes <= limit) return Status::ok();
  constexpr int64_t kMiB = int64_t{1} << 20;
  return resource_exhausted(model.folder.model_path + ": one instance needs " +
                            std::to_string((bytes + kMiB - 1) / kMiB) + " MiB of activation memory at max_batch " +
                            std::to_string(model.engine->max_batch()) + " (input " +
                            to_string(model.engine->inputs().at(0).shape) + "); the limit is " +
                            std::to_string(limit / kMiB) + " MiB (--max-instance-memory-mib)");
}

// The GPUs the model's instances run on: --gpus, else the config's [instances] gpus, else
// --gpu; one entry (unused) for the cpu backend.
Result<std::vector<int>> instance_devices(const std::string& path, const ServeModelOptions& options) {
  ASSIGN_OR_RETURN(ModelFolder folder, load_model(path, options.labels));
  const InstancesConfig& cfg = folder.config.instances;
  const std::string backend = resolve_backend_name(options.load.backend.empty() ? cfg.backend : options.load.backend);
  if (backend != "cuda") return std::vector<int>{options.load.gpu};
  const std::string list = !options.load.gpus.empty() ? options.load.gpus
                           : !cfg.gpus.empty()        ? cfg.gpus
                                                      : std::to_string(options.load.gpu);
  Result<std::vector<int>> gpus = parse_device_list(backend, list);
  if (!gpus.is_ok()) return gpus.status().with_context(folder.dir + ": [instances] gpus");
  return gpus;
}

}  // namespace

Result<std::shared_ptr<ServedModel>> ServedModel::load(const std::string& path, const ServeModelOptions& options) {
  std::shared_ptr<ServedModel> m(new ServedModel());
  ASSIGN_OR_RETURN(const std::vector<int> gpus, instance_devices(path, options));
  std::vector<InstanceContext> contexts;
  std::string gpu_names;
  for (int gpu : gpus) {
    // One engine per GPU (its own copy of the weights; the plan is built, or taken from the
    // cache, once), `count` contexts on each, all fed by one batcher.
    LoadOptions load = options.load;
    load.gpu = gpu;
    ASSIGN_OR_RETURN(LoadedModel loaded, load_classifier(path, options.labels, load));
    RETURN_IF_ERROR(check_instance_memory(loaded, options.max_instance_bytes));
    for (int i = 0; i < loaded.folder.config.instances.count; ++i) {
      ASSIGN_OR_RETURN(auto ctx, loaded.engine->create_context());
      RETURN_IF_ERROR(ctx->prepare());
      contexts.push_back({std::move(ctx), gpu});
    }
    gpu_names += (gpu_names.empty() ? "" : ",") + loaded.engine->device().name();
    if (m->model_.engine == nullptr) {
      m->model_ = std::move(loaded);
    } else {
      m->engines_.push_back(std::move(loaded.engine));
    }
  }
  m->on_decode_ = options.on_decode;  // before the instances, which report their decodes too
  ASSIGN_OR_RETURN(std::vector<std::unique_ptr<BatchExecutor>> instances, m->make_instances(std::move(contexts)));
  const auto& cfg = m->model_.folder.config;
  m->sample_size_ = instances.front()->input_size();
  BatcherOptions batching;
  batching.policy.max_batch = m->model_.engine->max_batch();
  batching.policy.max_queue_delay_us = cfg.batching.max_queue_delay_us;
  batching.policy.preferred_batch = cfg.batching.preferred_batch;
  batching.policy.max_queue = cfg.batching.max_queue;
  if (options.on_batch) {
    batching.on_batch = [cb = options.on_batch, name = cfg.name](int b, double q, double c,
                                                                  std::span<const BatchStage> stages) {
      cb(name, b, q, c, stages);
    };
  }
  const size_t instances_count = instances.size();
  ASSIGN_OR_RETURN(m->batcher_, Batcher::create(std::move(batching), std::move(instances)));
  log_info("model_loaded")
      .kv("model", cfg.name)
      .kv("version", m->model_.folder.version)
      .kv("instances", instances_count)
      .kv("devices", gpu_names)
      .kv("decode", m->decoder_name_)
      .kv("max_batch", m->model_.engine->max_batch())
      .kv("ms", m->model_.load_ms);
  return m;
}

Result<std::vector<std::unique_ptr<BatchExecutor>>> ServedModel::make_instances(std::vector<InstanceContext> contexts) {
  const InstancesConfig& cfg = model_.folder.config.instances;
  const std::string backend(model_.engine->backend().name());
  // Every instance decodes images or none does (one batcher feeds them all).
  std::vector<std::unique_ptr<BatchImageDecoder>> decoders;
  Status unavailable = cfg.decode == "cpu" ? Status::ok() : check_device_decoding(*model_.engine, model_.preprocess);
  for (size_t i = 0; cfg.decode != "cpu" && unavailable.is_ok() && i < contexts.size(); ++i) {
    auto decoder = open_image_decoder(backend, contexts[i].gpu);
    if (!decoder.is_ok()) {
      unavailable = decoder.status();
      decoders.clear();
      break;
    }
    decoders.push_back(std::move(decoder).value());
  }
  if (cfg.decode == "gpu" && !unavailable.is_ok())
    return unavailable.with_context(model_.folder.dir + ": [instances] decode = \"gpu\"");
  if (cfg.decode == "auto" && !unavailable.is_ok() && backend != "cpu")
    log_warn("device_decode_unavailable").kv("model", model_.folder.config.name).kv("why", unavailable.message());
  if (!decoders.empty()) decoder_name_ = std::string(decoders[0]->backend_name());
  std::vector<std::unique_ptr<BatchExecutor>> instances;
  for (size_t i = 0; i < contexts.size(); ++i) {
    if (decoders.empty()) {
      instances.push_back(
          host_decoding_executor(std::move(contexts[i].ctx), model_.preprocess, kMaxImagePixels, on_decode_));
      continue;
    }
    ASSIGN_OR_RETURN(auto instance, image_decoding_executor(std::move(contexts[i].ctx), std::move(decoders[i]),
                                                            model_.preprocess, kMaxImagePixels));
    instances.push_back(std::move(instance));
  }
  decode_mode_ = decoders.empty() ? "cpu" : cfg.decode;
  gpu_backlog_ = static_cast<size_t>(model_.engine->max_batch()) * contexts.size();
  return instances;
}

std::vector<std::shared_ptr<const Backend>> ServedModel::backends() const {
  std::vector<std::shared_ptr<const Backend>> out{model_.engine->shared_backend()};
  for (const auto& engine : engines_) out.push_back(engine->shared_backend());
  return out;
}

ServedModel::~ServedModel() {
  if (batcher_) batcher_->drain();
}

std::vector<Prediction> ServedModel::predictions(std::vector<float> row, int top_k) const {
  if (model_.folder.config.output.softmax) softmax(row);
  return inferd::top_k(row, top_k, model_.folder.labels);
}

void ServedModel::infer(std::vector<float> sample, Clock::time_point deadline,
                        std::function<void(Result<std::vector<float>>)> done) {
  BatchRequest request;
  request.input = std::move(sample);
  request.deadline = deadline;
  request.done = done;
  if (Status s = batcher_->submit(std::move(request)); !s.is_ok()) done(s);
}

namespace {
std::string ms_between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}
}  // namespace

void ServedModel::decode_on_host(WorkerPool& decoders, std::string image, Clock::time_point deadline,
                                 std::function<void(Result<std::vector<float>>)> done,
                                 std::shared_ptr<RequestStage> stage) {
  if (stage) stage->set("waiting for an image decoder");
  // The pool task keeps this model alive until the request is answered.
  const auto queued = Clock::now();
  const size_t bytes = image.size();
  // `done` is shared: a refused task never ran it, and the refusal answers through it.
  auto answer = std::make_shared<std::function<void(Result<std::vector<float>>)>>(std::move(done));
  Status admitted = decoders.try_submit(
      [self = shared_from_this(), image = std::move(image), deadline, queued, answer, stage]() mutable {
        auto& done = *answer;
        // The deadline is checked before and after decoding too, not only at the batcher: a
        // request that expired while it waited for a decoder, or while decoding, is answered
        // now instead of after the rest of the pipeline.
        const auto start = Clock::now();
        if (start > deadline)
          return done(deadline_exceeded("deadline exceeded while waiting " + ms_between(queued, start) +
                                        " ms for an image decoder"));
        if (stage) stage->set("decoding its image");
        std::vector<float> sample(self->sample_size_);
        Status s = image_to_tensor(self->model_, {reinterpret_cast<const uint8_t*>(image.data()), image.size()},
                                   sample.data());
        const auto decoded = Clock::now();
        if (self->on_decode_) self->on_decode_(std::chrono::duration<double>(decoded - start).count());
        // Every decode failure is the client's image (bad bytes, too many pixels): a 400.
        if (!s.is_ok()) return done(invalid_argument(s.message()));
        if (decoded > deadline)
          return done(
              deadline_exceeded("deadline exceeded while decoding the image (" + ms_between(start, decoded) + " ms)"));
        if (stage) stage->set("in the batch queue or on the engine");
        self->infer(std::move(sample), deadline, std::move(done));
      },
      bytes);
  if (!admitted.is_ok()) (*answer)(admitted);
}

bool ServedModel::decode_on_device(std::string_view image, const WorkerPool& decoders) const {
  if (decode_mode_ == "cpu") return false;
  // JPEGs only (SOI, then a marker): PNGs and the rest are the host's.
  if (image.size() < 3 || static_cast<uint8_t>(image[0]) != 0xFF || static_cast<uint8_t>(image[1]) != 0xD8 ||
      static_cast<uint8_t>(image[2]) != 0xFF)
    return false;
  if (decode_mode_ == "gpu") return true;
  // auto: the GPU, which on the H200 decoded faster at every load (ResNet-50 behind
  // /classify, 2026-12-05: 1.2 vs 3.9 ms at c=1, 11,536 vs 3,686 req/s at c=256,
  // docs/benchmarks.md); the host's threads take what arrives while the GPU's backlog
  // already fills every instance's next batch and a host thread is free.
  const bool backlog = batcher_->queued() >= gpu_backlog_;
  return !(backlog && decoders.pending_tasks() < static_cast<size_t>(decoders.threads()));
}

void ServedModel::submit_image(WorkerPool& decoders, std::shared_ptr<const std::string> image,
                               Clock::time_point deadline, std::function<void(Result<std::vector<float>>)> done,
                               std::shared_ptr<RequestStage> stage) {
  if (stage)
    stage->set(decode_mode_ == "cpu" ? "in the batch queue or decoding on its instance"
                                     : "in the batch queue or decoding on the GPU");
  // `done` is shared: a refused request never ran it, and the refusal answers through it.
  auto answer = std::make_shared<std::function<void(Result<std::vector<float>>)>>(std::move(done));
  BatchRequest request;
  request.image = image;
  request.deadline = deadline;
  // A JPEG the device does not decode (CMYK, a subsampling nvJPEG refuses) comes back
  // kUnimplemented: the host's decoders take it, as if it had gone there first.
  request.done = [self = shared_from_this(), &decoders, image, deadline, answer,
                  stage](Result<std::vector<float>> row) {
    if (row.is_ok() || row.status().code() != StatusCode::kUnimplemented) return (*answer)(std::move(row));
    self->decode_on_host(decoders, *image, deadline, std::move(*answer), stage);
  };
  if (Status s = batcher_->submit(std::move(request)); !s.is_ok()) (*answer)(s);
}

void ServedModel::classify_raw(WorkerPool& decoders, std::string image, Clock::time_point deadline,
                               std::function<void(Result<std::vector<float>>)> done,
                               std::shared_ptr<RequestStage> stage) {
  // A request that finds the server idle (no image decoding, nothing queued, an instance
  // free) is decoded by that instance on its own thread: no hand-off to a decoder thread
  // and back, and no copy of its sample (the server's cost for a lone request, issue 14).
  // Under load the decoder pool's threads decode in parallel while the instances run. The
  // pool's admission limits apply alike, so an image's answer does not depend on the load.
  const bool idle = decode_mode_ == "cpu" && decoders.idle_and_admits(image.size()) && batcher_->idle();
  if (idle || decode_on_device(image, decoders))
    return submit_image(decoders, std::make_shared<const std::string>(std::move(image)), deadline, std::move(done),
                        std::move(stage));
  decode_on_host(decoders, std::move(image), deadline, std::move(done), std::move(stage));
}

void ServedModel::classify(WorkerPool& decoders, std::string image, int top_k, Clock::time_point deadline,
                           std::function<void(Result<std::vector<Prediction>>)> done,
                           std::shared_ptr<RequestStage> stage) {
  classify_raw(decoders, std::move(image), deadline,
               [self = shared_from_this(), top_k, done = std::move(done)](Result<std::vector<float>> row) {
                 if (!row.is_ok()) return done(row.status());
                 done(self->predictions(std::move(row).value(), top_k));
               },
               std::move(stage));
}

}  // namespace inferd
