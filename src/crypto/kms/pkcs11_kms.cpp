#include "crypto/kms/pkcs11_kms.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <utility>
#include <vector>

#include <dlfcn.h>
#include <openssl/crypto.h>
#include <p11-kit/pkcs11.h>

#include "crypto/aead.hpp"
#include "crypto/errors.hpp"

namespace livery::crypto {
namespace {

std::string_view rvName(CK_RV rv) {
  switch (rv) {
    case CKR_OK:
      return "CKR_OK";
    case CKR_GENERAL_ERROR:
      return "CKR_GENERAL_ERROR";
    case CKR_FUNCTION_FAILED:
      return "CKR_FUNCTION_FAILED";
    case CKR_ARGUMENTS_BAD:
      return "CKR_ARGUMENTS_BAD";
    case CKR_DATA_LEN_RANGE:
      return "CKR_DATA_LEN_RANGE";
    case CKR_DEVICE_ERROR:
      return "CKR_DEVICE_ERROR";
    case CKR_DEVICE_REMOVED:
      return "CKR_DEVICE_REMOVED";
    case CKR_ENCRYPTED_DATA_INVALID:
      return "CKR_ENCRYPTED_DATA_INVALID";
    case CKR_ENCRYPTED_DATA_LEN_RANGE:
      return "CKR_ENCRYPTED_DATA_LEN_RANGE";
    case CKR_KEY_HANDLE_INVALID:
      return "CKR_KEY_HANDLE_INVALID";
    case CKR_MECHANISM_INVALID:
      return "CKR_MECHANISM_INVALID";
    case CKR_MECHANISM_PARAM_INVALID:
      return "CKR_MECHANISM_PARAM_INVALID";
    case CKR_OBJECT_HANDLE_INVALID:
      return "CKR_OBJECT_HANDLE_INVALID";
    case CKR_PIN_INCORRECT:
      return "CKR_PIN_INCORRECT";
    case CKR_SESSION_CLOSED:
      return "CKR_SESSION_CLOSED";
    case CKR_SESSION_HANDLE_INVALID:
      return "CKR_SESSION_HANDLE_INVALID";
    case CKR_TOKEN_NOT_PRESENT:
      return "CKR_TOKEN_NOT_PRESENT";
    case CKR_USER_NOT_LOGGED_IN:
      return "CKR_USER_NOT_LOGGED_IN";
    case CKR_USER_ALREADY_LOGGED_IN:
      return "CKR_USER_ALREADY_LOGGED_IN";
    case CKR_BUFFER_TOO_SMALL:
      return "CKR_BUFFER_TOO_SMALL";
    case CKR_CRYPTOKI_ALREADY_INITIALIZED:
      return "CKR_CRYPTOKI_ALREADY_INITIALIZED";
    default:
      return "CKR_?";
  }
}

std::string rvText(CK_RV rv) {
  char hex[24];
  std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(rv));
  return std::string(rvName(rv)) + " (" + hex + ")";
}

Error p11Error(std::string_view what, CK_RV rv) {
  std::string msg = "PKCS#11 " + std::string(what) + " failed: " + rvText(rv);
  return fail(ErrorCode::kUnavailable, "key management service unavailable", msg)
      .withCode(std::string(kCodeKmsFailure));
}

Error setupError(std::string msg) {
  return fail(ErrorCode::kInternal, msg, msg).withCode(std::string(kCodeKmsFailure));
}

// Errors after which a session must not be reused.
bool sessionBroken(CK_RV rv) {
  return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED || rv == CKR_DEVICE_ERROR ||
         rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_USER_NOT_LOGGED_IN ||
         rv == CKR_GENERAL_ERROR;
}

// Errors that mean the login (or every session) is gone: the token restarted, was removed, or
// something called C_CloseAllSessions. The KMS logs in again and retries once.
bool loginLost(CK_RV rv) {
  return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
         rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT;
}

bool handleLost(CK_RV rv) {
  return rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID;
}

std::string trimmedLabel(const unsigned char (&label)[32]) {
  std::string s(reinterpret_cast<const char*>(label), sizeof label);  // NOLINT(*-reinterpret-cast)
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) {
    s.pop_back();
  }
  return s;
}

// "<prefix>-v<N>" → N (1..2^32-1, no leading zeros), or 0.
std::uint32_t parseVersionLabel(std::string_view label, std::string_view prefix) {
  if (label.size() <= prefix.size() + 2 || label.substr(0, prefix.size()) != prefix ||
      label.substr(prefix.size(), 2) != "-v") {
    return 0;
  }
  std::string_view digits = label.substr(prefix.size() + 2);
  if (digits.empty() || digits.size() > 10 || digits[0] == '0') {
    return 0;
  }
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size() || v == 0 || v > UINT32_MAX) {
    return 0;
  }
  return static_cast<std::uint32_t>(v);
}

std::string versionLabel(std::string_view prefix, std::uint32_t version) {
  return std::string(prefix) + "-v" + std::to_string(version);
}

}  // namespace

// ---- module --------------------------------------------------------------------------------

Result<std::shared_ptr<Pkcs11Module>> Pkcs11Module::load(const std::string& path) {
  std::shared_ptr<Pkcs11Module> m(new Pkcs11Module());
  m->path_ = path;
  m->handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (m->handle_ == nullptr) {
    const char* why = ::dlerror();
    return setupError("cannot load PKCS#11 module " + path + ": " + (why ? why : "dlopen failed"));
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(  // NOLINT(*-reinterpret-cast)
      ::dlsym(m->handle_, "C_GetFunctionList"));
  if (get_list == nullptr) {
    return setupError("PKCS#11 module " + path + " has no C_GetFunctionList");
  }
  CK_FUNCTION_LIST_PTR fn = nullptr;
  if (CK_RV rv = get_list(&fn); rv != CKR_OK || fn == nullptr) {
    return setupError("PKCS#11 module " + path + ": C_GetFunctionList failed: " + rvText(rv));
  }
  m->functions_ = fn;
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;  // we call from several threads
  CK_RV rv = fn->C_Initialize(&args);
  if (rv == CKR_OK) {
    m->finalize_ = true;
  } else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    return setupError("PKCS#11 module " + path + ": C_Initialize failed: " + rvText(rv));
  }
  return m;
}

Pkcs11Module::~Pkcs11Module() {
  if (finalize_ && functions_ != nullptr) {
    static_cast<CK_FUNCTION_LIST_PTR>(const_cast<void*>(functions_))->C_Finalize(nullptr);
  }
  if (handle_ != nullptr) {
    ::dlclose(handle_);
  }
}

// ---- kms -----------------------------------------------------------------------------------

struct Pkcs11Kms::Impl {
  Impl(std::shared_ptr<Pkcs11Module> m,
       Pkcs11KmsOptions o,
       RandomSource& r,
       const Clock& c,
       Logger& l)
      : module(std::move(m)),
        fn(static_cast<CK_FUNCTION_LIST_PTR>(const_cast<void*>(module->functions()))),
        options(std::move(o)),
        random(r),
        clock(c),
        logger(l) {}

  std::shared_ptr<Pkcs11Module> module;
  CK_FUNCTION_LIST_PTR fn;
  Pkcs11KmsOptions options;
  RandomSource& random;
  const Clock& clock;
  Logger& logger;
  CK_SLOT_ID slot = 0;
  std::atomic<std::int64_t> last_reload_ns{0};
  CK_SESSION_HANDLE login_session = CK_INVALID_HANDLE;

  std::mutex login_mu;  // guards login_session after start-up
  std::atomic<bool> relogin_needed{false};
  std::mutex pool_mu;  // guards idle, open_sessions
  std::condition_variable pool_cv;
  std::vector<CK_SESSION_HANDLE> idle;
  std::size_t open_sessions = 0;  // idle + borrowed

  std::shared_mutex keys_mu;  // guards keys
  std::map<std::uint32_t, CK_OBJECT_HANDLE> keys;
  std::mutex rotate_mu;  // serialises rotate/retire within the process

  // A borrowed session; returned to the pool (or closed if broken) on destruction.
  class Lease {
   public:
    Lease(Impl* impl, CK_SESSION_HANDLE h) : impl_(impl), h_(h) {}
    Lease(Lease&& o) noexcept
        : impl_(std::exchange(o.impl_, nullptr)), h_(o.h_), broken_(o.broken_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (impl_ != nullptr) {
        impl_->giveBack(h_, broken_);
      }
    }
    CK_SESSION_HANDLE get() const { return h_; }
    // Records the outcome of a call made on this session.
    CK_RV check(CK_RV rv) {
      if (sessionBroken(rv)) {
        broken_ = true;
      }
      if (loginLost(rv)) {
        impl_->relogin_needed.store(true, std::memory_order_relaxed);
      }
      return rv;
    }

   private:
    Impl* impl_;
    CK_SESSION_HANDLE h_;
    bool broken_ = false;
  };

  // Re-establishes the login after loginLost(): drops the (dead) idle sessions and the login
  // session, then opens a new one and logs in again.
  Result<void> recover() {
    std::lock_guard guard(login_mu);
    if (!relogin_needed.load(std::memory_order_relaxed)) {
      return {};  // another thread already did it
    }
    {
      std::lock_guard lock(pool_mu);
      for (CK_SESSION_HANDLE h : idle) {
        fn->C_CloseSession(h);
      }
      open_sessions -= idle.size();
      idle.clear();
    }
    if (login_session != CK_INVALID_HANDLE) {
      fn->C_CloseSession(login_session);
      login_session = CK_INVALID_HANDLE;
    }
    if (auto r = login(); !r) {
      return r;
    }
    relogin_needed.store(false, std::memory_order_relaxed);
    // Tokens may renumber private objects across a logout (SoftHSM2 does): look them up again.
    if (auto r = reload(); !r) {
      relogin_needed.store(true, std::memory_order_relaxed);
      return r;
    }
    LIVERY_LOG(logger,
               Warn,
               "kms.pkcs11_relogin",
               {"token", options.token_label},
               {"detail", "sessions were lost; logged in again"});
    return {};
  }

  Result<Lease> borrow() {
    if (relogin_needed.load(std::memory_order_relaxed)) {
      if (auto r = recover(); !r) {
        return r.error();
      }
    }
    std::unique_lock lock(pool_mu);
    const auto deadline = std::chrono::steady_clock::now() + options.session_wait;
    while (idle.empty() && open_sessions >= options.max_sessions) {
      if (pool_cv.wait_until(lock, deadline) == std::cv_status::timeout && idle.empty() &&
          open_sessions >= options.max_sessions) {
        return fail(ErrorCode::kUnavailable,
                    "key management service busy",
                    "PKCS#11 session pool exhausted")
            .withCode(std::string(kCodeKmsFailure));
      }
    }
    if (!idle.empty()) {
      CK_SESSION_HANDLE h = idle.back();
      idle.pop_back();
      return Lease(this, h);
    }
    ++open_sessions;
    lock.unlock();
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h);
    if (rv != CKR_OK) {
      lock.lock();
      --open_sessions;
      pool_cv.notify_one();
      return p11Error("C_OpenSession", rv);
    }
    return Lease(this, h);
  }

  void giveBack(CK_SESSION_HANDLE h, bool broken) {
    if (broken) {
      fn->C_CloseSession(h);
    }
    std::lock_guard lock(pool_mu);
    if (broken) {
      --open_sessions;
    } else {
      idle.push_back(h);
    }
    pool_cv.notify_one();
  }

  void closeAll() {
    std::lock_guard lock(pool_mu);
    for (CK_SESSION_HANDLE h : idle) {
      fn->C_CloseSession(h);
    }
    open_sessions -= idle.size();
    idle.clear();
    std::lock_guard guard(login_mu);
    if (login_session != CK_INVALID_HANDLE) {
      fn->C_CloseSession(login_session);
      login_session = CK_INVALID_HANDLE;
    }
  }

  Result<void> findSlot() {
    CK_ULONG n = 0;
    if (CK_RV rv = fn->C_GetSlotList(CK_TRUE, nullptr, &n); rv != CKR_OK) {
      return p11Error("C_GetSlotList", rv);
    }
    std::vector<CK_SLOT_ID> slots(n);
    if (n > 0) {
      if (CK_RV rv = fn->C_GetSlotList(CK_TRUE, slots.data(), &n); rv != CKR_OK) {
        return p11Error("C_GetSlotList", rv);
      }
      slots.resize(n);
    }
    int found = 0;
    for (CK_SLOT_ID s : slots) {
      CK_TOKEN_INFO info{};
      if (fn->C_GetTokenInfo(s, &info) != CKR_OK) {
        continue;
      }
      if (trimmedLabel(info.label) == options.token_label) {
        if (found++ == 0) {
          slot = s;
        }
      }
    }
    if (found == 0) {
      return setupError("no PKCS#11 token labelled '" + options.token_label + "' in module " +
                        module->path());
    }
    if (found > 1) {
      return setupError("more than one PKCS#11 token is labelled '" + options.token_label + "'");
    }
    return {};
  }

  Result<void> login() {
    if (CK_RV rv = fn->C_OpenSession(
            slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &login_session);
        rv != CKR_OK) {
      return p11Error("C_OpenSession", rv);
    }
    CK_RV rv = fn->C_Login(login_session,
                           CKU_USER,
                           const_cast<unsigned char*>(options.pin.data()),
                           static_cast<CK_ULONG>(options.pin.size()));
    if (rv == CKR_PIN_INCORRECT) {
      return setupError("PKCS#11 login to token '" + options.token_label +
                        "' failed: the PIN is incorrect");
    }
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
      return setupError("PKCS#11 login to token '" + options.token_label +
                        "' failed: " + rvText(rv));
    }
    return {};
  }

  Result<std::string> readLabel(Lease& s, CK_OBJECT_HANDLE obj) {
    CK_ATTRIBUTE attr{CKA_LABEL, nullptr, 0};
    if (CK_RV rv = s.check(fn->C_GetAttributeValue(s.get(), obj, &attr, 1)); rv != CKR_OK) {
      return p11Error("C_GetAttributeValue(CKA_LABEL)", rv);
    }
    if (attr.ulValueLen > 256) {
      return std::string();
    }
    std::string label(attr.ulValueLen, '\0');
    attr.pValue = label.data();
    if (CK_RV rv = s.check(fn->C_GetAttributeValue(s.get(), obj, &attr, 1)); rv != CKR_OK) {
      return p11Error("C_GetAttributeValue(CKA_LABEL)", rv);
    }
    label.resize(attr.ulValueLen);
    return label;
  }

  // Refuses KEK objects that could leave the token or are not AES-256.
  Result<void> checkKeyPolicy(Lease& s, CK_OBJECT_HANDLE obj, const std::string& label) {
    CK_BBOOL sensitive = CK_FALSE;
    CK_BBOOL extractable = CK_TRUE;
    CK_ULONG value_len = 0;
    std::array<CK_ATTRIBUTE, 3> attrs{{{CKA_SENSITIVE, &sensitive, sizeof sensitive},
                                       {CKA_EXTRACTABLE, &extractable, sizeof extractable},
                                       {CKA_VALUE_LEN, &value_len, sizeof value_len}}};
    if (CK_RV rv = s.check(fn->C_GetAttributeValue(s.get(), obj, attrs.data(), attrs.size()));
        rv != CKR_OK) {
      return p11Error("C_GetAttributeValue", rv);
    }
    if (sensitive != CK_TRUE || extractable != CK_FALSE || value_len != kAes256KeyBytes) {
      return setupError("refusing PKCS#11 key '" + label +
                        "': a KEK must be a sensitive, non-extractable AES-256 key");
    }
    return {};
  }

  // All "<prefix>-v<N>" AES keys on the token. Bounded scan.
  Result<std::map<std::uint32_t, CK_OBJECT_HANDLE>> discover(
      const std::string* only_label = nullptr,
      std::vector<CK_OBJECT_HANDLE>* same_label = nullptr) {
    auto lease = borrow();
    if (!lease) {
      return lease.error();
    }
    Lease& s = *lease;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    std::vector<CK_ATTRIBUTE> tmpl{{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}};
    if (only_label != nullptr) {
      tmpl.push_back({CKA_LABEL,
                      const_cast<char*>(only_label->data()),
                      static_cast<CK_ULONG>(only_label->size())});
    }
    if (CK_RV rv = s.check(fn->C_FindObjectsInit(s.get(), tmpl.data(), tmpl.size()));
        rv != CKR_OK) {
      return p11Error("C_FindObjectsInit", rv);
    }
    constexpr std::size_t kMaxObjects = 4096;
    std::vector<CK_OBJECT_HANDLE> handles;
    std::array<CK_OBJECT_HANDLE, 64> batch{};
    while (handles.size() < kMaxObjects) {
      CK_ULONG got = 0;
      CK_RV rv = s.check(fn->C_FindObjects(s.get(), batch.data(), batch.size(), &got));
      if (rv != CKR_OK) {
        fn->C_FindObjectsFinal(s.get());
        return p11Error("C_FindObjects", rv);
      }
      if (got == 0) {
        break;
      }
      handles.insert(handles.end(), batch.begin(), batch.begin() + static_cast<long>(got));
    }
    fn->C_FindObjectsFinal(s.get());
    if (same_label != nullptr) {
      *same_label = handles;
      return std::map<std::uint32_t, CK_OBJECT_HANDLE>{};
    }
    std::map<std::uint32_t, CK_OBJECT_HANDLE> out;
    for (CK_OBJECT_HANDLE h : handles) {
      auto label = readLabel(s, h);
      if (!label) {
        return label.error();
      }
      std::uint32_t v = parseVersionLabel(*label, options.key_label_prefix);
      if (v == 0) {
        continue;
      }
      if (auto r = checkKeyPolicy(s, h, *label); !r) {
        return r.error();
      }
      if (!out.emplace(v, h).second) {
        return setupError("two PKCS#11 keys are labelled '" + *label + "'");
      }
    }
    return out;
  }

  Result<CK_OBJECT_HANDLE> generate(std::uint32_t version) {
    auto lease = borrow();
    if (!lease) {
      return lease.error();
    }
    Lease& s = *lease;
    std::string label = versionLabel(options.key_label_prefix, version);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ULONG len = kAes256KeyBytes;
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL no = CK_FALSE;
    std::vector<CK_ATTRIBUTE> tmpl{
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_VALUE_LEN, &len, sizeof len},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no},
        {CKA_ENCRYPT, &yes, sizeof yes},
        {CKA_DECRYPT, &yes, sizeof yes},
        {CKA_WRAP, &no, sizeof no},
        {CKA_UNWRAP, &no, sizeof no},
        {CKA_SIGN, &no, sizeof no},
        {CKA_VERIFY, &no, sizeof no},
        {CKA_DERIVE, &no, sizeof no},
        {CKA_LABEL, label.data(), static_cast<CK_ULONG>(label.size())},
        {CKA_ID, label.data(), static_cast<CK_ULONG>(label.size())},
    };
    CK_MECHANISM mech{CKM_AES_KEY_GEN, nullptr, 0};
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    if (CK_RV rv = s.check(fn->C_GenerateKey(s.get(), &mech, tmpl.data(), tmpl.size(), &key));
        rv != CKR_OK) {
      return p11Error("C_GenerateKey", rv);
    }
    return key;
  }

  Result<void> destroy(CK_OBJECT_HANDLE key) {
    auto lease = borrow();
    if (!lease) {
      return lease.error();
    }
    if (CK_RV rv = lease->check(fn->C_DestroyObject(lease->get(), key)); rv != CKR_OK) {
      return p11Error("C_DestroyObject", rv);
    }
    return {};
  }

  // Re-scan for an unknown version, at most once per min_refresh_interval.
  bool reloadIfDue() {
    const std::int64_t now = clock.now().time_since_epoch().count();
    std::int64_t last = last_reload_ns.load(std::memory_order_relaxed);
    const auto interval =
        std::chrono::duration_cast<Clock::SteadyTime::duration>(options.min_refresh_interval);
    if (now - last < interval.count() ||
        !last_reload_ns.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      return false;
    }
    return static_cast<bool>(reload());
  }

  // Encrypts and decrypts a throw-away block under `key`; true when the token round-trips it.
  bool probe(CK_OBJECT_HANDLE key) {
    auto lease = borrow();
    if (!lease) {
      return false;
    }
    std::array<unsigned char, kGcmNonceBytes> nonce{};
    if (!random.fill(nonce)) {
      return false;
    }
    std::array<unsigned char, 16> plain{};
    std::array<unsigned char, 32> sealed{};
    std::array<unsigned char, 32> opened{};
    CK_GCM_PARAMS params{};
    params.pIv = nonce.data();
    params.ulIvLen = nonce.size();
    params.ulIvBits = nonce.size() * 8;
    params.ulTagBits = kGcmTagBytes * 8;
    CK_MECHANISM mech{CKM_AES_GCM, &params, sizeof params};
    CK_ULONG len = sealed.size();
    if (lease->check(fn->C_EncryptInit(lease->get(), &mech, key)) != CKR_OK ||
        lease->check(fn->C_Encrypt(
            lease->get(), plain.data(), plain.size(), sealed.data(), &len)) != CKR_OK ||
        len != sealed.size()) {
      return false;
    }
    CK_ULONG out = opened.size();
    return lease->check(fn->C_DecryptInit(lease->get(), &mech, key)) == CKR_OK &&
           lease->check(fn->C_Decrypt(lease->get(), sealed.data(), len, opened.data(), &out)) ==
               CKR_OK &&
           out == plain.size();
  }

  Result<void> reload() {
    auto found = discover();
    if (!found) {
      return found.error();
    }
    std::unique_lock lock(keys_mu);
    keys = std::move(*found);
    return {};
  }

  std::optional<std::pair<std::uint32_t, CK_OBJECT_HANDLE>> current() {
    std::shared_lock lock(keys_mu);
    if (keys.empty()) {
      return std::nullopt;
    }
    return *keys.rbegin();
  }

  // After a failed call: log in again (loginLost) or re-scan the token (handleLost), then return
  // the current handle of `version`.
  Result<CK_OBJECT_HANDLE> refreshHandle(CK_RV rv, std::uint32_t version) {
    if (loginLost(rv)) {
      relogin_needed.store(true, std::memory_order_relaxed);
      if (auto r = recover(); !r) {
        return r.error();
      }
    } else if (auto r = reload(); !r) {
      return r.error();
    }
    auto h = handleOf(version);
    if (!h) {
      std::string msg = "KEK '" + options.key_label_prefix + "' version " +
                        std::to_string(version) + " is no longer on the token";
      return fail(ErrorCode::kInternal, msg, msg).withCode(std::string(kCodeKekUnavailable));
    }
    return *h;
  }

  std::optional<CK_OBJECT_HANDLE> handleOf(std::uint32_t version) {
    std::shared_lock lock(keys_mu);
    auto it = keys.find(version);
    if (it == keys.end()) {
      return std::nullopt;
    }
    return it->second;
  }
};

Pkcs11Kms::Pkcs11Kms(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Pkcs11Kms::~Pkcs11Kms() {
  if (impl_) {
    impl_->closeAll();
  }
}

Result<std::unique_ptr<Pkcs11Kms>> Pkcs11Kms::open(std::shared_ptr<Pkcs11Module> module,
                                                   Pkcs11KmsOptions options,
                                                   RandomSource& random,
                                                   const Clock& clock,
                                                   Logger& logger) {
  if (!module) {
    return setupError("no PKCS#11 module");
  }
  if (options.token_label.empty()) {
    return setupError("kms.pkcs11_token_label is empty");
  }
  if (options.key_label_prefix.empty() || options.key_label_prefix.size() > 200) {
    return setupError("PKCS#11 key label prefix must be 1..200 bytes");
  }
  if (options.pin.empty()) {
    return setupError("no PKCS#11 user PIN configured");
  }
  options.max_sessions = std::max<std::size_t>(options.max_sessions, 1);
  std::unique_ptr<Pkcs11Kms> kms(new Pkcs11Kms(
      std::make_unique<Impl>(std::move(module), std::move(options), random, clock, logger)));
  Impl& impl = *kms->impl_;
  if (auto r = impl.findSlot(); !r) {
    return r.error();
  }
  if (auto r = impl.login(); !r) {
    return r.error();
  }
  if (auto r = impl.reload(); !r) {
    return r.error();
  }
  if (!impl.current()) {
    if (!impl.options.create_if_missing) {
      return setupError("PKCS#11 token '" + impl.options.token_label + "' holds no key labelled " +
                        versionLabel(impl.options.key_label_prefix, 1) + " (or later)");
    }
    auto v = kms->rotate();
    if (!v) {
      return v.error();
    }
    LIVERY_LOG(logger,
               Info,
               "kms.pkcs11_kek_created",
               {"token", impl.options.token_label},
               {"label", versionLabel(impl.options.key_label_prefix, *v)});
  }
  auto cur = impl.current();
  LIVERY_LOG(logger,
             Info,
             "kms.pkcs11_ready",
             {"module", impl.module->path()},
             {"token", impl.options.token_label},
             {"kek_id", impl.options.key_label_prefix},
             {"current_version", static_cast<std::uint64_t>(cur ? cur->first : 0)});
  return kms;
}

std::string_view Pkcs11Kms::kekId() const noexcept {
  return impl_->options.key_label_prefix;
}

Result<std::uint32_t> Pkcs11Kms::currentVersion() {
  auto cur = impl_->current();
  if (!cur) {
    return setupError("PKCS#11 token holds no KEK version");
  }
  return cur->first;
}

Result<WrappedDek> Pkcs11Kms::wrap(const SecretBytes& dek,
                                   const CredentialBinding& binding,
                                   std::uint32_t format_version) {
  Impl& impl = *impl_;
  if (dek.size() != kDekBytes) {
    return fail(ErrorCode::kInternal, "invalid data key", "DEK must be 32 bytes");
  }
  auto cur = impl.current();
  if (!cur) {
    return setupError("PKCS#11 token holds no KEK version");
  }
  WrappedDek out;
  out.kek_id = impl.options.key_label_prefix;
  out.kek_version = cur->first;
  out.blob.resize(kGcmWrappedDekBytes);
  if (auto r = impl.random.fill({out.blob.data(), kGcmNonceBytes}); !r) {
    return r.error();
  }
  auto aad = dekAad(format_version, binding, out.kek_id, out.kek_version);
  CK_GCM_PARAMS params{};
  params.pIv = out.blob.data();
  params.ulIvLen = kGcmNonceBytes;
  params.ulIvBits = kGcmNonceBytes * 8;
  params.pAAD = aad.data();
  params.ulAADLen = aad.size();
  params.ulTagBits = kGcmTagBytes * 8;
  CK_MECHANISM mech{CKM_AES_GCM, &params, sizeof params};
  CK_ULONG out_len = 0;
  CK_RV rv = CKR_OK;
  std::string_view step;
  CK_OBJECT_HANDLE key = cur->second;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto lease = impl.borrow();
    if (!lease) {
      return lease.error();
    }
    step = "C_EncryptInit";
    rv = lease->check(impl.fn->C_EncryptInit(lease->get(), &mech, key));
    if (rv == CKR_OK) {
      step = "C_Encrypt";
      out_len = kDekBytes + kGcmTagBytes;
      rv = lease->check(impl.fn->C_Encrypt(lease->get(),
                                           const_cast<unsigned char*>(dek.data()),
                                           dek.size(),
                                           out.blob.data() + kGcmNonceBytes,
                                           &out_len));
    }
    if (attempt == 0 && (loginLost(rv) || handleLost(rv))) {
      // Lost login or stale handles (token restart): recover, look the key up, try once more.
      auto again = impl.refreshHandle(rv, out.kek_version);
      if (!again) {
        return again.error();
      }
      key = *again;
      continue;
    }
    break;
  }
  if (rv != CKR_OK) {
    return p11Error(step, rv);
  }
  if (out_len != kDekBytes + kGcmTagBytes) {
    return setupError("PKCS#11 CKM_AES_GCM returned " + std::to_string(out_len) +
                      " bytes, expected 48");
  }
  return out;
}

Result<SecretBytes> Pkcs11Kms::unwrap(const WrappedDekRef& wrapped,
                                      const CredentialBinding& binding,
                                      std::uint32_t format_version) {
  Impl& impl = *impl_;
  if (wrapped.kek_id != impl.options.key_label_prefix) {
    std::string msg = "KEK '" + std::string(wrapped.kek_id) + "' is not held by this KMS ('" +
                      impl.options.key_label_prefix + "')";
    return fail(ErrorCode::kInternal, msg, msg).withCode(std::string(kCodeKekUnavailable));
  }
  if (wrapped.blob.size() != kGcmWrappedDekBytes) {
    return fail(ErrorCode::kInternal,
                "stored credential is malformed",
                "wrapped DEK must be 60 bytes, got " + std::to_string(wrapped.blob.size()))
        .withCode(std::string(kCodeIntegrity));
  }
  auto handle = impl.handleOf(wrapped.kek_version);
  if (!handle && impl.reloadIfDue()) {
    // Maybe rotated by another process since we looked.
    handle = impl.handleOf(wrapped.kek_version);
  }
  if (!handle) {
    std::string msg = "KEK '" + impl.options.key_label_prefix + "' version " +
                      std::to_string(wrapped.kek_version) + " is not on the token; retired?";
    return fail(ErrorCode::kInternal, msg, msg).withCode(std::string(kCodeKekUnavailable));
  }
  auto aad = dekAad(format_version, binding, wrapped.kek_id, wrapped.kek_version);
  std::array<unsigned char, kGcmNonceBytes> nonce{};
  std::copy_n(wrapped.blob.begin(), kGcmNonceBytes, nonce.begin());
  CK_GCM_PARAMS params{};
  params.pIv = nonce.data();
  params.ulIvLen = kGcmNonceBytes;
  params.ulIvBits = kGcmNonceBytes * 8;
  params.pAAD = aad.data();
  params.ulAADLen = aad.size();
  params.ulTagBits = kGcmTagBytes * 8;
  CK_MECHANISM mech{CKM_AES_GCM, &params, sizeof params};
  std::array<unsigned char, kDekBytes + kGcmTagBytes> input{};
  std::copy(wrapped.blob.begin() + kGcmNonceBytes, wrapped.blob.end(), input.begin());
  // Some tokens want room for ciphertext+tag even though only 32 bytes come out.
  SecretBytes buffer(input.size());
  CK_ULONG out_len = buffer.size();
  CK_RV rv = CKR_OK;
  std::string_view step;
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      auto lease = impl.borrow();
      if (!lease) {
        return lease.error();
      }
      step = "C_DecryptInit";
      rv = lease->check(impl.fn->C_DecryptInit(lease->get(), &mech, *handle));
      if (rv == CKR_OK) {
        step = "C_Decrypt";
        out_len = buffer.size();
        rv = lease->check(
            impl.fn->C_Decrypt(lease->get(), input.data(), input.size(), buffer.data(), &out_len));
      }
    }  // the session goes back to the pool (or is closed) before any probe or retry
    if (attempt == 0 && (loginLost(rv) || handleLost(rv))) {
      auto again = impl.refreshHandle(rv, wrapped.kek_version);
      if (!again) {
        return again.error();
      }
      handle = *again;
      continue;
    }
    break;
  }
  if (step == "C_DecryptInit" && rv != CKR_OK) {
    return p11Error(step, rv);
  }
  bool tag_mismatch = rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
                      rv == CKR_DATA_INVALID;
  if (!tag_mismatch && rv == CKR_GENERAL_ERROR) {
    // Some tokens (SoftHSM2 2.6) report a GCM tag mismatch as CKR_GENERAL_ERROR. Tell it apart
    // from a sick token with a round trip under the same key: if that works, the token is fine
    // and it was this blob that did not authenticate.
    tag_mismatch = impl.probe(*handle);
  }
  if (tag_mismatch) {
    return fail(ErrorCode::kInternal,
                "decryption failure: authentication tag mismatch",
                "PKCS#11 CKM_AES_GCM decrypt: " + rvText(rv))
        .withCode(std::string(kCodeIntegrity));
  }
  if (rv != CKR_OK) {
    return p11Error("C_Decrypt", rv);
  }
  if (out_len != kDekBytes) {
    return setupError("PKCS#11 CKM_AES_GCM decrypt returned " + std::to_string(out_len) +
                      " bytes, expected 32");
  }
  return SecretBytes::copyOf(std::span<const unsigned char>(buffer.data(), kDekBytes));
}

Result<std::uint32_t> Pkcs11Kms::rotate() {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.rotate_mu);
  if (auto r = impl.reload(); !r) {
    return r.error();
  }
  auto cur = impl.current();
  const std::uint32_t next = cur ? cur->first + 1 : 1;
  if (cur && cur->first == UINT32_MAX) {
    return setupError("no KEK version numbers left");
  }
  auto key = impl.generate(next);
  if (!key) {
    return key.error();
  }
  // Another process may have created the same label at the same time.
  std::string label = versionLabel(impl.options.key_label_prefix, next);
  std::vector<CK_OBJECT_HANDLE> same;
  if (auto r = impl.discover(&label, &same); !r) {
    return r.error();
  }
  if (same.size() > 1) {
    (void)impl.destroy(*key);
    std::string msg = "concurrent KEK rotation detected (" + label + " created twice); retry";
    return fail(ErrorCode::kConflict, msg, msg);
  }
  {
    std::unique_lock klock(impl.keys_mu);
    impl.keys[next] = *key;
  }
  LIVERY_LOG(impl.logger,
             Info,
             "kms.kek_rotated",
             {"backend", "pkcs11"},
             {"kek_id", impl.options.key_label_prefix},
             {"new_version", static_cast<std::uint64_t>(next)});
  return next;
}

Result<void> Pkcs11Kms::retire(std::uint32_t version) {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.rotate_mu);
  if (auto r = impl.reload(); !r) {
    return r.error();
  }
  auto cur = impl.current();
  auto handle = impl.handleOf(version);
  if (!handle) {
    std::string msg = "KEK version " + std::to_string(version) + " does not exist";
    return fail(ErrorCode::kNotFound, msg, msg);
  }
  if (cur && cur->first == version) {
    std::string msg = "KEK version " + std::to_string(version) +
                      " is the current version and cannot be retired (rotate first)";
    return fail(ErrorCode::kConflict, msg, msg);
  }
  if (auto r = impl.destroy(*handle); !r) {
    return r;
  }
  {
    std::unique_lock klock(impl.keys_mu);
    impl.keys.erase(version);
  }
  LIVERY_LOG(impl.logger,
             Info,
             "kms.kek_retired",
             {"backend", "pkcs11"},
             {"kek_id", impl.options.key_label_prefix},
             {"version", static_cast<std::uint64_t>(version)});
  return {};
}

Result<std::vector<KekVersionInfo>> Pkcs11Kms::versions() {
  std::shared_lock lock(impl_->keys_mu);
  std::vector<KekVersionInfo> out;
  for (const auto& [version, handle] : impl_->keys) {
    out.push_back({version, KekState::kDecryptOnly, 0});
  }
  if (!out.empty()) {
    out.back().state = KekState::kCurrent;
  }
  return out;
}

Result<void> Pkcs11Kms::refresh() {
  return impl_->reload();
}

}  // namespace livery::crypto
