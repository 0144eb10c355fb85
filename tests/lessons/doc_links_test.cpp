// doc_links_test.cpp: every Markdown file of the repository reads from a fresh clone (no link
// to a missing file, no absolute path of one machine), and the checker really catches both.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/lessons/doc_links.hpp"

using namespace cp::test;
using namespace cp::test::doclinks;

namespace {

Exists only(std::set<std::string> present) {
  return [present](const std::string& p) { return present.count(p) > 0; };
}

}  // namespace

TEST_CASE("doc links: good links, anchors, web links and code pass", "[docs]") {
  const std::string md =
      "# T\n"
      "See [the lesson](lessons/01/README.md#why) and ![plot](plots/a.png \"a plot\").\n"
      "Web: [x](https://example.org/a) and [y](#local-anchor).\n"
      "```cpp\nauto f = [&](int x) { return x; };\n```\n"
      "Inline `[&](int) {}` is code, and /usr/bin/python3 is a system path.\n";
  const Findings f = check_markdown("a.md", md, only({"lessons/01/README.md", "plots/a.png"}));
  INFO(f.report());
  CHECK(f.ok());
}

TEST_CASE("doc links: a missing file, an absolute path and the team folder are reported",
          "[docs]") {
  const std::string md =
      "Line one links [gone](docs/gone.md).\n"
      "```sh\ncmake -S . -B /tmp/build-x\n```\n"
      "Method: `shared/measuring.md`; and [abs](/etc/x).\n";
  const Findings f = check_markdown("b.md", md, only({}));
  REQUIRE(f.problems.size() == 4);
  CHECK(f.problems[0] == "b.md:1: link to a missing file 'docs/gone.md'");
  CHECK(f.problems[1] == "b.md:5: link to an absolute path '/etc/x'");
  CHECK(f.problems[2] == "b.md:3: absolute path of one machine '/tmp/build-x'");
  CHECK(f.problems[3] ==
        "b.md:5: points at 'shared/measuring.md', which a clone of this repository does not "
        "contain");
}

TEST_CASE("doc links: every Markdown file in the repository reads from a clone", "[docs]") {
  namespace fs = std::filesystem;
  const fs::path root(CP_SOURCE_DIR);
  const auto files = markdown_files(root);
  REQUIRE(files.size() >= 10);  // README, lessons, docs, bench: the walk found them
  Findings all;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const fs::path dir = file.parent_path();
    all.merge(check_markdown(fs::relative(file, root).string(), text.str(),
                             [&](const std::string& rel) { return fs::exists(dir / rel); }));
  }
  INFO("Markdown files checked: " << files.size() << "\n" << all.report());
  CHECK(all.ok());
}
