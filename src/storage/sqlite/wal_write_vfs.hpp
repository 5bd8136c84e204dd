#pragma once

// A VFS shim over SQLite's default ("unix") VFS that hands a commit's write-ahead-log frames to
// the kernel in one write (or one per 120 KiB) instead of two per page.
//
// SQLite appends each WAL frame as two writes (a 24-byte header, then the page), so a usage
// batch that dirties 15 pages costs 30 pwrite calls before its fsync. Measured on this project's
// machines, that is ~29 µs more CPU per commit than one pwrite of the same bytes
// (docs/BENCHMARKS.md §1). SQLite has no setting for it; a VFS shim is its supported way to
// change how files are written. Only WAL files are buffered; the database file and the -shm
// index go straight to the default VFS.
//
// What the shim does to a WAL file: contiguous appends accumulate in a buffer (at most
// kMaxBuffer bytes); the buffer is written out before anything else touches the file (read,
// sync, truncate, size, file control, close), before a write elsewhere in the file, and when
// it is full. It is only safe when every commit syncs the WAL before publishing it
// (synchronous=FULL): the sync is what writes the buffer before other connections can see the
// commit. SqliteDatabase therefore uses it only with synchronous=FULL.

#include <memory>
#include <string>

#include <sqlite3.h>

#include "core/error.hpp"

namespace livery::storage {

class WalWriteVfs {
 public:
  // The unix VFS writes at most 0x1ffff bytes per call (it masks larger sizes: 128 KiB exactly
  // becomes 0 and fails as "disk full"), so one flush stays under that.
  static constexpr std::size_t kMaxBuffer = 120 * 1024;

  // Registers a shim over the default VFS under a name unique to this object (not as the
  // default). Connections use it by passing name() to sqlite3_open_v2.
  [[nodiscard]] static Result<std::unique_ptr<WalWriteVfs>> create();
  // Unregisters. Every connection opened through it must be closed first.
  ~WalWriteVfs();
  WalWriteVfs(const WalWriteVfs&) = delete;
  WalWriteVfs& operator=(const WalWriteVfs&) = delete;

  const char* name() const noexcept { return name_.c_str(); }

 private:
  WalWriteVfs() = default;
  sqlite3_vfs vfs_{};
  std::string name_;
};

}  // namespace livery::storage
