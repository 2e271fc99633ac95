// A crash in a traced program (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) prints one report to
// stderr before the program's own handler or the default action runs: the signal, the faulting
// address, the thread and a backtrace naming each frame's library and offset, so a crash inside
// the tracer, CUPTI or the driver can be told from one in the program.
#pragma once

namespace goodput::trace::tracer {

// Installs the handlers, again wherever another took a signal over since (Python's faulthandler
// puts the default back at shutdown); each chains to the handler it replaced.
void install_crash_report();

}  // namespace goodput::trace::tracer
