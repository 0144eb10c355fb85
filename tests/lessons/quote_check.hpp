// quote_check.hpp: keeps the lessons' text and their compiled code from drifting apart.
//
// In a source file, a quoted region is marked by two comment lines:
//     // [quote: NAME]
//     ...code...
//     // [end quote]
// Regions may nest; marker lines are never part of any region's text. Names are unique per file.
//
// In a README, a quote is an HTML comment naming the file (relative to the README) and the
// region, immediately followed by a fenced code block holding the region verbatim:
//     <!-- quote: counters.hpp#racy -->
//     ```cpp
//     ...code...
//     ```
// Every ```cpp block in a README must be such a quote: C++ the reader sees was compiled.
//
//   parse_regions()  - the marked regions of one source file, or why it cannot be parsed.
//   parse_quotes()   - the quotes of one README, or why it cannot be parsed.
//   line_diff()      - a small unified-style diff of two line lists ("-" quoted, "+" source).
//   check_readme()   - Findings for one README: missing files, missing markers, drifted text.
#pragma once

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/findings.hpp"

namespace cp::test::quotes {

using Lines = std::vector<std::string>;

inline Lines split_lines(std::string_view text) {
  Lines lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const auto stop = end == std::string_view::npos ? text.size() : end;
    std::string line(text.substr(start, stop - start));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return lines;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Regions {
  std::map<std::string, Lines> by_name;
  std::vector<std::string> errors;
};

inline Regions parse_regions(std::string_view source) {
  Regions r;
  const Lines lines = split_lines(source);
  std::vector<std::pair<std::string, std::size_t>> open;  // name, line of its start marker
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view t = trim(lines[i]);
    if (t.starts_with("// [quote:") && t.ends_with("]")) {
      const std::string name(trim(t.substr(10, t.size() - 11)));
      if (name.empty()) r.errors.push_back("line " + std::to_string(i + 1) + ": quote marker without a name");
      else if (r.by_name.count(name))
        r.errors.push_back("line " + std::to_string(i + 1) + ": marker '" + name + "' used twice");
      r.by_name[name];
      open.emplace_back(name, i + 1);
    } else if (t == "// [end quote]") {
      if (open.empty()) r.errors.push_back("line " + std::to_string(i + 1) + ": [end quote] without a start");
      else open.pop_back();
    } else {
      for (const auto& [name, at] : open) r.by_name[name].push_back(lines[i]);
    }
  }
  for (const auto& [name, at] : open)
    r.errors.push_back("line " + std::to_string(at) + ": marker '" + name + "' never ends");
  return r;
}

struct Quote {
  std::size_t line = 0;  // of the <!-- quote: --> comment, 1-based
  std::string file, name;
  Lines body;
};

struct Quotes {
  std::vector<Quote> quotes;
  std::vector<std::string> errors;
};

inline Quotes parse_quotes(std::string_view readme) {
  Quotes q;
  const Lines lines = split_lines(readme);
  auto at = [](std::size_t i) { return "line " + std::to_string(i + 1) + ": "; };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view t = trim(lines[i]);
    if (t.starts_with("<!-- quote:") && t.ends_with("-->")) {
      const std::string_view ref = trim(t.substr(11, t.size() - 14));
      const auto hash = ref.find('#');
      if (hash == std::string_view::npos || hash == 0 || hash + 1 == ref.size()) {
        q.errors.push_back(at(i) + "quote comment must name file#marker, got '" + std::string(ref) + "'");
        continue;
      }
      Quote quote{i + 1, std::string(ref.substr(0, hash)), std::string(ref.substr(hash + 1)), {}};
      if (i + 1 >= lines.size() || !trim(lines[i + 1]).starts_with("```")) {
        q.errors.push_back(at(i) + "quote of " + std::string(ref) + " is not followed by a ``` block");
        continue;
      }
      std::size_t j = i + 2;
      for (; j < lines.size() && trim(lines[j]) != "```"; ++j) quote.body.push_back(lines[j]);
      if (j >= lines.size()) {
        q.errors.push_back(at(i + 1) + "code block never closes");
        break;
      }
      q.quotes.push_back(std::move(quote));
      i = j;
    } else if (t.starts_with("```")) {
      const std::string_view lang = trim(t.substr(3));
      if (lang == "cpp" || lang == "c++" || lang == "C++")
        q.errors.push_back(at(i) + "C++ block without a <!-- quote: file#marker --> line above it: "
                           "quote it from a compiled file");
      std::size_t j = i + 1;
      while (j < lines.size() && trim(lines[j]) != "```") ++j;
      i = j;  // skip the block's content (it may contain anything)
    }
  }
  return q;
}

// line_diff: the longest common subsequence, printed as "  same", "- quoted", "+ source",
// with up to `context` unchanged lines around each change.
inline std::string line_diff(const Lines& quoted, const Lines& source, std::size_t context = 2) {
  const std::size_t n = quoted.size(), m = source.size();
  std::vector<std::vector<std::size_t>> lcs(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      lcs[i][j] = quoted[i] == source[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<std::pair<char, std::string>> ops;
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && quoted[i] == source[j]) ops.emplace_back(' ', quoted[i++]), ++j;
    else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.emplace_back('-', quoted[i++]);
    else ops.emplace_back('+', source[j++]);
  }
  std::vector<bool> show(ops.size(), false);
  for (std::size_t k = 0; k < ops.size(); ++k)
    if (ops[k].first != ' ')
      for (std::size_t c = (k > context ? k - context : 0); c < std::min(ops.size(), k + context + 1); ++c)
        show[c] = true;
  std::string out;
  bool skipped = false;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    if (!show[k]) {
      skipped = true;
      continue;
    }
    if (skipped) out += "    ...\n";
    skipped = false;
    out += "    ";
    out += ops[k].first;
    out += ' ';
    out += ops[k].second;
    out += '\n';
  }
  return out;
}

// Loads a file by path relative to the README's folder; nullopt if it cannot be read.
using Loader = std::function<std::optional<std::string>(const std::string& relative_path)>;

inline Findings check_readme(const std::string& readme_name, std::string_view readme_text,
                             const Loader& load, std::size_t* quotes_checked = nullptr) {
  Findings f;
  const Quotes q = parse_quotes(readme_text);
  for (const auto& e : q.errors) f.fail(readme_name, " ", e);
  std::map<std::string, Regions> sources;
  for (const auto& quote : q.quotes) {
    const std::string where = readme_name + " line " + std::to_string(quote.line) + " quotes " +
                              quote.file + "#" + quote.name;
    if (!sources.count(quote.file)) {
      const auto text = load(quote.file);
      if (!text) {
        f.fail(where, ": cannot read ", quote.file);
        continue;
      }
      sources[quote.file] = parse_regions(*text);
      for (const auto& e : sources[quote.file].errors) f.fail(quote.file, " ", e);
    }
    const Regions& regions = sources[quote.file];
    const auto it = regions.by_name.find(quote.name);
    if (it == regions.by_name.end()) {
      f.fail(where, ": ", quote.file, " has no marker '// [quote: ", quote.name, "]'");
      continue;
    }
    if (it->second != quote.body)
      f.fail(where, ": the quoted block has drifted from the marked region (- README, + ",
             quote.file, "):\n", line_diff(quote.body, it->second));
    if (quotes_checked) ++*quotes_checked;
  }
  return f;
}

inline std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace cp::test::quotes
