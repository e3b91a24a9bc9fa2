// Bit-exactness against Pillow 9.4 (Debian 12's python3-pil): our resize + crop must give
// exactly the bytes of Image.resize(size, BILINEAR).crop(box), the preprocessing the
// reference predictions were made with. The expected outputs below are printed by
// pillow_cases.py (next to this file); rerun it after changing a case.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "image/decode.h"
#include "image/preprocess.h"
#include "image_test_util.h"

namespace inferd::image {
namespace {

// Pixels from the LCG s = (s * 1103515245 + 12345) mod 2^31, byte = (s >> 16) & 255,
// RGB interleaved: easy to reproduce in Python.
Image lcg_image(int w, int h, uint32_t seed) {
  Image img;
  img.width = w;
  img.height = h;
  uint64_t s = seed;
  for (int i = 0; i < w * h * 3; ++i) {
    s = (s * 1103515245u + 12345u) % (1u << 31);
    img.rgb.push_back(uint8_t((s >> 16) & 255));
  }
  return img;
}

PreprocessConfig raw_pixels_config(int width, int height, int resize) {
  PreprocessConfig cfg;  // output = resized pixel values, 0..255
  cfg.width = width;
  cfg.height = height;
  cfg.resize = resize;
  cfg.scale = 1.0f;
  cfg.mean = {0, 0, 0};
  cfg.std = {1, 1, 1};
  return cfg;
}

// Our CHW float output as Pillow's HWC bytes; fails the test on a value that is not a
// whole 0..255 level (the raw config maps each level to itself).
std::vector<uint8_t> to_hwc_bytes(const std::vector<float>& chw, int width, int height) {
  std::vector<uint8_t> hwc(chw.size());
  const size_t plane = size_t(width) * height;
  for (size_t i = 0; i < plane; ++i) {
    for (size_t c = 0; c < 3; ++c) {
      const float v = chw[c * plane + i];
      EXPECT_TRUE(v >= 0 && v <= 255 && v == std::floor(v)) << "value " << v << " at " << i;
      hwc[i * 3 + c] = uint8_t(v);
    }
  }
  return hwc;
}

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

uint64_t fnv1a64(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ULL;
  return h;
}

struct PillowCase {
  int w, h;
  uint32_t seed;
  int resize, crop_w, crop_h;
  const char* rgb_hex;  // Pillow's output, HWC
};

struct PillowAsset {
  const char* path;  // under images/
  bool dct_scaled;   // decode_and_preprocess would DCT-scale it: decode at full size instead
  uint64_t fnv1a64;  // of Pillow's 224x224 HWC output
};

// ---- printed by pillow_cases.py -----------------------------------------------------------
const PillowCase kPillowCases[] = {
    // downscale 1.44, odd crop offset
    {37, 23, 1, 16, 8, 8,
     "85727da339708b82677e4e83a1693ba1a961926a9e947f9622a44e8061c47a516e6f93827faf5ca5"
     "5f38b93b4a9f5c5b6fa985b2894d659b5ca8b25682c9659fae93719c826cab526f67adac6f9547a2"
     "a76bbc677a94889c7a6c81868c7a5a908d6a8c4368814f6bbdb394cac756bcc75f839080b8756484"
     "805c565b747e869b798f8779727c6964829f78a0c08c8a63869e9d7157c95669c7984ea163488343"
     "8ba4a26776b7777c5d6eb7ad4fc48d8cb19f84729ba2a65091a29c6f6a788da0"},
    // upscale 2.86
    {9, 7, 2, 20, 8, 8,
     "4e996a51af604d9e61498c615e71578b4f42b82d2ca0424449b7464ed33959b143658e4c816946af"
     "412fdc1917be31307aca3a84dc2c8ac43e90ab50a48a4ec45f3ae53424c9453cabdd2eb9e520bbd7"
     "3abcc853c7ab57da7d45ee4f31d45847aeda4cc1db40cbce56d5bf6cdca371e17965e54f59c95664"
     "84c1939bbe8cbaa793da8f9ae4749dd8539bcc349aaa3d935aa9db76a2d9aa81d0df5fc8eb44c8cf"
     "2ed2b218db8b25c24488ce5c78d2975fcad246c2df38c0c032c4a02dc87c3ab6"},
    // downscale 8.3: 19 taps per output
    {301, 200, 3, 24, 10, 8,
     "82787c8779807d7e72877f7e887f7f827d8187858382827685827d7d828084737f89787c7d797d87"
     "7f77858380867a86897b7d8179737d7e6a7f7e767f7b857f817c82857f877d84887b858576848276"
     "82877e7d867a7d7f82898285858382818184808b8588867f847e7a82837b827d8384817e7c867f82"
     "837e7b79818980807e86877b7f7d70807e767e7f857d81857784827b7e817e837f8480847c78847a"
     "8081767f7f7e90817f8e807a7e7c757f7b7a7d78768182888682777982788786787e867888837085"
     "7a747879747975737e7d7884857a807d7a877a808384767b7c82817985767b847f7a7d767d7b7d81"},
    // downscale 1.6 to 40x30
    {64, 48, 4, 30, 16, 12,
     "5786687b8c999a868e4976b067976985a9c5819e759744908d57a29aa2a0ad884eb37e969da29088"
     "55776e459e8570a364697d8c6280857b947250857c6b6b5b92a99b6d9c9d589d81899f9078b6666c"
     "57845c8671ac6094725b449c4a40a1857c93468290509c7690a94e7e6485724fa56f8bab608673ab"
     "4374a7a2a2a05952877c65c35b5488765e4f883c7676625abf894e7f9c448f67b25f8ba0786a795a"
     "73a98093a093997b5f577a7b77646b63907b80bd7553d6a064909d699d71786ea2a785b948967397"
     "a1a9c288856c846b73827079ac7a8d8b848b4e4e89567e5dc170817a8e2f8f816c90678f9b6781a1"
     "626c8967885571a65498996946527b8c73a4ab7c94698b57bd605b9ea9759290cd687a77677d8ba9"
     "cca4907098919f9a7c92a48a987fab97af905c8b5f416da1727f7d9f81867fc0af65c58b537e94d5"
     "ad735d81827785c17ba2a4938968af8b8f705d8c7f3b926660654b4a8ba951a1a98e6c809ca59889"
     "886d8963787658a5596d685c7b47868e38b8b1819b6b5884ac889ba683655f54815f568e5c92a664"
     "5a7e76637f9e7b8693a1949c77636bc3537f4277a14c586d649b828261758b81a4737990b6a57277"
     "a8626e8880b7a96d60988d746bab3f617e93898c757e9d483ea5737f6982666a81807dac916dae72"
     "82ab4c75ae64907f736268626f6b96498f99985e6da14249a57a84be7c9fbb7a60639b7677ac888c"
     "b97ca58d8c8aab6d89846a5e9c7962778f75634f7b6c59226e7488935a9f6d70b757747c83c6774f"
     "9c4790779bb57399b579ac938b7e955b"},
    // downscale by 1.009: scale just above 1
    {150, 110, 5, 109, 8, 8,
     "ab86ae9880bf5fa99138c98655a0c272adae64aaac5f6fba7d2f94a15480a87b4e7cab536fc0b075"
     "c7975d7f736f41b28c437e826063996a498f79396f67983d81b23ca09985598e986e6c74aa857191"
     "62676e45595e97388ace1fcfd763979a51688c54a49d668c6e578b3663919f7789d06bb3bf877ba9"
     "32516735885e68967189a13cb89d59c89985c08887bb6696749b8c6da484858f94b6957fd1b75f98"
     "99687f528f7a707ca4a89d9c8e8e7845779d6f58bcac4f9f646f86218e764267"},
    // portrait, upscale 1.94
    {17, 101, 6, 33, 9, 7,
     "cc284b8e53724985a44990784f9a4739866326787e4aad866bd48ebb7d6cb5725bb1624b79793c3e"
     "942e3e7c453e695b41906144b167a1ab95b08f5cc66b1c8f752354822f4e753a496945468b5645a8"
     "667ca7ca73a97b6fad238389369963516b6f47417c405da46b79c195627eb94e94713ab221717e43"
     "ac466c875e5d6577536b967a75ada05330623f513e297a175954498c297fa3417eb5587e7263823a"
     "6c88604d3f50552b3b60195455576f479a995481be5f6b7a61813e6497"},
    // unchanged size: Pillow copies
    {23, 41, 7, 23, 12, 12,
     "a912769c30661a39964fc36db428392aaa56331d9b59719a2c959947baded38a5dc623b3b3f6a1ba"
     "fb56221771bc68aaa8992db30a2990b0a74fc59dc12f7ced13891346e5d97a005cc5a2270cc18f72"
     "e8442affa73ad08a676217c049bad08ac9a9bb1adeef0db6d54da247f41675e121c1f9aa564cfea1"
     "deea9ce002c6e9a236c0035806e5dc8dbeb1c87adc04c86938b8f3a5e3c3bcf8d415b61591f1d57a"
     "1561097f4a0317fe479635c0494868a673bd9e9c98797296eb89b2ef62223579f4af1cfaea32cd25"
     "71de5e92e171bc81cb589f4ec5812eb41a9ba1fc4826ad7b0b9bb652a0eb0a1934779f534439cf7e"
     "b7b5d3dbb89d01fd5547c6140e71b7ddbd3efb1f18b74df8cb305da1dd1d957d9d94e2f24c86430b"
     "87bd12ce7b95155e51a57013ecceea1904c148682ad16819509aedf90385def3681afd3df809e945"
     "fbf6f35a5cc923dc3df899b8f238e7c9c26a6438848f4988ea26d64c914946a8c986738f247e49b6"
     "723185b8afc8bc1c294fe500de49da4309064f6d3f89417c4b3c3f6dca535c898700ef747bec66e9"
     "78c9b88ab521e5658cc15f8bd086d0027297a264f7654b379a64590b40864156"},
    // stretch: only the vertical pass (Pillow skips the other)
    {12, 40, 8, 0, 12, 8,
     "897eae8c9555566641ce899f54b898769f946a9a668b6ab88e7785667b8c83588892ac7f7c6f7877"
     "86737c6c866c8d9979659e91757964677f8244ae896a747e8ea77aa09f928087626575ba699c568e"
     "5c939c777246718e3c9c8e858589886d68909984797dad738d75757269a99480698f6cb05d798586"
     "925f47695f85957886a17e60698a77997f5167af7c777b64726c8b778b9a9b8b9f8a898273759280"
     "91734c7b5fb36c6c4eac5da56a789c68808d768488736d6d7694a37b9c82888ac16694a09093488b"
     "a766887a86998f52a662a263629e5a858054ab9f814f725f9c769c6fa0869d83af5a9191a192a253"
     "6c7c9b9677bf669778b37e7250535c724f86b2758494a658837f898d926c826d869b7b93617e9876"
     "619fc17a7dac917b"},
    // stretch: upscale x, downscale y
    {5, 9, 9, 0, 11, 4,
     "709b937097976f8ea16e8d9d68ae6962cf347cb16096958c946cab8c40c6892ed12e539036558b48"
     "5b7c616773928f7bc4b88397959f6a71bb6274c26380c56485c65f7096646c906f627f775f766e7b"
     "8c6597a27097a67c98a95fb1a737d0a228dda1a79e9aa88893ab5382ac377ba9899da6dbc090b495"
     "7a8d6b6278654966683f5f69"},
    // stretch: only the horizontal pass
    {40, 6, 10, 0, 8, 6,
     "bf7f8779997c639f90736873625d8e6c4b979aa472848f7e7fb33f748e58859b7d7f9a6e7b9bbb70"
     "7c6a879f7198928425899b6975809b4c68b78c7563ada896a98d779058767765904b67496d416e91"
     "6a996f75869651755e6a82af7b7b7295897888ca4589a2519b6a6162784b998e725e7968899f9e5d"
     "66427f97655a6d7e9a8197877b8c76556d7287768c5c6b69"},
};
const PillowAsset kPillowAssets[] = {
    {"seed_gre/1.jpg", false, 0x1ae6d394ee3bc12aULL},  // 227x227 RGB
    {"darknet/eagle.jpg", false, 0xede91a2ecc6c9087ULL},  // 773x512 RGB
    {"caffe/cat_gray.jpg", false, 0xfdd760f161860df3ULL},  // 480x360 L
    {"opencv/squirrel_cls.jpg", false, 0x2716aea803c48a28ULL},  // 535x426 RGB
    {"winml/cat.jpg", false, 0x29fba0fb8501609eULL},  // 1000x1000 RGB
    {"winml/kitten_224.png", false, 0xf21a50075ba8725aULL},  // 224x224 RGBA
    {"misc/pytorch_hub_dog.jpg", true, 0x9752437e943aa507ULL},  // 1546x1213 RGB
};
// ---- end of pillow_cases.py output ---------------------------------------------------------

TEST(PillowMatch, SeededImagesAtSeveralScalesAreBitIdentical) {
  for (const PillowCase& pc : kPillowCases) {
    SCOPED_TRACE(std::to_string(pc.w) + "x" + std::to_string(pc.h) + " resize " +
                 std::to_string(pc.resize) + " crop " + std::to_string(pc.crop_w) + "x" +
                 std::to_string(pc.crop_h));
    const PreprocessConfig cfg = raw_pixels_config(pc.crop_w, pc.crop_h, pc.resize);
    std::vector<float> out(size_t(3) * pc.crop_w * pc.crop_h, NAN);
    const Status status = preprocess(lcg_image(pc.w, pc.h, pc.seed), cfg, out.data());
    ASSERT_TRUE(status.is_ok()) << status.message();
    const std::vector<uint8_t> ours = to_hwc_bytes(out, pc.crop_w, pc.crop_h);
    const std::vector<uint8_t> pillow = from_hex(pc.rgb_hex);
    ASSERT_EQ(ours.size(), pillow.size());
    int max_diff = 0, differing = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      const int d = std::abs(int(ours[i]) - int(pillow[i]));
      max_diff = std::max(max_diff, d);
      differing += d != 0;
    }
    EXPECT_EQ(max_diff, 0) << differing << " of " << ours.size() << " values differ";
  }
}

TEST(PillowMatch, PhotosAreBitIdentical) {
  std::vector<std::string> paths;
  for (const PillowAsset& asset : kPillowAssets) paths.push_back(std::string("images/") + asset.path);
  if (auto missing = test::missing_assets(paths); !missing.empty()) GTEST_SKIP() << missing;
  const PreprocessConfig cfg = raw_pixels_config(224, 224, 256);
  for (const PillowAsset& asset : kPillowAssets) {
    SCOPED_TRACE(asset.path);
    const test::Bytes bytes = test::read_asset(std::string("images/") + asset.path);
    std::vector<float> out(size_t(3) * 224 * 224, NAN);
    if (asset.dct_scaled) {
      auto image = decode_image(bytes);
      ASSERT_TRUE(image.is_ok()) << image.status().message();
      const Status status = preprocess(*image, cfg, out.data());
      ASSERT_TRUE(status.is_ok()) << status.message();
    } else {
      const Status status = decode_and_preprocess(bytes, cfg, 64LL << 20, out.data());
      ASSERT_TRUE(status.is_ok()) << status.message();
    }
    EXPECT_EQ(fnv1a64(to_hwc_bytes(out, 224, 224)), asset.fnv1a64);
  }
}

}  // namespace
}  // namespace inferd::image
