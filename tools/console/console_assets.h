// The console's static files (tools/console/static/), compiled into the binary by a genrule
// (embed_assets.py): the page needs no build step, no CDN and no files next to the binary.
#ifndef TRIBUTARY_TOOLS_CONSOLE_CONSOLE_ASSETS_H_
#define TRIBUTARY_TOOLS_CONSOLE_CONSOLE_ASSETS_H_

#include "absl/strings/string_view.h"

namespace tributary::console {

struct Asset {
  absl::string_view path;          // "/index.html", "/console.js", ...
  absl::string_view content_type;  // "text/html; charset=utf-8", ...
  absl::string_view body;
};

// The file served at `path` ("/" is "/index.html"), or nullptr. The result lives forever.
const Asset* FindAsset(absl::string_view path);

}  // namespace tributary::console

#endif  // TRIBUTARY_TOOLS_CONSOLE_CONSOLE_ASSETS_H_
