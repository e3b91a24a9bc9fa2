// Whole-file reads and writes with errors that name the path.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd {

// A file opened for reading that is known to be a regular file (RAII: closes on
// destruction). Opening is the only way a named pipe or device can hurt: opening a FIFO
// waits for a writer, opening a tape or terminal device can block or act. So open() first
// stat()s the path and refuses anything but a regular file without opening it (symlinks are
// followed: a Kubernetes secret is one), then opens it O_NONBLOCK and fstat()s the
// descriptor, refusing a path swapped for something else between the two. Errors name the
// path and what is there instead ("<path>: not a regular file (a named pipe): refused").
class RegularFile {
 public:
  static Result<RegularFile> open(const std::string& path);
  RegularFile(RegularFile&& other) noexcept;
  RegularFile& operator=(RegularFile&& other) = delete;
  RegularFile(const RegularFile&) = delete;
  ~RegularFile();
  int fd() const { return fd_; }
  size_t size() const { return size_; }
  mode_t mode() const { return mode_; }  // permission bits (and S_IFREG)

 private:
  RegularFile(int fd, size_t size, mode_t mode) : fd_(fd), size_(size), mode_(mode) {}
  int fd_ = -1;
  size_t size_ = 0;
  mode_t mode_ = 0;
};

Result<std::vector<uint8_t>> read_file(const std::string& path);
Result<std::string> read_text_file(const std::string& path);
// Writes to a temporary name and renames, so readers never see a half-written file.
Status write_file(const std::string& path, std::span<const uint8_t> bytes);

// A read-only memory map of a whole file (plans: no copy into a read buffer).
class MappedFile {
 public:
  static Result<MappedFile> open(const std::string& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) = delete;
  MappedFile(const MappedFile&) = delete;
  ~MappedFile();
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  MappedFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace inferd
