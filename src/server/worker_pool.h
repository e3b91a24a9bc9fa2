// A fixed pool of threads running submitted tasks in FIFO order. The server decodes
// and preprocesses images here, off the I/O threads and before batching.
//
// Admission is bounded: try_submit() counts each task, with the bytes it holds (an
// uploaded image), from admission until it has run, and refuses work over the limits.
// Without the bound, uploads kept arriving faster than 16 decoders could decode them and
// the queue held 756 MB of images (RSS +1 GB) with no pushback; with it the server answers
// 503 + Retry-After at once and its memory stays flat.
// Threading: every method may be called from any thread; tasks must not throw.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace inferd {

// What a WorkerPool may hold admitted but not yet run to completion; 0 = no limit.
struct WorkerPoolLimits {
  size_t max_tasks = 0;
  size_t max_bytes = 0;
};

class WorkerPool {
 public:
  using Limits = WorkerPoolLimits;

  // Each thread is named `name` (core/thread_name.h).
  WorkerPool(int threads, const std::string& name, Limits limits = {});
  ~WorkerPool();  // runs what is queued, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Unbounded: internal work that must not be refused.
  void submit(std::function<void()> task);
  // Admits `task`, holding `bytes`, unless that would pass a limit: then
  // kResourceExhausted naming what is pending and the limits, and the task is dropped.
  Status try_submit(std::function<void()> task, size_t bytes);
  size_t queued() const;
  // Drops the tasks not started yet (a drain out of time: their requests were answered
  // already); returns how many. Each task's captures are destroyed, never run.
  size_t discard_queued();
  // Admitted by try_submit and not yet finished: tasks and their bytes.
  size_t pending_tasks() const;
  size_t pending_bytes() const;
  // Whether no task is queued or running and try_submit() would admit one holding `bytes`:
  // the server then lets an idle instance decode the image itself (a hint; it may change).
  bool idle_and_admits(size_t bytes) const;
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void work();
  bool admits(size_t bytes) const;  // mu_ held
  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Task {
    std::function<void()> fn;
    size_t bytes = 0;
    bool admitted = false;  // by try_submit: counted in pending_tasks_ / pending_bytes_
  };
  std::deque<Task> tasks_;
  bool stopping_ = false;
  Limits limits_;
  size_t pending_tasks_ = 0, pending_bytes_ = 0;
  size_t running_ = 0;  // tasks taken by a thread and not yet finished
  std::vector<std::thread> threads_;
};

}  // namespace inferd
