// The pinned-block cache behind nvJPEG's allocators (backends/cuda/nvjpeg_memory.h): which
// freed block a request gets. Host bookkeeping only; the GPU run exercises the CUDA side
// (every tests/gpu decode goes through it).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "backends/cuda/nvjpeg_api.h"
#include "backends/cuda/nvjpeg_memory.h"

namespace inferd::cuda {
namespace {

TEST(PinnedBlockCache, ARequestGetsTheSmallestBlockThatHoldsIt) {
  BlockCache<int> cache;
  cache.put(4096, 1);
  cache.put(1024, 2);
  cache.put(2048, 3);
  int block = 0;
  ASSERT_TRUE(cache.take(1500, block));
  EXPECT_EQ(block, 3);
  ASSERT_TRUE(cache.take(1024, block));  // an exact fit
  EXPECT_EQ(block, 2);
  EXPECT_EQ(cache.blocks(), 1u);
  EXPECT_FALSE(cache.take(5000, block)) << "no cached block holds 5000 bytes: allocate a new one";
  EXPECT_EQ(cache.blocks(), 1u);
}

TEST(PinnedBlockCache, ABlockOverTwiceTheRequestStaysForALargerOne) {
  BlockCache<int> cache;
  cache.put(1 << 20, 7);
  int block = 0;
  EXPECT_FALSE(cache.take(1000, block));
  EXPECT_TRUE(cache.take((1 << 19), block));  // exactly half: still handed out
  EXPECT_EQ(block, 7);
}

TEST(PinnedBlockCache, BlocksOfOneSizeAreAllKeptAndClearReleasesEach) {
  BlockCache<int> cache;
  for (int i = 0; i < 3; ++i) cache.put(512, i);
  int block = -1;
  ASSERT_TRUE(cache.take(512, block));
  std::vector<int> released;
  cache.clear([&](int b) { released.push_back(b); });
  std::sort(released.begin(), released.end());
  EXPECT_EQ(released.size(), 2u);
  EXPECT_EQ(std::find(released.begin(), released.end(), block), released.end()) << "a taken block is not released";
  EXPECT_EQ(cache.blocks(), 0u);
}

TEST(NvjpegMemory, ItsAllocatorsCarryItselfAsTheirContext) {
  NvjpegMemory memory(0);
  ASSERT_NE(memory.device()->allocate, nullptr);
  ASSERT_NE(memory.pinned()->release, nullptr);
  EXPECT_EQ(memory.device()->ctx, &memory);
  EXPECT_EQ(memory.pinned()->ctx, &memory);
  EXPECT_NE(memory.device()->allocate, memory.pinned()->allocate) << "device and pinned memory are not the same kind";
}

}  // namespace
}  // namespace inferd::cuda
