#include "layers/core/error.hpp"

#include <array>
#include <cstddef>

namespace bandoso {

namespace {
// Indexed by ErrorCode; keep in the enum's order.
constexpr std::array<ErrorInfo, 14> kCatalogue{{
    {"bad_request", 400, 1, "bad request"},
    {"not_found", 404, 1, "not found"},
    {"too_large", 413, 1, "request too large"},
    {"rate_limited", 429, 1, "too many requests, slow down"},
    {"unauthorized", 401, 1, "unknown API key"},
    {"forbidden", 403, 1, "not allowed for this API key"},
    {"config_invalid", 500, 1, "server configuration error"},
    {"input_invalid", 400, 1, "invalid input"},
    {"file_not_found", 404, 1, "file not found"},
    {"schema_mismatch", 500, 2, "database schema mismatch"},
    {"storage_failure", 500, 2, "storage failure"},
    {"render_failure", 500, 2, "rendering failed"},
    {"unavailable", 503, 2, "temporarily unavailable, try again"},
    {"internal", 500, 2, "internal error"},
}};
static_assert(kCatalogue.size() == static_cast<std::size_t>(ErrorCode::internal) + 1);
}  // namespace

const ErrorInfo& error_info(ErrorCode code) { return kCatalogue.at(static_cast<std::size_t>(code)); }

}  // namespace bandoso
