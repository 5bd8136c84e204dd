#pragma once

#include <boost/asio/awaitable.hpp>

namespace boost::asio {
class thread_pool;  // the blocking pool, passed by reference (core/offload.hpp runs work on it)
}

namespace livery {
// The one namespace alias for Asio, visible in every livery namespace.
namespace net = boost::asio;
}  // namespace livery
