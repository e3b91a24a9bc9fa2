#include "core/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace inferd {

namespace {

// What is at a path when it is not a regular file, for the error message.
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a named pipe";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "neither a file nor a directory";
}

Status not_regular(const std::string& path, mode_t mode) {
  return invalid_argument(path + ": not a regular file (" + file_kind(mode) + "): refused");
}

}  // namespace

Result<RegularFile> RegularFile::open(const std::string& path) {
  struct stat before {};
  if (::stat(path.c_str(), &before) != 0) return not_found(path + ": cannot open: " + std::strerror(errno));
  if (!S_ISREG(before.st_mode)) return not_regular(path, before.st_mode);
  // Still O_NONBLOCK: the path may have become a FIFO since the stat, and the open must not
  // wait for a writer then either (the fstat below refuses it).
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return not_found(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return data_loss(path + ": cannot stat the open file: " + why);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return not_regular(path, st.st_mode);
  }
  // Reads block again as usual (O_NONBLOCK means nothing for a regular file, but clearing
  // it keeps the descriptor an ordinary one for whoever reads it).
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return RegularFile(fd, static_cast<size_t>(st.st_size), st.st_mode);
}

RegularFile::RegularFile(RegularFile&& other) noexcept : fd_(other.fd_), size_(other.size_), mode_(other.mode_) {
  other.fd_ = -1;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::vector<uint8_t>> read_file(const std::string& path) {
  // A config.toml or token file that is a named pipe would otherwise hang the load forever.
  ASSIGN_OR_RETURN(RegularFile file, RegularFile::open(path));
  // One read of the known size: a byte-wise iterator costs ~0.5 s on a 100 MB plan.
  std::vector<uint8_t> bytes(file.size());
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(file.fd(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != bytes.size()) return data_loss(path + ": read failed");
  return bytes;
}

Result<std::string> read_text_file(const std::string& path) {
  ASSIGN_OR_RETURN(auto bytes, read_file(path));
  return std::string(bytes.begin(), bytes.end());
}

Result<MappedFile> MappedFile::open(const std::string& path) {
  ASSIGN_OR_RETURN(RegularFile file, RegularFile::open(path));
  const size_t size = file.size();
  void* p = size ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, file.fd(), 0) : nullptr;
  if (p == MAP_FAILED) return data_loss(path + ": mmap failed: " + std::strerror(errno));
  return MappedFile(static_cast<const uint8_t*>(p), size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

Status write_file(const std::string& path, std::span<const uint8_t> bytes) {
  // The temporary file is created new (mkstemp: O_CREAT | O_EXCL, a fresh name), so a
  // symlink planted at a predictable "<path>.tmp" is never followed; rename() then replaces
  // `path` itself, a link there included, never the file a link points to.
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return not_found(path + ": cannot create: " + std::strerror(errno));
  // mkstemp makes the file 0600: plans, calibration tables and models are read by others
  // (a server running as another user), as a file written with open() would be.
  (void)::fchmod(fd, 0644);  // best effort: a failure leaves it 0600, still a correct file
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool closed = ::close(fd) == 0;
  if (done != bytes.size() || !closed) {
    ::unlink(tmp.c_str());
    return data_loss(path + ": write failed: " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return data_loss(path + ": rename failed: " + why);
  }
  return Status::ok();
}

}  // namespace inferd
