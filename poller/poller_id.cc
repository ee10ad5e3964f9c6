#include "poller/poller_id.h"

#include <unistd.h>

namespace tributary::poller {

std::string DefaultPollerId() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "poller";
  return host;
}

}  // namespace tributary::poller
