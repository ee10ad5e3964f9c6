// tribctl: Tributary's operator CLI. Everything but signal handling lives in
// tribctl_lib (tools/tribctl/tribctl.h); run `tribctl help`.
#include <signal.h>
#include <unistd.h>

#include <iostream>
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
  const int code = tributary::tribctl::RunTribctl(args, io);
  std::cout.flush();
  return code;
}
