// The poller id a poller runs under when its main is given no --poller_id: the host's name.
//
// The id names the poller in leasing (lease owners, ListPollers) and labels its metrics
// (`poller="..."`), so it must not change when the process restarts: with a PID in it every
// restart made new series and left the old ones to go stale. A restart under the same id is
// safe: the new process does not know the leases leasing still lists as the id's, gives them
// back at its first heartbeat and acquires them again under new counters, from their
// checkpoints (poller.cc, Poller::Heartbeat), instead of waiting for them to expire.
// Two pollers on one host against the same leasing must be given distinct --poller_id values:
// under one id each would give back the leases the other works on (fencing keeps that safe, but
// the leases would churn).
#ifndef TRIBUTARY_POLLER_POLLER_ID_H_
#define TRIBUTARY_POLLER_POLLER_ID_H_

#include <string>

namespace tributary::poller {

// The host's name (gethostname), or "poller" when it cannot be read or is empty.
std::string DefaultPollerId();

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_POLLER_ID_H_
