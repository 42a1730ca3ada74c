#include "report/html.h"

#include <fstream>
#include <stdexcept>

#include "report/charts.h"

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
           border-radius: 4px; font-size: 0.85rem; display: none; z-index: 10; }
@media print { body { max-width: none; margin: 0; } #tooltip { display: none !important; }
               figure, table { break-inside: avoid; } }
)";

// Shows a mark's data-title next to the pointer (the SVG <title> also gives the browser's own tooltip).
constexpr const char* kScript = R"(
(function () {
  var tip = document.getElementById('tooltip');
  document.querySelectorAll('[data-title]').forEach(function (mark) {
    mark.addEventListener('mouseenter', function () { tip.textContent = mark.getAttribute('data-title');
                                                      tip.style.display = 'block'; });
    mark.addEventListener('mousemove', function (e) { tip.style.left = (e.clientX + 12) + 'px';
                                                      tip.style.top = (e.clientY + 12) + 'px'; });
    mark.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  });
})();
)";

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
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
                    escape(title_) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" + escape(title_) +
                    "</h1>\n";
  if (!subtitle_.empty()) out += "<p class=\"subtitle\">" + escape(subtitle_) + "</p>\n";
  out += body_;
  out += "<div id=\"tooltip\"></div>\n<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return out;
}

void HtmlPage::write(const std::filesystem::path& path) const {
  std::filesystem::path partial = path;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path.string() + ": cannot create file");
    out << html();
    if (!out.flush()) throw std::runtime_error(path.string() + ": write failed (disk full?)");
  }
  std::filesystem::rename(partial, path);
}

}  // namespace tunelens::report
