// tribctl: Tributary's operator CLI. Everything but signal handling lives in
// tribctl_lib (tools/tribctl/tribctl.h); run `tribctl help`.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tools/tribctl/tribctl.h"

int main(int argc, char** argv) {
  // Ctrl-C (or SIGTERM) ends a long-running command cleanly: a thread receives
  // the signal and triggers the interrupt; a second one exits at once.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  static tributary::tribctl::Interrupt interrupt;
  std::thread([signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    interrupt.Trigger();
    sigwait(&signals, &signal);
    _exit(128 + signal);
  }).detach();

  std::vector<std::string> args(argv + 1, argv + argc);
  tributary::tribctl::Io io{&std::cin, &std::cout, &std::cerr, &interrupt};
  // Where the endpoint comes from without --endpoint (command_line.h, EndpointDefaults).
  tributary::tribctl::EndpointDefaults endpoints;
  if (const char* endpoint = std::getenv("TRIBUTARY_ENDPOINT")) endpoints.env_endpoint = endpoint;
  const std::string config_path =
      tributary::tribctl::ConfigPath(std::getenv("XDG_CONFIG_HOME"), std::getenv("HOME"));
  if (!config_path.empty()) {
    std::ifstream config(config_path);
    if (config) {
      std::stringstream text;
      text << config.rdbuf();
      endpoints.config_path = config_path;
      endpoints.config_text = text.str();
    }
  }
  const int code = tributary::tribctl::RunTribctl(args, io, endpoints);
  std::cout.flush();
  return code;
}
