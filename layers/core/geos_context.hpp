#pragma once
// A reentrant GEOS context for one thread's work (an import, a tile, an index build).

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include "layers/core/error.hpp"

namespace bandoso::layers {

class GeosContext {
 public:
  GeosContext() : handle_(GEOS_init_r()) {
    if (handle_ == nullptr) throw Error(ErrorCode::internal, "GEOS_init_r failed");
  }
  ~GeosContext() { GEOS_finish_r(handle_); }
  GeosContext(const GeosContext&) = delete;
  GeosContext& operator=(const GeosContext&) = delete;
  [[nodiscard]] GEOSContextHandle_t get() const { return handle_; }

 private:
  GEOSContextHandle_t handle_;
};

}  // namespace bandoso::layers
