#pragma once
// Writes features on a second thread while the next ones are read and prepared, so that the store's
// inserts overlap decoding, transformation and the GEOS checks (bench/README.md has the numbers).

#include <cstddef>
#include <future>
#include <vector>

#include "layers/core/store.hpp"

namespace bandoso::data_import {

// Batches keep the hand-over cost small: one batch is written while the next fills. An error of the
// writer reaches the caller at the next hand-over or at finish(), and the import fails as it would
// without the thread. Destruction waits for the batch being written: the writer must outlive it.
class WriteBehind {
 public:
  explicit WriteBehind(layers::LayerWriter& writer, std::size_t batch_size = 512)
      : writer_(writer), batch_size_(batch_size) {}
  ~WriteBehind() {
    if (pending_.valid()) pending_.wait();
  }
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  void add(layers::Feature feature) {
    batch_.push_back(std::move(feature));
    if (batch_.size() >= batch_size_) hand_over();
  }
  // Every feature added so far is written, or the writer's error is thrown.
  void finish() {
    hand_over();
    if (pending_.valid()) pending_.get();
  }

 private:
  void hand_over() {
    if (pending_.valid()) pending_.get();
    if (batch_.empty()) return;
    pending_ = std::async(std::launch::async, [&writer = writer_, batch = std::move(batch_)] {
      for (const auto& feature : batch) writer.add(feature);
    });
    batch_.clear();  // a moved-from vector is valid but unspecified
    batch_.reserve(batch_size_);
  }

  layers::LayerWriter& writer_;
  std::size_t batch_size_;
  std::vector<layers::Feature> batch_;
  std::future<void> pending_;
};

}  // namespace bandoso::data_import
