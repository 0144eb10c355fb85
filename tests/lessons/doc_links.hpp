// doc_links.hpp: keeps the Markdown of this repository readable from a fresh clone.
//
//   check_markdown() - Findings for one Markdown file:
//     * a relative link or image whose target does not exist (anchors and web links are not
//       followed; links inside code are not links);
//     * an absolute path of one machine (/tmp/..., /work/..., /home/...), in text or in code:
//       a reader's clone is elsewhere, so commands use paths relative to the repository;
//     * a pointer to a team folder that a clone does not contain (shared/<name>.md).
//   markdown_files() - every tracked-looking .md below the repository root (build output,
//     results/ and dot-folders left out).
#pragma once

#include <algorithm>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/findings.hpp"

namespace cp::test::doclinks {

// exists(path relative to the Markdown file's folder) -> does it resolve?
using Exists = std::function<bool(const std::string&)>;

// The text with fenced code blocks and inline code spans blanked (same line count), so that
// C++ lambdas such as [&](int x) are not read as links.
inline std::string prose_only(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool fenced = false;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string line(text.substr(pos, end - pos));
    const auto first = line.find_first_not_of(' ');
    const bool fence = first != std::string::npos && line.compare(first, 3, "```") == 0;
    if (fence) {
      fenced = !fenced;
      line.clear();
    } else if (fenced) {
      line.clear();
    } else {
      bool in_code = false;
      for (char& c : line) {
        if (c == '`') in_code = !in_code;
        if (in_code || c == '`') c = ' ';
      }
    }
    out += line;
    if (end < text.size()) out += '\n';
    pos = end + 1;
  }
  return out;
}

inline Findings check_markdown(const std::string& name, std::string_view text,
                               const Exists& exists) {
  Findings f;
  auto line_of = [&](std::size_t offset) {
    return 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
  };

  // 1. Relative links and images: [text](target) or ![alt](target "title").
  const std::string prose = prose_only(text);
  static const std::regex link(R"(\]\(([^)\s]+)(?:\s+"[^"]*")?\))");
  for (auto it = std::sregex_iterator(prose.begin(), prose.end(), link); it != std::sregex_iterator();
       ++it) {
    std::string target = (*it)[1].str();
    if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0 ||
        target.rfind("mailto:", 0) == 0 || target.rfind('#', 0) == 0)
      continue;
    if (const auto hash = target.find('#'); hash != std::string::npos) target.resize(hash);
    if (target.empty()) continue;
    if (target.front() == '/') {
      f.fail(name, ":", line_of(static_cast<std::size_t>(it->position())),
             ": link to an absolute path '", target, "'");
    } else if (!exists(target)) {
      f.fail(name, ":", line_of(static_cast<std::size_t>(it->position())),
             ": link to a missing file '", target, "'");
    }
  }

  // 2. Absolute paths of one machine, anywhere (code blocks included).
  const std::string all(text);
  static const std::regex machine_path(R"((^|[\s`'"(=:])(/(?:tmp|work|home|root|Users|mnt|srv)/\S*))");
  for (auto it = std::sregex_iterator(all.begin(), all.end(), machine_path);
       it != std::sregex_iterator(); ++it)
    f.fail(name, ":", line_of(static_cast<std::size_t>(it->position(2))),
           ": absolute path of one machine '", (*it)[2].str(), "'");

  // 3. The team's guidance folder is not part of a clone.
  static const std::regex team_folder(R"(\bshared/[A-Za-z_-]+\.md)");
  for (auto it = std::sregex_iterator(all.begin(), all.end(), team_folder);
       it != std::sregex_iterator(); ++it)
    f.fail(name, ":", line_of(static_cast<std::size_t>(it->position())),
           ": points at '", it->str(), "', which a clone of this repository does not contain");
  return f;
}

inline std::vector<std::filesystem::path> markdown_files(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string leaf = it->path().filename().string();
    if (it->is_directory() && (leaf.front() == '.' || leaf == "build" || leaf == "results" ||
                               leaf == "site" || leaf == "node_modules")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && it->path().extension() == ".md") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace cp::test::doclinks
