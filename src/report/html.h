// One self-contained HTML page per report: inline CSS, inline SVG charts, a few lines of inline script for
// the hover tooltips of chart marks (any element with a data-title, shown in the element #tooltip), nothing
// fetched from the network. Readable on a laptop screen and printable.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace tunelens::report {

// A link to a page of the report: text, address (relative to the linking page) and, for an index, one line
// about it.
struct PageLink {
  std::string title;
  std::string href;
  std::string summary;
};

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
  // Links to sibling pages, drawn as a bar above the title (left out when printed). Called again, adds to the
  // bar.
  void navigation(const std::vector<PageLink>& links);
  // Name-value rows (settings, provenance) as a two-column table.
  void facts(const std::vector<std::pair<std::string, std::string>>& rows);
  // One line per page: its title as a link, then its summary (an index of reports).
  void link_list(const std::vector<PageLink>& links);

  std::string html() const;
  // Writes under a temporary name renamed into place; throws std::runtime_error naming the file.
  void write(const std::filesystem::path& path) const;

 private:
  std::string title_;
  std::string subtitle_;
  std::string navigation_;
  std::string body_;
};

// What a written page says about itself, read from its HTML (<title>, and the meta description HtmlPage
// writes from the subtitle), unescaped; empty when absent.
std::string page_title(const std::string& html);
std::string page_summary(const std::string& html);

// A link from a page in `from_folder` to the page `page`: its relative address, and its title and summary
// read from the file (the file name as title when the file cannot be read or has none).
PageLink page_link(const std::filesystem::path& page, const std::filesystem::path& from_folder);

// Writes an index page titled `title` linking `pages` (hrefs relative to the index's folder).
void write_index(const std::filesystem::path& path, const std::string& title,
                 const std::vector<PageLink>& pages);

}  // namespace tunelens::report
