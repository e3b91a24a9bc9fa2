// The dynamic batcher of one model: coalesces single-sample requests into batches and runs
// them on a group of instances (execution contexts), one worker thread per instance.
// When a batch runs is BatchPolicy's decision (batch_policy.h); this class only moves
// requests, threads and results around.
//
// Threading contract:
//   - submit(), stats() and drain() may be called from any thread, concurrently.
//     submit() never blocks on inference: it takes the queue's mutex for a push.
//   - Each BatchExecutor is used by exactly one worker thread, never concurrently, and
//     only between create() and the end of drain().
//   - BatchRequest::done and BatcherOptions::on_batch run on a worker thread with no
//     lock held (they may call submit() or stats()); they must not throw and should be
//     quick: the instance idles while they run. They must not call drain() or destroy
//     the Batcher (a worker cannot join itself).
//   - Every request that submit() accepts is answered exactly once through `done`: with
//     its output row, with the executor's error, or with kDeadlineExceeded when its
//     deadline passed before it was taken into a batch. It is executed at most once.
//     A request that submit() refuses is never answered (the caller has the Status).
//   - drain() (and the destructor) stops admission, runs everything already queued
//     (nothing is dropped; deadlines still apply), answers it, and joins the workers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "server/batch_policy.h"

namespace inferd {

// The batcher's time source. Timestamps (enqueue, deadlines, queue and compute times) and
// the policy's decisions use now(); waiting for a wake-up time is done on the real
// steady clock for (wake_at - now()), so a fake clock is for timestamps, not for sleeps.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual BatchTime now() const = 0;
};

// std::chrono::steady_clock; the default.
Clock& steady_clock_source();

struct BatchRequest {
  std::vector<float> input;  // one preprocessed sample: BatchExecutor::input_size() floats; empty with `image`
  BatchTime deadline = BatchTime::max();  // max() = none
  // Called exactly once: the sample's output row, or an error (see the contract above).
  std::function<void(Result<std::vector<float>>)> done;
  // Instead of `input`, a compressed image that the instance decodes into the batch's input
  // (BatchExecutor::decodes_images()): shared, so that the submitter keeps the
  // bytes to decode on the CPU when the device cannot (its `done` gets kUnimplemented then).
  std::shared_ptr<const std::string> image;
};

// A sample of the next batch that is still a compressed image: the instance decodes it into
// `slot` (on its device, or on its worker thread).
struct EncodedSample {
  int slot = 0;
  std::string_view bytes;
};

// A part of one batch's execution that the instance timed on its device's clock (the
// stream's markers: on a GPU its own timestamps, so the parts are the device's time, not
// the host's waits for it).
struct BatchStage {
  std::string_view name;  // "h2d", "device_decode", "compute"
  double ms = 0;
};

// One instance: implemented by the server over an ExecutionContext. Called only from its
// worker thread; returned pointers and spans stay valid until the next execute().
class BatchExecutor {
 public:
  virtual ~BatchExecutor() = default;
  virtual size_t input_size() const = 0;                 // floats per sample; the same for every instance
  virtual float* input(int slot) = 0;                    // where sample `slot` of the next batch goes
  virtual Status execute(int batch) = 0;                 // runs samples 0..batch-1 (batch <= max_batch)
  virtual std::span<const float> output(int slot) const = 0;  // sample `slot`'s output after execute()

  // Whether execute_with_images() decodes compressed images: on the instance's device (a
  // GPU's JPEG decoder), or on its own worker thread. The same for every instance of a batcher.
  virtual bool decodes_images() const { return false; }
  // Whether those images are decoded on a device (counted in Stats::device_images) rather
  // than on the worker thread's host core (Stats::host_images).
  virtual bool decodes_on_device() const { return decodes_images(); }
  // execute(), where the slots in `encoded` hold compressed images, decoded into their rows
  // first; the other slots were written through input(). One Status per encoded sample: a
  // bad image fails alone (kInvalidArgument, or kUnimplemented for an image the device
  // cannot decode: decode it on the CPU) and its row's output is not used. The call fails
  // as a whole as execute() does.
  virtual Result<std::vector<Status>> execute_with_images(int batch, std::span<const EncodedSample> encoded);
  // After a successful execute() or execute_with_images(): the parts of that batch the
  // instance timed (the device image path: h2d, device_decode, compute); empty when it
  // times none.
  virtual std::span<const BatchStage> stages() const { return {}; }
};

struct BatcherOptions {
  BatchPolicyOptions policy;
  // Called once per executed batch, before its requests are answered: batch size, how long
  // the batch's oldest request waited in the queue, and the instance's time (samples
  // copied in, images decoded on the device, execute()), and the parts of it the instance
  // timed on its device (BatchExecutor::stages(); empty for a failed batch).
  std::function<void(int batch_size, double queue_ms, double compute_ms, std::span<const BatchStage> stages)>
      on_batch;
};

class Batcher {
 public:
  // Fails on invalid policy options (validate()), no instance, a null instance, or
  // instances with different input sizes. `clock` (default steady_clock_source()) must
  // outlive the Batcher. Starts one worker per instance.
  static Result<std::unique_ptr<Batcher>> create(BatcherOptions options,
                                                 std::vector<std::unique_ptr<BatchExecutor>> instances,
                                                 Clock* clock = nullptr);
  ~Batcher();  // drain()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues one request; never blocks on inference. Refusals (the request is not queued and
  // `done` is never called):
  //   kInvalidArgument    no `done`, input size != the instances' input_size(), or an
  //                       image for instances that do not decode images
  //   kResourceExhausted  "queue is full (N waiting)": max_queue reached -> 503 + Retry-After
  //   kFailedPrecondition draining: the model is shutting down -> 503
  Status submit(BatchRequest request);

  // Stops admission, runs and answers everything queued, joins the workers. Idempotent;
  // concurrent callers all return once the workers are joined.
  void drain();
  // Whether requests may carry compressed images (every instance decodes on its device).
  bool decodes_images() const { return decodes_images_; }
  // A drain out of time: the requests still queued are answered `why` now and leave the
  // queue (batches already running finish); returns how many. Admission is not changed.
  size_t abandon_queued(const Status& why);

  struct Stats {
    size_t queued = 0;      // waiting in the queue
    size_t in_flight = 0;   // taken into a batch whose execute() has not returned yet
    std::vector<uint64_t> batch_size_counts;  // index = batch size (0..max_batch), value = batches run
    uint64_t batches = 0;   // execute() calls
    uint64_t executed = 0;  // requests run (successfully or not)
    uint64_t failed = 0;    // of those, requests whose execute() failed or whose image did not decode
    uint64_t expired = 0;   // requests answered kDeadlineExceeded without running
    uint64_t rejected = 0;  // submit() refusals for a full queue or while draining
    uint64_t device_images = 0;  // requests run as compressed images decoded on the device
    uint64_t host_images = 0;    // requests run as compressed images decoded on the instance's own thread
  };
  // Counts are updated before the requests concerned are answered, so once a caller saw
  // its `done` called, stats() includes that request.
  Stats stats() const;
  // Requests waiting in the queue (stats().queued without copying the rest).
  size_t queued() const;
  // Whether a request submitted now would find nothing queued before it and an instance
  // idle. A hint for routing (it may change before submit()): an image sent to an idle
  // instance that decodes images is decoded there without a hand-off to a decoder pool.
  bool idle() const;

 private:
  struct Entry {
    BatchRequest request;
    BatchTime enqueued;
  };

  Batcher(BatchPolicy policy, BatcherOptions options, std::vector<std::unique_ptr<BatchExecutor>> instances,
          Clock* clock);
  void worker_loop(BatchExecutor& executor);
  // Blocks until the policy says to run or expire something; fills `batch` and `expired`.
  // Returns false when the batcher is drained and the queue is empty (the worker exits).
  bool next_work(std::vector<Entry>& batch, std::vector<Entry>& expired);
  void take_expired(const std::vector<size_t>& indices, std::vector<Entry>& expired);  // mutex_ held
  void answer_expired(std::vector<Entry>& expired);
  void run_batch(BatchExecutor& executor, std::vector<Entry>& batch);
  // execute() or execute_with_images() on the batch: one Status per request, and how many
  // of them ran as images the instance decoded (counted by run_batch() with the rest of
  // the batch's stats, under one lock).
  struct BatchOutcome {
    std::vector<Status> statuses;
    size_t images = 0;
  };
  BatchOutcome execute_batch(BatchExecutor& executor, std::vector<Entry>& batch);

  const BatchPolicy policy_;
  const BatcherOptions options_;
  const std::vector<std::unique_ptr<BatchExecutor>> instances_;
  Clock* const clock_;
  const size_t input_size_;
  const bool decodes_images_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;          // a request arrived, or draining started
  std::deque<Entry> queue_;               // guarded by mutex_
  std::vector<QueuedRequest> snapshot_;   // guarded by mutex_: the policy's view of queue_
  bool draining_ = false;                 // guarded by mutex_
  int idle_instances_ = 0;                // guarded by mutex_
  Stats stats_;                           // guarded by mutex_ (queued is queue_.size())

  std::once_flag join_once_;
  std::vector<std::thread> workers_;
};

}  // namespace inferd
