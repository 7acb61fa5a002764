#include "data-import/write_behind.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "layers/core/error.hpp"

namespace bandoso::data_import {
namespace {

// Records what it is given and on which thread; throws at the feature numbered fail_at.
class RecordingWriter final : public layers::LayerWriter {
 public:
  explicit RecordingWriter(std::int64_t fail_at = -1) : fail_at_(fail_at) {}
  void add(const layers::Feature& feature) override {
    const auto number = std::get<std::int64_t>(feature.values.at(0));
    if (number == fail_at_) throw InputError("feature refused");
    if (std::this_thread::get_id() != creator_) ++on_other_thread;
    added.push_back(number);
  }
  void commit(const layers::ImportRecord& /*record*/) override {}

  std::vector<std::int64_t> added;
  std::atomic<int> on_other_thread{0};

 private:
  std::int64_t fail_at_;
  std::thread::id creator_ = std::this_thread::get_id();
};

layers::Feature numbered(std::int64_t number) { return layers::Feature{{number}, "wkb"}; }

TEST(WriteBehind, WritesEveryFeatureInOrderOnAnotherThread) {
  RecordingWriter writer;
  {
    WriteBehind behind(writer, 4);
    for (std::int64_t i = 0; i < 10; ++i) behind.add(numbered(i));
    behind.finish();
  }
  ASSERT_EQ(writer.added.size(), 10U);
  for (std::int64_t i = 0; i < 10; ++i) EXPECT_EQ(writer.added[i], i);
  EXPECT_EQ(writer.on_other_thread, 10);
}

TEST(WriteBehind, FinishWritesAPartialBatch) {
  RecordingWriter writer;
  WriteBehind behind(writer, 100);
  behind.add(numbered(1));
  behind.add(numbered(2));
  EXPECT_TRUE(writer.added.empty());  // still in the batch being filled
  behind.finish();
  EXPECT_EQ(writer.added, (std::vector<std::int64_t>{1, 2}));
}

TEST(WriteBehind, AWriterErrorReachesTheCaller) {
  RecordingWriter writer(5);
  WriteBehind behind(writer, 4);
  EXPECT_THROW(
      {
        for (std::int64_t i = 0; i < 20; ++i) behind.add(numbered(i));
        behind.finish();
      },
      InputError);
  // The batch with the bad feature stops at it: nothing after it is written.
  ASSERT_FALSE(writer.added.empty());
  EXPECT_EQ(writer.added.back(), 4);
}

TEST(WriteBehind, DestructionWaitsForTheBatchBeingWritten) {
  RecordingWriter writer;
  {
    WriteBehind behind(writer, 2);
    for (std::int64_t i = 0; i < 6; ++i) behind.add(numbered(i));
    // No finish(): the last full batch was handed over and must be done before the writer goes.
  }
  EXPECT_EQ(writer.added.size(), 6U);
}

}  // namespace
}  // namespace bandoso::data_import
