// quote_check_test.cpp: every lesson README quotes its code verbatim from compiled files,
// and the checker that says so really catches drift (tested on small in-memory samples).
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

#include "tests/lessons/quote_check.hpp"

using namespace cp::test;
using namespace cp::test::quotes;

namespace {

constexpr const char* kSource =
    "#include <x>\n"
    "// [quote: add]\n"
    "int add(int a, int b) {\n"
    "  return a + b;\n"
    "}\n"
    "// [end quote]\n"
    "  // [quote: outer]\n"
    "  int x = 1;\n"
    "  // [quote: inner]\n"
    "  int y = 2;\n"
    "  // [end quote]\n"
    "  // [end quote]\n";

Loader memory(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> std::optional<std::string> {
    const auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
}

std::string all(const Findings& f) { return f.report(); }

}  // namespace

TEST_CASE("quote check: regions are the lines between markers, markers stripped", "[docs]") {
  const Regions r = parse_regions(kSource);
  REQUIRE(r.errors.empty());
  CHECK(r.by_name.at("add") == Lines{"int add(int a, int b) {", "  return a + b;", "}"});
  CHECK(r.by_name.at("outer") == Lines{"  int x = 1;", "  int y = 2;"});
  CHECK(r.by_name.at("inner") == Lines{"  int y = 2;"});
}

TEST_CASE("quote check: broken markers in a source are reported", "[docs]") {
  const Regions r = parse_regions("// [quote: a]\n// [quote: a]\n// [end quote]\n// [end quote]\n"
                                  "// [end quote]\n// [quote: open]\n");
  REQUIRE(r.errors.size() == 3);
  CHECK(r.errors[0] == "line 2: marker 'a' used twice");
  CHECK(r.errors[1] == "line 5: [end quote] without a start");
  CHECK(r.errors[2] == "line 6: marker 'open' never ends");
}

TEST_CASE("quote check: an exact quote passes", "[docs]") {
  const std::string readme =
      "# Title\n\nText.\n\n<!-- quote: src/a.cpp#add -->\n```cpp\nint add(int a, int b) {\n"
      "  return a + b;\n}\n```\n\n```sh\nmake\n```\n";
  std::size_t checked = 0;
  const Findings f = check_readme("README.md", readme, memory({{"src/a.cpp", kSource}}), &checked);
  INFO(all(f));
  CHECK(f.ok());
  CHECK(checked == 1);
}

TEST_CASE("quote check: a drifted quote fails with a diff naming README, file and marker",
          "[docs]") {
  // The README still shows `a + b`; the source now says `a + b + 0` and gained a line.
  const std::string readme =
      "intro\n<!-- quote: a.cpp#add -->\n```cpp\nint add(int a, int b) {\n  return a + b;\n}\n```\n";
  const std::string drifted =
      "// [quote: add]\nint add(int a, int b) {\n  // now with a comment\n  return a + b + 0;\n}\n"
      "// [end quote]\n";
  const Findings f = check_readme("lessons/x/README.md", readme, memory({{"a.cpp", drifted}}));
  REQUIRE(f.problems.size() == 1);
  const std::string& p = f.problems[0];
  INFO(p);
  CHECK(p.find("lessons/x/README.md line 2 quotes a.cpp#add") != std::string::npos);
  CHECK(p.find("has drifted") != std::string::npos);
  CHECK(p.find("    -   return a + b;\n") != std::string::npos);
  CHECK(p.find("    +   return a + b + 0;\n") != std::string::npos);
  CHECK(p.find("    +   // now with a comment\n") != std::string::npos);
  CHECK(p.find("      int add(int a, int b) {\n") != std::string::npos);  // context line
}

TEST_CASE("quote check: a missing marker, a missing file and a bare C++ block all fail",
          "[docs]") {
  const std::string readme =
      "<!-- quote: a.cpp#nope -->\n```cpp\nx\n```\n"
      "<!-- quote: gone.cpp#add -->\n```cpp\nx\n```\n"
      "```cpp\nint unquoted;\n```\n"
      "<!-- quote: a.cpp -->\n"
      "<!-- quote: a.cpp#add -->\nno fence here\n";
  const Findings f = check_readme("R.md", readme, memory({{"a.cpp", kSource}}));
  INFO(all(f));
  REQUIRE(f.problems.size() == 5);
  const std::string r = all(f);
  CHECK(r.find("R.md line 1 quotes a.cpp#nope: a.cpp has no marker '// [quote: nope]'") !=
        std::string::npos);
  CHECK(r.find("R.md line 5 quotes gone.cpp#add: cannot read gone.cpp") != std::string::npos);
  CHECK(r.find("R.md line 9: C++ block without a <!-- quote: file#marker --> line") !=
        std::string::npos);
  CHECK(r.find("R.md line 12: quote comment must name file#marker") != std::string::npos);
  CHECK(r.find("R.md line 13: quote of a.cpp#add is not followed by a ``` block") !=
        std::string::npos);
}

TEST_CASE("quote check: every lesson README quotes its compiled code verbatim", "[docs]") {
  namespace fs = std::filesystem;
  const fs::path lessons = fs::path(CP_SOURCE_DIR) / "lessons";
  REQUIRE(fs::is_directory(lessons));
  std::vector<fs::path> readmes{lessons / "README.md"};
  for (const auto& entry : fs::directory_iterator(lessons))  // a lesson folder may hold a
    if (entry.is_directory())                                // second part (lesson 05b, ...)
      for (const auto& file : fs::directory_iterator(entry.path()))
        if (file.path().extension() == ".md") readmes.push_back(file.path());
  std::sort(readmes.begin(), readmes.end());
  REQUIRE(readmes.size() >= 4);  // the index and lessons 01-03 at least

  Findings all_findings;
  std::size_t quotes = 0;
  for (const auto& readme : readmes) {
    const auto text = read_file(readme.string());
    REQUIRE(text);
    const fs::path dir = readme.parent_path();
    const std::string name = fs::relative(readme, CP_SOURCE_DIR).string();
    all_findings.merge(check_readme(
        name, *text, [&](const std::string& rel) { return read_file((dir / rel).string()); },
        &quotes));
  }
  INFO("quotes checked: " << quotes << "\n" << all_findings.report());
  CHECK(all_findings.ok());
  CHECK(quotes >= 10);  // the check is not vacuous: the lessons do quote their code
}
