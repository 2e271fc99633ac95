// Ctrl-C / SIGTERM: a flag that long loops poll, so they stop between results and the results
// file keeps everything that finished. A second signal exits at once.
#pragma once

namespace goodput {
void install_interrupt_handler();
bool interrupted();
void raise_if_interrupted();  // throws Error(kExitInterrupted) when the flag is set
}  // namespace goodput
