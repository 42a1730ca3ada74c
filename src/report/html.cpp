#include "report/html.h"

#include <cctype>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "report/charts.h"
#include "store/whole_file.h"

namespace tunelens::report {
namespace {

constexpr const char* kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 980px;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.subtitle { color: #666; margin-top: 0; }
figure { margin: 1rem 0; } figcaption { color: #555; font-size: 0.9rem; }
svg.chart { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e6e6e6; } th { text-align: left; background: #f6f6f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem; }
#tooltip { position: fixed; pointer-events: none; background: #222; color: #fff; padding: 0.25rem 0.5rem;
           border-radius: 4px; font-size: 0.85rem; display: none; z-index: 10; max-width: 28rem; }
nav.pages { font-size: 0.9rem; margin-bottom: 1rem; padding-bottom: 0.4rem; border-bottom: 1px solid #eee; }
nav.pages a { margin-right: 1.2rem; }
table.facts th { background: none; font-weight: 600; color: #444; }
ul.pages li { margin: 0.4rem 0; } ul.pages .summary { color: #555; }
[data-title] { cursor: default; } [data-title]:hover { stroke: #000; stroke-width: 1.5; }
@media print { body { max-width: none; margin: 0; font-size: 10pt; } #tooltip, nav.pages { display: none !important; }
               h2 { break-after: avoid; } figure, table, pre { break-inside: avoid; }
               svg.chart { max-width: 100%; } a { color: inherit; text-decoration: none; } }
)";

// Shows the data-title of the mark under the pointer in #tooltip, beside the pointer and kept inside the
// window. One listener on the document (not one per mark) serves maps of thousands of songs and marks added
// later alike.
constexpr const char* kScript = R"(
(function () {
  var tip = document.getElementById('tooltip');
  function markOf(node) { return node && node.closest ? node.closest('[data-title]') : null; }
  function place(e) {
    var x = e.clientX + 14, y = e.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth - 4) x = Math.max(4, e.clientX - tip.offsetWidth - 14);
    if (y + tip.offsetHeight > window.innerHeight - 4) y = Math.max(4, e.clientY - tip.offsetHeight - 14);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  document.addEventListener('mouseover', function (e) {
    var mark = markOf(e.target);
    if (!mark) return;
    tip.textContent = mark.getAttribute('data-title');
    tip.style.display = 'block';
    place(e);
  });
  document.addEventListener('mousemove', function (e) { if (tip.style.display === 'block') place(e); });
  document.addEventListener('mouseout', function (e) {
    if (markOf(e.target) && !markOf(e.relatedTarget)) tip.style.display = 'none';
  });
})();
)";

// The text of an HTML fragment with escape()'s entities turned back into characters.
std::string unescape(std::string text) {
  static const std::pair<const char*, char> kEntities[] = {
      {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&amp;", '&'}};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [entity, character] : kEntities)
      if (text.compare(i, std::char_traits<char>::length(entity), entity) == 0) {
        out += character;
        i += std::char_traits<char>::length(entity);
        replaced = true;
        break;
      }
    if (!replaced) out += text[i++];
  }
  return out;
}

// The text between the first `open` and the next `close` in html, unescaped; empty when either is missing.
std::string between(const std::string& html, const std::string& open, const std::string& close) {
  const auto start = html.find(open);
  if (start == std::string::npos) return {};
  const auto end = html.find(close, start + open.size());
  if (end == std::string::npos) return {};
  return unescape(html.substr(start + open.size(), end - start - open.size()));
}

bool looks_numeric(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '%' || c == ' ' || c == 'e' || c == '+'))
      return false;
  return true;
}

}  // namespace

HtmlPage::HtmlPage(std::string title, std::string subtitle) : title_(std::move(title)), subtitle_(std::move(subtitle)) {}

void HtmlPage::heading(const std::string& text) { body_ += "<h2>" + escape(text) + "</h2>\n"; }
void HtmlPage::paragraph(const std::string& text) { body_ += "<p>" + escape(text) + "</p>\n"; }
void HtmlPage::preformatted(const std::string& text) { body_ += "<pre>" + escape(text) + "</pre>\n"; }
void HtmlPage::link(const std::string& href, const std::string& text) {
  body_ += "<p><a href=\"" + escape(href) + "\">" + escape(text) + "</a></p>\n";
}

void HtmlPage::navigation(const std::vector<PageLink>& links) {
  for (const auto& link : links) {
    navigation_ += "<a href=\"";
    navigation_ += escape(link.href);
    navigation_ += "\">";
    navigation_ += escape(link.title);
    navigation_ += "</a>";
  }
}

void HtmlPage::facts(const std::vector<std::pair<std::string, std::string>>& rows) {
  body_ += "<table class=\"facts\">\n";
  for (const auto& [name, value] : rows) {
    body_ += "<tr><th>";
    body_ += escape(name);
    body_ += "</th><td>";
    body_ += escape(value);
    body_ += "</td></tr>\n";
  }
  body_ += "</table>\n";
}

void HtmlPage::link_list(const std::vector<PageLink>& links) {
  body_ += "<ul class=\"pages\">\n";
  for (const auto& link : links) {
    body_ += "<li><a href=\"";
    body_ += escape(link.href);
    body_ += "\">";
    body_ += escape(link.title.empty() ? link.href : link.title);
    body_ += "</a>";
    if (!link.summary.empty()) {
      body_ += " <span class=\"summary\">— ";
      body_ += escape(link.summary);
      body_ += "</span>";
    }
    body_ += "</li>\n";
  }
  body_ += "</ul>\n";
}

void HtmlPage::figure(const std::string& svg, const std::string& caption) {
  body_ += "<figure>\n" + svg;
  if (!caption.empty()) body_ += "<figcaption>" + escape(caption) + "</figcaption>\n";
  body_ += "</figure>\n";
}

void HtmlPage::table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
  body_ += "<table>\n<tr>";
  for (const auto& h : headers) body_ += "<th>" + escape(h) + "</th>";
  body_ += "</tr>\n";
  for (const auto& row : rows) {
    body_ += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i)
      body_ += (i > 0 && looks_numeric(row[i]) ? "<td class=\"num\">" : "<td>") + escape(row[i]) + "</td>";
    body_ += "</tr>\n";
  }
  body_ += "</table>\n";
}

std::string HtmlPage::html() const {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  if (!subtitle_.empty()) {
    out += "<meta name=\"description\" content=\"";
    out += escape(subtitle_);
    out += "\">\n";
  }
  out += "<title>";
  out += escape(title_);
  out += "</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n";
  if (!navigation_.empty()) {
    out += "<nav class=\"pages\">";
    out += navigation_;
    out += "</nav>\n";
  }
  out += "<h1>";
  out += escape(title_);
  out += "</h1>\n";
  if (!subtitle_.empty()) out += "<p class=\"subtitle\">" + escape(subtitle_) + "</p>\n";
  out += body_;
  out += "<div id=\"tooltip\"></div>\n<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return out;
}

void HtmlPage::write(const std::filesystem::path& path) const {
  write_whole_file(path, html());
}

std::string page_title(const std::string& html) {
  return between(html, "<title>", "</title>");
}

std::string page_summary(const std::string& html) {
  return between(html, "<meta name=\"description\" content=\"", "\"");
}

PageLink page_link(const std::filesystem::path& page, const std::filesystem::path& from_folder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target = fs::weakly_canonical(fs::absolute(page), ec);
  const fs::path folder =
      fs::weakly_canonical(fs::absolute(from_folder.empty() ? fs::path(".") : from_folder), ec);
  fs::path relative = ec ? page : target.lexically_relative(folder);
  if (relative.empty()) relative = page;
  std::string html;
  {
    std::ifstream in(page, std::ios::binary);
    html.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  PageLink link{page_title(html), relative.generic_string(), page_summary(html)};
  if (link.title.empty()) link.title = page.filename().string();
  return link;
}

void write_index(const std::filesystem::path& path, const std::string& title,
                 const std::vector<PageLink>& pages) {
  HtmlPage page(title,
                pages.size() == 1 ? std::string("1 report") : std::to_string(pages.size()) + " reports");
  page.link_list(pages);
  page.write(path);
}

}  // namespace tunelens::report
