// A small command-line parser: each command declares its flags, gets positional
// arguments, and `help()` text is generated from the declarations.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd::cli {

class Args {
 public:
  // A flag taking a value (`--top 5` or `--top=5`) or a switch (`--json`).
  void flag(const std::string& name, const std::string& help, const std::string& fallback);
  void toggle(const std::string& name, const std::string& help);

  Status parse(const std::vector<std::string>& argv);
  std::string help(const std::string& usage) const;

  const std::string& get(const std::string& name) const { return values_.at(name); }
  Result<int> get_int(const std::string& name, int min, int max) const;
  bool on(const std::string& name) const { return values_.at(name) == "1"; }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  struct Spec {
    std::string help;
    bool takes_value;
  };
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> order_;
  std::vector<std::string> positional_;
};

}  // namespace inferd::cli
