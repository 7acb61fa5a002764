#pragma once
// The HTTP server (Pistache). Knows nothing of maps: it translates requests for an Api.

#include <atomic>
#include <cstdint>
#include <memory>

#include "http/api.hpp"

namespace bandoso::http {

struct ServerOptions {
  std::uint16_t port = 8080;  // 0: any free port
  int threads = 2;
  std::string address = "0.0.0.0";
};

class Server {
 public:
  Server(const Api& api, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();                              // returns at once; serves on background threads
  [[nodiscard]] std::uint16_t port() const;  // the bound port (useful with port 0)
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bandoso::http
