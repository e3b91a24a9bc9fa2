// One model being served: the loaded classifier, its execution contexts (instances)
// behind a dynamic Batcher, and the request path image bytes -> top-k.
//
// Threading: every method may be called from any thread. Callbacks (`done`) run on a
// decode worker or a batcher worker thread; they must be quick and must not throw.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/batcher.h"
#include "server/classifier.h"
#include "server/request_stage.h"
#include "server/worker_pool.h"

namespace inferd {

struct ServeModelOptions {
  LoadOptions load;
  std::string labels;  // labels file for a model given as a file
  // Called per executed batch (metrics): size, queue wait of the oldest, compute time, and
  // the parts of it the instance timed on its device (BatchExecutor::stages()).
  std::function<void(const std::string& model, int batch, double queue_ms, double compute_ms,
                     std::span<const BatchStage> stages)>
      on_batch;
  std::function<void(double seconds)> on_decode;  // image decode + preprocess time
  // Activation memory (the execution context's arena: inputs, outputs and intermediates
  // for max_batch samples) one instance may need. A model file is untrusted input: one
  // declaring a 16384x16384 input would otherwise take gigabytes per instance and per
  // decoded request.
  int64_t max_instance_bytes = int64_t{4} << 30;
};

class ServedModel : public std::enable_shared_from_this<ServedModel> {
 public:
  using Clock = std::chrono::steady_clock;

  static Result<std::shared_ptr<ServedModel>> load(const std::string& path, const ServeModelOptions& options);
  ~ServedModel();

  const std::string& name() const { return model_.folder.config.name; }
  int version() const { return model_.folder.version; }
  const LoadedModel& model() const { return model_; }
  // The backends (one per device) its instances run on.
  std::vector<std::shared_ptr<const Backend>> backends() const;
  size_t sample_size() const { return sample_size_; }

  // Decodes `image` on `decoders`, then batches it. `done` gets the top-k or an error
  // (kInvalidArgument: bad image; kResourceExhausted: queue full; kDeadlineExceeded).
  // `stage`, when given, follows the request (decoder queue, decode, batching) for the
  // deadline timer's message.
  void classify(WorkerPool& decoders, std::string image, int top_k, Clock::time_point deadline,
                std::function<void(Result<std::vector<Prediction>>)> done,
                std::shared_ptr<RequestStage> stage = nullptr);
  // Decodes `image` on `decoders`, or on the instances' GPU (config [instances] decode),
  // then batches it: the raw output row.
  void classify_raw(WorkerPool& decoders, std::string image, Clock::time_point deadline,
                    std::function<void(Result<std::vector<float>>)> done,
                    std::shared_ptr<RequestStage> stage = nullptr);
  // A preprocessed sample (KServe FP32 input): the raw output row.
  void infer(std::vector<float> sample, Clock::time_point deadline,
             std::function<void(Result<std::vector<float>>)> done);

  // Where its JPEGs are decoded: "cpu", or the instances' decoder ("nvjpeg hardware") with
  // the config's [instances] decode mode ("auto", "gpu").
  const std::string& decoder_name() const { return decoder_name_; }

  // Top-k of one output row (softmax first when the config asks for it).
  std::vector<Prediction> predictions(std::vector<float> row, int top_k) const;

  Batcher::Stats stats() const { return batcher_->stats(); }
  // Stops admission, finishes what is queued (graceful shutdown / unload / reload).
  void drain() { batcher_->drain(); }
  // A drain out of time: what is still queued is answered `why` (Batcher::abandon_queued).
  size_t abandon_queued(const Status& why) { return batcher_->abandon_queued(why); }

 private:
  struct InstanceContext {
    std::unique_ptr<ExecutionContext> ctx;
    int gpu = 0;
  };
  ServedModel() = default;
  // The batcher's instances over `contexts`, each with its device's image decoder when the
  // config's [instances] decode asks for one and the device has one.
  Result<std::vector<std::unique_ptr<BatchExecutor>>> make_instances(std::vector<InstanceContext> contexts);
  // Whether `image` goes to the instances' device decoder rather than to `decoders`.
  bool decode_on_device(std::string_view image, const WorkerPool& decoders) const;
  // The host path of classify_raw(): decoded into a sample on `decoders`, then batched.
  void decode_on_host(WorkerPool& decoders, std::string image, Clock::time_point deadline,
                      std::function<void(Result<std::vector<float>>)> done, std::shared_ptr<RequestStage> stage);
  // The device path of classify_raw(): the compressed image straight into the batch queue.
  void submit_image(WorkerPool& decoders, std::shared_ptr<const std::string> image, Clock::time_point deadline,
                    std::function<void(Result<std::vector<float>>)> done, std::shared_ptr<RequestStage> stage);

  LoadedModel model_;                                   // the first device's
  std::vector<std::shared_ptr<const Engine>> engines_;  // the other devices' (instance group)
  size_t sample_size_ = 0;
  std::unique_ptr<Batcher> batcher_;
  std::function<void(double)> on_decode_;
  // [instances] decode; "cpu" when the instances have no device decoder (they decode a
  // request that finds them idle on their own thread: classify_raw())
  std::string decode_mode_ = "cpu";
  std::string decoder_name_ = "cpu";
  size_t gpu_backlog_ = 0;  // auto: queued requests over which the host's threads help (max_batch x instances)
};

}  // namespace inferd
