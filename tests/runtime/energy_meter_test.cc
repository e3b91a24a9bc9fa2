// RAPL through powercap, on a fake sysfs tree: which zones count, wrap-around, and the
// errors a user sees on a VM or without root.
#include "backends/api/energy_meter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/ort_oracle.h"  // test::temp_dir

namespace inferd {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text << "\n";
}

// A powercap tree with two packages, a sub-zone (core) and an MMIO zone that must not count.
std::string fake_powercap(const std::string& name) {
  const fs::path root = test::temp_dir() + "/" + name;
  fs::remove_all(root);
  for (const auto& [zone, label, uj] :
       {std::tuple{"intel-rapl:0", "package-0", "5000000"}, std::tuple{"intel-rapl:1", "package-1", "7000000"},
        std::tuple{"intel-rapl:0:0", "core", "1000"}, std::tuple{"intel-rapl-mmio:0", "package-0", "1000"}}) {
    write(root / zone / "name", label);
    write(root / zone / "energy_uj", uj);
    write(root / zone / "max_energy_range_uj", "10000000");
  }
  return root.string();
}

TEST(RaplMeter, SumsThePackageZonesSinceOpened) {
  const std::string root = fake_powercap("rapl_sum");
  auto meter = open_rapl_meter(root);
  ASSERT_TRUE(meter.is_ok()) << meter.status().message();
  EXPECT_EQ((*meter)->name(), "RAPL package-0+package-1");
  EXPECT_DOUBLE_EQ((*meter)->joules().value(), 0.0);
  write(fs::path(root) / "intel-rapl:0/energy_uj", "6500000");    // +1.5 J
  write(fs::path(root) / "intel-rapl:1/energy_uj", "7250000");    // +0.25 J
  write(fs::path(root) / "intel-rapl:0:0/energy_uj", "9000000");  // a sub-zone: not counted again
  EXPECT_NEAR((*meter)->joules().value(), 1.75, 1e-9);
}

TEST(RaplMeter, CounterWrapAroundIsAdded) {
  const std::string root = fake_powercap("rapl_wrap");
  write(fs::path(root) / "intel-rapl:0/energy_uj", "9900000");
  auto meter = open_rapl_meter(root).value();
  write(fs::path(root) / "intel-rapl:0/energy_uj", "200000");  // wrapped at 10 J: +0.3 J
  EXPECT_NEAR(meter->joules().value(), 0.3, 1e-9);
  write(fs::path(root) / "intel-rapl:0/energy_uj", "1200000");  // +1 J more
  EXPECT_NEAR(meter->joules().value(), 1.3, 1e-9);
}

TEST(RaplMeter, ErrorsSayWhy) {
  auto missing = open_rapl_meter(test::temp_dir() + "/no_such_powercap");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos) << missing.status().message();

  const fs::path empty = test::temp_dir() + "/rapl_empty";
  fs::create_directories(empty / "intel-rapl-mmio:0");
  auto none = open_rapl_meter(empty.string());
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("no intel-rapl:N zone"), std::string::npos) << none.status().message();

  const std::string root = fake_powercap("rapl_unreadable");
  write(fs::path(root) / "intel-rapl:1/energy_uj", "not a number");
  auto unreadable = open_rapl_meter(root);
  ASSERT_FALSE(unreadable.is_ok());
  EXPECT_NE(unreadable.status().message().find("cannot read " + root + "/intel-rapl:1/energy_uj"), std::string::npos)
      << unreadable.status().message();
}

}  // namespace
}  // namespace inferd
