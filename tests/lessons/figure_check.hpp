// figure_check.hpp: every figure a lesson's prose states is literally in a recorded run.
//
// A figure in running text (or a table cell) is wrapped in two HTML comments, invisible once
// rendered (GitHub, mkdocs):
//     <!-- fig: run.txt#run@window 256 -->8.96 M<!-- /fig -->
// The reference names a file (relative to the Markdown file), a region of it marked as for
// quote_check.hpp (`// [quote: run]` ... `// [end quote]`), and optionally, after '@', a label.
// The check: the text between the comments appears verbatim in that region; with a label, on
// the one line of the region that begins with the label (as whole words, runs of spaces
// counted as one: `@mutex 2` is the row "mutex    2  closed ...", not "mutex-fine 2"); a label
// that begins no line, or more than one, fails. Both comments stay on one line of the
// Markdown. A ratio the text states must be printed by the program (then it is a figure like
// any other), never worked out by hand.
//
// A recorded file (a quoted or figured file ending in .txt) carries its provenance in header
// comment lines (`//` or `#`): date, machine, commit, load average and at least one
//     // command: build/release/<dir>/<program> args
// (also `# command (from the repository root): ...`, or the command on the next comment line).
// Each command's program must still be built: its file name is a target that some
// CMakeLists.txt of the tree defines (add_executable, cp_add_example, cp_add_bench,
// cp_add_test). A command that runs a compiler (g++, clang++) instead names its source files,
// and each of those must still exist.
//
//   parse_figs()        - the fig markers of one Markdown text, or why they cannot be parsed.
//   parse_targets()     - the target names one CMakeLists.txt defines.
//   check_commands()    - Findings for one recorded file's command lines.
//   check_figs()        - Findings for one Markdown file: unresolved files, regions, labels,
//                         figures not in the recorded text, recorded files without a live command.
#pragma once

#include <cctype>
#include <set>

#include "tests/lessons/quote_check.hpp"

namespace cp::test::quotes {

struct Fig {
  std::size_t line = 0;  // 1-based
  std::string file, region, label, text;
};

struct Figs {
  std::vector<Fig> figs;
  std::vector<std::string> errors;
};

inline constexpr std::string_view kFigOpen = "<!-- fig:";
inline constexpr std::string_view kFigClose = "<!-- /fig -->";

inline Figs parse_figs(std::string_view markdown) {
  Figs out;
  const Lines lines = split_lines(markdown);
  bool in_fence = false;  // markers inside ``` blocks are code, not figures
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (trim(l).starts_with("```")) {
      in_fence = !in_fence;
      continue;
    }
    if (in_fence) continue;
    const std::string at = "line " + std::to_string(i + 1) + ": ";
    std::size_t pos = 0;
    while ((pos = l.find(kFigOpen, pos)) != std::string::npos) {
      const auto end = l.find("-->", pos);
      if (end == std::string::npos) {
        out.errors.push_back(at + "fig comment never closes on its line");
        break;
      }
      const std::string_view ref = trim(std::string_view(l).substr(pos + kFigOpen.size(),
                                                                   end - pos - kFigOpen.size()));
      const auto close = l.find(kFigClose, end + 3);
      if (close == std::string::npos) {
        out.errors.push_back(at + "fig " + std::string(ref) + " has no <!-- /fig --> on its line");
        break;
      }
      Fig fig{i + 1, {}, {}, {}, l.substr(end + 3, close - end - 3)};
      const auto hash = ref.find('#');
      const auto label_at = ref.find('@', hash == std::string_view::npos ? 0 : hash);
      if (hash == std::string_view::npos || hash == 0 || hash + 1 == ref.size() ||
          label_at == hash + 1) {
        out.errors.push_back(at + "fig comment must name file#region[@label], got '" +
                             std::string(ref) + "'");
      } else if (fig.text.empty() || fig.text.find("<!--") != std::string::npos) {
        out.errors.push_back(at + "fig " + std::string(ref) + " wraps no figure (or a comment)");
      } else {
        fig.file = std::string(ref.substr(0, hash));
        if (label_at == std::string_view::npos) {
          fig.region = std::string(ref.substr(hash + 1));
        } else {
          fig.region = std::string(ref.substr(hash + 1, label_at - hash - 1));
          fig.label = std::string(ref.substr(label_at + 1));
        }
        out.figs.push_back(std::move(fig));
      }
      pos = close + kFigClose.size();
    }
    if (l.find(kFigClose) != std::string::npos && l.find(kFigOpen) == std::string::npos)
      out.errors.push_back(at + "<!-- /fig --> without a <!-- fig: ... --> before it");
  }
  return out;
}

// The names defined by add_executable(NAME / cp_add_example(NAME / cp_add_bench(NAME /
// cp_add_test(NAME in one CMakeLists.txt (the name may sit on the next line).
inline std::set<std::string> parse_targets(std::string_view cmake) {
  std::set<std::string> names;
  for (const std::string_view call : {"add_executable(", "cp_add_example(", "cp_add_bench(",
                                      "cp_add_test("}) {
    std::size_t pos = 0;
    while ((pos = cmake.find(call, pos)) != std::string_view::npos) {
      const auto before = pos == 0 ? ' ' : static_cast<unsigned char>(cmake[pos - 1]);
      const bool word_start = !(std::isalnum(before) || before == '_');
      pos += call.size();
      if (!word_start) continue;
      while (pos < cmake.size() && std::isspace(static_cast<unsigned char>(cmake[pos]))) ++pos;
      std::size_t stop = pos;
      while (stop < cmake.size() && !std::isspace(static_cast<unsigned char>(cmake[stop])) &&
             cmake[stop] != ')')
        ++stop;
      if (stop > pos && cmake[pos] != '$') names.emplace(cmake.substr(pos, stop - pos));
    }
  }
  return names;
}

// What the project builds, for check_commands: its target names, and whether a path (relative
// to the repository root) exists.
struct Project {
  std::set<std::string> targets;
  std::function<bool(const std::string& repo_path)> exists;
};

inline bool is_recorded_file(const std::string& path) { return path.ends_with(".txt"); }

inline Findings check_commands(const std::string& name, std::string_view text,
                               const Project& project) {
  Findings f;
  const Lines lines = split_lines(text);
  auto comment_body = [](std::string_view t) -> std::optional<std::string_view> {
    t = trim(t);
    if (t.starts_with("//")) return trim(t.substr(2));
    if (t.starts_with("#")) return trim(t.substr(1));
    return std::nullopt;
  };
  std::size_t commands = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto body = comment_body(lines[i]);
    if (!body || !body->starts_with("command")) continue;
    std::string_view rest = body->substr(7);
    if (rest.starts_with(" (")) {  // "command (from the repository root):"
      const auto close = rest.find(')');
      if (close == std::string_view::npos) continue;
      rest = rest.substr(close + 1);
    }
    if (!rest.starts_with(":")) continue;
    std::string_view cmd = trim(rest.substr(1));
    if (cmd.empty() && i + 1 < lines.size())  // the command on the next comment line
      if (const auto next = comment_body(lines[i + 1])) cmd = *next;
    ++commands;
    const std::string where = name + " line " + std::to_string(i + 1) + ": ";
    std::vector<std::string> words;
    for (std::size_t p = 0; p < cmd.size();) {
      while (p < cmd.size() && cmd[p] == ' ') ++p;
      std::size_t q = p;
      while (q < cmd.size() && cmd[q] != ' ') ++q;
      if (q > p) words.emplace_back(cmd.substr(p, q - p));
      p = q;
    }
    if (words.empty()) {
      f.fail(where, "empty command");
      continue;
    }
    const std::string program = words[0].substr(words[0].rfind('/') + 1);
    if (program == "g++" || program == "clang++" || program == "c++") {
      for (const auto& w : words)
        if ((w.ends_with(".cpp") || w.ends_with(".hpp")) && !project.exists(w))
          f.fail(where, "the command compiles ", w, ", which no longer exists");
      continue;
    }
    if (!project.targets.count(program))
      f.fail(where, "the command's program '", program,
             "' is not a target of any CMakeLists.txt (renamed or removed?)");
  }
  if (commands == 0)
    f.fail(name, ": a recorded file with no '// command: ...' line (what produced it?)");
  return f;
}

// Runs of spaces as one space, leading and trailing ones dropped: a table's column padding
// does not matter to a label.
inline std::string squeeze(std::string_view s) {
  std::string out;
  for (const char c : trim(s))
    if (c != ' ' || out.empty() || out.back() != ' ') out += c;
  return out;
}

// line_has_label: the line begins with the label's words, and the label ends a word there
// ("mutex 2" is the row "mutex   2  closed ...", not "mutex-fine 2" nor "mutex 25").
inline bool line_has_label(std::string_view line, std::string_view label) {
  const std::string l = squeeze(line), want = squeeze(label);
  if (want.empty() || !l.starts_with(want)) return false;
  if (l.size() == want.size()) return true;
  const char next = l[want.size()];
  return !(std::isalnum(static_cast<unsigned char>(next)) || next == '-' || next == '_' ||
           next == '.');
}

inline Findings check_figs(const std::string& md_name, std::string_view md_text,
                           const Loader& load, const Project* project,
                           std::size_t* figs_checked = nullptr) {
  Findings f;
  const Figs parsed = parse_figs(md_text);
  for (const auto& e : parsed.errors) f.fail(md_name, " ", e);
  std::map<std::string, std::optional<Regions>> files;
  auto regions_of = [&](const std::string& file) -> const Regions* {
    if (!files.count(file)) {
      const auto text = load(file);
      files[file] = std::nullopt;
      if (!text) return nullptr;
      files[file] = parse_regions(*text);
      for (const auto& e : files[file]->errors) f.fail(file, " ", e);
      if (project && is_recorded_file(file)) f.merge(check_commands(file, *text, *project));
    }
    return files[file] ? &*files[file] : nullptr;
  };
  for (const auto& fig : parsed.figs) {
    const std::string where = md_name + " line " + std::to_string(fig.line) + " fig " + fig.file +
                              "#" + fig.region + (fig.label.empty() ? "" : "@" + fig.label) +
                              " '" + fig.text + "'";
    const Regions* regions = regions_of(fig.file);
    if (!regions) {
      f.fail(where, ": cannot read ", fig.file);
      continue;
    }
    const auto it = regions->by_name.find(fig.region);
    if (it == regions->by_name.end()) {
      f.fail(where, ": ", fig.file, " has no region '// [quote: ", fig.region, "]'");
      continue;
    }
    std::vector<const std::string*> candidates;
    for (const auto& line : it->second)
      if (fig.label.empty() || line_has_label(line, fig.label)) candidates.push_back(&line);
    if (!fig.label.empty() && candidates.size() != 1) {
      f.fail(where, ": label '", fig.label, "' is on ", candidates.size(),
             " lines of the region (it must name exactly one)");
      continue;
    }
    const bool found = std::any_of(candidates.begin(), candidates.end(), [&](const std::string* l) {
      return l->find(fig.text) != std::string::npos;
    });
    if (!found) {
      if (fig.label.empty())
        f.fail(where, ": the figure is not in the recorded region");
      else
        f.fail(where, ": the figure is not on the labelled line, which says:\n    ",
               *candidates[0]);
      continue;
    }
    if (figs_checked) ++*figs_checked;
  }
  return f;
}

// check_quoted_commands: the recorded files a Markdown file quotes (<!-- quote: x.txt#r -->)
// must name a command that still exists, like the ones it figures.
inline Findings check_quoted_commands(std::string_view md_text, const Loader& load,
                                      const Project& project) {
  Findings f;
  std::set<std::string> seen;
  for (const auto& q : parse_quotes(md_text).quotes) {
    if (!is_recorded_file(q.file) || !seen.insert(q.file).second) continue;
    if (const auto text = load(q.file)) f.merge(check_commands(q.file, *text, project));
  }
  return f;
}

}  // namespace cp::test::quotes
