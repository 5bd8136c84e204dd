#include "storage/sqlite/wal_write_vfs.hpp"

#include <cstring>
#include <new>

#include <fmt/format.h>

namespace livery::storage {

namespace {

// Our sqlite3_file: SQLite allocates szOsFile bytes and hands them to xOpen, which places this
// header first and the default VFS's own file object after it.
struct ShimFile {
  sqlite3_file base;         // must stay first: SQLite sees a sqlite3_file*
  sqlite3_file* real;        // the default VFS's file, inside the same allocation
  std::string* pending;      // WAL files only: bytes not yet written
  sqlite3_int64 pending_at;  // file offset of pending->front()
};

constexpr std::size_t kRealOffset = (sizeof(ShimFile) + 15) / 16 * 16;

ShimFile* shim(sqlite3_file* f) {
  return reinterpret_cast<ShimFile*>(f);  // NOLINT(*-reinterpret-cast): SQLite's C object model
}

const sqlite3_io_methods* realMethods(sqlite3_file* f) {
  return shim(f)->real->pMethods;
}

// Writes the pending bytes. Every method other than an appending write calls this first, so the
// file never looks different from what SQLite wrote.
int flush(ShimFile* s) {
  if (s->pending == nullptr || s->pending->empty()) {
    return SQLITE_OK;
  }
  const int rc = s->real->pMethods->xWrite(
      s->real, s->pending->data(), static_cast<int>(s->pending->size()), s->pending_at);
  s->pending->clear();
  return rc;
}

int shimClose(sqlite3_file* f) {
  ShimFile* s = shim(f);
  const int flushed = flush(s);
  const int rc = s->real->pMethods->xClose(s->real);
  delete s->pending;
  s->pending = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}

int shimRead(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  if (int rc = flush(shim(f)); rc != SQLITE_OK) {
    return rc;
  }
  return realMethods(f)->xRead(shim(f)->real, out, amount, offset);
}

int shimWrite(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  ShimFile* s = shim(f);
  if (s->pending == nullptr) {
    return s->real->pMethods->xWrite(s->real, data, amount, offset);
  }
  const auto n = static_cast<std::size_t>(amount);
  const bool appends = !s->pending->empty() &&
                       offset == s->pending_at + static_cast<sqlite3_int64>(s->pending->size());
  if (!appends || s->pending->size() + n > WalWriteVfs::kMaxBuffer) {
    if (int rc = flush(s); rc != SQLITE_OK) {
      return rc;
    }
    if (n > WalWriteVfs::kMaxBuffer) {
      return s->real->pMethods->xWrite(s->real, data, amount, offset);
    }
    s->pending_at = offset;
  }
  s->pending->append(static_cast<const char*>(data), n);
  return SQLITE_OK;
}

int shimTruncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = flush(shim(f)); rc != SQLITE_OK) {
    return rc;
  }
  return realMethods(f)->xTruncate(shim(f)->real, size);
}

int shimSync(sqlite3_file* f, int flags) {
  if (int rc = flush(shim(f)); rc != SQLITE_OK) {
    return rc;
  }
  return realMethods(f)->xSync(shim(f)->real, flags);
}

int shimFileSize(sqlite3_file* f, sqlite3_int64* size) {
  if (int rc = flush(shim(f)); rc != SQLITE_OK) {
    return rc;
  }
  return realMethods(f)->xFileSize(shim(f)->real, size);
}

int shimLock(sqlite3_file* f, int level) {
  return realMethods(f)->xLock(shim(f)->real, level);
}

int shimUnlock(sqlite3_file* f, int level) {
  return realMethods(f)->xUnlock(shim(f)->real, level);
}

int shimCheckReservedLock(sqlite3_file* f, int* out) {
  return realMethods(f)->xCheckReservedLock(shim(f)->real, out);
}

int shimFileControl(sqlite3_file* f, int op, void* arg) {
  if (int rc = flush(shim(f)); rc != SQLITE_OK) {
    return rc;
  }
  return realMethods(f)->xFileControl(shim(f)->real, op, arg);
}

int shimSectorSize(sqlite3_file* f) {
  return realMethods(f)->xSectorSize(shim(f)->real);
}

int shimDeviceCharacteristics(sqlite3_file* f) {
  return realMethods(f)->xDeviceCharacteristics(shim(f)->real);
}

int shimShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return realMethods(f)->xShmMap(shim(f)->real, region, size, extend, out);
}

int shimShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return realMethods(f)->xShmLock(shim(f)->real, offset, n, flags);
}

void shimShmBarrier(sqlite3_file* f) {
  realMethods(f)->xShmBarrier(shim(f)->real);
}

int shimShmUnmap(sqlite3_file* f, int delete_flag) {
  return realMethods(f)->xShmUnmap(shim(f)->real, delete_flag);
}

int shimFetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  if (int rc = flush(shim(f)); rc != SQLITE_OK) {
    return rc;
  }
  return realMethods(f)->xFetch(shim(f)->real, offset, amount, out);
}

int shimUnfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return realMethods(f)->xUnfetch(shim(f)->real, offset, p);
}

// Version 3 methods (shared memory and memory-mapped reads), forwarded when the default VFS's
// file has them; shimOpen only installs these for files whose own methods are version 3.
constexpr sqlite3_io_methods kMethods = {
    3,
    shimClose,
    shimRead,
    shimWrite,
    shimTruncate,
    shimSync,
    shimFileSize,
    shimLock,
    shimUnlock,
    shimCheckReservedLock,
    shimFileControl,
    shimSectorSize,
    shimDeviceCharacteristics,
    shimShmMap,
    shimShmLock,
    shimShmBarrier,
    shimShmUnmap,
    shimFetch,
    shimUnfetch,
};

sqlite3_vfs* baseOf(sqlite3_vfs* vfs) {
  return static_cast<sqlite3_vfs*>(vfs->pAppData);
}

int shimOpen(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  auto* s = new (f) ShimFile{};
  s->real = reinterpret_cast<sqlite3_file*>(      // NOLINT(*-reinterpret-cast): same allocation
      reinterpret_cast<char*>(f) + kRealOffset);  // NOLINT(*-reinterpret-cast)
  const int rc = baseOf(vfs)->xOpen(baseOf(vfs), name, s->real, flags, out_flags);
  if (rc != SQLITE_OK || s->real->pMethods == nullptr) {
    s->base.pMethods = nullptr;  // SQLite calls xClose only when pMethods is set
    if (s->real->pMethods != nullptr) {
      s->real->pMethods->xClose(s->real);
    }
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  if (s->real->pMethods->iVersion < 3) {
    // Not expected from the unix VFS; forwarding version-3 calls would be wrong, so refuse.
    s->real->pMethods->xClose(s->real);
    s->base.pMethods = nullptr;
    return SQLITE_CANTOPEN;
  }
  if ((flags & SQLITE_OPEN_WAL) != 0) {
    s->pending = new (std::nothrow) std::string();
    if (s->pending != nullptr) {
      s->pending->reserve(WalWriteVfs::kMaxBuffer);
    }
  }
  s->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int shimDelete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return baseOf(vfs)->xDelete(baseOf(vfs), name, sync_dir);
}

int shimAccess(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return baseOf(vfs)->xAccess(baseOf(vfs), name, flags, out);
}

int shimFullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return baseOf(vfs)->xFullPathname(baseOf(vfs), name, n, out);
}

void* shimDlOpen(sqlite3_vfs* vfs, const char* name) {
  return baseOf(vfs)->xDlOpen(baseOf(vfs), name);
}

void shimDlError(sqlite3_vfs* vfs, int n, char* out) {
  baseOf(vfs)->xDlError(baseOf(vfs), n, out);
}

void (*shimDlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return baseOf(vfs)->xDlSym(baseOf(vfs), handle, symbol);
}

void shimDlClose(sqlite3_vfs* vfs, void* handle) {
  baseOf(vfs)->xDlClose(baseOf(vfs), handle);
}

int shimRandomness(sqlite3_vfs* vfs, int n, char* out) {
  return baseOf(vfs)->xRandomness(baseOf(vfs), n, out);
}

int shimSleep(sqlite3_vfs* vfs, int micros) {
  return baseOf(vfs)->xSleep(baseOf(vfs), micros);
}

int shimCurrentTime(sqlite3_vfs* vfs, double* out) {
  return baseOf(vfs)->xCurrentTime(baseOf(vfs), out);
}

int shimGetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return baseOf(vfs)->xGetLastError(baseOf(vfs), n, out);
}

int shimCurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return baseOf(vfs)->xCurrentTimeInt64(baseOf(vfs), out);
}

}  // namespace

Result<std::unique_ptr<WalWriteVfs>> WalWriteVfs::create() {
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  if (base == nullptr || base->iVersion < 2 || base->xCurrentTimeInt64 == nullptr) {
    return fail(ErrorCode::kInternal, "sqlite has no usable default file system layer");
  }
  std::unique_ptr<WalWriteVfs> v(new WalWriteVfs());
  v->name_ = fmt::format("livery-wal-{}", static_cast<const void*>(v.get()));
  sqlite3_vfs& s = v->vfs_;
  s.iVersion = 2;
  s.szOsFile = static_cast<int>(kRealOffset) + base->szOsFile;
  s.mxPathname = base->mxPathname;
  s.zName = v->name_.c_str();
  s.pAppData = base;
  s.xOpen = shimOpen;
  s.xDelete = shimDelete;
  s.xAccess = shimAccess;
  s.xFullPathname = shimFullPathname;
  s.xDlOpen = shimDlOpen;
  s.xDlError = shimDlError;
  s.xDlSym = shimDlSym;
  s.xDlClose = shimDlClose;
  s.xRandomness = shimRandomness;
  s.xSleep = shimSleep;
  s.xCurrentTime = shimCurrentTime;
  s.xGetLastError = shimGetLastError;
  s.xCurrentTimeInt64 = shimCurrentTimeInt64;
  if (const int rc = sqlite3_vfs_register(&s, 0); rc != SQLITE_OK) {
    return fail(ErrorCode::kInternal,
                "cannot register the sqlite file system layer",
                fmt::format("sqlite3_vfs_register: {}", sqlite3_errstr(rc)));
  }
  return v;
}

WalWriteVfs::~WalWriteVfs() {
  sqlite3_vfs_unregister(&vfs_);
}

}  // namespace livery::storage
