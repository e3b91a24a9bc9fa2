// A fixed pool of threads running submitted tasks in FIFO order. The server decodes
// and preprocesses images here, off the I/O threads and before batching.
// Threading: submit() may be called from any thread; tasks must not throw.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace inferd {

class WorkerPool {
 public:
  // Each thread is named `name` (core/thread_name.h).
  WorkerPool(int threads, const std::string& name);
  ~WorkerPool();  // runs what is queued, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void submit(std::function<void()> task);
  size_t queued() const;

 private:
  void work();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace inferd
