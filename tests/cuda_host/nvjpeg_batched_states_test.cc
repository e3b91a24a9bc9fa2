// The per-batch-size nvJPEG states of the GPU JPEG decoder (backends/cuda/nvjpeg_batched_states.h)
// against a fake nvJPEG that counts what is made, initialized and destroyed: no GPU needed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "backends/cuda/nvjpeg_batched_states.h"

namespace inferd::cuda {
namespace {

// The fake library's bookkeeping (its entry points are plain functions: one test at a time).
struct FakeNvjpeg {
  int created = 0, destroyed = 0;
  std::map<uintptr_t, int> initialized_for;  // state -> batch size
  NvjpegStatus fail_initialize = nvjpeg::kSuccess;
};
FakeNvjpeg* fake = nullptr;

NvjpegStatus fake_state_create(NvjpegHandle, NvjpegState* state) {
  *state = reinterpret_cast<NvjpegState>(static_cast<uintptr_t>(++fake->created) * 16);
  return nvjpeg::kSuccess;
}
NvjpegStatus fake_state_destroy(NvjpegState state) {
  ++fake->destroyed;
  fake->initialized_for.erase(reinterpret_cast<uintptr_t>(state));
  return nvjpeg::kSuccess;
}
NvjpegStatus fake_batched_initialize(NvjpegHandle, NvjpegState state, int batch_size, int, int) {
  if (fake->fail_initialize != nvjpeg::kSuccess) return fake->fail_initialize;
  fake->initialized_for[reinterpret_cast<uintptr_t>(state)] = batch_size;
  return nvjpeg::kSuccess;
}

class BatchedStatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake = &bookkeeping;
    api.state_create = fake_state_create;
    api.state_destroy = fake_state_destroy;
    api.batched_initialize = fake_batched_initialize;
  }
  void TearDown() override { fake = nullptr; }
  int size_of(NvjpegState s) const { return bookkeeping.initialized_for.at(reinterpret_cast<uintptr_t>(s)); }

  FakeNvjpeg bookkeeping;
  NvjpegApi api{};
  NvjpegHandle handle = reinterpret_cast<NvjpegHandle>(uintptr_t{0x1000});
};

TEST_F(BatchedStatesTest, EachBatchSizeIsInitializedOnceAndKept) {
  BatchedStates states(&api, handle);
  NvjpegState a = nullptr, b = nullptr, again = nullptr;
  ASSERT_EQ(states.get(5, &a), nvjpeg::kSuccess);
  ASSERT_EQ(states.get(3, &b), nvjpeg::kSuccess);
  ASSERT_EQ(states.get(5, &again), nvjpeg::kSuccess);
  EXPECT_EQ(a, again) << "a size seen before reuses its state";
  EXPECT_NE(a, b);
  EXPECT_EQ(size_of(a), 5);
  EXPECT_EQ(size_of(b), 3);
  EXPECT_EQ(bookkeeping.created, 2) << "two sizes, two states, whatever the order of the batches";
}

TEST_F(BatchedStatesTest, TheLeastRecentlyUsedSizeGoesPastTheLimit) {
  BatchedStates states(&api, handle);
  NvjpegState s = nullptr;
  for (int n = 1; n <= static_cast<int>(BatchedStates::kMaxStates); ++n) ASSERT_EQ(states.get(n, &s), nvjpeg::kSuccess);
  ASSERT_EQ(states.get(1, &s), nvjpeg::kSuccess);  // 1 is now the most recent; 2 the oldest
  ASSERT_EQ(states.get(100, &s), nvjpeg::kSuccess);
  EXPECT_EQ(states.size(), BatchedStates::kMaxStates);
  EXPECT_EQ(bookkeeping.destroyed, 1);
  const int before = bookkeeping.created;
  ASSERT_EQ(states.get(1, &s), nvjpeg::kSuccess);
  EXPECT_EQ(bookkeeping.created, before) << "size 1 was kept";
  ASSERT_EQ(states.get(2, &s), nvjpeg::kSuccess);
  EXPECT_EQ(bookkeeping.created, before + 1) << "size 2 was the one evicted";
}

TEST_F(BatchedStatesTest, AFailedInitializationKeepsNothingAndSaysWhy) {
  BatchedStates states(&api, handle);
  bookkeeping.fail_initialize = nvjpeg::kAllocatorFailure;
  NvjpegState s = nullptr;
  EXPECT_EQ(states.get(4, &s), nvjpeg::kAllocatorFailure);
  EXPECT_EQ(states.size(), 0u);
  EXPECT_EQ(bookkeeping.destroyed, 1) << "the state made for it is destroyed";
  bookkeeping.fail_initialize = nvjpeg::kSuccess;
  EXPECT_EQ(states.get(4, &s), nvjpeg::kSuccess);
  EXPECT_EQ(size_of(s), 4);
}

TEST_F(BatchedStatesTest, AForgottenSizeIsMadeAfreshAndEveryStateGoesWithTheOwner) {
  {
    BatchedStates states(&api, handle);
    NvjpegState first = nullptr, second = nullptr;
    ASSERT_EQ(states.get(8, &first), nvjpeg::kSuccess);
    states.forget(8);
    states.forget(9);  // never made: nothing to do
    EXPECT_EQ(bookkeeping.destroyed, 1);
    ASSERT_EQ(states.get(8, &second), nvjpeg::kSuccess);
    EXPECT_EQ(bookkeeping.created, 2);
    ASSERT_EQ(states.get(2, &second), nvjpeg::kSuccess);
  }
  EXPECT_EQ(bookkeeping.destroyed, bookkeeping.created) << "no state outlives its owner";
}

TEST_F(BatchedStatesTest, PrepareMakesEverySizeOnceAndSaysWhyOneFailed) {
  BatchedStates states(&api, handle);
  ASSERT_EQ(states.prepare(chunk_sizes()), nvjpeg::kSuccess);
  EXPECT_EQ(states.size(), chunk_sizes().size());
  const int made = bookkeeping.created;
  NvjpegState s = nullptr;
  for (int n : chunk_sizes()) {
    ASSERT_EQ(states.get(n, &s), nvjpeg::kSuccess);
    EXPECT_EQ(size_of(s), n);
  }
  EXPECT_EQ(bookkeeping.created, made) << "every chunk size was made before the first batch";
  BatchedStates failing(&api, handle);
  bookkeeping.fail_initialize = nvjpeg::kAllocatorFailure;
  EXPECT_EQ(failing.prepare({1, 2}), nvjpeg::kAllocatorFailure);
  EXPECT_EQ(failing.size(), 0u);
}

TEST(BatchChunks, APowerOfTwoChunkPerBinaryDigitAndTheLargestAsOftenAsItFits) {
  EXPECT_EQ(chunk_sizes(), (std::vector<int>{1, 2, 4, 8, 16}));
  EXPECT_EQ(batch_chunks(1), (std::vector<int>{1}));
  EXPECT_EQ(batch_chunks(13), (std::vector<int>{8, 4, 1}));
  EXPECT_EQ(batch_chunks(16), (std::vector<int>{16}));
  EXPECT_EQ(batch_chunks(40), (std::vector<int>{16, 16, 8}));
  for (int n = 1; n <= 300; ++n) {
    int sum = 0;
    for (int c : batch_chunks(n)) {
      EXPECT_NE(std::find(chunk_sizes().begin(), chunk_sizes().end(), c), chunk_sizes().end()) << n;
      sum += c;
    }
    EXPECT_EQ(sum, n);
  }
}

}  // namespace
}  // namespace inferd::cuda
