// The documents a user needs live in the repository, and what points at them resolves:
// relative links in README.md and every .md file under docs/ (docs/studies/ too) name
// existing files (and headings), no source file points outside the repository or at the
// design documents timely started from, and every "docs/model.md §N" citation in code
// names a numbered heading of docs/model.md.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#include "tests/paths.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path root{TIMELY_SOURCE_DIR};

std::string read_text(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A heading's anchor as GitHub makes it: lower case, spaces to '-', other punctuation dropped.
std::string anchor_of(const std::string& heading) {
  std::string out;
  for (unsigned char c : heading) {
    if (std::isalnum(c) || c == '-' || c == '_') out += static_cast<char>(std::tolower(c));
    else if (c == ' ') out += '-';
  }
  return out;
}

// Headings of a markdown file (outside fenced code blocks), without the leading #s.
std::vector<std::string> headings_of(const fs::path& path) {
  std::vector<std::string> out;
  bool fenced = false;
  for (const std::string& line : lines_of(read_text(path))) {
    if (line.rfind("```", 0) == 0) fenced = !fenced;
    if (fenced || line.empty() || line[0] != '#') continue;
    const auto text = line.find_first_not_of('#');
    if (text == std::string::npos || line[text] != ' ') continue;
    out.push_back(line.substr(text + 1));
  }
  return out;
}

std::set<std::string> anchors_of(const fs::path& path) {
  std::set<std::string> out;
  for (const auto& h : headings_of(path)) out.insert(anchor_of(h));
  return out;
}

// README.md, then every markdown file under docs/, subfolders included.
std::vector<fs::path> markdown_documents() {
  std::vector<fs::path> docs{root / "README.md"};
  for (const auto& entry : fs::recursive_directory_iterator(root / "docs"))
    if (entry.is_regular_file() && entry.path().extension() == ".md") docs.push_back(entry.path());
  std::sort(docs.begin() + 1, docs.end());
  return docs;
}

// Targets of [text](target) links outside fenced code blocks, with their line numbers.
std::vector<std::pair<std::size_t, std::string>> links_of(const fs::path& path) {
  std::vector<std::pair<std::size_t, std::string>> out;
  bool fenced = false;
  const auto lines = lines_of(read_text(path));
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const std::string& line = lines[k];
    if (line.rfind("```", 0) == 0) fenced = !fenced;
    if (fenced) continue;
    for (auto at = line.find("]("); at != std::string::npos; at = line.find("](", at + 2)) {
      const auto begin = at + 2;
      const auto end = line.find_first_of(") ", begin);
      if (end == std::string::npos) continue;
      out.emplace_back(k + 1, line.substr(begin, end - begin));
    }
  }
  return out;
}

std::string shown(const fs::path& path) { return fs::relative(path, root).generic_string(); }

// Every text file under the folders that hold timely's sources and documents.
std::vector<fs::path> source_files() {
  std::vector<fs::path> files;
  for (const char* name : {"README.md", "bootstrap.sh"})
    if (fs::is_regular_file(root / name)) files.push_back(root / name);
  for (const char* folder :
       {"docs", "app", "experiments", "theory", "sim", "models", "analysis", "plots", "tests", "examples", "bench"}) {
    if (!fs::is_directory(root / folder)) continue;
    for (auto it = fs::recursive_directory_iterator(root / folder); it != fs::recursive_directory_iterator(); ++it) {
      // The fuzz corpus holds inputs as the audit found them (old result files among them),
      // not timely's own text.
      if (it->is_directory() && it->path() == root / "tests" / "fuzz" / "corpus") {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool is_binary(const std::string& text) { return text.find('\0') != std::string::npos; }

// "§" in UTF-8.
const std::string section_sign = "\xC2\xA7";

// Section numbers of docs/model.md: "## 3. Theory" gives "3", "### 3.5 Complete ..." gives "3.5".
std::set<std::string> model_sections() {
  std::set<std::string> out;
  for (const auto& h : headings_of(root / "docs" / "model.md")) {
    std::size_t end = 0;
    while (end < h.size() && (std::isdigit(static_cast<unsigned char>(h[end])) || h[end] == '.')) ++end;
    std::string number = h.substr(0, end);
    while (!number.empty() && number.back() == '.') number.pop_back();
    if (!number.empty()) out.insert(number);
  }
  return out;
}

}  // namespace

TEST_CASE("README.md and docs/**/*.md link only to files and headings that exist", "[docs]") {
  REQUIRE(fs::is_regular_file(root / "docs" / "model.md"));
  REQUIRE(fs::is_regular_file(root / "docs" / "interface.md"));
  const auto documents = markdown_documents();
  // The studies live in docs/studies/: the scan must reach subfolders.
  CHECK(std::any_of(documents.begin(), documents.end(),
                    [](const fs::path& p) { return p.parent_path().filename() == "studies"; }));
  std::size_t checked = 0;
  for (const fs::path& doc : documents) {
    for (const auto& [line, target] : links_of(doc)) {
      if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0 || target.rfind("mailto:", 0) == 0)
        continue;
      if (target.empty() || target[0] == '#') continue;  // within the same document
      const auto hash = target.find('#');
      const fs::path file = (doc.parent_path() / target.substr(0, hash)).lexically_normal();
      const std::string where = shown(doc) + ":" + std::to_string(line) + ": link '" + target + "'";
      ++checked;
      const std::string root_text = root.lexically_normal().generic_string();
      if (file.generic_string().rfind(root_text, 0) != 0) {
        FAIL_CHECK(where << " points outside the repository");
        continue;
      }
      if (!fs::exists(file)) {
        FAIL_CHECK(where << ": no file " << shown(file));
        continue;
      }
      if (hash != std::string::npos && file.extension() == ".md") {
        const std::string anchor = target.substr(hash + 1);
        if (anchors_of(file).count(anchor) == 0) FAIL_CHECK(where << ": " << shown(file) << " has no heading #" << anchor);
      }
    }
  }
  CHECK(checked > 0);
}

TEST_CASE("no source or document points outside the repository or at the old design documents", "[docs]") {
  // Built from pieces so that this file does not match itself.
  const std::vector<std::string> needles = {std::string("..") + "/shared", std::string("shared") + "/design",
                                            std::string("MODEL") + ".md", std::string("INTERFACE") + ".md"};
  const std::string old_citation = std::string("MODEL") + " ";  // "MODEL 3.5": the old citation form
  std::size_t scanned = 0;
  for (const fs::path& path : source_files()) {
    if (path.filename() == "docs_links_test.cpp") continue;
    const std::string text = read_text(path);
    if (is_binary(text)) continue;
    ++scanned;
    const auto lines = lines_of(text);
    for (std::size_t k = 0; k < lines.size(); ++k) {
      const std::string& line = lines[k];
      const std::string where = shown(path) + ":" + std::to_string(k + 1);
      for (const auto& needle : needles)
        if (line.find(needle) != std::string::npos)
          FAIL_CHECK(where << ": '" << needle << "' (cite docs/model.md or docs/interface.md): " << line);
      for (auto at = line.find(old_citation); at != std::string::npos; at = line.find(old_citation, at + 1))
        if (at + old_citation.size() < line.size() &&
            std::isdigit(static_cast<unsigned char>(line[at + old_citation.size()])))
          FAIL_CHECK(where << ": old citation '" << line.substr(at, old_citation.size() + 3)
                           << "' (write docs/model.md " << section_sign << "N): " << line);
    }
  }
  CHECK(scanned > 0);
}

TEST_CASE("every docs/model.md section cited in code is a numbered heading of docs/model.md", "[docs]") {
  const std::set<std::string> sections = model_sections();
  REQUIRE(sections.count("3.5") == 1);
  const std::string cite = "docs/model.md";
  std::size_t citations = 0;
  for (const fs::path& path : source_files()) {
    const std::string ext = path.extension().string();
    if (ext != ".cpp" && ext != ".hpp" && path.filename() != "CMakeLists.txt") continue;
    const auto lines = lines_of(read_text(path));
    for (std::size_t k = 0; k < lines.size(); ++k) {
      const std::string& line = lines[k];
      const auto at = line.find(cite);
      if (at == std::string::npos) continue;
      for (auto s = line.find(section_sign, at + cite.size()); s != std::string::npos;
           s = line.find(section_sign, s + section_sign.size())) {
        std::size_t end = s + section_sign.size();
        std::string number;
        while (end < line.size() && (std::isdigit(static_cast<unsigned char>(line[end])) ||
                                     (line[end] == '.' && end + 1 < line.size() &&
                                      std::isdigit(static_cast<unsigned char>(line[end + 1])))))
          number += line[end++];
        if (number.empty()) continue;  // e.g. "§N" in prose about the format
        ++citations;
        if (sections.count(number) == 0)
          FAIL_CHECK(shown(path) << ":" << k + 1 << ": cites " << section_sign << number
                                    << ", which is no numbered heading of docs/model.md: " << line);
      }
    }
  }
  CHECK(citations > 0);
}
