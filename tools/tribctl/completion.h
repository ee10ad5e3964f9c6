// Shell completion for tribctl, generated from the command table (commands.cc), so that it
// never lists a command or flag tribctl does not take:
//   source <(tribctl completion bash)          # bash; or save it under
//                                              # /etc/bash_completion.d/tribctl
//   source <(tribctl completion zsh)           # zsh, through its bashcompinit
// Completes the group, the verb, the command's flags and the global ones after "-", and the
// choices of an enum or list flag after "--flag=" (--output=, --starting-position=, ...).
#ifndef TRIBUTARY_TOOLS_TRIBCTL_COMPLETION_H_
#define TRIBUTARY_TOOLS_TRIBCTL_COMPLETION_H_

#include <string>

namespace tributary::tribctl {

// A bash script defining `_tribctl` and registering it with `complete -F _tribctl tribctl`.
std::string BashCompletionScript();

// The same for zsh: loads bashcompinit, then the bash script.
std::string ZshCompletionScript();

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_COMPLETION_H_
