// quote_check_test.cpp: every lesson README quotes its code verbatim from compiled files,
// and the checker that says so really catches drift (tested on small in-memory samples).
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

#include "tests/lessons/figure_check.hpp"
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

// A recorded run as the lessons keep them: provenance header, then the marked output.
constexpr const char* kRun =
    "// l05_pipelined, recorded for a test\n"
    "// load average before: 2.10 2.00 1.90\n"
    "// command: build/release/lessons/05-single-writer-engine/l05_pipelined --repeats=3\n"
    "// [quote: run]\n"
    "mode                 commands/s (median, min-max)    vs ref\n"
    "reference            10.2 M (10.1-10.3 M)            1.00x\n"
    "call                 1.31 M (1.28-1.33 M)            0.13x\n"
    "pipelined window 256 9.02 M (8.96-9.09 M)            0.88x\n"
    "// [end quote]\n";

Project project_with(std::set<std::string> targets) {
  return Project{std::move(targets), [](const std::string& p) { return p == "lessons/x/a.cpp"; }};
}

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

TEST_CASE("fig check: figures found verbatim, on their labelled line, pass", "[docs]") {
  const std::string md =
      "The engine runs <!-- fig: run.txt#run@reference -->10.2 M<!-- /fig --> commands/s alone,\n"
      "| call | <!-- fig: run.txt#run@call -->0.13x<!-- /fig --> | "
      "<!-- fig: run.txt#run@pipelined window -->8.96-9.09 M<!-- /fig --> | "
      "<!-- fig: run.txt#run -->9.02 M<!-- /fig --> |\n"
      "```sh\n<!-- fig: nothing.txt#checked -->inside a code block<!-- /fig -->\n```\n";
  const Project project = project_with({"l05_pipelined"});
  std::size_t checked = 0;
  const Findings f = check_figs("R.md", md, memory({{"run.txt", kRun}}), &project, &checked);
  INFO(all(f));
  CHECK(f.ok());
  CHECK(checked == 4);
}

TEST_CASE("fig check: a wrong figure, a figure off its label and a missing label fail", "[docs]") {
  const std::string md =
      "a <!-- fig: run.txt#run@reference -->10.3 M<!-- /fig --> b\n"  // in the min-max, not alone
      "c <!-- fig: run.txt#run -->8.2 M<!-- /fig --> d\n"             // in no line at all
      "e <!-- fig: run.txt#run@call -->0.88x<!-- /fig --> f\n"        // on another line
      "g <!-- fig: run.txt#run@window 64 -->0.88x<!-- /fig --> h\n"   // no such label
      "i <!-- fig: dup.txt#run@mutex 1 -->1.0 M<!-- /fig --> j\n";    // label begins 2 lines
  const Project project = project_with({"l05_pipelined"});
  const std::string dup = "// command: l05_pipelined\n// [quote: run]\nmutex   1  1.0 M\n"
                          "mutex-fine 1  1.0 M\nmutex 1    1.1 M\n// [end quote]\n";
  const Findings f =
      check_figs("R.md", md, memory({{"run.txt", kRun}, {"dup.txt", dup}}), &project);
  INFO(all(f));
  REQUIRE(f.problems.size() == 4);
  const std::string r = all(f);
  CHECK(r.find("R.md line 2 fig run.txt#run '8.2 M': the figure is not in the recorded region") !=
        std::string::npos);
  CHECK(r.find("R.md line 3 fig run.txt#run@call '0.88x': the figure is not on the labelled") !=
        std::string::npos);
  CHECK(r.find("R.md line 4 fig run.txt#run@window 64 '0.88x': label 'window 64' is on 0 lines") !=
        std::string::npos);
  CHECK(r.find("R.md line 5 fig dup.txt#run@mutex 1 '1.0 M': label 'mutex 1' is on 2 lines") !=
        std::string::npos);
  // 10.3 M is on the reference line (as the range's maximum): verbatim text is all it checks.
  CHECK(r.find("R.md line 1") == std::string::npos);
}

TEST_CASE("fig check: missing files, regions and broken markers fail", "[docs]") {
  const std::string md =
      "<!-- fig: gone.txt#run -->1 M<!-- /fig -->\n"
      "<!-- fig: run.txt#nope -->1 M<!-- /fig -->\n"
      "<!-- fig: run.txt -->1 M<!-- /fig -->\n"
      "<!-- fig: run.txt#run -->1 M and no end\n"
      "<!-- fig: run.txt#run --><!-- /fig -->\n"
      "stray 1 M<!-- /fig -->\n";
  const Project project = project_with({"l05_pipelined"});
  const Findings f = check_figs("R.md", md, memory({{"run.txt", kRun}}), &project);
  INFO(all(f));
  const std::string r = all(f);
  REQUIRE(f.problems.size() == 6);
  CHECK(r.find("R.md line 1 fig gone.txt#run '1 M': cannot read gone.txt") != std::string::npos);
  CHECK(r.find("R.md line 2 fig run.txt#nope '1 M': run.txt has no region '// [quote: nope]'") !=
        std::string::npos);
  CHECK(r.find("R.md line 3: fig comment must name file#region[@label]") != std::string::npos);
  CHECK(r.find("R.md line 4: fig run.txt#run has no <!-- /fig --> on its line") !=
        std::string::npos);
  CHECK(r.find("R.md line 5: fig run.txt#run wraps no figure") != std::string::npos);
  CHECK(r.find("R.md line 6: <!-- /fig --> without a <!-- fig: ... --> before it") !=
        std::string::npos);
}

TEST_CASE("fig check: a recorded file whose program is no longer built fails", "[docs]") {
  const std::string md = "x <!-- fig: run.txt#run@call -->1.31 M<!-- /fig --> y\n";
  // The program was renamed: no CMakeLists.txt defines l05_pipelined any more.
  const Project renamed = project_with({"l05_pipelined_v2"});
  const Findings f = check_figs("R.md", md, memory({{"run.txt", kRun}}), &renamed);
  INFO(all(f));
  REQUIRE(f.problems.size() == 1);
  CHECK(all(f).find("run.txt line 3: the command's program 'l05_pipelined' is not a target") !=
        std::string::npos);

  // A quoted (not figured) recorded file is held to the same rule; so is a file without any
  // command line, and a compiler's command whose source file is gone.
  const std::string quoting = "<!-- quote: run.txt#run -->\n```\nx\n```\n"
                              "<!-- quote: bare.txt#run -->\n```\nx\n```\n"
                              "<!-- quote: asm.txt#run -->\n```\nx\n```\n";
  const Findings q = check_quoted_commands(
      quoting,
      memory({{"run.txt", kRun},
              {"bare.txt", "// date: today\n// [quote: run]\nx\n// [end quote]\n"},
              {"asm.txt", "# command, from the repository root:\n# command:\n"
                          "#   g++ -O2 -S lessons/x/a.cpp lessons/x/gone.cpp\n"}}),
      renamed);
  INFO(all(q));
  REQUIRE(q.problems.size() == 3);
  CHECK(all(q).find("bare.txt: a recorded file with no '// command: ...' line") !=
        std::string::npos);
  CHECK(all(q).find("asm.txt line 2: the command compiles lessons/x/gone.cpp, which no longer") !=
        std::string::npos);
  CHECK(all(q).find("lessons/x/a.cpp,") == std::string::npos);
}

TEST_CASE("fig check: targets are read from the project's CMake calls", "[docs]") {
  const auto t = parse_targets(
      "cp_add_example(l05_pipelined SOURCES pipelined.cpp)\n"
      "add_executable(\n  compare main.cpp)\ncp_add_bench(actor_bench SOURCES a.cpp)\n"
      "cp_add_test(lessons_test SOURCES t.cpp)\nmy_add_executable(not_this x.cpp)\n"
      "# add_executable(${name} ...) inside a function is no target\n"
      "function(f)\n  add_executable(${name} ${SRC})\nendfunction()\n");
  CHECK(t == std::set<std::string>{"l05_pipelined", "compare", "actor_bench", "lessons_test"});
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

TEST_CASE("fig check: every figure in the lessons and docs is in its recorded run", "[docs]") {
  namespace fs = std::filesystem;
  const fs::path root(CP_SOURCE_DIR);
  Project project;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string top = fs::relative(it->path(), root).begin()->string();
    if (it->is_directory() && (top == "build" || top.starts_with("."))) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().filename() == "CMakeLists.txt")
      if (const auto text = read_file(it->path().string()))
        project.targets.merge(parse_targets(*text));
  }
  project.exists = [&](const std::string& p) { return fs::exists(root / p); };
  REQUIRE(project.targets.count("l05_pipelined"));  // the scan finds the lessons' programs
  REQUIRE(project.targets.count("compare"));

  std::vector<fs::path> mds{root / "lessons" / "README.md", root / "bench" / "README.md"};
  for (const auto& entry : fs::directory_iterator(root / "lessons"))
    if (entry.is_directory())
      for (const auto& file : fs::directory_iterator(entry.path()))
        if (file.path().extension() == ".md") mds.push_back(file.path());
  for (const auto& file : fs::directory_iterator(root / "docs"))
    if (file.path().extension() == ".md") mds.push_back(file.path());
  std::sort(mds.begin(), mds.end());

  Findings findings;
  std::size_t figs = 0;
  for (const auto& md : mds) {
    const auto text = read_file(md.string());
    REQUIRE(text);
    const fs::path dir = md.parent_path();
    const Loader load = [&](const std::string& rel) { return read_file((dir / rel).string()); };
    const std::string name = fs::relative(md, root).string();
    findings.merge(check_figs(name, *text, load, &project, &figs));
    findings.merge(check_quoted_commands(*text, load, project));
  }
  INFO("figures checked: " << figs << "\n" << findings.report());
  CHECK(findings.ok());
  CHECK(figs >= 10);  // not vacuous: the lessons do mark their figures
}
