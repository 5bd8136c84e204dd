#pragma once

#include <boost/asio/awaitable.hpp>

namespace livery {
// The one namespace alias for Asio, visible in every livery namespace.
namespace net = boost::asio;
}  // namespace livery
