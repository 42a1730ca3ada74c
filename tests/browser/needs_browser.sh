# Sourced by the browser tests before they make anything: exits 77 (ctest's SKIP_RETURN_CODE), saying why, when
# node or Chromium is missing.
if ! command -v node >/dev/null; then
  echo "browser test SKIPPED: node is not installed (Debian package nodejs; scripts/install-deps.sh installs it)"
  exit 77
fi
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && [ -z "${CHROMIUM:-}" ]; then
  echo "browser test SKIPPED: chromium is not installed (Debian package chromium; scripts/install-deps.sh installs it)"
  exit 77
fi
