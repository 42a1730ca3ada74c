// One self-contained HTML page per report: inline CSS, inline SVG charts, a few lines of inline script for the
// hover tooltips of map marks, nothing fetched from the network. Readable on a laptop screen and printable.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tunelens::report {

class HtmlPage {
 public:
  explicit HtmlPage(std::string title, std::string subtitle = {});

  void heading(const std::string& text);            // a section heading (h2)
  void paragraph(const std::string& text);          // escaped text
  void figure(const std::string& svg, const std::string& caption = {});
  // A table; numbers and text alike are given as strings (escaped). The first column is left-aligned, the rest
  // right-aligned when they look like numbers.
  void table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);
  void link(const std::string& href, const std::string& text);  // a link to another page of the report
  void preformatted(const std::string& text);       // e.g. a classification report in sklearn's layout

  std::string html() const;
  // Writes under a temporary name renamed into place; throws std::runtime_error naming the file.
  void write(const std::filesystem::path& path) const;

 private:
  std::string title_;
  std::string subtitle_;
  std::string body_;
};

}  // namespace tunelens::report
