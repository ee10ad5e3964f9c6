#include "common/testing/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tributary::testing {

absl::StatusOr<std::string> HttpExchange(int port, absl::string_view request,
                                         absl::Duration timeout) {
  const std::string peer = absl::StrCat("127.0.0.1:", port);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  timeval tv = absl::ToTimeval(timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int error = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("connect to ", peer, ": ", std::strerror(error)));
  }
  const ssize_t sent = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  if (sent != static_cast<ssize_t>(request.size())) {
    const int error = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("send to ", peer, ": ", sent, " of ", request.size(),
                                               " bytes sent: ", std::strerror(error)));
  }
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) response.append(buf, n);
  ::close(fd);
  return response;
}

std::string HttpGet(int port, absl::string_view path) {
  absl::StatusOr<std::string> response =
      HttpExchange(port, absl::StrCat("GET ", path, " HTTP/1.0\r\n\r\n"));
  if (!response.ok()) return response.status().ToString();
  if (response->rfind("HTTP/1.1 200 OK\r\n", 0) != 0) {
    return response->substr(0, response->find('\r'));
  }
  const size_t head_end = response->find("\r\n\r\n");
  if (head_end == std::string::npos) return "a 200 response without the end of its header";
  return response->substr(head_end + 4);
}

}  // namespace tributary::testing
