#include "http/server.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/net.h>
#include <pistache/peer.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iostream>

#include "layers/core/error.hpp"

namespace bandoso::http {

namespace {

namespace P = Pistache;

// Pistache silently drops headers added with addRaw(); only Header subclasses are written.
class NamedHeader : public P::Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& stream) const override { stream << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return P::Http::Header::detail::hash(name_.c_str()); }
#endif

 private:
  std::string name_;
  std::string value_;
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

Request to_request(const P::Http::Request& in) {
  Request out;
  out.method = P::Http::methodString(in.method());
  out.path = in.resource();
  // Pistache 0.0.5 hands query parameters over still percent-encoded.
  for (auto it = in.query().parameters_begin(); it != in.query().parameters_end(); ++it) {
    out.query[percent_decode(it->first)] = percent_decode(it->second);
  }
  for (const auto& [name, raw] : in.headers().rawList()) out.headers[lower(name)] = raw.value();
  // Content-Type is parsed by Pistache (not a raw header); its text keeps the parameters (the boundary).
  if (const auto type = in.headers().tryGet<P::Http::Header::ContentType>()) {
    out.headers["content-type"] = type->mime().toString();
  }
  if (const auto host = in.headers().tryGet<P::Http::Header::Host>()) {
    out.headers["host"] = host->port().toString() == "80" ? host->host() : host->host() + ":" + host->port().toString();
  }
  out.body = in.body();
  out.client = in.address().host();
  return out;
}

class Handler : public P::Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)

  explicit Handler(const Api* api) : api_(api) {}

  void onRequest(const P::Http::Request& request, P::Http::ResponseWriter writer) override {
    // Pistache answers an exception escaping here with its text: never let one out.
    try {
      const Response response = api_->handle(to_request(request));
      auto& headers = writer.headers();
      // Pistache 0.0.5 pre-sets "Connection: Close" for HTTP/1.1 requests without a Connection header,
      // although 1.1 means keep-alive; keep the connection unless the client asked to close it.
      const auto asked = request.headers().tryGet<P::Http::Header::Connection>();
      const bool close =
          asked ? asked->control() == P::Http::ConnectionControl::Close : request.version() != P::Http::Version::Http11;
      if (!close) {
        headers.remove<P::Http::Header::Connection>();
        headers.add<P::Http::Header::Connection>(P::Http::ConnectionControl::KeepAlive);
      }
      for (const auto& [name, value] : response.headers) headers.add(std::make_shared<NamedHeader>(name, value));
      const bool head = request.method() == P::Http::Method::Head;
      const auto code = static_cast<P::Http::Code>(response.status);
      if (response.stream && !head) {
        stream(writer, code, response);
        return;
      }
      // 204 and 304 carry no body and no type (Pistache throws on an empty media type).
      auto sent = response.content_type.empty()
                      ? writer.send(code)
                      : writer.send(code, head ? std::string() : response.body,
                                    P::Http::Mime::MediaType::fromString(response.content_type));
      if (close) {
        // Pistache 0.0.5 writes "Connection: Close" but leaves the socket open: end it once the answer is out.
        sent.then([peer = writer.peer()](ssize_t) { ::shutdown(peer->fd(), SHUT_WR); }, P::Async::IgnoreException);
      }
    } catch (const std::exception& e) {
      std::cerr << fmt::format("error: http: {}\n", e.what());
      writer.send(P::Http::Code::Internal_Server_Error, R"({"error":{"code":"internal","message":"internal error"}})",
                  P::Http::Mime::MediaType::fromString("application/json"));
    }
  }

  // A chunked answer written as it is produced. Pistache's stream flushes from the calling thread, so this
  // runs in the handler (an I/O thread): each piece leaves as soon as the socket takes it. The client
  // knows the end from the last chunk, so the connection is not shut here (a pending write would be lost).
  static void stream(P::Http::ResponseWriter& writer, P::Http::Code code, const Response& response) {
    writer.headers().add<P::Http::Header::ContentType>(P::Http::Mime::MediaType::fromString(response.content_type));
    const auto peer = writer.peer();
    auto out = writer.stream(code);
    bool sending = false;
    try {
      response.stream([&](std::string_view piece) {
        if (piece.empty()) return;  // an empty chunk would end the answer
        sending = true;
        out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
        out.flush();
        sending = false;
      });
      out.ends();
    } catch (const std::exception& e) {
      if (sending) return;  // the client went away
      // The status line is gone: cut the connection so the client sees an incomplete answer.
      std::cerr << fmt::format("error: http: streamed answer cut short: {}\n", e.what());
      ::shutdown(peer->fd(), SHUT_RDWR);
    }
  }

  void onTimeout(const P::Http::Request& /*request*/, P::Http::ResponseWriter writer) override {
    writer.headers().add<P::Http::Header::Connection>(P::Http::ConnectionControl::Close);
    writer.send(P::Http::Code::Request_Timeout,
                R"({"error":{"code":"timeout","message":"request not completed in time"}})",
                P::Http::Mime::MediaType::fromString("application/json"));
  }

 private:
  const Api* api_;
};

}  // namespace

struct Server::Impl {
  const Api& api;
  ServerOptions options;
  std::shared_ptr<P::Http::Endpoint> endpoint;
};

Server::Server(const Api& api, ServerOptions options)
    : impl_(std::make_unique<Impl>(Impl{api, std::move(options), nullptr})) {}

Server::~Server() { stop(); }

void Server::start() {
  try {
    const P::Address address(P::IP::any(), P::Port(impl_->options.port));
    impl_->endpoint = std::make_shared<P::Http::Endpoint>(address);
    auto options = P::Http::Endpoint::options()
                       .threads(impl_->options.threads)
                       .flags(P::Tcp::Options::ReuseAddr)
                       .maxRequestSize(16 * 1024 * 1024)  // batch CSV uploads (POST /search/csv)
                       .headerTimeout(std::chrono::seconds(10))
                       .bodyTimeout(std::chrono::seconds(30));
    impl_->endpoint->init(options);
    impl_->endpoint->setHandler(P::Http::make_handler<Handler>(&impl_->api));
    impl_->endpoint->serveThreaded();
  } catch (const std::exception& e) {
    throw Error(ErrorCode::unavailable, fmt::format("cannot listen on port {}: {}", impl_->options.port, e.what()));
  }
}

std::uint16_t Server::port() const {
  return impl_->endpoint ? static_cast<std::uint16_t>(impl_->endpoint->getPort()) : 0;
}

void Server::stop() {
  if (impl_->endpoint) {
    impl_->endpoint->shutdown();
    impl_->endpoint.reset();
  }
}

}  // namespace bandoso::http
