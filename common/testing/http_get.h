// Plain HTTP exchanges with a server on 127.0.0.1, for tests of the servers' HTTP endpoints
// (/metrics, /-/healthy, /-/ready): one connection a call, the request sent byte for byte as
// given (so a test can send a malformed one), everything read until the server closes.
//
//   EXPECT_EQ(testing::HttpGet(metrics_port, "/-/ready"), "OK\n");
//
// Not common/http_client.h: that client only POSTs, keeps connections alive and would rewrite a
// malformed request; these tests want the bytes on the wire. Blocking, real time: the timeout
// bounds each read and is a failure guard only. Thread-safe (nothing shared).
#ifndef TRIBUTARY_COMMON_TESTING_HTTP_GET_H_
#define TRIBUTARY_COMMON_TESTING_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tributary::testing {

// Connects to 127.0.0.1:`port`, sends `request` as it is and returns every byte the server sends
// until it closes the connection (or until no byte came for `timeout`). Errors: UNAVAILABLE when
// the connection cannot be made or the request cannot be sent in full (the message says which).
absl::StatusOr<std::string> HttpExchange(int port, absl::string_view request,
                                         absl::Duration timeout = absl::Seconds(30));

// GET `path` on 127.0.0.1:`port` with HTTP/1.0 (so the server closes after its response). Returns
// the response's body when its status is 200; otherwise what came instead, so that an
// EXPECT_EQ on the body shows it: the status line ("HTTP/1.1 503 Service Unavailable"), or the
// exchange's error ("UNAVAILABLE: connect to 127.0.0.1:4567: Connection refused").
std::string HttpGet(int port, absl::string_view path);

}  // namespace tributary::testing

#endif  // TRIBUTARY_COMMON_TESTING_HTTP_GET_H_
