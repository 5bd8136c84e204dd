# Every Livery target links livery::options: warnings and sanitizers live here, not in
# CMAKE_CXX_FLAGS, so third-party code is not affected.
add_library(livery_options INTERFACE)
add_library(livery::options ALIAS livery_options)
target_compile_options(livery_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Woverloaded-virtual -Wimplicit-fallthrough
  # GCC 12 flags designated initializers that leave members to their defaults
  # ({.name = "x"}), which is the point of default member initializers.
  -Wno-missing-field-initializers
  # GCC 12 at -O1 and above pairs Asio's awaitable frame operator delete with the inlined
  # aligned_new inside it and reports a mismatch that is not there (a known false positive
  # with coroutine frame allocators).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>
  $<$<CXX_COMPILER_ID:GNU>:-Wduplicated-cond -Wlogical-op -Wsuggest-override>
  $<$<BOOL:${LIVERY_WARNINGS_AS_ERRORS}>:-Werror>)
# Asio's io_uring/epoll reactors are fine; keep the build deterministic across presets.
# Asio recycles handler and coroutine-frame memory per thread, but only two blocks per purpose
# by default: a chat request nests more awaitables than that, and callgrind counted ~23
# aligned_alloc/free pairs per request. Every translation unit must agree on this value (it sets
# the layout of Asio's per-thread state), hence an interface definition for all targets.
target_compile_definitions(livery_options INTERFACE
  BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=8
  BOOST_ASIO_NO_DEPRECATED
  BOOST_BEAST_USE_STD_STRING_VIEW
  BOOST_ASIO_DISABLE_BOOST_COROUTINE)
if(LIVERY_SANITIZE)
  if("thread" IN_LIST LIVERY_SANITIZE AND "address" IN_LIST LIVERY_SANITIZE)
    message(FATAL_ERROR "ThreadSanitizer cannot be combined with AddressSanitizer")
  endif()
  list(JOIN LIVERY_SANITIZE "," _livery_san)
  target_compile_options(livery_options INTERFACE
    -fsanitize=${_livery_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(livery_options INTERFACE -fsanitize=${_livery_san})
  # GCC 12's -Wmaybe-uninitialized misfires on libstdc++ internals (std::function inside
  # std::regex, std::optional moves) once sanitizer instrumentation changes inlining.
  target_compile_options(livery_options INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  if("thread" IN_LIST LIVERY_SANITIZE)
    # GCC >= 12 warns that TSan does not model std::atomic_thread_fence, which Asio's
    # std_fenced_block uses (chriskohlhoff/asio#1193). Keep -Werror for everything else.
    target_compile_options(livery_options INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
  endif()
endif()
