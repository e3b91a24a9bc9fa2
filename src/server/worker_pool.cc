#include "server/worker_pool.h"

#include <string>

#include "core/thread_name.h"

namespace inferd {

WorkerPool::WorkerPool(int threads, const std::string& name, Limits limits) : limits_(limits) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this, name] {
      set_thread_name(name);
      work();
    });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back({std::move(task), 0, false});
  }
  cv_.notify_one();
}

bool WorkerPool::admits(size_t bytes) const {
  const bool tasks_full = limits_.max_tasks > 0 && pending_tasks_ + 1 > limits_.max_tasks;
  const bool bytes_full = limits_.max_bytes > 0 && pending_bytes_ + bytes > limits_.max_bytes;
  return !tasks_full && !bytes_full;
}

bool WorkerPool::idle_and_admits(size_t bytes) const {
  std::lock_guard lock(mu_);
  return tasks_.empty() && running_ == 0 && admits(bytes);
}

Status WorkerPool::try_submit(std::function<void()> task, size_t bytes) {
  {
    std::lock_guard lock(mu_);
    if (!admits(bytes)) {
      constexpr size_t kKiB = 1024;
      return resource_exhausted("server busy: " + std::to_string(pending_tasks_) + " images (" +
                                std::to_string((pending_bytes_ + kKiB - 1) / kKiB) +
                                " KiB) are waiting for a decoder; the limits are " +
                                std::to_string(limits_.max_tasks) + " images and " +
                                std::to_string(limits_.max_bytes / kKiB) + " KiB (retry later)");
    }
    ++pending_tasks_;
    pending_bytes_ += bytes;
    tasks_.push_back({std::move(task), bytes, true});  // released when it has run (work())
  }
  cv_.notify_one();
  return Status::ok();
}

size_t WorkerPool::pending_tasks() const {
  std::lock_guard lock(mu_);
  return pending_tasks_;
}

size_t WorkerPool::pending_bytes() const {
  std::lock_guard lock(mu_);
  return pending_bytes_;
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

void WorkerPool::work() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
      ++running_;
    }
    task.fn();
    task.fn = nullptr;  // the bytes it holds die before they are released
    std::lock_guard lock(mu_);
    --running_;
    if (task.admitted) {
      --pending_tasks_;
      pending_bytes_ -= task.bytes;
    }
  }
}

size_t WorkerPool::discard_queued() {
  std::deque<Task> dropped;
  {
    std::lock_guard lock(mu_);
    dropped.swap(tasks_);
    for (const Task& t : dropped) {
      if (!t.admitted) continue;
      --pending_tasks_;
      pending_bytes_ -= t.bytes;
    }
  }
  return dropped.size();  // destroyed here, outside the lock
}

}  // namespace inferd
