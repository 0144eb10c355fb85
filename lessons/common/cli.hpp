// cli.hpp: the tiny command-line parser every lesson example uses.
//
//   Cli  - declares integer options and flags, prints --help, and rejects bad arguments
//          with a one-line reason and exit code 2 (the convention of most Unix tools).
//
// Why our own: the examples need five lines of argument handling each, not a dependency.
// Usage:
//   long long threads = 2;
//   cp::lessons::Cli cli("l01_racy_counter", "What the example shows.");
//   cli.option("threads", threads, "worker threads", 1, 64);
//   cli.parse(argc, argv);  // exits 0 after --help, 2 on a bad argument
#pragma once

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace cp::lessons {

class Cli {
 public:
  Cli(std::string_view program, std::string_view summary) : program_(program), summary_(summary) {}

  // option: --name=<integer> or --name <integer>, accepted only within [min, max].
  Cli& option(std::string_view name, long long& value, std::string_view help, long long min,
              long long max) {
    options_.push_back({name, help, &value, nullptr, min, max});
    return *this;
  }

  // text: --name=<string> or --name <string>.
  Cli& text(std::string_view name, std::string& value, std::string_view help) {
    options_.push_back({name, help, nullptr, nullptr, 0, 0, &value});
    return *this;
  }

  // flag: --name, sets value to true.
  Cli& flag(std::string_view name, bool& value, std::string_view help) {
    options_.push_back({name, help, nullptr, &value, 0, 0});
    return *this;
  }

  // parse: fills the declared options; exits 0 after printing --help, 2 on a bad argument.
  void parse(int argc, char** argv) const {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        print_help();
        std::exit(0);
      }
      if (!arg.starts_with("--")) fail("unexpected argument '" + std::string(arg) + "'");
      arg.remove_prefix(2);
      std::string_view text;
      bool has_text = false;
      if (const auto eq = arg.find('='); eq != std::string_view::npos) {
        text = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_text = true;
      }
      const Option* opt = find(arg);
      if (opt == nullptr) fail("unknown option '--" + std::string(arg) + "'");
      if (opt->flag != nullptr) {
        if (has_text) fail("--" + std::string(arg) + " takes no value");
        *opt->flag = true;
        continue;
      }
      if (!has_text) {
        if (i + 1 >= argc) fail("--" + std::string(arg) + " needs a value");
        text = argv[++i];
      }
      if (opt->text != nullptr) {
        *opt->text = std::string(text);
        continue;
      }
      long long v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size())
        fail("--" + std::string(arg) + " wants an integer, got '" + std::string(text) + "'");
      if (v < opt->min || v > opt->max)
        fail("--" + std::string(arg) + " must be in [" + std::to_string(opt->min) + ", " +
             std::to_string(opt->max) + "], got " + std::to_string(v));
      *opt->value = v;
    }
  }

 private:
  struct Option {
    std::string_view name, help;
    long long* value;
    bool* flag;
    long long min, max;
    std::string* text = nullptr;
  };

  const Option* find(std::string_view name) const {
    for (const auto& o : options_)
      if (o.name == name) return &o;
    return nullptr;
  }

  void print_help() const {
    std::printf("%.*s: %.*s\n\nOptions:\n", static_cast<int>(program_.size()), program_.data(),
                static_cast<int>(summary_.size()), summary_.data());
    for (const auto& o : options_) {
      std::string left = "--" + std::string(o.name);
      if (o.value != nullptr) left += "=N";
      if (o.text != nullptr) left += "=S";
      std::printf("  %-22s %.*s", left.c_str(), static_cast<int>(o.help.size()), o.help.data());
      if (o.value != nullptr) std::printf(" (default %lld, range %lld..%lld)", *o.value, o.min, o.max);
      if (o.text != nullptr) std::printf(" (default '%s')", o.text->c_str());
      std::printf("\n");
    }
    std::printf("  %-22s %s\n", "--help", "print this help and exit");
  }

  [[noreturn]] void fail(const std::string& why) const {
    std::fprintf(stderr, "%.*s: %s (try --help)\n", static_cast<int>(program_.size()),
                 program_.data(), why.c_str());
    std::exit(2);
  }

  std::string_view program_, summary_;
  std::vector<Option> options_;
};

}  // namespace cp::lessons
