// MappedFile: a whole file mapped read-only (so borrowed weights can never be written).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/errors.h"
#include "engine/engine_file.h"

namespace kiln::engine {
namespace {

// Closes the descriptor on every path; the mapping stays valid after close.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<std::shared_ptr<const MappedFile>> MappedFile::open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below as not regular).
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (f.fd < 0) {
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR)
      return err(Code::kFileNotFound, "engine file '", path, "' does not exist");
    return err(Code::kFileUnreadable, "cannot open engine file '", path, "': ", std::strerror(e));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    return err(Code::kFileUnreadable, "cannot stat engine file '", path,
               "': ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return err(Code::kFileUnreadable, "'", path, "' is not a regular file");

  std::shared_ptr<MappedFile> m(new MappedFile());
  m->size_ = static_cast<size_t>(st.st_size);
  if (m->size_ == 0) return std::shared_ptr<const MappedFile>(std::move(m));  // mmap refuses 0
  // No MAP_POPULATE: the reader's checksum pass reads the whole file once (into the page
  // cache) and hands its pages back as it goes; the weights kernels use are faulted in from
  // the page cache, and those already packed into the engine are never touched, so a run's
  // resident memory is what it computes with, not the file size.
  const int flags = MAP_PRIVATE;
  void* addr = ::mmap(nullptr, m->size_, PROT_READ, flags, f.fd, 0);
  if (addr == MAP_FAILED)
    return err(Code::kFileUnreadable, "cannot map engine file '", path, "' (", m->size_,
               " bytes): ", std::strerror(errno));
  m->addr_ = addr;
  return std::shared_ptr<const MappedFile>(std::move(m));
}

MappedFile::~MappedFile() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}

void release_pages(const void* data, size_t bytes) {
#ifdef MADV_PAGEOUT
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT);
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace kiln::engine
